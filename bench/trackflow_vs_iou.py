"""TrackFlow against the IoU cost, for SORT, ByteTrack and OC-SORT, leave-one-sequence-out.

Each shared MOT15 sequence is tracked with a TrackFlow model trained on the ground truth of every
*other* sequence (the other MOT15 sequences and the MOT17 ones), so no number is in-sample.
Same detections, same tracker parameters; metrics by TrackEval. Prints the tables and writes
``docs/RESULTS.md``. Models go to ``--models`` (reused when present; ``--retrain`` to redo).

    .venv/bin/python bench/trackflow_vs_iou.py [--retrain] [--epochs 10]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from docs_section import write_section

from trackflow_ros.association.cost import TrackFlowCost
from trackflow_ros.association.train import train_flow
from trackflow_ros.evaluation.metrics import evaluate_mot
from trackflow_ros.evaluation.mot_eval import track_sequence
from trackflow_ros.evaluation.motchallenge import find_sequences, read_detections, write_results
from trackflow_ros.tracking import IoUCost, make_tracker

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TRACKERS = ["sort", "bytetrack", "ocsort"]
KEYS = ["HOTA", "IDF1", "MOTA", "AssA", "IDSW"]
NOTES = """
## Reading the numbers

- The gain comes from tracks that were missed: TrackFlow's motion model re-finds people whose
  box no longer overlaps the prediction (PETS09-S2L1 at 7 fps gains most). Between consecutive
  frames the IoU term carries most of the fused cost.
- The TUD sequences (25 fps, close-up, people occluding each other) are where TrackFlow loses
  (TUD-Campus with every tracker, TUD-Stadtmitte with SORT and OC-SORT): their detections
  change size abruptly under partial occlusion, which the flow, trained mostly on ground
  truth, finds unlikely.
- Each model is trained once (seed 0). While developing, two training runs that differed only
  slightly (one context feature) moved the combined gains by up to a point for OC-SORT, so
  small differences, OC-SORT's in particular, are within run-to-run noise.
"""
#: (IoU share after a miss, IoU share for tracks matched in the previous frame)
FUSION_GRID = [(0.5, 0.8), (0.7, 0.8), (0.8, 0.8), (0.7, 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "MOT15" / "train")
    parser.add_argument("--extra", type=Path, nargs="*", default=[DATA / "MOT17" / "train"])
    parser.add_argument("--models", type=Path, default=REPO / "build" / "loso_models")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--iou-weight", type=float, default=0.5, help="after a miss")
    parser.add_argument("--iou-weight-next-frame", type=float, default=0.8)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "RESULTS.md")
    args = parser.parse_args()

    sequences = find_sequences(args.data)
    extra = [s.path for root in args.extra for s in find_sequences(root)]
    names = [s.path.name for s in sequences]
    args.models.mkdir(parents=True, exist_ok=True)
    weights = {}
    for seq in sequences:
        path = args.models / f"without_{seq.path.name}.pt"
        if args.retrain or not path.is_file():
            train_on = [s.path for s in sequences if s is not seq] + extra
            print(f"training without {seq.path.name} on {len(train_on)} sequences")
            train_flow(train_on, path, epochs=args.epochs, show_progress=False, log=lambda m: None)
        weights[seq.path.name] = path

    dets = {s.path.name: read_detections(s.path / "det" / "det.txt", s.length) for s in sequences}
    gt_root = sequences[0].path.parent

    def run(folder: Path, name: str, fusion: tuple[float, float] | None) -> float:
        """Track every sequence into ``folder``; the mean update time in ms."""
        total, frames = 0.0, 0
        for seq in sequences:
            if fusion is None:
                cost = IoUCost()
            else:
                cost = TrackFlowCost(
                    weights[seq.path.name], seq.frame_rate, iou_weight=fusion[0],
                    iou_weight_next_frame=fusion[1],
                )  # fmt: skip
            tracker = make_tracker(name, cost=cost, frame_rate=seq.frame_rate)
            rows, sec = track_sequence(tracker, dets[seq.path.name], seq.length)
            write_results(folder / f"{seq.path.name}.txt", rows)
            total, frames = total + sec.sum(), frames + seq.length
        return 1000 * total / frames

    default = (args.iou_weight, args.iou_weight_next_frame)
    grid = [default] + [g for g in FUSION_GRID if g != default]
    results, ms, nested, chosen = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in TRACKERS:
            folders = {}
            for fusion in [None, *grid]:
                folder = folders[fusion] = Path(tmp) / f"{name}-{fusion}"
                elapsed = run(folder, name, fusion)
                if fusion in (None, default):
                    key = "iou" if fusion is None else "trackflow"
                    results[name, key] = evaluate_mot(gt_root, folder, names)
                    ms[name, key] = elapsed
                    c = results[name, key]["combined"]
                    print(f"{name:10s} {key:9s} " + "  ".join(f"{k} {c[k]:.2f}" for k in KEYS))
            # fusion weights chosen out of sample: for each sequence, the grid point with the
            # best combined HOTA on the *other* sequences
            picked = Path(tmp) / f"{name}-nested"
            picked.mkdir()
            for seq in names:
                others = [n for n in names if n != seq]
                score = {
                    g: evaluate_mot(gt_root, folders[g], others)["combined"]["HOTA"] for g in grid
                }
                best = max(grid, key=lambda g: score[g])
                chosen[name, seq] = best
                shutil.copy(folders[best] / f"{seq}.txt", picked / f"{seq}.txt")
            nested[name] = evaluate_mot(gt_root, picked, names)
            c = nested[name]["combined"]
            print(f"{name:10s} nested    " + "  ".join(f"{k} {c[k]:.2f}" for k in KEYS))

    lines = [
        "# TrackFlow vs IoU, leave-one-sequence-out",
        "",
        f"Generated by `bench/trackflow_vs_iou.py` on {time.strftime('%Y-%m-%d')}. Each of the "
        f"{len(names)} sequences of `{args.data}` is tracked with a model trained without it "
        f"(on the other sequences and {', '.join(p.name for p in extra)}; {args.epochs} epochs). "
        f"Public detections, default tracker parameters, TrackFlow cost fused with IoU "
        f"(IoU share {args.iou_weight_next_frame} for tracks matched in the previous frame, "
        f"{args.iou_weight} after a miss). Metrics by TrackEval, in percent; IDSW a count.",
        "",
        "## Combined",
        "",
        "| tracker | cost | " + " | ".join(KEYS) + " | ms/frame |",
        "|---|---|" + "---|" * len(KEYS) + "---|",
    ]
    for name in TRACKERS:
        for cost_name in ("iou", "trackflow"):
            c = results[name, cost_name]["combined"]
            cells = [f"{c[k]:.2f}" if k != "IDSW" else str(c[k]) for k in KEYS]
            lines.append(
                f"| {name} | {cost_name} | " + " | ".join(cells) + f" | {ms[name, cost_name]:.2f} |"
            )
        a, b = results[name, "iou"]["combined"], results[name, "trackflow"]["combined"]
        gain = [f"{b[k] - a[k]:+.2f}" if k != "IDSW" else f"{b[k] - a[k]:+d}" for k in KEYS]
        lines.append(f"| {name} | **gain** | " + " | ".join(f"**{g}**" for g in gain) + " | |")
    lines += [
        "",
        "## Fusion weights chosen out of sample",
        "",
        "The IoU share of the fused cost is a hyperparameter. Here it is chosen per held-out "
        "sequence, among "
        + ", ".join(f"({a}, {b})" for a, b in grid)
        + " (IoU share after a miss, for tracks matched in the previous frame), as the "
        "grid point with the best combined HOTA on the *other* sequences; the held-out "
        "sequence is then scored with it. Neither the model nor the weight has seen it.",
        "",
        "| tracker | " + " | ".join(KEYS) + " | gain HOTA | gain IDF1 | chosen per sequence |",
        "|---|" + "---|" * len(KEYS) + "---|---|---|",
    ]
    for name in TRACKERS:
        c, a = nested[name]["combined"], results[name, "iou"]["combined"]
        cells = [f"{c[k]:.2f}" if k != "IDSW" else str(c[k]) for k in KEYS]
        picks = ", ".join(f"{seq}: {chosen[name, seq]}" for seq in names)
        lines.append(
            f"| {name} | " + " | ".join(cells)
            + f" | {c['HOTA'] - a['HOTA']:+.2f} | {c['IDF1'] - a['IDF1']:+.2f} | {picks} |"
        )  # fmt: skip
    lines += ["", "## Per sequence: HOTA and IDF1, IoU -> TrackFlow", ""]
    lines += ["| sequence | " + " | ".join(TRACKERS) + " |", "|---|" + "---|" * len(TRACKERS)]
    wins = dict.fromkeys(TRACKERS, 0)
    for seq in names:
        cells = []
        for name in TRACKERS:
            a = results[name, "iou"]["per_sequence"][seq]
            b = results[name, "trackflow"]["per_sequence"][seq]
            wins[name] += b["HOTA"] > a["HOTA"]
            cells.append(
                f"HOTA {a['HOTA']:.1f} -> {b['HOTA']:.1f} ({b['HOTA'] - a['HOTA']:+.1f}), "
                f"IDF1 {a['IDF1']:.1f} -> {b['IDF1']:.1f} ({b['IDF1'] - a['IDF1']:+.1f})"
            )
        lines.append(f"| {seq} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "HOTA wins per tracker: " + ", ".join(f"{n} {wins[n]}/{len(names)}" for n in TRACKERS),
    ]
    lines += NOTES.splitlines()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_section(args.out, "trackflow_vs_iou", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
