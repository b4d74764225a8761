"""Scoring a replay against MOTChallenge ground truth, and re-tracking its detections.

A bag is one sequence, its images numbered 1..N in bag order (MOT frame = image index + 1).
TrackEval wants a MOTChallenge folder, so the ground truth is laid out as one (copied, with a
``seqinfo.ini`` whose length is the bag's) next to the results, inside the output folder.

Re-tracking answers "is the learned cost better than IoU *on the same detections*?" without
detecting again: the detections the replay used are fed to a pipeline whose detector is
``external`` and whose cost is IoU, everything else (tracker, thresholds, frame rate, distance)
as configured, which costs tracking time only.
"""

from __future__ import annotations

import configparser
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from trackflow_ros.evaluation.metrics import evaluate_mot
from trackflow_ros.evaluation.motchallenge import (
    SEQINFO,
    MotFormatError,
    read_ground_truth,
    read_seqinfo,
    write_results,
)
from trackflow_ros.pipeline import Pipeline, PipelineConfig
from trackflow_ros.types import empty_detections


class GroundTruthMismatch(ValueError):
    """Ground truth that does not belong to the bag (frame count differs); names both."""


def gt_frame_count(gt_path: Path) -> tuple[int, str]:
    """The sequence length the ground truth is for, and where that number comes from: a
    ``seqinfo.ini`` of its sequence folder (``<SEQ>/gt/gt.txt``), else its last frame."""
    gt_path = Path(gt_path)
    seq_dir = gt_path.parent.parent
    if gt_path.parent.name == "gt" and (seq_dir / SEQINFO).is_file():
        return read_seqinfo(seq_dir).length, str(seq_dir / SEQINFO)
    gt = read_ground_truth(gt_path)
    if not len(gt):
        raise MotFormatError(f"{gt_path}: no ground-truth rows")
    return int(gt[:, 0].max()), f"the last frame of {gt_path}"


def check_gt_frames(gt_path: Path, bag_path: Path, frames: int) -> None:
    length, source = gt_frame_count(gt_path)
    if length != frames:
        raise GroundTruthMismatch(
            f"{gt_path}: ground truth is for {length} frames ({source}) but the bag {bag_path} "
            f"has {frames} images on its image topic; use the ground truth of this recording "
            "(cut to its frames, MOT frame = image index + 1)"
        )


def score_rows(
    rows: np.ndarray,
    gt_path: Path,
    frames: int,
    frame_rate: float,
    size: tuple[int, int],
    work: Path,
    name: str,
) -> dict[str, Any]:
    """TrackEval metrics (HOTA, DetA, AssA, IDF1, MOTA, IDSW) of results ``rows`` (K, 7) over
    ``frames`` frames. Files go to ``work/gt/<seq>`` and ``work/<name>/<seq>.txt``."""
    seq = "sequence"
    seq_dir = Path(work) / "gt" / seq
    (seq_dir / "gt").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(gt_path, seq_dir / "gt" / "gt.txt")
    info = configparser.ConfigParser()
    info.optionxform = str  # keep the keys' case, as MOTChallenge writes them
    info["Sequence"] = {
        "name": seq,
        "imDir": "img1",
        "frameRate": f"{frame_rate:g}",
        "seqLength": str(frames),
        "imWidth": str(size[0]),
        "imHeight": str(size[1]),
        "imExt": ".jpg",
    }
    with (seq_dir / SEQINFO).open("w") as f:
        info.write(f, space_around_delimiters=False)
    results_dir = Path(work) / name
    write_results(results_dir / f"{seq}.txt", rows)
    return evaluate_mot(Path(work) / "gt", results_dir, [seq])["combined"]


def retrack(
    config: PipelineConfig,
    detections: dict[int, np.ndarray],
    stamps: dict[int, float],
    cameras: dict[int, Any],
    frames: int,
    cost: str,
) -> np.ndarray:
    """Results rows (K, 7) of ``config`` with ``cost``, fed the given detections of frames
    1..``frames`` (no detector runs)."""
    params = config.to_dict()
    params.update(detector="external", cost=cost)
    pipeline = Pipeline(PipelineConfig.from_dict(params))
    rows: list[list[float]] = []
    for frame in range(1, frames + 1):
        dets = detections.get(frame, empty_detections())
        result = pipeline.process(
            None,
            stamps.get(frame, frame / config.frame_rate),
            cameras.get(frame),
            detections=np.asarray(dets)[:, :5],
        )
        rows.extend([frame, p.id, *p.box, p.score] for p in result.persons)
    return np.array(rows, dtype=float).reshape(-1, 7)
