"""Per-stage time of the per-frame pipeline on PETS09-S2L1 (768x576, 7 fps) with its calibration.

The default configuration (HOG at 2x + pinhole distance + ByteTrack + TrackFlow) runs on the
video frames; the tracking-only variants take the public Faster R-CNN detections
(``detector: external``) so that the tracker and cost are timed without the detector.

    .venv/bin/python bench/pipeline_speed.py [--frames 50] [--data ../shared/data]

Writes the ``pipeline_speed`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.docs_section import write_section  # noqa: E402
from trackflow_ros.distance.pinhole import CameraIntrinsics  # noqa: E402
from trackflow_ros.pipeline import Pipeline, PipelineConfig  # noqa: E402

STAGES = ("detect", "distance", "associate", "output", "total")
VARIANTS = [
    ("hog", "bytetrack", "trackflow"),
    ("external", "bytetrack", "trackflow"),
    ("external", "bytetrack", "iou"),
    ("external", "sort", "trackflow"),
    ("external", "ocsort", "trackflow"),
]


def public_detections(path: Path, n: int) -> list[np.ndarray]:
    det = np.loadtxt(path, delimiter=",")
    out = []
    for frame in range(1, n + 1):
        rows = det[det[:, 0] == frame]
        out.append(np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6], rows[:, 6]]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    camera = CameraIntrinsics.from_yaml(args.data / "calibration" / "PETS09-S2L1.camera_info.yaml")
    cap = cv2.VideoCapture(str(args.data / "PETS09-S2L1.avi"))
    frames = []
    while len(frames) < args.frames:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    public = public_detections(args.data / "MOT15/train/PETS09-S2L1/det/det.txt", len(frames))

    rows = []
    for detector, tracker, cost in VARIANTS:
        config = PipelineConfig(detector=detector, tracker=tracker, cost=cost, frame_rate=7.0)
        pipeline = Pipeline(config)
        times = {s: [] for s in STAGES}
        cpu = []
        n_persons = 0
        for i, frame in enumerate(frames):
            dets = public[i] if detector == "external" else None
            c0 = time.process_time()
            result = pipeline.process(frame, i / 7.0, camera, dets)
            cpu.append(time.process_time() - c0)
            n_persons += len(result.persons)
            for s in STAGES:
                times[s].append(result.timings[s])
        cells = [f"{1000 * np.mean(times[s]):.1f}" for s in STAGES]
        source = "HOG 2x" if detector == "hog" else "public det."
        rows.append(
            f"| {source} | {tracker} | {cost} | {' | '.join(cells)} | "
            f"{1000 * np.median(times['total']):.1f} | {1000 * np.mean(cpu):.1f} | "
            f"{n_persons / len(frames):.1f} |"
        )
        print(rows[-1], flush=True)

    md = [
        "## Pipeline time per frame on PETS09-S2L1 (`bench/pipeline_speed.py`)",
        "",
        f"First {len(frames)} frames, 768x576, pinhole distances with the PETS09 calibration, "
        f"torch 1 thread, OpenCV {cv2.getNumThreads()} threads, "
        f"{platform.processor() or platform.machine()}; a 2-core machine shared with other "
        f"jobs (1-min load average {os.getloadavg()[0]:.1f} at the end), so times are upper "
        "bounds. Mean ms per stage (`FrameResult.timings`), then "
        "the median total, the mean CPU time of the process per frame (all threads; less "
        "disturbed by other jobs than wall time) and the mean number of reported persons per "
        "frame. `output` is "
        "the per-track distance, 3D position and velocity.",
        "",
        "| detections | tracker | cost | detect | distance | associate | output | total "
        "| median total | CPU total | persons |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    write_section(args.out, "pipeline_speed", "\n".join(md))
    print(f"wrote the pipeline_speed section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
