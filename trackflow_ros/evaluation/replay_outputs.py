"""What a replay leaves in its output folder, written so that an interrupted run still leaves
every file readable: MOTChallenge results, the detections used (``det.txt``), an annotated
MP4, a bird's-eye PNG, and ``summary.json``.

Shared by ``trackflow-replay`` (tracks computed here) and the demo (tracks recorded from the
node): both hand it one frame at a time, and ``close`` writes whatever arrived.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from trackflow_ros.evaluation.motchallenge import write_results

_log = logging.getLogger(__name__)

#: how many past image points a trail keeps, in frames
TRAIL_LENGTH = 30


def write_detections(path: Path, detections: dict[int, np.ndarray]) -> None:
    """MOT ``det.txt``: ``frame,-1,left,top,width,height,score,-1,-1,-1`` from ``{frame: (N,
    >=5) x1,y1,x2,y2,score}``; ``motchallenge.read_detections`` reads it back."""
    lines = []
    for frame in sorted(detections):
        for x1, y1, x2, y2, score in np.asarray(detections[frame], dtype=float)[:, :5]:
            lines.append(
                f"{frame},-1,{x1:.3f},{y1:.3f},{x2 - x1:.3f},{y2 - y1:.3f},{score:.6g},-1,-1,-1\n"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


class ReplayOutputs:
    """Collects per-frame tracks and writes the output files. ``video`` False skips the MP4."""

    def __init__(self, out: Path, fps: float, video: bool = True) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.fps = float(fps) if fps and math.isfinite(fps) else 10.0
        self.results_path = self.out / "results.txt"
        self.detections_path = self.out / "det.txt"
        self.video_path = self.out / "annotated.mp4" if video else None
        self.birdseye_path = self.out / "birdseye.png"
        self.rows: list[list[float]] = []
        self.detections: dict[int, np.ndarray] = {}
        self.positions: dict[int, list[np.ndarray]] = defaultdict(list)  # id -> camera xyz
        self.trails: dict[int, list[tuple[float, float]]] = defaultdict(list)
        self.frames = 0
        self._writer = None
        self._video_failed = False

    def add(
        self,
        frame: int,
        persons: list[Any],
        detections: np.ndarray | None = None,
        image: np.ndarray | None = None,
    ) -> None:
        """One frame (MOT numbering, from 1): its reported persons (``PersonTrack``), the
        detections used, and the picture to annotate (None: no video frame)."""
        self.frames = max(self.frames, frame)
        for p in persons:
            x1, y1, x2, y2 = (float(v) for v in p.box)
            self.rows.append([frame, int(p.id), x1, y1, x2, y2, float(p.score)])
            position = np.asarray(p.position, dtype=float)
            if np.isfinite(position).all():
                self.positions[int(p.id)].append(position)
            trail = self.trails[int(p.id)]
            trail.append(((x1 + x2) / 2.0, y2))
            del trail[:-TRAIL_LENGTH]
        if detections is not None:
            self.detections[frame] = np.asarray(detections, dtype=float)
        if image is not None and self.video_path is not None and not self._video_failed:
            self._write_video_frame(image, persons)

    def _write_video_frame(self, image: np.ndarray, persons: list[Any]) -> None:
        import cv2

        try:
            from trackflow_ros.viz import draw_tracks
        except ImportError as exc:  # a picture must not cost the run's other outputs
            _log.warning("no annotated video: %s", exc)
            self._video_failed = True
            return
        live = {int(p.id) for p in persons}
        trails = {i: list(t) for i, t in self.trails.items() if i in live}
        annotated = draw_tracks(image, persons, trails)
        if self._writer is None:
            height, width = annotated.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.video_path), fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                _log.warning("%s: OpenCV cannot write mp4v video here; no video", self.video_path)
                self._video_failed = True
                self._writer = None
                return
        self._writer.write(annotated)

    def close(self) -> dict[str, str | None]:
        """Write results, detections and the bird's-eye plot; finish the video. Returns the
        paths written (None for those that were not)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        write_results(self.results_path, np.array(self.rows, dtype=float).reshape(-1, 7))
        write_detections(self.detections_path, self.detections)
        birdseye = None
        try:
            from trackflow_ros.viz import birdseye_plot

            tracks_xyz = {i: np.array(p) for i, p in self.positions.items() if p}
            birdseye_plot(tracks_xyz, self.birdseye_path)
            birdseye = str(self.birdseye_path)
        except Exception as exc:  # a plot must not cost the run's other outputs
            _log.warning("bird's-eye plot not written: %s", exc)
        video = (
            str(self.video_path)
            if self.video_path is not None and self.video_path.is_file()
            else None
        )
        return {
            "results": str(self.results_path),
            "detections": str(self.detections_path),
            "video": video,
            "birdseye": birdseye,
        }


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """JSON with NaN written as null (JSON has no NaN)."""
    Path(path).write_text(json.dumps(_jsonable(summary), indent=2) + "\n", encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value
