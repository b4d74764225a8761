"""``trackflow-eval-distance``: score the pinhole fallback or DistSynth on an annotated split.

Every clip is replayed frame by frame through the estimator's run-time interface (DistSynth's
ring buffer is reset at each clip), on the annotated (visible) boxes. The JSON holds the
metrics of ``metrics.py`` under the issue's keys, plus counts per bin, the mean predicted
variance per occlusion bin, and the number of boxes without a usable estimate (``n_invalid``:
these are left out of the metrics).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from trackflow_ros.distance.metrics import (
    DISTANCE_BINS,
    OCCLUSION_BINS,
    bin_masks,
    binned_mean,
    distance_metrics,
)
from trackflow_ros.distance.model import DistSynthWeightsError
from trackflow_ros.distance.pinhole import CameraIntrinsics, PinholeDistance
from trackflow_ros.distance.synthetic import Clip, DatasetError, read_split


def make_estimator(model: str, weights: Path | None, device: str = "cpu", clip_length: int = 6):
    """The estimator by CLI name. DistSynth needs ``weights`` (never downloaded)."""
    if model == "pinhole":
        if weights is not None:
            raise ValueError("--weights applies to --model distsynth only")
        return PinholeDistance()
    if model == "distsynth":
        if weights is None:
            raise ValueError("--model distsynth needs --weights PATH (a local checkpoint)")
        from trackflow_ros.distance.distsynth import DistSynthDistance

        return DistSynthDistance(weights, device=device, clip_length=clip_length)
    raise ValueError(f"unknown model {model!r}")


def predict_split(data: Path, estimator) -> dict[str, np.ndarray]:
    """Per annotated box: true distance, occlusion, predicted distance and variance, clip id."""
    cols: dict[str, list] = {k: [] for k in ("true", "occlusion", "pred", "var", "clip")}
    for ci, clip in enumerate(read_split(data)):
        camera = CameraIntrinsics(
            float(clip.intrinsics["fx"]), float(clip.intrinsics["fy"]),
            float(clip.intrinsics["cx"]), float(clip.intrinsics["cy"]),
            int(clip.intrinsics["width"]), int(clip.intrinsics["height"]),
        )  # fmt: skip
        learned = not isinstance(estimator, PinholeDistance)  # needs the images
        if learned:
            estimator.reset()
        for t, frame in enumerate(clip.frames):
            boxes = Clip.boxes(frame)
            if learned:
                img = cv2.imread(str(clip.frame_path(t)))
                if img is None:
                    raise DatasetError(f"{clip.frame_path(t)}: missing or unreadable frame")
                est = estimator.estimate(img, boxes, camera)
            else:
                est = estimator.estimate(boxes, camera)
            cols["true"] += [p["distance"] for p in frame["persons"]]
            cols["occlusion"] += [p["occlusion"] for p in frame["persons"]]
            cols["pred"] += est.distance.tolist()
            cols["var"] += est.variance.tolist()
            cols["clip"] += [ci] * len(boxes)
    return {k: np.asarray(v, float) for k, v in cols.items()}


def summarise(pred: dict[str, np.ndarray]) -> dict:
    """The issue's metrics over the valid predictions, plus counts and variances per bin."""
    ok = np.isfinite(pred["pred"]) & (pred["pred"] > 0)
    if not ok.any():
        raise ValueError("no valid predictions to score")
    t, o, p, v = pred["true"][ok], pred["occlusion"][ok], pred["pred"][ok], pred["var"][ok]
    out = distance_metrics(p, t, o)
    err = np.abs(p - t)
    out |= {
        "n": int(ok.sum()),
        "n_invalid": int((~ok).sum()),
        "mean_abs_error": float(err.mean()),
        "bias": float((p - t).mean()),
        "median_abs_error": float(np.median(err)),
        "count_by_distance": {k: int(m.sum()) for k, m in bin_masks(t, DISTANCE_BINS).items()},
        "count_by_occlusion": {k: int(m.sum()) for k, m in bin_masks(o, OCCLUSION_BINS).items()},
        "mean_variance_by_occlusion": binned_mean(v, o, OCCLUSION_BINS),
        "median_variance_by_occlusion": {
            k: (float(np.median(v[m])) if m.any() else None)
            for k, m in bin_masks(o, OCCLUSION_BINS).items()
        },
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trackflow-eval-distance",
        description="Score a distance estimator on a split in the synthetic annotation format.",
    )
    parser.add_argument("--data", type=Path, required=True, help="split folder")
    parser.add_argument("--model", choices=["pinhole", "distsynth"], required=True)
    parser.add_argument("--weights", type=Path, help="DistSynth checkpoint (local path)")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (DistSynth)")
    parser.add_argument("--clip-length", type=int, default=6, help="DistSynth frames per clip")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.time()
    try:
        estimator = make_estimator(args.model, args.weights, args.device, args.clip_length)
        result = summarise(predict_split(args.data, estimator))
    except (DatasetError, DistSynthWeightsError, ValueError, RuntimeError, OSError) as exc:
        print(f"trackflow-eval-distance: error: {exc}", file=sys.stderr)
        return 2
    result |= {
        "model": args.model,
        "data": str(args.data),
        "weights": str(args.weights) if args.weights else None,
        "seconds": round(time.time() - start, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    occ = result["abs_error_by_occlusion"]
    print(
        f"{args.model}: n={result['n']}  MAE {result['mean_abs_error']:.3f} m  "
        f"delta1 {result['delta1']:.3f}  abs_rel {result['abs_rel']:.3f}  "
        f"rmse {result['rmse']:.3f}  occ>=0.5: {occ['0.5-0.75']}, {occ['0.75-1']}  -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
