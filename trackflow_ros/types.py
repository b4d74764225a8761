"""Detections as numpy arrays: the one format every room of the package exchanges.

A frame's detections are an ``(N, 5 + E)`` float array ``[x1, y1, x2, y2, score, extras...]``
in pixels (top-left origin, x2/y2 exclusive-free corners as MOTChallenge boxes), with ``E``
optional per-detection extras in fixed columns (today: distance in metres and its variance),
so that detections flow from a detector through the distance estimator into a tracker without
a Python object per box.
"""

from __future__ import annotations

import logging

import numpy as np

X1, Y1, X2, Y2, SCORE = range(5)
#: extra columns, present when a distance estimator ran (NaN when it could not estimate)
DISTANCE, DISTANCE_VARIANCE = 5, 6
MIN_COLUMNS = 5

_log = logging.getLogger(__name__)


def empty_detections(columns: int = MIN_COLUMNS) -> np.ndarray:
    return np.zeros((0, columns), dtype=np.float64)


def validate_detections(detections: np.ndarray, source: str = "detections") -> np.ndarray:
    """Check shape and drop unusable rows *loudly*.

    Rule (documented in the README): a row whose box or score is NaN/inf, or whose width or
    height is not positive, cannot be tracked; it is removed and a warning names how many rows
    and which indices, so the loss is never silent. Boxes partly or wholly outside the image are
    kept unchanged: people walk out of the frame, and the filters predict past the border.
    Extras may be NaN (unknown distance). A wrong shape is a programming error and raises.
    """
    dets = np.asarray(detections, dtype=np.float64)
    if dets.size == 0:
        return empty_detections(max(MIN_COLUMNS, dets.shape[1] if dets.ndim == 2 else 0))
    if dets.ndim != 2 or dets.shape[1] < MIN_COLUMNS:
        raise ValueError(
            f"{source}: expected an (N, >=5) array [x1, y1, x2, y2, score, ...], "
            f"got shape {dets.shape}"
        )
    core = dets[:, :MIN_COLUMNS]
    bad = ~np.isfinite(core).all(axis=1)
    bad |= ~(dets[:, X2] > dets[:, X1]) | ~(dets[:, Y2] > dets[:, Y1])
    if bad.any():
        _log.warning(
            "%s: dropped %d of %d detections with a non-finite value or a non-positive "
            "width/height (rows %s)",
            source,
            int(bad.sum()),
            len(dets),
            np.flatnonzero(bad).tolist(),
        )
        dets = dets[~bad]
    return dets
