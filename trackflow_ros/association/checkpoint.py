"""TrackFlow checkpoints: one file with the weights, the model/feature config, the NLL-to-cost
calibration and a record of the training, loaded only from local paths.

A checkpoint that cannot be used is refused with a message naming the file and what is wrong
(unreadable, not a TrackFlow checkpoint, another format version, or a config that differs from
the one asked for), never half-loaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from trackflow_ros.association.model import FlowConfig, TrackFlowModel

FORMAT = "trackflow_ros/trackflow"
FORMAT_VERSION = 1
#: the model shipped with the package, used when ``--cost trackflow`` gets no ``--weights``
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "trackflow_mot.pt"


CALIBRATION_KEYS = {"slope", "intercept"}


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message names the file."""


def save_checkpoint(
    path: Path, model: TrackFlowModel, calibration: dict[str, float], training: dict[str, Any]
) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.save(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "config": model.config.to_dict(),
            "state_dict": state,
            "calibration": dict(calibration),
            "training": training,
        },
        path,
    )


def load_checkpoint(
    path: Path, expected: FlowConfig | None = None
) -> tuple[TrackFlowModel, dict[str, float], dict[str, Any]]:
    """Model (in eval mode), calibration and training record from ``path``.

    ``expected``: the config the caller needs; any difference is an error naming the fields.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated/corrupt files
        reason = f"{type(err).__name__}: {err}"
        raise CheckpointError(f"{path}: not a readable checkpoint ({reason})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a TrackFlow checkpoint (format is not {FORMAT!r})")
    if blob.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {blob.get('version')}, this code reads "
            f"version {FORMAT_VERSION}"
        )
    fields = {f.name for f in dataclasses.fields(FlowConfig)}
    stored = blob.get("config", {})
    if set(stored) != fields:
        raise CheckpointError(
            f"{path}: config fields differ from this code's: "
            f"unknown {sorted(set(stored) - fields)}, missing {sorted(fields - set(stored))}"
        )
    config = FlowConfig(**stored)
    if expected is not None and expected != config:
        diffs = [
            f"{name}: file has {getattr(config, name)!r}, expected {getattr(expected, name)!r}"
            for name in sorted(fields)
            if getattr(config, name) != getattr(expected, name)
        ]
        raise CheckpointError(f"{path}: config does not match: " + "; ".join(diffs))
    model = TrackFlowModel(config)
    try:
        model.load_state_dict(blob["state_dict"])
    except (RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path}: weights do not fit the stored config ({err})") from None
    calibration = blob.get("calibration", {})
    if set(calibration) != CALIBRATION_KEYS:
        raise CheckpointError(f"{path}: calibration must have exactly {sorted(CALIBRATION_KEYS)}")
    model.eval()
    return model, calibration, blob.get("training", {})
