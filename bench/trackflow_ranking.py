"""Does the true detection get the lowest TrackFlow cost? Held-out, per sequence.

For every shared MOT15 sequence, the leave-one-sequence-out models of ``bench/trackflow_vs_iou.py``
(trained without that sequence) score its association samples: each track's true next
detection against every other person's box in the same frame (samples built as for training,
with one jittered replay of the ground truth instead of three, plus the real detector's boxes
matched to it, compared with the Kalman prediction or the last observation). A case is
contested when at least one wrong box exists; the rate is how often the true detection has the
lowest NLL. This isolates the density from the trackers' gating and thresholds, which
docs/RESULTS.md's tracking tables include.

    .venv/bin/python bench/trackflow_ranking.py [--models build/loso_models] [--seeds 0 1 2]

Run ``bench/trackflow_vs_iou.py`` first (it trains the models). Writes the ``trackflow_ranking``
section of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.docs_section import write_section  # noqa: E402
from trackflow_ros.association.checkpoint import load_checkpoint  # noqa: E402
from trackflow_ros.association.data import Augmentation, make_samples  # noqa: E402
from trackflow_ros.association.scorer import FlowScorer  # noqa: E402
from trackflow_ros.association.train import true_and_wrong_nll  # noqa: E402
from trackflow_ros.evaluation.motchallenge import find_sequences  # noqa: E402


def ranking(weights: Path, seq_dir: Path, seed: int) -> tuple[int, int]:
    """(contested cases, cases where the true detection has the lowest NLL)."""
    model, calibration, _ = load_checkpoint(weights)
    scorer = FlowScorer(model, calibration)
    samples = make_samples(
        [seq_dir], model.config.history, Augmentation(passes=1), np.random.default_rng(seed)
    )
    # every other person of the frame, not the first 8 that calibration uses
    true_nll, _, best_wrong = true_and_wrong_nll(scorer, samples, max_per_sample=10**6)
    contested = np.isfinite(best_wrong)
    return int(contested.sum()), int((true_nll[contested] < best_wrong[contested]).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/MOT15/train")
    parser.add_argument("--models", type=Path, default=REPO / "build" / "loso_models")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "RESULTS.md")
    args = parser.parse_args()

    sequences = find_sequences(args.data)
    counts: dict[tuple[str, int], tuple[int, int]] = {}
    for seq in sequences:
        for seed in args.seeds:
            weights = args.models / f"seed{seed}" / f"without_{seq.path.name}.pt"
            if not weights.is_file():
                sys.exit(f"{weights}: missing; run bench/trackflow_vs_iou.py first")
            counts[seq.path.name, seed] = ranking(weights, seq.path, seed)
            n, hit = counts[seq.path.name, seed]
            print(f"{seq.path.name} seed {seed}: {hit}/{n} = {hit / n:.1%}", flush=True)

    def rate(keys: list[tuple[str, int]]) -> str:
        n = sum(counts[k][0] for k in keys)
        return f"{100 * sum(counts[k][1] for k in keys) / n:.1f}% of {n}"

    seeds = ", ".join(map(str, args.seeds))
    md = [
        "## Does the true detection rank first? (`bench/trackflow_ranking.py`)",
        "",
        f"Generated on {time.strftime('%Y-%m-%d')}. Each sequence's association samples "
        "(true next detection against every other person's box in the same frame; ground truth "
        "jittered like a detector plus the real detections matched to it) scored by the "
        f"leave-one-sequence-out models that never saw it, training seeds {seeds}. The "
        "samples are drawn with the same seed as the model, so the columns differ in samples "
        "as well as in models. A case is contested when a wrong box exists; the rate is the "
        "share where the true detection has the lowest NLL (no gate, no IoU fusion).",
        "",
        "| sequence | " + " | ".join(f"seed {s}" for s in args.seeds) + " |",
        "|---|" + "---|" * len(args.seeds),
    ]
    names = [s.path.name for s in sequences]
    for name in names:
        md.append(f"| {name} | " + " | ".join(rate([(name, s)]) for s in args.seeds) + " |")
    md.append(
        "| **all** | "
        + " | ".join(f"**{rate([(n, s) for n in names])}**" for s in args.seeds)
        + " |"
    )
    text = "\n".join(md)
    print(text)
    write_section(args.out, "trackflow_ranking", text)
    print(f"wrote the trackflow_ranking section of {args.out}")


if __name__ == "__main__":
    main()
