"""Tracking quality of the pipeline with its built-in HOG detector on PETS09-S2L1 (HOTA etc.).

The HOG detector (pipeline defaults: 2x upscale, 0.5 x 0.8 box, scores >= 0.1) runs once over
the first N frames of the video; each tracker x cost then runs through ``Pipeline`` with those
detections (exactly what the node would compute, without re-running HOG), and TrackEval scores
the confirmed tracks against the ground truth of the same frames. The public Faster R-CNN
detections of the same frames are the reference row.

    .venv/bin/python bench/hog_tracking.py [--frames 200] [--data ../shared/data]

Writes the ``pipeline_hog_tracking`` section of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.docs_section import write_section  # noqa: E402
from trackflow_ros.detection import make_detector  # noqa: E402
from trackflow_ros.distance.pinhole import CameraIntrinsics  # noqa: E402
from trackflow_ros.evaluation.metrics import evaluate_mot  # noqa: E402
from trackflow_ros.evaluation.motchallenge import write_results  # noqa: E402
from trackflow_ros.pipeline import Pipeline, PipelineConfig  # noqa: E402

SEQ = "PETS09-S2L1"
FPS = 7.0
VARIANTS = [(t, c) for t in ("sort", "bytetrack", "ocsort") for c in ("iou", "trackflow")]


def truncated_sequence(data: Path, root: Path, frames: int) -> None:
    """A MOTChallenge folder with the sequence cut to its first ``frames`` frames."""
    src = data / "MOT15" / "train" / SEQ
    dst = root / SEQ
    (dst / "gt").mkdir(parents=True)
    info = (src / "seqinfo.ini").read_text().splitlines()
    info = [f"seqLength={frames}" if line.startswith("seqLength=") else line for line in info]
    (dst / "seqinfo.ini").write_text("\n".join(info) + "\n")
    lines = (src / "gt" / "gt.txt").read_text().splitlines()
    (dst / "gt" / "gt.txt").write_text(
        "\n".join(line for line in lines if int(line.split(",")[0]) <= frames) + "\n"
    )


def public_detections(data: Path, frames: int) -> list[np.ndarray]:
    det = np.loadtxt(data / "MOT15" / "train" / SEQ / "det" / "det.txt", delimiter=",")
    out = []
    for f in range(1, frames + 1):
        rows = det[det[:, 0] == f]
        out.append(np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6], rows[:, 6]]))
    return out


def track(detections: list[np.ndarray], tracker: str, cost: str, camera) -> np.ndarray:
    config = PipelineConfig(detector="external", tracker=tracker, cost=cost, frame_rate=FPS)
    pipeline = Pipeline(config)
    rows = []
    for i, dets in enumerate(detections):
        result = pipeline.process(None, i / FPS, camera, dets)
        rows.extend([i + 1, p.id, *p.box, p.score] for p in result.persons)
    return np.array(rows, dtype=np.float64).reshape(-1, 7)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "RESULTS.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    camera = CameraIntrinsics.from_yaml(args.data / "calibration" / f"{SEQ}.camera_info.yaml")
    hog = make_detector(PipelineConfig())
    cap = cv2.VideoCapture(str(args.data / f"{SEQ}.avi"))
    hog_dets = []
    for i in range(args.frames):
        ok, frame = cap.read()
        if not ok:
            raise SystemExit(f"{SEQ}.avi ended after {i} frames")
        hog_dets.append(hog(frame))
        if i % 50 == 0:
            print(f"HOG frame {i}", flush=True)
    sources = {"HOG 2x (built-in)": hog_dets, "public Faster R-CNN": public_detections(
        args.data, args.frames)}  # fmt: skip

    table = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "gt"
        truncated_sequence(args.data, root, args.frames)
        for name, dets in sources.items():
            for tracker, cost in VARIANTS:
                results = Path(tmp) / f"{name.split()[0]}-{tracker}-{cost}"
                write_results(results / f"{SEQ}.txt", track(dets, tracker, cost, camera))
                m = evaluate_mot(root, results, [SEQ])["combined"]
                table.append(
                    f"| {name} | {tracker} | {cost} | {m['HOTA']:.1f} | {m['DetA']:.1f} | "
                    f"{m['AssA']:.1f} | {m['IDF1']:.1f} | {m['MOTA']:.1f} | {m['IDSW']} |"
                )
                print(table[-1], flush=True)

    md = [
        "## The pipeline with its built-in HOG detector on PETS09-S2L1 (`bench/hog_tracking.py`)",
        "",
        f"First {args.frames} frames of PETS09-S2L1 (7 fps), `Pipeline` with pinhole distances "
        "and the shipped TrackFlow weights (trained on these sequences' ground truth among "
        "others, so the TrackFlow rows are not held-out numbers; docs/RESULTS.md's "
        "leave-one-out section is). HOG: the pipeline defaults (2x upscale, box 0.5 x 0.8 of "
        "the window, scores >= 0.1, score = 1 - exp(-SVM margin)). Scored by TrackEval "
        "(percent; IDSW a count).",
        "",
        "| detections | tracker | cost | HOTA | DetA | AssA | IDF1 | MOTA | IDSW |",
        "|---|---|---|---|---|---|---|---|---|",
        *table,
    ]
    write_section(args.out, "pipeline_hog_tracking", "\n".join(md))
    print(f"wrote the pipeline_hog_tracking section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
