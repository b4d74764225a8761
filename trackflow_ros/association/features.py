"""What TrackFlow sees of a track and a detection, as batched numpy arrays.

Pair features ``x`` (the flow models their density), for every (track, detection) pair at once,
relative to the box the strategy compares against (``track_boxes``: the Kalman prediction, or
the last observation in OC-SORT's recovery step):

0. ``dx``: horizontal centre displacement / track box height. Normalised by the height, not the
   width, because a person's width jitters with pose while the height is stable.
1. ``dy``: vertical centre displacement / track box height.
2. ``log(w_det / w_track)``: width ratio, in log so that growing and shrinking are symmetric.
3. ``log(h_det / h_track)``: height ratio.
4. (optional, ``use_distance``) ``log(d_det / d_track)``: distance ratio, from the detections'
   distance column. Off unless distances come from a model that sees more than the box: a
   pinhole distance is a function of the box height, so this feature would duplicate feature 3
   and give the density a degenerate direction.

Per-track conditioning (the context; properties of the track, not of the pair):

- the frames since the track's last matched detection, in seconds (``gap``) — the spread of the
  displacement grows with it; the issue lists it as a pair feature, it is the same number for
  every detection of a track, so it conditions the flow instead of being modelled by it;
- the frame rate (log), the track box height (log, in units of 100 px);
- where the reference box lies relative to the track's last observation (features 0-3 of the
  reference against the last observation): the Kalman prediction sits ahead of a moving
  person, while OC-SORT's recovery step compares with the last observation itself (offset 0),
  and the displacement to expect differs accordingly;
- the track's last ``K`` observations relative to its latest one (``history``): per step
  ``[dx, dy, log w-ratio, log h-ratio, seconds back]``, zero-padded and masked for short tracks;

Appearance (optional, ``appearance``): a last pair feature with an appearance distance per pair
(e.g. 1 - cosine similarity of embeddings) when an appearance model provides one; no detector
in the package produces embeddings today, so the shipped model does not use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trackflow_ros.types import DISTANCE

BOX_FEATURES = 4
HISTORY_FEATURES = 5
TRACK_FEATURES = 7  # see track_features
#: the gate the cost applies at run time, also used to pick the wrong pairs for calibration
GATE_SHIFT = 0.6  # box heights per missed frame
GATE_LOG_RATIO = 0.7  # |log size ratio|
#: the cost's default IoU share after a miss, and for tracks matched in the previous frame
#: (docs/RESULTS.md measures the choice); here, not in cost.py, so that the pipeline's config
#: can default to them without importing torch
DEFAULT_IOU_WEIGHT = 0.8
DEFAULT_IOU_WEIGHT_NEXT = 0.8


def _centre_size(boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + w / 2, boxes[..., 1] + h / 2, w, h


def box_displacement(reference: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Features 0-3 of ``boxes`` relative to ``reference`` (broadcasting, last axis 4)."""
    rx, ry, rw, rh = _centre_size(reference)
    bx, by, bw, bh = _centre_size(boxes)
    return np.stack([(bx - rx) / rh, (by - ry) / rh, np.log(bw / rw), np.log(bh / rh)], axis=-1)


def pair_features(
    track_boxes: np.ndarray,
    detections: np.ndarray,
    track_distances: np.ndarray | None = None,
    use_distance: bool = False,
    appearance: np.ndarray | None = None,
) -> np.ndarray:
    """``(T, D, F)`` features of every pair: 4 box features, then the distance ratio if
    ``use_distance``, then the ``(T, D)`` appearance distance if given."""
    parts = [box_displacement(track_boxes[:, None, :4], detections[None, :, :4])]
    if use_distance:
        if track_distances is None or detections.shape[1] <= DISTANCE:
            raise ValueError("use_distance needs distances for the tracks and the detections")
        ratio = np.log(detections[None, :, DISTANCE] / track_distances[:, None])
        parts.append(np.nan_to_num(ratio, nan=0.0)[..., None])  # unknown distance: no evidence
    if appearance is not None:
        parts.append(np.asarray(appearance, dtype=np.float64)[..., None])
    return np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]


def gate(
    x: np.ndarray, gap_frames: np.ndarray, max_shift: float, max_log_ratio: float
) -> np.ndarray:
    """Pairs worth evaluating: centre within ``max_shift`` heights per missed frame (at least
    one frame) and sizes within ``exp(max_log_ratio)``. ``x`` is ``(T, D, F)``; gap is ``(T,)``."""
    reach = max_shift * np.maximum(gap_frames, 1)[:, None]
    near = (np.abs(x[..., 0]) <= reach) & (np.abs(x[..., 1]) <= reach)
    similar = (np.abs(x[..., 2]) <= max_log_ratio) & (np.abs(x[..., 3]) <= max_log_ratio)
    return near & similar


def track_features(
    last_boxes: np.ndarray,
    last_frames: np.ndarray,
    now: int,
    frame_rate: float,
    references: np.ndarray,
) -> np.ndarray:
    """``(T, 7)`` per-track context: [gap seconds, log fps, log height/100, reference offset
    (4)], from each track's last observation, its frame, and the reference box it is compared
    with."""
    last_boxes = np.atleast_2d(last_boxes)
    out = np.empty((len(last_boxes), TRACK_FEATURES))
    out[:, 0] = (now - np.asarray(last_frames, dtype=np.float64)) / frame_rate
    out[:, 1] = np.log(frame_rate)
    out[:, 2] = np.log((last_boxes[:, 3] - last_boxes[:, 1]) / 100.0)
    out[:, 3:] = box_displacement(last_boxes, np.atleast_2d(references))
    return out


def histories(
    observation_lists: Sequence[Sequence[tuple[int, np.ndarray]]], k: int, frame_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's input for several tracks at once: ``(T, k, 5)`` steps, oldest first and
    relative to each track's latest observation, zero before a track began, and ``(T, k)``
    masks (True where a step exists)."""
    n_tracks = len(observation_lists)
    boxes = np.tile([0.0, 0.0, 1.0, 1.0], (n_tracks, k, 1))  # padding: a valid box, masked out
    frames = np.zeros((n_tracks, k))
    mask = np.zeros((n_tracks, k), dtype=bool)
    for i, observations in enumerate(observation_lists):
        recent = list(observations)[-k:]
        n = len(recent)
        frames[i, k - n :] = [f for f, _ in recent]
        boxes[i, k - n :] = [row[:4] for _, row in recent]
        mask[i, k - n :] = True
    steps = np.zeros((n_tracks, k, HISTORY_FEATURES))
    steps[..., :4] = box_displacement(boxes[:, -1:, :], boxes)
    steps[..., 4] = (frames[:, -1:] - frames) / frame_rate
    steps[~mask] = 0.0
    return steps, mask


def history_features(
    observations: Sequence[tuple[int, np.ndarray]],
    now: int,
    k: int,
    frame_rate: float,
    reference: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One track's context inputs from its ``(frame, detection row)`` observations and the
    ``reference`` box the detections are compared with (default: the last observation).

    Returns ``history (k, 5)`` and ``mask (k,)`` (see :func:`histories`) and ``track (7,)``
    (see :func:`track_features`).
    """
    steps, mask = histories([observations], k, frame_rate)
    last_frame, last = observations[-1]
    ref = last[:4] if reference is None else reference
    track = track_features(last[:4], [last_frame], now, frame_rate, ref)[0]
    return steps[0], mask[0], track
