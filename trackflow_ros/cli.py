"""Console entry points. Each parses arguments, calls the library, and turns a bad input file
into one line on stderr naming the file and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trackflow_ros.evaluation.metrics import MetricsError
from trackflow_ros.evaluation.motchallenge import MotFormatError, SequenceInfo
from trackflow_ros.tracking import TRACKERS, AssociationCost, IoUCost, Tracker, make_tracker


class CostUnavailable(RuntimeError):
    pass


def make_cost(name: str, weights: Path | None) -> AssociationCost:
    if name == "iou":
        if weights is not None:
            raise CostUnavailable("--weights applies to --cost trackflow only")
        return IoUCost()
    raise CostUnavailable(
        "--cost trackflow is not available yet: the TrackFlow association cost has not landed "
        "in this version of trackflow_ros; use --cost iou"
    )


def eval_main(argv: list[str] | None = None) -> int:
    """trackflow-eval: a tracker over MOTChallenge sequences, scored with TrackEval."""
    from trackflow_ros.evaluation.mot_eval import evaluate_split

    parser = argparse.ArgumentParser(
        prog="trackflow-eval", description="Track MOTChallenge sequences and score them."
    )
    parser.add_argument(
        "--data", type=Path, required=True,
        help="a split folder holding <SEQ>/{det/det.txt,gt/gt.txt,seqinfo.ini}, or one <SEQ>",
    )  # fmt: skip
    parser.add_argument("--tracker", choices=sorted(TRACKERS), required=True)
    parser.add_argument("--cost", choices=["iou", "trackflow"], default="iou")
    parser.add_argument("--weights", type=Path, help="TrackFlow checkpoint (--cost trackflow)")
    parser.add_argument("--out", type=Path, required=True, help="results and summary.json go here")
    args = parser.parse_args(argv)

    try:
        cost = make_cost(args.cost, args.weights)

        def make(seq: SequenceInfo) -> Tracker:
            return make_tracker(args.tracker, cost=cost, frame_rate=seq.frame_rate)

        summary = evaluate_split(args.data, make, args.out)
    except (CostUnavailable, MotFormatError, MetricsError, FileNotFoundError) as err:
        print(f"trackflow-eval: error: {err}", file=sys.stderr)
        return 2
    combined = summary["combined"]
    print(
        f"{args.tracker}+{args.cost}: HOTA {combined['HOTA']:.2f}  IDF1 {combined['IDF1']:.2f}  "
        f"MOTA {combined['MOTA']:.2f}  AssA {combined['AssA']:.2f}  DetA {combined['DetA']:.2f}  "
        f"IDSW {combined['IDSW']}  ({summary['ms_per_frame']:.2f} ms/frame)  -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(eval_main())
