"""Distance estimation: pinhole vs DistSynth on held-out synthetic splits and on real PETS09.

Synthetic: the checkpoint (``bench/out/distsynth_synthetic.pt``, trained by
``trackflow-train-distance`` on the seed-0 split) is scored on splits rendered with other seeds
(1000: the held-out split; 2024: a second one, to show that it holds up on any seed), through
the same code as ``trackflow-eval-distance``.

Real: PETS09-S2L1 (768x576, 7 fps). The true distance of every ground-truth box (flag 1) is
||(x, y, 0) - camera centre|| from the gt's ground-plane position and the calibration in
``shared/data/calibration/``. The estimators run on (a) the ground-truth boxes of every frame
and (b) the boxes of OpenCV's HOG people detector (2x upscaling, box tightened to the central
half of the width and 80 % of the height, as in docs ARCHITECTURE.md), on every
``--det-every``-th frame, matched to ground truth at IoU >= 0.5 (Hungarian). The occlusion
proxy of a gt box is the fraction of its area covered by other gt boxes whose foot point is
lower in the image (nearer the camera). DistSynth never saw PETS09.

Writes its section of docs/RESULTS.md and the raw numbers to bench/out/distance_eval.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docs_section import write_section
from trackflow_ros.detection.hog import HOGDetector
from trackflow_ros.distance import CameraIntrinsics, PinholeDistance
from trackflow_ros.distance.distsynth import DistSynthDistance
from trackflow_ros.distance.evaluate import predict_split, summarise
from trackflow_ros.distance.metrics import DISTANCE_BINS, OCCLUSION_BINS
from trackflow_ros.distance.synthetic import write_split
from trackflow_ros.evaluation.distance_error import Extrinsics
from trackflow_ros.evaluation.motchallenge import read_ground_truth
from trackflow_ros.tracking.association import iou_matrix

ROOT = Path(__file__).resolve().parents[1]
# how bench/out/distsynth_synthetic.pt was made (checkpoints from now on record their command)
TRAIN_COMMAND = (
    "trackflow-make-synthetic --out bench/out/synthetic_train --seed 0 --clips 300; "
    "trackflow-train-distance --data bench/out/synthetic_train "
    "--out bench/out/distsynth_synthetic.pt --config small --epochs 10 --batch-size 8 --seed 0 "
    "--threads 1 --max-minutes 15"
)


# --------------------------------------------------------------------------- PETS09


def occlusion_proxy(boxes: np.ndarray) -> np.ndarray:
    """Fraction of each box covered by the union of boxes whose bottom edge is lower."""
    out = np.zeros(len(boxes))
    for i, (x1, y1, x2, y2) in enumerate(boxes[:, :4]):
        w, h = int(np.ceil(x2 - x1)), int(np.ceil(y2 - y1))
        if w <= 0 or h <= 0:
            continue
        mask = np.zeros((h, w), bool)
        for j, (a1, b1, a2, b2) in enumerate(boxes[:, :4]):
            if j == i or b2 <= y2:
                continue
            c1, r1 = int(max(a1 - x1, 0)), int(max(b1 - y1, 0))
            c2, r2 = int(min(a2 - x1, w)), int(min(b2 - y1, h))
            if c2 > c1 and r2 > r1:
                mask[r1:r2, c1:c2] = True
        out[i] = mask.mean()
    return out


def pets09(data: Path, weights: Path, det_every: int, max_frames: int | None) -> dict:
    calib = data / "calibration"
    camera = CameraIntrinsics.from_yaml(calib / "PETS09-S2L1.camera_info.yaml")
    centre = Extrinsics.from_yaml(calib / "PETS09-S2L1.extrinsics.yaml").camera_centre
    gt = read_ground_truth(data / "MOT15/train/PETS09-S2L1/gt/gt.txt")
    gt = gt[gt[:, 6] == 1]
    gt_boxes = np.concatenate([gt[:, 2:4], gt[:, 2:4] + gt[:, 4:6]], 1)
    true = np.linalg.norm(np.stack([gt[:, 7], gt[:, 8], np.zeros(len(gt))], 1) - centre, axis=1)

    pin = PinholeDistance()
    ds_gt = DistSynthDistance(weights)
    ds_det = DistSynthDistance(weights)
    detect = HOGDetector(upscale=2.0)  # the package's detector: 2x, box tightened, NMS
    cols = {k: [] for k in ("src", "true", "occ", "pin", "pin_var", "ds", "ds_var")}
    cap = cv2.VideoCapture(str(data / "PETS09-S2L1.avi"))
    if not cap.isOpened():
        raise OSError(f"{data / 'PETS09-S2L1.avi'}: cannot open the video")
    i, t_ds, t_hog, n_det_frames = 0, 0.0, 0.0, 0
    while True:
        ok, frame = cap.read()
        if not ok or (max_frames is not None and i >= max_frames):
            break
        rows = np.nonzero(gt[:, 0] == i + 1)[0]  # video frame i = MOT frame i + 1
        boxes = gt_boxes[rows]
        occ = occlusion_proxy(boxes)
        t0 = time.perf_counter()
        e_ds = ds_gt.estimate(frame, boxes, camera)
        t_ds += time.perf_counter() - t0
        e_pin = pin.estimate(boxes, camera)
        cols["src"] += ["gt"] * len(rows)
        cols["true"] += true[rows].tolist()
        cols["occ"] += occ.tolist()
        cols["pin"] += e_pin.distance.tolist()
        cols["pin_var"] += e_pin.variance.tolist()
        cols["ds"] += e_ds.distance.tolist()
        cols["ds_var"] += e_ds.variance.tolist()
        if i % det_every == 0:
            t0 = time.perf_counter()
            dets = detect(frame)
            t_hog += time.perf_counter() - t0
            n_det_frames += 1
            d_ds = ds_det.estimate(frame, dets[:, :4], camera)
            d_pin = pin.estimate(dets[:, :4], camera)
            if len(dets) and len(boxes):
                iou = iou_matrix(boxes[:, :4], dets[:, :4])
                r, c = linear_sum_assignment(-iou)
                keep = iou[r, c] >= 0.5
                r, c = r[keep], c[keep]
                cols["src"] += ["hog"] * len(r)
                cols["true"] += true[rows][r].tolist()
                cols["occ"] += occ[r].tolist()
                cols["pin"] += d_pin.distance[c].tolist()
                cols["pin_var"] += d_pin.variance[c].tolist()
                cols["ds"] += d_ds.distance[c].tolist()
                cols["ds_var"] += d_ds.variance[c].tolist()
        i += 1
    arr = {k: np.asarray(v) for k, v in cols.items()}
    out = {"frames": i, "det_frames": n_det_frames, "ds_ms_per_frame": 1000 * t_ds / max(i, 1),
           "hog_ms_per_frame": 1000 * t_hog / max(n_det_frames, 1), "results": {}}  # fmt: skip
    n_gt_det = int(sum(np.sum(gt[:, 0] == f + 1) for f in range(0, i, det_every)))
    out["hog_recall"] = float((arr["src"] == "hog").sum() / max(n_gt_det, 1))
    for src in ("gt", "hog"):
        m = arr["src"] == src
        for model in ("pin", "ds"):
            pred = {
                "true": arr["true"][m],
                "occlusion": arr["occ"][m],
                "pred": arr[model][m],
                "var": arr[f"{model}_var"][m],
            }
            out["results"][f"{src}/{model}"] = summarise(pred) if m.any() else None
    return out


# --------------------------------------------------------------------------- tables


def fmt(v, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


NAMES = {"pin": "pinhole (1.7 m)", "ds": "DistSynth", "pinhole": "pinhole (1.7 m)",
         "distsynth": "DistSynth"}  # fmt: skip


def table(rows: list[tuple[str, dict]]) -> str:
    """Rows of (label, summarise() dict) -> markdown table by bin."""
    head = (
        "| data | model | n | MAE | median AE | bias | "
        + " | ".join(f"{k} m" for k in DISTANCE_BINS)
        + " | "
        + " | ".join(f"occ {k}" for k in OCCLUSION_BINS)
        + " | δ<1.25 | AbsRel | RMSE |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['n']} | {fmt(r['mean_abs_error'])} | {fmt(r['median_abs_error'])} | "
            f"{fmt(r['bias'])} | "
            + " | ".join(fmt(v) for v in r["abs_error_by_distance"].values())
            + " | "
            + " | ".join(fmt(v) for v in r["abs_error_by_occlusion"].values())
            + f" | {fmt(r['delta1'], 3)} | {fmt(r['abs_rel'], 3)} | {fmt(r['rmse'])} |"
        )
    return "\n".join(lines)


def count_line(r: dict) -> str:
    d = ", ".join(f"{k}: {v}" for k, v in r["count_by_distance"].items())
    o = ", ".join(f"{k}: {v}" for k, v in r["count_by_occlusion"].items())
    return f"boxes per distance bin ({d}); per occlusion bin ({o})"


def variance_table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| data | model | " + " | ".join(f"occ {k}" for k in OCCLUSION_BINS) + " |",
        "|---|---|" + "---|" * len(OCCLUSION_BINS),
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | "
            + " | ".join(fmt(v) for v in r["median_variance_by_occlusion"].values())
            + " |"
        )
    return "\n".join(lines)


def notes(result: dict) -> str:
    """The reading of the tables, with its numbers taken from them."""
    syn, real = result["synthetic"], result["pets09"]["results"]
    lines = ["", "## Notes", ""]
    for key in syn:
        if not key.endswith("/pinhole"):
            continue
        seed = key.split("/")[0]
        p, d = syn[key], syn[f"{seed}/distsynth"]
        po, do = p["abs_error_by_occlusion"], d["abs_error_by_occlusion"]
        dv = d["median_variance_by_occlusion"]
        lines.append(
            f"- Synthetic seed {seed}: for occlusion >= 0.5 DistSynth's MAE is "
            f"{fmt(do['0.5-0.75'])} / {fmt(do['0.75-1'])} m against pinhole's "
            f"{fmt(po['0.5-0.75'])} / {fmt(po['0.75-1'])} m (bins 0.5-0.75 / 0.75-1); "
            "its median predicted variance is "
            f"{fmt(dv['0-0.3'])} m² on visible people (< 0.3) and {fmt(dv['0.5-0.75'])} / "
            f"{fmt(dv['0.75-1'])} m² on occluded ones."
        )
    gp, gd, hp, hd = real["gt/pin"], real["gt/ds"], real["hog/pin"], real["hog/ds"]
    lines += [
        "- Where DistSynth gains on synthetic data is where the box height lies: occluded people "
        "and near people cut by the bottom image border (most of the 0-10 m bin). On visible "
        "people (occlusion < 0.3) it stays close to the pinhole prior it starts from.",
        f"- PETS09, ground-truth boxes: almost every box is unoccluded and annotated head to "
        f"foot, so the pinhole (median abs error {fmt(gp['median_abs_error'])} m, bias "
        f"{fmt(gp['bias'])} m; the reference is about 0.9 m) is near the floor set by how "
        f"people's heights vary. DistSynth is worse there (median {fmt(gd['median_abs_error'])} "
        f"m, bias {fmt(gd['bias'])} m): the correction it learned carries the renderer's "
        "conventions (boxes tight on the visible pixels of a stylised figure, its height "
        "distribution, focal lengths 4x shorter, and PETS09's 60-100 px people become 12-20 px "
        "at its 160x120 input) into boxes that do not need it.",
        f"- PETS09, HOG boxes: their height is a fixed-aspect window's guess, so the pinhole "
        f"degrades (median {fmt(hp['median_abs_error'])} m, bias {fmt(hp['bias'])} m) and "
        f"DistSynth does better (median {fmt(hd['median_abs_error'])} m, bias "
        f"{fmt(hd['bias'])} m). Do not read this as DistSynth handling detector boxes well: "
        "much of it is its upward bias on PETS09 (see the gt boxes) cancelling these boxes' "
        "downward one.",
        "- What the gap teaches: the synthetic model transfers where the real failure is the one "
        "it was trained on (the box height stops telling the distance) and costs accuracy where "
        "real boxes are cleaner than synthetic ones. Before relying on it: randomise the box "
        "conventions in the generator (margins, amodal boxes), train at the deployed input "
        "scale, and fuse it with the pinhole by their variances rather than replacing it. "
        "PETS09 must stay a test set; its occlusion-proxy bins hold few boxes and are noisy.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, default=ROOT / "bench/out/distsynth_synthetic.pt")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--splits", default="1000:60,2024:30", help="seed:clips of test splits")
    parser.add_argument("--det-every", type=int, default=3, help="HOG on every k-th frame")
    parser.add_argument("--max-frames", type=int, help="PETS09 frames (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--from-json", action="store_true", help="re-render the last run")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs/RESULTS.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    saved = ROOT / "bench/out/distance_eval.json"
    if args.from_json:  # re-render the tables and notes from the last run's numbers
        result = json.loads(saved.read_text())
        info, args.det_every = result["train_info"], result["det_every"]
        syn_rows = [
            (f"synthetic seed {k.split('/')[0]} ({result['clips'][k.split('/')[0]]} clips) | "
             f"{NAMES[k.split('/')[1]]}", r)
            for k, r in result["synthetic"].items()
        ]  # fmt: skip
        return render(args, result, info, syn_rows)
    info = DistSynthDistance(args.weights).info
    result: dict = {"synthetic": {}, "weights": str(args.weights), "train_info": info}
    result |= {"det_every": args.det_every, "clips": {}}
    syn_rows = []
    for spec in args.splits.split(","):
        seed, clips = (int(x) for x in spec.split(":"))
        result["clips"][str(seed)] = clips
        split = ROOT / f"bench/out/synthetic_seed{seed}_{clips}"
        if not (split / "meta.json").exists():
            write_split(split, seed, clips)
        for model in ("pinhole", "distsynth"):
            est = PinholeDistance() if model == "pinhole" else DistSynthDistance(args.weights)
            r = summarise(predict_split(split, est))
            result["synthetic"][f"{seed}/{model}"] = r
            syn_rows.append((f"synthetic seed {seed} ({clips} clips) | {NAMES[model]}", r))
            print(f"seed {seed} {model}: MAE {r['mean_abs_error']:.2f}", flush=True)
    result["pets09"] = pets09(args.data, args.weights, args.det_every, args.max_frames)
    saved.parent.mkdir(exist_ok=True)
    saved.write_text(json.dumps(result, indent=1))
    return render(args, result, info, syn_rows)


def render(args, result: dict, info: dict, syn_rows: list) -> int:
    real = result["pets09"]
    real_rows = [
        (f"PETS09 {'gt boxes' if k.startswith('gt') else 'HOG boxes (IoU≥0.5)'} | "
         f"{NAMES[k.split('/')[1]]}", r)
        for k, r in real["results"].items() if r is not None
    ]  # fmt: skip
    hist = info.get("history", [])
    best_val = min((h["val_loss"] for h in hist), default=float("nan"))
    train_line = (
        f"trained on the seed-0 split ({info.get('train_clips')} clips + {info.get('val_clips')} "
        f"for validation, 8 frames each, 320x240) with `{info.get('command') or TRAIN_COMMAND}`: "
        f"checkpoint of epoch {info.get('best_epoch')} (best validation NLL {best_val:.3f}), "
        f"{info.get('seconds')} s into the run, {info.get('threads')} CPU thread(s)"
    )
    md = f"""# Distance estimation: pinhole fallback vs DistSynth

Generated by `bench/distance_eval.py` on {date.today().isoformat()}. Mean absolute error in metres
by true-distance bin and by occlusion bin (n/a = no boxes in the bin), bias = mean signed error
(predicted - true), δ<1.25, AbsRel, RMSE.
DistSynth is the `small` configuration (ResNet-18, 160x120 input, 6-frame ConvLSTM, FPN,
RoIAlign, Gaussian-NLL head over the pinhole prior), {train_line}. It never saw PETS09.

## Synthetic, held-out seeds

{table(syn_rows)}

{count_line(result["synthetic"][next(iter(result["synthetic"]))])} (first split).

Median predicted variance (m²) by occlusion bin:

{variance_table(syn_rows)}

## Real: PETS09-S2L1

True distance = camera centre to the gt ground-plane position (calibration in
`shared/data/calibration/`), 13.9-38.5 m. Occlusion bins here are the proxy (share of the box
covered by nearer gt boxes). Ground-truth boxes: all {real["frames"]} frames. HOG boxes: one frame
in {args.det_every} ({real["det_frames"]} frames; DistSynth's ring buffer for them holds
those frames only), recall of the matched boxes {real["hog_recall"]:.2f}. DistSynth
{real["ds_ms_per_frame"]:.0f} ms per frame, HOG (2x) {real["hog_ms_per_frame"]:.0f} ms per frame,
{args.threads} thread(s), on a shared 2-core machine.

{table(real_rows)}

{count_line(real["results"]["gt/pin"])} (gt boxes).

Median predicted variance (m²) by occlusion-proxy bin:

{variance_table(real_rows)}
"""
    md += notes(result)
    write_section(args.docs, "distance_eval", md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
