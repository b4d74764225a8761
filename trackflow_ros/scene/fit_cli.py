"""``trackflow-fit-scenes``: CLIP embeddings of every N-th frame of a video or image set,
k-means into scene clusters, written to ``clusters.npz``.

    trackflow-fit-scenes --video run.mp4 --out clusters.npz --checkpoint clip_vit_b32.pt --every 10
    trackflow-fit-scenes --images 'site_a/*.jpg' site_b/ --out clusters.npz --checkpoint ...

Fitting needs at least as many frames as clusters (16): fewer is an error that says how many
frames were sampled, never a quietly smaller k (the TrackFlow model has 16 scene embeddings);
``--clusters K`` asks for fewer explicitly. Any unreadable input is an error naming the file,
exit status 2; an existing ``--out`` is only replaced once the new file is complete.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from trackflow_ros.scene.base import DEFAULT_MODEL, RANDOM_INIT, EncoderError
from trackflow_ros.scene.clusters import N_CLUSTERS, ClustersError, fit_clusters
from trackflow_ros.scene.frames import FrameSourceError, image_frames, image_paths, video_frames

PROG = "trackflow-fit-scenes"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Fit k-means scene clusters over CLIP embeddings of frames."
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="a video file (every --every-th frame)")
    source.add_argument(
        "--images", nargs="+", metavar="DIR_OR_GLOB",
        help="image files, folders of images, or quoted glob patterns",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="clusters file to write (.npz)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="open_clip model name")
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument("--checkpoint", type=Path, help="local CLIP weights for --model")
    weights.add_argument(
        "--random-init", action="store_true",
        help="an untrained, seeded encoder (tests/benchmarks only: its clusters mean little)",
    )  # fmt: skip
    parser.add_argument("--every", type=int, default=1, help="use every N-th frame (default 1)")
    parser.add_argument(
        "--clusters", type=int, default=N_CLUSTERS, help=f"k (1..{N_CLUSTERS}, default 16)"
    )
    parser.add_argument("--seed", type=int, default=0, help="k-means (and random-init) seed")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--batch", type=int, default=16, help="frames per encoder pass")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _too_few(source: str, frames: int, every: int, k: int) -> str:
    return (
        f"{source}: {frames} frames sampled (--every {every}), fewer than the {k} clusters "
        f"asked for; lower --every, add frames, or pass --clusters {max(frames, 1)}"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    bad = (
        f"--every must be >= 1, got {args.every}" if args.every < 1
        else f"--batch must be >= 1, got {args.batch}" if args.batch < 1
        else f"--clusters must be 1..{N_CLUSTERS}, got {args.clusters}"
        if not 1 <= args.clusters <= N_CLUSTERS
        else None
    )  # fmt: skip
    if bad:
        print(f"{PROG}: error: {bad}", file=sys.stderr)
        return 2
    try:
        if not args.out.parent.is_dir():  # fail before minutes of encoding, not after
            raise ClustersError(f"{args.out}: folder {args.out.parent} does not exist")
        if args.video is not None:
            total, frames = video_frames(args.video, args.every)
            source = str(args.video)
        else:
            paths = image_paths(args.images)
            total, frames = image_frames(paths, args.every)
            source = " ".join(args.images)
            if total < args.clusters:  # exact for images: fail before loading the encoder
                raise ClustersError(_too_few(source, total, args.every, args.clusters))
        checkpoint = RANDOM_INIT if args.random_init else args.checkpoint
        # torch and open_clip only once the inputs look right
        from trackflow_ros.scene.encoder import ClipEncoder

        encoder = ClipEncoder(
            args.model, checkpoint, device=args.device, seed=args.seed, batch_size=args.batch
        )
        embeddings = []
        batch: list[np.ndarray] = []
        with tqdm(total=total, unit="frame", desc="encoding", disable=args.no_progress) as bar:
            for frame in frames:
                batch.append(frame)
                if len(batch) == args.batch:
                    embeddings.append(encoder.encode(batch))
                    bar.update(len(batch))
                    batch = []
            if batch:
                embeddings.append(encoder.encode(batch))
                bar.update(len(batch))
        x = np.concatenate(embeddings) if embeddings else np.zeros((0, encoder.dim), np.float32)
        if len(x) < args.clusters:
            raise ClustersError(_too_few(source, len(x), args.every, args.clusters))
        clusters = fit_clusters(
            x, args.model, encoder.encoder_id, encoder.checkpoint, k=args.clusters, seed=args.seed
        )
        clusters.save(args.out)
    except (EncoderError, ClustersError, FrameSourceError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    sizes = np.bincount(clusters.assign(x), minlength=clusters.k)
    print(
        f"{PROG}: {len(x)} frames of {source} -> {clusters.k} clusters "
        f"(frames per cluster {sizes.min()}..{sizes.max()}) with {args.model} "
        f"[{encoder.encoder_id[:23]}] -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
