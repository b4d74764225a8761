"""``trackflow-eval`` end to end on real MOT15 sequences, scored by TrackEval."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trackflow_ros.evaluation.mot_eval import evaluate_split
from trackflow_ros.tracking import SORT, TRACKERS

SEQUENCES = ["TUD-Campus", "TUD-Stadtmitte"]
KEYS = {"HOTA", "IDF1", "MOTA", "AssA", "DetA", "IDSW"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "trackflow_ros.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def split(data_dir, tmp_path_factory) -> Path:
    """A split folder with two real sequences (symlinks: nothing is copied)."""
    root = tmp_path_factory.mktemp("split")
    for seq in SEQUENCES:
        (root / seq).symlink_to(data_dir / "MOT15" / "train" / seq)
    return root


@pytest.mark.parametrize("tracker", sorted(TRACKERS))
def test_cli_tracks_and_scores_real_sequences(split, tmp_path, tracker):
    out = tmp_path / "out"
    result = run_cli("--data", str(split), "--tracker", tracker, "--cost", "iou", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{tracker}+iou: HOTA" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"combined", "per_sequence", "ms_per_frame"}
    assert set(summary["per_sequence"]) == set(SEQUENCES)
    assert set(summary["combined"]) == KEYS
    assert all(set(m) == KEYS for m in summary["per_sequence"].values())
    assert 0 < summary["ms_per_frame"] < 1000
    # bounds that a working tracker on these public detections clears (measured: HOTA 45-53,
    # MOTA 56-73 per sequence) and that a broken one does not (see the test below)
    for seq, metrics in summary["per_sequence"].items():
        assert metrics["HOTA"] > 38, (seq, metrics)
        assert metrics["IDF1"] > 50, (seq, metrics)
        assert metrics["MOTA"] > 45, (seq, metrics)
    for seq in SEQUENCES:
        rows = np.loadtxt(out / f"{seq}.txt", delimiter=",", ndmin=2)
        assert rows.shape[1] == 10 and (rows[:, 4:6] > 0).all()


class ForgetfulSORT(SORT):
    """A broken tracker: a new identity in every frame."""

    def _is_dead(self, track):
        return True


def test_the_bounds_catch_a_broken_tracker(split, tmp_path):
    summary = evaluate_split(
        split, lambda seq: ForgetfulSORT(max_age=0, min_hits=0), tmp_path, show_progress=False
    )
    assert all(m["IDF1"] < 50 for m in summary["per_sequence"].values())
    assert summary["combined"]["HOTA"] < 38


def test_cli_accepts_one_sequence_folder(split, tmp_path):
    result = run_cli(
        "--data", str(split / "TUD-Campus"), "--tracker", "sort", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert list(summary["per_sequence"]) == ["TUD-Campus"]
    assert (tmp_path / "TUD-Campus.txt").is_file()


def test_cli_trackflow_cost_with_the_shipped_and_a_corrupt_checkpoint(split, tmp_path):
    seq = str(split / "TUD-Campus")
    result = run_cli(
        "--data", seq, "--tracker", "ocsort", "--cost", "trackflow", "--out", str(tmp_path / "a")
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["combined"]["HOTA"] > 40
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x02 definitely not torch")
    result = run_cli(
        "--data", seq, "--tracker", "sort", "--cost", "trackflow", "--weights", str(corrupt),
        "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{corrupt}: not a readable checkpoint" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_names_the_file_and_line_of_a_malformed_detection(data_dir, tmp_path):
    seq = tmp_path / "split" / "TUD-Campus"
    shutil.copytree(data_dir / "MOT15" / "train" / "TUD-Campus", seq)
    det = seq / "det" / "det.txt"
    lines = det.read_text().splitlines()
    lines[6] = "7,-1,100,200,nan,80,0.9,-1,-1,-1"
    det.write_text("\n".join(lines) + "\n")
    result = run_cli("--data", str(seq.parent), "--tracker", "sort", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert f"{det}:7:" in result.stderr and "Traceback" not in result.stderr


def test_cli_reports_a_missing_seqinfo(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("--data", str(tmp_path / "empty"), "--tracker", "sort", "--out", str(tmp_path))
    assert result.returncode == 2 and str(tmp_path / "empty") in result.stderr
