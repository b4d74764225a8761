"""DistSynth: shapes for T=1 and T=6, training lowers the loss, checkpoints fail clearly, the
run-time ring buffer, and no network access anywhere (building, saving, loading, inference)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from trackflow_ros.distance import CameraIntrinsics
from trackflow_ros.distance.distsynth import DistSynthDistance
from trackflow_ros.distance.model import (
    DistSynth,
    DistSynthConfig,
    DistSynthWeightsError,
    gaussian_nll,
    load_checkpoint,
    save_checkpoint,
)
from trackflow_ros.distance.synthetic import SyntheticConfig, write_split
from trackflow_ros.distance.train import forward_truncated, load_clips, make_batch

TINY = DistSynthConfig(
    backbone="resnet18", input_width=64, input_height=48, clip_length=6,
    lstm_channels=16, fpn_channels=16, head_hidden=32,
)  # fmt: skip
CAM = CameraIntrinsics(fx=120.0, fy=120.0, cx=64.0, cy=48.0, width=128, height=96)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The development machines have 2 cores shared by several jobs: one thread is faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(seed: int = 0) -> DistSynth:
    torch.manual_seed(seed)
    model = DistSynth(TINY)
    # the last layer starts at zero (pinhole prior); perturb it so outputs depend on the input
    torch.nn.init.normal_(model.head[-1].weight, std=0.05)
    return model.eval()


def inputs(t: int, n: int = 3):
    clip = torch.randn(2, t, 4, TINY.input_height, TINY.input_width)
    rois = torch.tensor([[0, 2, 3, 10, 30], [1, 20, 5, 30, 40], [1, 40, 10, 50, 44.0]])[:n]
    return clip, rois, torch.randn(n, 11), torch.tensor([4.0, 12.0, 30.0])[:n]


@pytest.mark.parametrize("t", [1, 6])
def test_shapes(t: int) -> None:
    model = tiny_model()
    with torch.inference_mode():
        mean, log_var = model(*inputs(t))
    assert mean.shape == (3,) and log_var.shape == (3,)
    assert torch.isfinite(mean).all() and (mean > 0).all() and torch.isfinite(log_var).all()


def test_default_config_is_the_papers() -> None:
    cfg = DistSynthConfig()
    assert (cfg.backbone, cfg.clip_length) == ("resnet34", 6)
    model = DistSynth(cfg)
    assert model.stem[0].in_channels == 4  # RGB + box-centre heatmap
    assert len(model.layer3) == 6  # ResNet-34's 3-4-6-3 blocks


def test_history_changes_the_answer() -> None:
    """The ConvLSTM reads the earlier frames: other history, other output."""
    model = tiny_model()
    clip, rois, geom, prior = inputs(6)
    other = clip.clone()
    other[:, :5] = torch.randn_like(other[:, :5])
    with torch.inference_mode():
        a, _ = model(clip, rois, geom, prior)
        b, _ = model(other, rois, geom, prior)
    assert not torch.allclose(a, b)


@pytest.fixture(scope="module")
def tiny_split(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("distsynth") / "split"
    return write_split(
        out, seed=3, clips=3, cfg=SyntheticConfig(width=128, height=96, frames_per_clip=4)
    )


def test_training_steps_lower_the_loss(tiny_split: Path) -> None:
    torch.manual_seed(0)
    clips = load_clips(tiny_split, TINY)
    batch = make_batch(clips, [(0, 3), (1, 3), (2, 3)], 3, TINY)
    assert len(batch["target"]) > 0
    model = DistSynth(TINY).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(10):
        mean, log_var = forward_truncated(model, batch)
        loss = gaussian_nll(mean, log_var, batch["target"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.1, losses


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = tiny_model()
    path = save_checkpoint(tmp_path / "m.pt", model, {"note": "test"})
    loaded, info = load_checkpoint(path)
    assert info == {"note": "test"} and loaded.config == TINY
    x = inputs(2)
    with torch.inference_mode():
        assert torch.allclose(model(*x)[0], loaded(*x)[0])


def test_bad_weights_fail_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pt"
    with pytest.raises(
        DistSynthWeightsError, match=r"missing\.pt: DistSynth weights file not found"
    ):
        DistSynthDistance(missing)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a checkpoint")
    with pytest.raises(DistSynthWeightsError, match=r"corrupt\.pt: not a readable"):
        load_checkpoint(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(DistSynthWeightsError, match=r"other\.pt: not a DistSynth checkpoint"):
        load_checkpoint(other)
    good = save_checkpoint(tmp_path / "good.pt", tiny_model())
    data = torch.load(good, weights_only=True)
    data["config"]["fpn_channels"] = 8  # weights made for another width
    torch.save(data, tmp_path / "mismatch.pt")
    with pytest.raises(DistSynthWeightsError, match=r"mismatch\.pt: weights do not fit"):
        load_checkpoint(tmp_path / "mismatch.pt")
    data["format_version"] = 99
    torch.save(data, tmp_path / "future.pt")
    with pytest.raises(DistSynthWeightsError, match=r"future\.pt: checkpoint format version 99"):
        load_checkpoint(tmp_path / "future.pt")


def test_fp16_on_cpu_is_refused(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.pt", tiny_model())
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        DistSynthDistance(path, fp16=True)


def test_runtime_ring_buffer(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.pt", tiny_model())
    est = DistSynthDistance(path, clip_length=3)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(5)]
    boxes = np.array([[10, 20, 30, 80], [60, 10, 70, 40], [5, 5, 5, 40]], float)  # last: empty
    outs = [est.estimate(f, boxes, CAM) for f in frames]
    assert len(est._buffer) == 3
    d = outs[-1].distance
    assert np.isfinite(d[:2]).all() and (d[:2] > 0).all() and np.isnan(d[2])
    assert (outs[-1].variance[:2] > 0).all()
    # position: the foot point's ray, scaled to the predicted distance
    pos = outs[-1].position
    assert np.linalg.norm(pos[:2], axis=1) == pytest.approx(d[:2], rel=1e-5)
    assert pos[0, 1] / pos[0, 2] == pytest.approx((80 - CAM.cy) / CAM.fy, rel=1e-5)
    # reset: the same frame after a reset equals the first call (a one-frame clip)
    est.reset()
    again = est.estimate(frames[0], boxes, CAM)
    np.testing.assert_allclose(again.distance[:2], outs[0].distance[:2], rtol=1e-5)
    assert not np.allclose(outs[0].distance[:2], outs[2].distance[:2])
    empty = est.estimate(frames[1], np.zeros((0, 4)), CAM)
    assert empty.distance.shape == (0,) and empty.position.shape == (0, 3)
    with pytest.raises(ValueError, match="camera intrinsics are for 128x96"):
        est.estimate(np.zeros((48, 64, 3), np.uint8), boxes, CAM)


def test_no_network_access(tmp_path: Path, tiny_split: Path, monkeypatch) -> None:
    """Building (default ResNet-34 included), saving, loading and running never connect."""
    calls = []

    def refuse(self, *args, **kwargs):
        calls.append(args)
        raise OSError("network access attempted (blocked by the test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    from trackflow_ros.distance.evaluate import make_estimator, predict_split, summarise

    DistSynth(DistSynthConfig())
    DistSynth(DistSynthConfig.small())
    path = save_checkpoint(tmp_path / "m.pt", tiny_model())
    result = summarise(predict_split(tiny_split, make_estimator("distsynth", path)))
    assert result["n"] > 0
    assert calls == []
    assert not (tmp_path / "torch_home").exists()  # nothing cached for download


def test_eval_cli_distsynth(tmp_path: Path, tiny_split: Path, repo_root: Path, capsys) -> None:
    from trackflow_ros.distance.evaluate import main

    path = save_checkpoint(tmp_path / "m.pt", tiny_model())
    out = tmp_path / "ds.json"
    args = ["--data", str(tiny_split), "--model", "distsynth", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "trackflow_ros.distance.evaluate", *args, "--weights", str(path)],
        capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(repo_root)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert set(result["abs_error_by_occlusion"]) == {"0-0.3", "0.3-0.5", "0.5-0.75", "0.75-1"}
    assert result["n"] > 0 and result["mean_variance_by_occlusion"]["0-0.3"] > 0
    out.unlink()
    # error paths in-process (same main() as the console script): exit 2, file named
    assert main([*args, "--weights", str(tmp_path / "nothere.pt")]) == 2
    assert "nothere.pt: DistSynth weights file not found" in capsys.readouterr().err
    assert main(args) == 2
    assert "needs --weights" in capsys.readouterr().err
    assert not out.exists()


def test_train_distsynth_is_seeded_and_validates(tiny_split: Path, tmp_path: Path) -> None:
    from trackflow_ros.distance.train import train_distsynth

    cfg = DistSynthConfig(**{**TINY.__dict__, "clip_length": 3})
    kwargs = dict(epochs=2, batch_size=2, val_fraction=0.34, seed=5, show_progress=False)
    first = train_distsynth(tiny_split, tmp_path / "a.pt", cfg, **kwargs)
    second = train_distsynth(tiny_split, tmp_path / "b.pt", cfg, **kwargs)
    assert [h["epoch"] for h in first["history"]] == [1, 2]
    assert all(np.isfinite(h["val_loss"]) for h in first["history"])
    assert first["history"] == second["history"]  # same seed, same run
    a, info = load_checkpoint(tmp_path / "a.pt")
    b, _ = load_checkpoint(tmp_path / "b.pt")
    assert info["val_clips"] == 1 and info["train_clips"] == 2
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
