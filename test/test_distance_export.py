"""ONNX export of DistSynth: ONNX Runtime matches PyTorch on boxes it was not traced with."""

from __future__ import annotations

from pathlib import Path

import torch

from trackflow_ros.distance.export import check_onnx, export_onnx
from trackflow_ros.distance.model import DistSynth, DistSynthConfig

TINY = DistSynthConfig(
    backbone="resnet18", input_width=64, input_height=48, clip_length=3,
    lstm_channels=16, fpn_channels=16, head_hidden=32,
)  # fmt: skip
TOLERANCE = 1e-4  # relative on the mean distance, absolute on the log-variance


def test_onnx_matches_pytorch(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = DistSynth(TINY).eval()
    torch.nn.init.normal_(model.head[-1].weight, std=0.05)  # outputs depend on the image
    path = export_onnx(model, tmp_path / "distsynth.onnx")
    for n_boxes in (1, 7, 40):  # dynamic number of boxes
        dev = check_onnx(model, path, n_boxes=n_boxes, seed=n_boxes)
        assert dev["clip_length"] == 3
        assert dev["mean_max_rel"] < TOLERANCE, dev
        assert dev["log_var_max_abs"] < TOLERANCE, dev


def test_export_cli_bad_weights(tmp_path: Path, capsys) -> None:
    from trackflow_ros.distance.export import main

    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x00\x01")
    assert main(["--weights", str(bad), "--out", str(tmp_path / "x.onnx")]) == 2
    assert "broken.pt: not a readable torch checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()
