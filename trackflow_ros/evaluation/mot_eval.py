"""Run a tracker over MOTChallenge sequences and score it: what ``trackflow-eval`` does.

The tracker sees exactly what the node would give it, one frame's detections at a time, and
the results are scored by TrackEval, so the numbers here are the numbers of the robot's tracker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from trackflow_ros.evaluation.metrics import evaluate_mot
from trackflow_ros.evaluation.motchallenge import (
    SequenceInfo,
    find_sequences,
    read_detections,
    write_results,
)
from trackflow_ros.tracking import Tracker
from trackflow_ros.types import empty_detections

#: builds a fresh tracker for a sequence (its frame rate differs from sequence to sequence)
TrackerFactory = Callable[[SequenceInfo], Tracker]


def track_sequence(
    tracker: Tracker,
    detections: dict[int, np.ndarray],
    length: int,
    progress: tqdm | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Feed frames 1..length to ``tracker``.

    Returns the reported tracks as ``(K, 7)`` rows ``[frame, id, x1, y1, x2, y2, score]`` and
    the time of each ``update`` call in seconds.
    """
    rows: list[list[float]] = []
    seconds = np.zeros(length)
    for frame in range(1, length + 1):
        dets = detections.get(frame, empty_detections())
        start = time.perf_counter()
        tracker.update(dets)
        reported = tracker.reported()
        seconds[frame - 1] = time.perf_counter() - start
        rows.extend([frame, t.id, *tracker.output_box(t), t.score] for t in reported)
        if progress is not None:
            progress.update(1)
    return np.array(rows, dtype=np.float64).reshape(-1, 7), seconds


def evaluate_split(data: Path, make: TrackerFactory, out: Path, show_progress: bool = True):
    """Track every sequence under ``data`` (or the one sequence ``data`` is), write
    ``out/<SEQ>.txt`` and ``out/summary.json``, and return the summary.

    Summary: ``{"combined": {HOTA, IDF1, MOTA, AssA, DetA, IDSW}, "per_sequence": {SEQ: ...},
    "ms_per_frame": float}``, metrics in percent; ``ms_per_frame`` is the mean time of one
    tracker update over all frames.
    """
    sequences = find_sequences(Path(data))
    detections = {
        s.path.name: read_detections(s.path / "det" / "det.txt", s.length) for s in sequences
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    total_seconds, total_frames = 0.0, 0
    with tqdm(
        total=sum(s.length for s in sequences), unit="frame", disable=not show_progress
    ) as bar:
        for seq in sequences:
            bar.set_description(seq.path.name)
            rows, seconds = track_sequence(make(seq), detections[seq.path.name], seq.length, bar)
            write_results(out / f"{seq.path.name}.txt", rows)
            total_seconds += float(seconds.sum())
            total_frames += seq.length
    gt_root = sequences[0].path.parent
    summary: dict[str, Any] = evaluate_mot(gt_root, out, [s.path.name for s in sequences])
    summary["ms_per_frame"] = 1000.0 * total_seconds / max(total_frames, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
