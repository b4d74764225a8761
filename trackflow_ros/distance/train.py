"""Training DistSynth on a split in the synthetic annotation format (``synthetic.py``).

A sample is a window of T consecutive frames of one clip; every annotated person of the last
frame is a target. An epoch draws one window per training clip (clips are short and highly
correlated inside). A held-out share of the clips (chosen by the seed) gives the validation
loss printed after each epoch, and the checkpoint with the best validation loss is kept.

Two choices keep CPU training feasible, both documented in the checkpoint's ``info``:
- the backbone of the T-1 history frames runs without gradient (truncated backpropagation:
  the ConvLSTM, FPN and head still learn from the whole clip, the shared backbone from the
  last frame), which nearly halves the cost of a 6-frame window;
- a quarter of the batches use a shorter window (1 to T-1 frames), so the model also knows
  the first frames of a stream, when the run-time ring buffer is not full yet.

Seeded (numpy, torch, the split of clips) and run on a fixed number of threads, so a rerun on
the same machine reproduces the same model.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from trackflow_ros.distance.distsynth import PIXEL_MEAN, PIXEL_STD, box_inputs
from trackflow_ros.distance.model import (
    DistSynth,
    DistSynthConfig,
    DistSynthWeightsError,
    box_heatmap,
    gaussian_nll,
    resolve_device,
    save_checkpoint,
)
from trackflow_ros.distance.pinhole import CameraIntrinsics
from trackflow_ros.distance.synthetic import Clip, DatasetError, read_split


@dataclass
class LoadedClip:
    """A clip's frames resized to the network input (F, h, w, 3 RGB uint8) and its labels."""

    name: str
    frames: np.ndarray
    camera: CameraIntrinsics
    boxes: list[np.ndarray]  # per frame (N, 4), original pixels
    distance: list[np.ndarray]
    occlusion: list[np.ndarray]


def load_clips(data: Path, cfg: DistSynthConfig) -> list[LoadedClip]:
    """Read and resize every frame of a split once; a missing or unreadable frame raises."""
    out = []
    for clip in read_split(data):
        cam = CameraIntrinsics(**{k: clip.intrinsics[k] for k in ("fx", "fy", "cx", "cy")},
                               width=int(clip.intrinsics["width"]),
                               height=int(clip.intrinsics["height"]))  # fmt: skip
        frames = []
        for t in range(len(clip.frames)):
            img = cv2.imread(str(clip.frame_path(t)))
            if img is None:
                raise DatasetError(f"{clip.frame_path(t)}: missing or unreadable frame")
            img = cv2.resize(img, (cfg.input_width, cfg.input_height), interpolation=cv2.INTER_AREA)
            frames.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        out.append(
            LoadedClip(
                clip.name,
                np.stack(frames),
                cam,
                [Clip.boxes(f) for f in clip.frames],
                [np.array([p["distance"] for p in f["persons"]], float) for f in clip.frames],
                [np.array([p["occlusion"] for p in f["persons"]], float) for f in clip.frames],
            )
        )
    return out


def make_batch(
    clips: list[LoadedClip],
    picks: list[tuple[int, int]],
    n_frames: int,
    cfg: DistSynthConfig,
    flips: np.ndarray | None = None,
) -> dict[str, torch.Tensor]:
    """Windows ending at (clip, frame) picks -> the model's tensors and the targets."""
    images, rois, geoms, priors, targets, occs = [], [], [], [], [], []
    for b, (ci, t) in enumerate(picks):
        clip = clips[ci]
        flip = bool(flips[b]) if flips is not None else False
        cam = clip.camera
        if flip:
            cam = CameraIntrinsics(
                cam.fx, cam.fy, cam.width - cam.cx, cam.cy, cam.width, cam.height
            )
        for s in range(t - n_frames + 1, t + 1):
            boxes = clip.boxes[s]
            if flip:
                boxes = np.stack([cam.width - boxes[:, 2], boxes[:, 1], cam.width - boxes[:, 0],
                                  boxes[:, 3]], 1)  # fmt: skip
            r, g, p = box_inputs(boxes, cam, cfg)
            img = clip.frames[s][:, ::-1] if flip else clip.frames[s]
            x = (img.astype(np.float32) / 255.0 - PIXEL_MEAN) / PIXEL_STD
            heat = box_heatmap(r, cfg.input_width, cfg.input_height, cfg.heatmap_sigma)
            images.append(np.concatenate([x.transpose(2, 0, 1), heat[None]], 0))
            if s == t:
                rois.append(np.concatenate([np.full((len(r), 1), b, np.float32), r], 1))
                geoms.append(g)
                priors.append(p)
                targets.append(clip.distance[t])
                occs.append(clip.occlusion[t])
    clip_t = torch.from_numpy(np.stack(images)).reshape(
        len(picks), n_frames, 4, cfg.input_height, cfg.input_width
    )
    return {
        "clip": clip_t,
        "rois": torch.from_numpy(np.concatenate(rois)),
        "geometry": torch.from_numpy(np.concatenate(geoms)),
        "prior": torch.from_numpy(np.concatenate(priors)),
        "target": torch.from_numpy(np.concatenate(targets).astype(np.float32)),
        "occlusion": torch.from_numpy(np.concatenate(occs).astype(np.float32)),
    }


def forward_truncated(model: DistSynth, batch: dict[str, torch.Tensor]):
    """Training forward: the history frames' backbone runs without gradient."""
    clip = batch["clip"]
    b, t = clip.shape[:2]
    c2, c3, c4, c5_last = model.encode(clip[:, -1])
    if t > 1:
        with torch.no_grad():
            hist = model.encode(clip[:, :-1].flatten(0, 1))[3]
        c5_seq = torch.cat([hist.reshape(b, t - 1, *hist.shape[1:]), c5_last[:, None]], 1)
    else:
        c5_seq = c5_last[:, None]
    return model.decode((c2, c3, c4), c5_seq, batch["rois"], batch["geometry"], batch["prior"])


@torch.no_grad()
def validation_loss(model: DistSynth, clips: list[LoadedClip], cfg: DistSynthConfig, device):
    """Mean NLL over the last full window of each validation clip (eval mode)."""
    model.eval()
    total, count = 0.0, 0
    for ci, clip in enumerate(clips):
        t = len(clip.frames) - 1
        if len(clip.distance[t]) == 0:
            continue
        n = min(cfg.clip_length, t + 1)
        batch = {k: v.to(device) for k, v in make_batch(clips, [(ci, t)], n, cfg).items()}
        mean, log_var = model(batch["clip"], batch["rois"], batch["geometry"], batch["prior"])
        total += float(gaussian_nll(mean, log_var, batch["target"])) * len(mean)
        count += len(mean)
    model.train()
    return total / max(count, 1)


def train_distsynth(
    data: Path,
    out: Path,
    config: DistSynthConfig,
    epochs: int = 8,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    threads: int = 1,
    val_fraction: float = 0.1,
    max_minutes: float | None = None,
    device: str = "cpu",
    show_progress: bool = True,
    command: str | None = None,
) -> dict:
    """Train on the split at ``data`` and save the best-validation checkpoint to ``out``."""
    start = time.time()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    dev = resolve_device(device)
    clips = load_clips(data, config)
    order = rng.permutation(len(clips))
    n_val = round(val_fraction * len(clips)) if len(clips) > 1 else 0
    val = [clips[i] for i in order[:n_val]]
    train = [clips[i] for i in sorted(order[n_val:])]
    min_frames = min(len(c.frames) for c in train)
    t_full = min(config.clip_length, min_frames)
    model = DistSynth(config).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(train) // batch_size)
    total = epochs * steps_per_epoch
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up, then cosine decay to 5 %
        opt,
        lambda i: (
            min(1.0, (i + 1) / warm)
            * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(i, total) / total)))
        ),
    )
    history: list[dict] = []
    best = np.inf
    bar = tqdm(total=epochs * steps_per_epoch, unit="batch", disable=not show_progress)
    stopped_early = False
    for epoch in range(epochs):
        perm = rng.permutation(len(train))
        losses = []
        for step in range(steps_per_epoch):
            idx = perm[step * batch_size : (step + 1) * batch_size]
            n = t_full if rng.random() >= 0.25 or t_full == 1 else int(rng.integers(1, t_full))
            picks = [(int(i), int(rng.integers(n - 1, len(train[i].frames)))) for i in idx]
            batch = make_batch(train, picks, n, config, flips=rng.random(len(idx)) < 0.5)
            if len(batch["target"]) == 0:
                continue
            batch = {k: v.to(dev) for k, v in batch.items()}
            mean, log_var = forward_truncated(model, batch)
            loss = gaussian_nll(mean, log_var, batch["target"])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
            if max_minutes is not None and time.time() - start > 60 * max_minutes:
                stopped_early = True
                break
        val_loss = validation_loss(model, val, config, dev) if val else float("nan")
        history.append(
            {"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "val_loss": val_loss}
        )
        tqdm.write(
            f"epoch {epoch + 1}/{epochs}: train NLL {np.mean(losses):.4f}  val NLL {val_loss:.4f}"
        )
        info = {
            "data": str(data),
            "command": command,
            "train_clips": len(train),
            "val_clips": len(val),
            "epochs_done": epoch + 1,
            "history": history,
            "seed": seed,
            "threads": threads,
            "batch_size": batch_size,
            "lr": lr,
            "truncated_backprop": True,
            "seconds": round(time.time() - start, 1),
            "torch": str(torch.__version__),
            "config": asdict(config),
        }
        if not val or val_loss < best:
            best = val_loss
            save_checkpoint(out, model, info | {"best_epoch": epoch + 1})
        if stopped_early:
            tqdm.write(f"stopped after {max_minutes} minutes (--max-minutes)")
            break
    bar.close()
    return {"best_val_loss": best, "history": history, "seconds": round(time.time() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trackflow-train-distance",
        description="Train DistSynth on a split in the synthetic annotation format.",
    )
    parser.add_argument("--data", type=Path, required=True, help="training split folder")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint to write (.pt)")
    parser.add_argument(
        "--config", choices=["default", "small"], default="small",
        help="default = the paper's ResNet-34 at 640x480; small = ResNet-18 at 160x120 (CPU)",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--max-minutes", type=float, help="stop (and keep the best) after this")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    config = DistSynthConfig.small() if args.config == "small" else DistSynthConfig()
    try:
        result = train_distsynth(
            args.data, args.out, config, epochs=args.epochs, batch_size=args.batch_size,
            lr=args.lr, seed=args.seed, threads=args.threads, val_fraction=args.val_fraction,
            max_minutes=args.max_minutes, device=args.device, show_progress=not args.no_progress,
            command=" ".join(["trackflow-train-distance", *(argv or sys.argv[1:])]),
        )  # fmt: skip
    except (DatasetError, DistSynthWeightsError, OSError, RuntimeError, ValueError) as exc:
        print(f"trackflow-train-distance: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"best val NLL {result['best_val_loss']:.4f} after {result['seconds']:.0f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
