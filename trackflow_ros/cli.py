"""Console entry points. Each parses arguments, calls the library, and turns a bad input file
into one line on stderr naming the file and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trackflow_ros.association.checkpoint import CheckpointError
from trackflow_ros.evaluation.metrics import MetricsError
from trackflow_ros.evaluation.motchallenge import MotFormatError, SequenceInfo
from trackflow_ros.tracking import TRACKERS, AssociationCost, IoUCost, Tracker, make_tracker


class CostUnavailable(RuntimeError):
    pass


def make_cost(name: str, weights: Path | None, frame_rate: float) -> AssociationCost:
    """The association cost by CLI name; TrackFlow loads ``weights`` or the shipped model."""
    if name == "iou":
        if weights is not None:
            raise CostUnavailable("--weights applies to --cost trackflow only")
        return IoUCost()
    from trackflow_ros.association.cost import TrackFlowCost  # torch: only when asked for

    return TrackFlowCost(weights, frame_rate=frame_rate)


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

    def make(seq: SequenceInfo) -> Tracker:
        cost = make_cost(args.cost, args.weights, seq.frame_rate)
        return make_tracker(args.tracker, cost=cost, frame_rate=seq.frame_rate)

    try:
        make_cost(args.cost, args.weights, 30.0)  # fail on a bad checkpoint before tracking
        summary = evaluate_split(args.data, make, args.out)
    except (
        CostUnavailable,
        CheckpointError,
        MotFormatError,
        MetricsError,
        FileNotFoundError,
    ) as err:
        print(f"trackflow-eval: error: {err}", file=sys.stderr)
        return 2
    combined = summary["combined"]
    print(
        f"{args.tracker}+{args.cost}: HOTA {combined['HOTA']:.2f}  IDF1 {combined['IDF1']:.2f}  "
        f"MOTA {combined['MOTA']:.2f}  AssA {combined['AssA']:.2f}  DetA {combined['DetA']:.2f}  "
        f"IDSW {combined['IDSW']}  ({summary['ms_per_frame']:.2f} ms/frame)  -> {args.out}"
    )
    return 0


def train_flow_main(argv: list[str] | None = None) -> int:
    """trackflow-train-flow: a TrackFlow model from MOTChallenge ground truth."""
    from trackflow_ros.association.model import FlowConfig
    from trackflow_ros.association.train import DEFAULT_EPOCHS, train_flow
    from trackflow_ros.evaluation.motchallenge import find_sequences

    parser = argparse.ArgumentParser(
        prog="trackflow-train-flow",
        description="Train the TrackFlow association model on MOTChallenge ground truth.",
    )
    parser.add_argument(
        "--data", type=Path, nargs="+", required=True,
        help="split folders (<SEQ>/{gt/gt.txt,seqinfo.ini}) or sequence folders",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blocks", type=int, default=FlowConfig.num_blocks, help="flow blocks")
    parser.add_argument("--history", type=int, default=FlowConfig.history, help="K observations")
    args = parser.parse_args(argv)
    try:
        seq_dirs = [s.path for d in args.data for s in find_sequences(d)]
        config = FlowConfig(num_blocks=args.blocks, history=args.history)
        train_flow(seq_dirs, args.out, config=config, epochs=args.epochs, seed=args.seed)
    except (MotFormatError, FileNotFoundError) as err:
        print(f"trackflow-train-flow: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(eval_main())
