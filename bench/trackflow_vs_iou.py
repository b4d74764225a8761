"""TrackFlow against the IoU cost, for SORT, ByteTrack and OC-SORT, leave-one-sequence-out.

Each shared MOT15 sequence is tracked with a TrackFlow model trained on the ground truth of every
*other* sequence (the other MOT15 sequences and the MOT17 ones), so no number is in-sample.
Same detections, same tracker parameters; metrics by TrackEval. Prints the tables and writes
``docs/RESULTS.md``. Models go to ``--models`` (reused when present; ``--retrain`` to redo).

    .venv/bin/python bench/trackflow_vs_iou.py [--seeds 0 1 2] [--retrain] [--epochs 10]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from docs_section import write_section

from trackflow_ros.association.cost import (
    DEFAULT_IOU_WEIGHT,
    DEFAULT_IOU_WEIGHT_NEXT,
    TrackFlowCost,
)
from trackflow_ros.association.train import DEFAULT_EPOCHS, train_flow
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
  box no longer overlaps the prediction (PETS09-S2L1 at 7 fps gains most with SORT and OC-SORT,
  ADL-Rundle-6 with ByteTrack). Between consecutive frames the IoU term carries most of the
  fused cost.
- TUD-Campus (25 fps, 71 frames, close-up) loses with every tracker and every seed. Traced frame
  by frame (OC-SORT, seed 0): two people walking in opposite directions cross while one is
  hidden for six frames, and when he reappears the two identities are swapped, where IoU keeps
  them. Two fixes aimed at it changed nothing there: a recency prior (P(match) times
  exp(-seconds lost / tau), tau 0.25 to 1 s) and an IoU share that depends on the seconds lost;
  fitting the calibration on NLL, IoU and time lost together (instead of fusing with a fixed
  IoU share) lost about 7 HOTA with OC-SORT. It is a small sequence (359 boxes), so it weighs
  little in the combined numbers.
- Training recipe: half of the training samples are compared with the track's last observation
  (OC-SORT's recovery step) and half with the Kalman prediction. It was a quarter until
  2026-11-26. On seeds 0 and 1, doubling it moved OC-SORT's mean gain from +0.75 HOTA / +1.05
  IDF1 to +1.02 / +1.40, SORT's from +1.10 / +2.70 to +1.16 / +2.81 and ByteTrack's from
  +1.95 / +4.31 down to +1.55 / +3.59. It was chosen on those two seeds of this very table;
  seed 2 was trained and scored only after the choice, as a check (OC-SORT +1.30 HOTA / +1.87
  IDF1).
- Training seeds matter: seeds of the same recipe move a tracker's combined gain by up to
  about two points (SORT's IDF1 gain is +2.80, +2.83 and +1.53; see the per-seed columns).
  Differences smaller than that are not evidence either way.
- The package default IoU share (0.8 before and after a miss) was picked on these sequences;
  the nested table scores a share picked without the held-out sequence: against the default
  it costs OC-SORT 0.3 HOTA and 0.55 IDF1, ByteTrack 0.03 HOTA and 0.5 IDF1, SORT 0.1 HOTA.
"""
#: (IoU share after a miss, IoU share for tracks matched in the previous frame)
FUSION_GRID = [(0.5, 0.8), (0.7, 0.8), (0.8, 0.8), (0.7, 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "MOT15" / "train")
    parser.add_argument("--extra", type=Path, nargs="*", default=[DATA / "MOT17" / "train"])
    parser.add_argument("--models", type=Path, default=REPO / "build" / "loso_models")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--iou-weight", type=float, default=DEFAULT_IOU_WEIGHT)
    parser.add_argument("--iou-weight-next-frame", type=float, default=DEFAULT_IOU_WEIGHT_NEXT)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "RESULTS.md")
    args = parser.parse_args()

    sequences = find_sequences(args.data)
    extra = [s.path for root in args.extra for s in find_sequences(root)]
    names = [s.path.name for s in sequences]
    weights = {}
    for seed in args.seeds:
        folder = args.models / f"seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        for seq in sequences:
            path = folder / f"without_{seq.path.name}.pt"
            if args.retrain or not path.is_file():
                train_on = [s.path for s in sequences if s is not seq] + extra
                print(f"seed {seed}: training without {seq.path.name} on {len(train_on)} sequences")
                train_flow(
                    train_on, path, epochs=args.epochs, seed=seed, show_progress=False,
                    log=lambda m: None,
                )  # fmt: skip
            weights[seed, seq.path.name] = path

    dets = {s.path.name: read_detections(s.path / "det" / "det.txt", s.length) for s in sequences}
    gt_root = sequences[0].path.parent

    def run(folder: Path, name: str, seed: int | None, fusion: tuple[float, float] | None):
        """Track every sequence into ``folder``; the mean update time in ms."""
        total, frames = 0.0, 0
        for seq in sequences:
            if fusion is None:
                cost = IoUCost()
            else:
                cost = TrackFlowCost(
                    weights[seed, seq.path.name], seq.frame_rate, iou_weight=fusion[0],
                    iou_weight_next_frame=fusion[1],
                )  # fmt: skip
            tracker = make_tracker(name, cost=cost, frame_rate=seq.frame_rate)
            rows, sec = track_sequence(tracker, dets[seq.path.name], seq.length)
            write_results(folder / f"{seq.path.name}.txt", rows)
            total, frames = total + sec.sum(), frames + seq.length
        return 1000 * total / frames

    default = (args.iou_weight, args.iou_weight_next_frame)
    grid = [default] + [g for g in FUSION_GRID if g != default]
    #: (tracker, "iou" | seed) -> TrackEval summary of the default configuration
    results, ms, nested, chosen = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in TRACKERS:
            iou_folder = Path(tmp) / f"{name}-iou"
            ms[name, "iou"] = run(iou_folder, name, None, None)
            results[name, "iou"] = evaluate_mot(gt_root, iou_folder, names)
            report(name, "iou", results[name, "iou"])
            for seed in args.seeds:
                folders = {}
                for fusion in grid:
                    folder = folders[fusion] = Path(tmp) / f"{name}-{seed}-{fusion}"
                    elapsed = run(folder, name, seed, fusion)
                    if fusion == default:
                        results[name, seed] = evaluate_mot(gt_root, folder, names)
                        ms[name, seed] = elapsed
                        report(name, f"seed {seed}", results[name, seed])
                # fusion weights chosen out of sample: for each sequence, the grid point with
                # the best combined HOTA on the *other* sequences
                picked = Path(tmp) / f"{name}-{seed}-nested"
                picked.mkdir()
                for seq in names:
                    others = [n for n in names if n != seq]
                    score = {
                        g: evaluate_mot(gt_root, folders[g], others)["combined"]["HOTA"]
                        for g in grid
                    }
                    best = max(grid, key=lambda g: score[g])
                    chosen[name, seed, seq] = best
                    shutil.copy(folders[best] / f"{seq}.txt", picked / f"{seq}.txt")
                nested[name, seed] = evaluate_mot(gt_root, picked, names)
                report(name, f"nested {seed}", nested[name, seed])

    seeds = args.seeds

    def mean(table: dict, name: str, key: str, per: str = "combined", seq: str = "") -> float:
        values = [table[name, s][per][seq][key] if seq else table[name, s][per][key] for s in seeds]
        return float(np.mean(values))

    def cells(get) -> list[str]:
        return [f"{get(k):.0f}" if k == "IDSW" else f"{get(k):.2f}" for k in KEYS]

    lines = [
        "# TrackFlow vs IoU, leave-one-sequence-out",
        "",
        f"Generated by `bench/trackflow_vs_iou.py` on {time.strftime('%Y-%m-%d')}. Each of the "
        f"{len(names)} sequences of `{args.data.relative_to(REPO.parent)}` is tracked with a model "
        f"trained without it (on the other sequences and "
        f"{', '.join(p.name for p in extra)}; {args.epochs} epochs), once per training seed "
        f"({', '.join(map(str, seeds))}): {len(seeds) * len(names)} models. Public detections, "
        f"default tracker parameters, TrackFlow cost fused with IoU at the package default "
        f"(IoU share {args.iou_weight_next_frame} for tracks matched in the previous frame, "
        f"{args.iou_weight} after a miss). TrackFlow rows are means over the seeds; the gain "
        f"column lists each seed's gain. Metrics by TrackEval, in percent; IDSW a count. "
        f"ms/frame is this run's wall time per tracker update (the machine's load included); "
        f"docs/BENCHMARKS.md measures speed properly.",
        "",
        "## Combined",
        "",
        "| tracker | cost | " + " | ".join(KEYS) + " | ms/frame | HOTA gain per seed "
        "| IDF1 gain per seed |",
        "|---|---|" + "---|" * len(KEYS) + "---|---|---|",
    ]
    for name in TRACKERS:
        base = results[name, "iou"]["combined"]
        lines.append(
            f"| {name} | iou | " + " | ".join(cells(lambda k, b=base: b[k]))
            + f" | {ms[name, 'iou']:.2f} | | |"
        )  # fmt: skip
        per_seed = {
            k: ", ".join(f"{results[name, s]['combined'][k] - base[k]:+.2f}" for s in seeds)
            for k in ("HOTA", "IDF1")
        }
        tf_ms = float(np.mean([ms[name, s] for s in seeds]))
        lines.append(
            f"| {name} | trackflow | " + " | ".join(cells(lambda k, n=name: mean(results, n, k)))
            + f" | {tf_ms:.2f} | {per_seed['HOTA']} | {per_seed['IDF1']} |"
        )  # fmt: skip
        gain = [
            f"{mean(results, name, k) - base[k]:+.0f}"
            if k == "IDSW"
            else f"{mean(results, name, k) - base[k]:+.2f}"
            for k in KEYS
        ]
        lines.append(f"| {name} | **gain** | " + " | ".join(f"**{g}**" for g in gain) + " | | | |")
    lines += [
        "",
        "## Fusion weights chosen out of sample",
        "",
        "The IoU share of the fused cost is a hyperparameter, and the package default above was "
        "picked after looking at these sequences, so the rows above are not strictly out of "
        "sample for it. Here it is chosen per held-out sequence, among "
        + ", ".join(f"({a}, {b})" for a, b in grid)
        + " (IoU share after a miss, for tracks matched in the previous frame), as the "
        "grid point with the best combined HOTA on the *other* sequences; the held-out "
        "sequence is then scored with it. Neither the model nor the weight has seen it. "
        "Means over the seeds.",
        "",
        "| tracker | " + " | ".join(KEYS) + " | gain HOTA | gain IDF1 | gain per seed "
        "(HOTA / IDF1) | chosen (all seeds, all folds) |",
        "|---|" + "---|" * len(KEYS) + "---|---|---|---|",
    ]
    for name in TRACKERS:
        base = results[name, "iou"]["combined"]
        picks = Counter(chosen[name, s, q] for s in seeds for q in names)
        per_seed = ", ".join(
            f"{nested[name, s]['combined']['HOTA'] - base['HOTA']:+.2f} / "
            f"{nested[name, s]['combined']['IDF1'] - base['IDF1']:+.2f}"
            for s in seeds
        )
        lines.append(
            f"| {name} | " + " | ".join(cells(lambda k, n=name: mean(nested, n, k)))
            + f" | {mean(nested, name, 'HOTA') - base['HOTA']:+.2f}"
            + f" | {mean(nested, name, 'IDF1') - base['IDF1']:+.2f} | {per_seed} | "
            + ", ".join(f"{g}: {n}" for g, n in picks.most_common()) + " |"
        )  # fmt: skip
    lines += ["", "## Per sequence: HOTA and IDF1, IoU -> TrackFlow (mean over seeds)", ""]
    lines += ["| sequence | " + " | ".join(TRACKERS) + " |", "|---|" + "---|" * len(TRACKERS)]
    wins = dict.fromkeys(TRACKERS, 0)
    for seq in names:
        row = []
        for name in TRACKERS:
            a = results[name, "iou"]["per_sequence"][seq]
            hota = mean(results, name, "HOTA", "per_sequence", seq)
            idf1 = mean(results, name, "IDF1", "per_sequence", seq)
            wins[name] += hota > a["HOTA"]
            row.append(
                f"HOTA {a['HOTA']:.1f} -> {hota:.1f} ({hota - a['HOTA']:+.1f}), "
                f"IDF1 {a['IDF1']:.1f} -> {idf1:.1f} ({idf1 - a['IDF1']:+.1f})"
            )
        lines.append(f"| {seq} | " + " | ".join(row) + " |")
    lines += [
        "",
        "HOTA wins per tracker: " + ", ".join(f"{n} {wins[n]}/{len(names)}" for n in TRACKERS),
    ]
    lines += NOTES.splitlines()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_section(args.out, "trackflow_vs_iou", "\n".join(lines))
    print("\n".join(lines))


def report(name: str, label: str, summary: dict) -> None:
    c = summary["combined"]
    print(f"{name:10s} {label:10s} " + "  ".join(f"{k} {c[k]:.2f}" for k in KEYS), flush=True)


if __name__ == "__main__":
    main()
