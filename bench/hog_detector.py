"""OpenCV HOG people detector on PETS09-S2L1: speed, and precision/recall against the ground truth.

For each detection setting (upscale factor, pyramid step) the expensive part (the raw HOG
windows) runs once per frame; box tightening (the fraction of the 64x128 window the person
fills), score thresholds and NMS are then applied to the same windows, so the table shows what
tightening is worth at no extra detection cost. A detection is a true positive when the
Hungarian matching at IoU >= 0.5 pairs it with an evaluated (flag 1) ground-truth box.

    .venv/bin/python bench/hog_detector.py [--frames 100] [--data ../shared/data]

Writes the ``hog_detector`` section of docs/BENCHMARKS.md.
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
from scipy.optimize import linear_sum_assignment

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.docs_section import write_section  # noqa: E402
from trackflow_ros.detection.hog import HOGDetector  # noqa: E402
from trackflow_ros.tracking import iou_matrix  # noqa: E402

SETTINGS = [(2.0, 1.05), (2.0, 1.1), (1.0, 1.05)]  # (upscale, pyramid step)
FRACTIONS = [(1.0, 1.0), (0.5, 0.8), (0.5, 0.7), (0.6, 0.8), (0.6, 0.7), (0.4, 0.8), (0.5, 0.9)]
THRESHOLDS = [0.1, 0.5, 0.7]


def load_gt(path: Path) -> dict[int, np.ndarray]:
    gt = np.loadtxt(path, delimiter=",")
    gt = gt[gt[:, 6] == 1]
    return {
        int(f): np.column_stack([g[:, 2:4], g[:, 2:4] + g[:, 4:6]])
        for f in np.unique(gt[:, 0])
        for g in [gt[gt[:, 0] == f]]
    }


def precision_recall(dets: list[np.ndarray], gts: list[np.ndarray]) -> tuple[float, float]:
    tp = n_det = n_gt = 0
    for d, g in zip(dets, gts, strict=True):
        n_det += len(d)
        n_gt += len(g)
        if len(d) and len(g):
            iou = iou_matrix(d[:, :4], g)
            r, c = linear_sum_assignment(-iou)
            tp += int((iou[r, c] >= 0.5).sum())
    return tp / max(n_det, 1), tp / max(n_gt, 1)


def single_thread_cpu_ms(detector: HOGDetector, frames: list[np.ndarray]) -> float:
    """Median CPU time per frame with one OpenCV thread: what one core spends, which other jobs
    on a shared machine inflate far less than the wall time."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        cpu = []
        for frame in frames:
            t0 = time.process_time()
            detector(frame)
            cpu.append(time.process_time() - t0)
    finally:
        cv2.setNumThreads(threads)
    return 1000 * float(np.median(cpu))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    cap = cv2.VideoCapture(str(args.data / "PETS09-S2L1.avi"))
    frames = []
    while len(frames) < args.frames:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    gt_by_frame = load_gt(args.data / "MOT15/train/PETS09-S2L1/gt/gt.txt")
    gts = [gt_by_frame.get(i + 1, np.zeros((0, 4))) for i in range(len(frames))]

    speed_rows, quality_rows = [], []
    for upscale, step in SETTINGS:
        base = HOGDetector(upscale=upscale, scale=step)
        windows, times = [], []
        for frame in frames:
            t0 = time.perf_counter()
            w = base.windows(frame)
            base.finish(*w)
            times.append(time.perf_counter() - t0)
            windows.append(w)
        ms = 1000 * np.array(times)
        cpu_ms = single_thread_cpu_ms(base, frames[: min(20, len(frames))])
        speed_rows.append(
            f"| {upscale:g} | {step:g} | {np.median(ms):.0f} | {np.percentile(ms, 90):.0f} "
            f"| {cpu_ms:.0f} |"
        )
        print(speed_rows[-1], flush=True)
        for wf, hf in FRACTIONS:
            det = HOGDetector(
                upscale=upscale, scale=step, box_width_fraction=wf, box_height_fraction=hf
            )
            out = [det.finish(*w) for w in windows]
            cells = []
            for thr in THRESHOLDS:
                p, r = precision_recall([d[d[:, 4] >= thr] for d in out], gts)
                cells.append(f"{p:.2f} / {r:.2f}")
            row = f"| {upscale:g} | {step:g} | {wf:g} x {hf:g} | {' | '.join(cells)} |"
            quality_rows.append(row)
            print(quality_rows[-1], flush=True)

    md = [
        "## HOG people detector on PETS09-S2L1 (`bench/hog_detector.py`)",
        "",
        f"First {len(frames)} frames of PETS09-S2L1 (768x576), OpenCV {cv2.__version__} with "
        f"{cv2.getNumThreads()} threads, {platform.processor() or platform.machine()}, a "
        "2-core machine shared with other jobs (1-min load average "
        f"{os.getloadavg()[0]:.1f} at the end; times are upper bounds). Window stride 8 px "
        "(in the upscaled image), NMS IoU 0.3.",
        "",
        "Time per frame (detection windows + tightening + NMS): wall time over all frames, and "
        "the CPU time of one core (one OpenCV thread, first 20 frames), the figure least "
        "disturbed by the other jobs:",
        "",
        "| upscale | pyramid step | median wall ms | p90 wall ms | 1-thread CPU ms |",
        "|---|---|---|---|---|",
        *speed_rows,
        "",
        "Precision / recall against the evaluated ground truth (IoU >= 0.5, Hungarian matching), "
        "by the part of the 64x128 window kept as the person's box (width x height fraction, "
        "about its centre; 1 x 1 = raw windows) and by minimum score "
        "(score = 1 - exp(-SVM margin)):",
        "",
        "| upscale | pyramid step | box kept | score >= "
        + " | score >= ".join(f"{t:g}" for t in THRESHOLDS)
        + " |",
        "|---|---|---|" + "---|" * len(THRESHOLDS),
        *quality_rows,
        "",
        "Raw windows almost never overlap a ground-truth box by IoU 0.5: the person fills "
        "only the centre of the window. Defaults: upscale 2 (at native size recall drops "
        "to about half), pyramid step 1.05 (1.1 takes ~0.6x the time for 0.02-0.03 less "
        "recall), box 0.5 x 0.8 of the window (as ARCHITECTURE.md describes the margin; the "
        "neighbouring fractions are within about 0.01 of it at 2x). The pipeline keeps "
        "scores >= 0.1 for ByteTrack's second stage; new tracks need 0.6.",
    ]
    write_section(args.out, "hog_detector", "\n".join(md))
    print(f"wrote the hog_detector section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
