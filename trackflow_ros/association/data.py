"""Training samples for TrackFlow from MOTChallenge ground truth.

A positive sample is what the tracker will see at run time when it is right: a track's history,
the box it compares against (its Kalman prediction, or for a share of the samples its last
observation, as OC-SORT's recovery step compares) and the next true detection. To make ground
truth look like a detector's output and like the trackers' own predictions:

- the trajectories are replayed at several frame rates (every s-th frame, keeping 6-30 fps),
- boxes are jittered (centre by ``jitter`` box heights, width and height by ``exp(N(0, jitter))``;
  the defaults match the spread of the public Faster R-CNN boxes around the ground truth),
- observations are dropped at random (missed detections) and in runs of several frames
  (occlusions),
- where a sequence has detections (``det/det.txt``), further passes replace the ground-truth
  boxes by the real detector's boxes matched to them (Hungarian on IoU >= 0.5, per frame):
  real detector noise, real misses, real truncation by occluders, with identities from the
  ground truth,
- a SORT Kalman filter (``XYSR``) is run over the noisy observations exactly as the tracker
  would run it, and the pair features are taken against *its* prediction (or the last
  observation, see ``last_observation_reference``): the model learns the residuals of the
  filter it will be used with, not those of an idealised extrapolation.

Every observation of every frame is also kept, so that the wrong pairs of a frame (the
prediction of one person against another person's box) are available for calibration and for
checking that true pairs rank first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from trackflow_ros.association.features import box_displacement, history_features
from trackflow_ros.evaluation.motchallenge import read_detections, read_ground_truth, read_seqinfo
from trackflow_ros.tracking import iou_matrix, kalman
from trackflow_ros.tracking.kalman import XYSR


@dataclass(frozen=True)
class Augmentation:
    passes: int = 3  # replays of every sequence, each with its own stride and noise
    detector_passes: int = 2  # replays with the real detections matched to the ground truth
    min_fps: float = 6.0
    max_fps: float = 30.0
    jitter: float = 0.04
    miss: float = 0.08  # probability that a single observation is missed
    occlusion: float = 0.02  # probability per observation that an occlusion run starts
    max_occlusion: int = 12  # frames
    max_gap: int = 30  # a track missed longer than this is restarted (the tracker drops it)
    last_observation_reference: float = 0.5  # share of samples compared with the last
    # observation instead of the prediction, as OC-SORT's recovery step does; 0.5 rather than
    # the earlier 0.25 lifted OC-SORT's leave-one-out gain on training seeds 0 and 1, and
    # lowered ByteTrack's (docs/RESULTS.md)


@dataclass
class Samples:
    """Arrays of N positive samples and M observations (the candidates of each frame)."""

    x: np.ndarray  # (N, 4) pair features of the true detection vs the reference box
    history: np.ndarray  # (N, K, 5)
    mask: np.ndarray  # (N, K)
    track: np.ndarray  # (N, 3)
    prediction: np.ndarray  # (N, 4) the reference box: the filter's, or the last observation
    target: np.ndarray  # (N, 4) the true (noisy) detection box
    frame_key: np.ndarray  # (N,) identifies (sequence, pass, frame)
    person: np.ndarray  # (N,) identifies (sequence, person)
    obs_boxes: np.ndarray  # (M, 4) every observation
    obs_key: np.ndarray  # (M,)
    obs_person: np.ndarray  # (M,)

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, keep: np.ndarray) -> Samples:
        """The samples ``keep`` selects; observations stay (they are per frame)."""
        fields = ["x", "history", "mask", "track", "prediction", "target", "frame_key", "person"]
        parts = {f: getattr(self, f)[keep] for f in fields}
        obs = {"obs_boxes": self.obs_boxes, "obs_key": self.obs_key, "obs_person": self.obs_person}
        return Samples(**parts, **obs)


def load_trajectories(
    seq_dir: Path, detector: bool = False
) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """Evaluated pedestrians of a sequence's ground truth: ``[(frames, boxes x1y1x2y2)]``.

    With ``detector``, each person's boxes are the detections matched to its ground-truth box
    (frames without a match are left out, as a detector's misses are); sequences without
    ``det/det.txt`` give no trajectories then.
    """
    info = read_seqinfo(seq_dir)
    gt = read_ground_truth(seq_dir / "gt" / "gt.txt", info.length)
    keep = gt[:, 6] == 1
    if gt.shape[1] == 9:  # MOT16/17: class column; 1 = pedestrian
        keep &= gt[:, 7] == 1
    gt = gt[keep]
    gt_boxes = np.c_[gt[:, 2:4], gt[:, 2:4] + gt[:, 4:6]]
    if detector:
        det_path = seq_dir / "det" / "det.txt"
        if not det_path.is_file():
            return [], info.frame_rate
        dets = read_detections(det_path, info.length)
        matched = np.zeros(len(gt), dtype=bool)
        for frame in np.unique(gt[:, 0]).astype(int):
            rows = np.flatnonzero(gt[:, 0] == frame)
            d = dets.get(frame)
            if d is None or len(d) == 0:
                continue
            iou = iou_matrix(gt_boxes[rows], d[:, :4])
            r, c = linear_sum_assignment(-iou)
            ok = iou[r, c] >= 0.5
            gt_boxes[rows[r[ok]]] = d[c[ok], :4]
            matched[rows[r[ok]]] = True
        gt, gt_boxes = gt[matched], gt_boxes[matched]
    out = []
    for pid in np.unique(gt[:, 1]):
        sel = np.flatnonzero(gt[:, 1] == pid)
        sel = sel[np.argsort(gt[sel, 0])]
        out.append((gt[sel, 0].astype(int), gt_boxes[sel]))
    return out, info.frame_rate


def _jitter(boxes: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + rng.normal(0, sigma, len(boxes)) * h
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + rng.normal(0, sigma, len(boxes)) * h
    w = w * np.exp(rng.normal(0, sigma, len(boxes)))
    h = h * np.exp(rng.normal(0, sigma, len(boxes)))
    return np.c_[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def _visible(n: int, aug: Augmentation, rng: np.random.Generator) -> np.ndarray:
    visible = rng.random(n) >= aug.miss
    for start in np.flatnonzero(rng.random(n) < aug.occlusion):
        visible[start : start + rng.integers(2, aug.max_occlusion + 1)] = False
    visible[0] = True  # a track starts with a detection
    return visible


def make_samples(
    seq_dirs: list[Path], k: int, aug: Augmentation, rng: np.random.Generator
) -> Samples:
    """Positive samples and per-frame observations from the ground truth of ``seq_dirs``."""
    cols: dict[str, list] = {n: [] for n in Samples.__dataclass_fields__}
    no_loss = np.zeros(1, dtype=bool)
    key_base = 0
    for seq_index, seq_dir in enumerate(seq_dirs):
        ground_truth, fps = load_trajectories(seq_dir)
        detected, _ = load_trajectories(seq_dir, detector=True)
        strides = [s for s in range(1, 8) if aug.min_fps <= fps / s <= aug.max_fps] or [1]
        passes = [False] * aug.passes + [True] * (aug.detector_passes if detected else 0)
        for real in passes:
            stride = int(rng.choice(strides))
            offset = int(rng.integers(stride))
            rate = fps / stride
            for pid, (frames, boxes) in enumerate(detected if real else ground_truth):
                on_grid = (frames - offset) % stride == 0
                if on_grid.sum() < 2:
                    continue
                f = (frames[on_grid] - offset) // stride
                if real:  # the detector's own noise and misses
                    b = boxes[on_grid]
                else:
                    b = _jitter(boxes[on_grid], aug.jitter, rng)
                    seen = _visible(len(f), aug, rng)
                    f, b = f[seen], b[seen]
                person = seq_index * 100_000 + pid
                cols["obs_boxes"].append(b)
                cols["obs_key"].append(key_base + f)
                cols["obs_person"].append(np.full(len(f), person))
                observations: list[tuple[int, np.ndarray]] = [(int(f[0]), b[0])]
                x, P = XYSR.initiate(b[0])
                x, P = x[None], P[None]
                for i in range(1, len(f)):
                    gap = int(f[i] - f[i - 1])
                    if gap > aug.max_gap:  # the tracker would have dropped it: a new track
                        x, P = XYSR.initiate(b[i])
                        x, P = x[None], P[None]
                        observations = [(int(f[i]), b[i])]
                        continue
                    for _ in range(gap):
                        x, P = kalman.predict(XYSR, x, P, no_loss)
                    prediction = XYSR.to_boxes(x)[0]
                    if rng.random() < aug.last_observation_reference:
                        prediction = observations[-1][1][:4]
                    hist, mask, track = history_features(
                        observations, int(f[i]), k, rate, prediction
                    )
                    cols["x"].append(box_displacement(prediction, b[i]))
                    cols["history"].append(hist)
                    cols["mask"].append(mask)
                    cols["track"].append(track)
                    cols["prediction"].append(prediction)
                    cols["target"].append(b[i])
                    cols["frame_key"].append(key_base + f[i])
                    cols["person"].append(person)
                    x, P = kalman.update(XYSR, x, P, b[i][None])
                    observations.append((int(f[i]), b[i]))
                    del observations[:-k]
            key_base += 1_000_000
    stacked = {
        n: np.concatenate(v) if n.startswith("obs") else np.array(v) for n, v in cols.items()
    }
    return Samples(**stacked)


def wrong_pairs(samples: Samples, max_per_sample: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """For each sample, other people's boxes in the same frame: ``(sample index, box)`` rows."""
    order = np.argsort(samples.obs_key, kind="stable")
    keys = samples.obs_key[order]
    start = np.searchsorted(keys, samples.frame_key, side="left")
    stop = np.searchsorted(keys, samples.frame_key, side="right")
    index, boxes = [], []
    for i, (a, b) in enumerate(zip(start, stop, strict=True)):
        cand = order[a:b]
        cand = cand[samples.obs_person[cand] != samples.person[i]][:max_per_sample]
        index.extend([i] * len(cand))
        boxes.extend(samples.obs_boxes[cand])
    return np.array(index, dtype=int), np.array(boxes).reshape(-1, 4)
