"""The synthetic generator's CLI contract and annotation format, and the eval CLI's JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from trackflow_ros.distance.synthetic import FORMAT, DatasetError, read_split


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def split(tmp_path_factory, repo_root) -> Path:
    out = tmp_path_factory.mktemp("syn") / "split"
    proc = run(
        "trackflow_ros.distance.synthetic", "--out", str(out), "--seed", "7", "--clips", "4",
        "--frames", "3", cwd=repo_root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_cli_writes_the_format(split: Path) -> None:
    meta = json.loads((split / "meta.json").read_text())
    assert meta["format"] == FORMAT and meta["seed"] == 7 and meta["clips"] == 4
    clips = read_split(split)
    assert [c.name for c in clips] == [f"clip_{i:04d}" for i in range(4)]
    n_people, occluded = 0, 0
    for clip in clips:
        k = clip.intrinsics
        assert len(clip.frames) == 3
        for t, frame in enumerate(clip.frames):
            img = cv2.imread(str(clip.frame_path(t)))
            assert img.shape == (k["height"], k["width"], 3)
            for p in frame["persons"]:
                n_people += 1
                occluded += p["occlusion"] >= 0.5
                x1, y1, x2, y2 = p["box"]
                assert 0 <= x1 < x2 <= k["width"] and 0 <= y1 < y2 <= k["height"]
                assert 0.0 <= p["occlusion"] <= 1.0
                pos = np.array(p["position"])
                assert p["distance"] == pytest.approx(np.linalg.norm(pos), rel=1e-3)
                # the foot point projects to the bottom centre of the whole-person box
                u = k["fx"] * pos[0] / pos[2] + k["cx"]
                v = k["fy"] * pos[1] / pos[2] + k["cy"]
                fx1, fy1, fx2, fy2 = p["full_box"]
                assert fx1 <= u <= fx2
                assert v == pytest.approx(fy2, abs=0.05 * (fy2 - fy1) + 1)
                # the visible box lies inside the whole-person box
                assert x1 >= np.floor(fx1) - 1 and y2 <= np.ceil(fy2) + 1
    assert n_people > 10
    assert occluded >= 1  # occluders do hide people


def test_deterministic_per_seed(split: Path, tmp_path: Path, repo_root: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    for out, seed in ((again, "7"), (other, "8")):
        proc = run(
            "trackflow_ros.distance.synthetic", "--out", str(out), "--seed", seed, "--clips", "2",
            "--frames", "3", cwd=repo_root,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    a = (split / "clip_0001" / "annotations.json").read_bytes()
    assert (again / "clip_0001" / "annotations.json").read_bytes() == a
    assert (again / "clip_0001" / "000002.jpg").read_bytes() == (
        split / "clip_0001" / "000002.jpg"
    ).read_bytes()
    assert (other / "clip_0001" / "annotations.json").read_bytes() != a


def test_read_split_names_a_bad_file(split: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad" / "clip_0000"
    bad.mkdir(parents=True)
    (bad / "annotations.json").write_text('{"frames": []}')
    with pytest.raises(DatasetError, match=r"clip_0000/annotations\.json"):
        read_split(tmp_path / "bad")
    with pytest.raises(DatasetError, match=r"no \*/annotations\.json"):
        read_split(tmp_path)


def test_eval_cli_json_keys(split: Path, tmp_path: Path, repo_root: Path, capsys) -> None:
    out = tmp_path / "pinhole.json"
    proc = run(
        "trackflow_ros.distance.evaluate", "--data", str(split), "--model", "pinhole",
        "--out", str(out), cwd=repo_root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert list(result["abs_error_by_distance"]) == ["0-10", "10-20", "20-30", "30-100", "100+"]
    assert list(result["abs_error_by_occlusion"]) == ["0-0.3", "0.3-0.5", "0.5-0.75", "0.75-1"]
    for key in ("delta1", "abs_rel", "rmse"):
        assert np.isfinite(result[key])
    assert 0.0 <= result["delta1"] <= 1.0
    total = sum(len(f["persons"]) for c in read_split(split) for f in c.frames)
    assert result["n"] + result["n_invalid"] == total
    # a split that is not one: non-zero exit, message names the folder (in-process main())
    from trackflow_ros.distance.evaluate import main

    bad = [
        "--data",
        str(tmp_path / "nope"),
        "--model",
        "pinhole",
        "--out",
        str(tmp_path / "x.json"),
    ]
    assert main(bad) == 2
    assert "nope" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
