"""Association helpers shared by every strategy: box IoU, the cost contract, Hungarian matching.

The cost contract
-----------------
A cost is any callable ``cost(tracks, detections, track_boxes) -> (n_tracks, n_detections)``:

- ``tracks``: the candidate :class:`~trackflow_ros.tracking.track.Track` objects (their history,
  distance, frames since update...), ``detections``: the ``(N, 5 + E)`` detection rows,
  ``track_boxes``: the box each strategy compares against at this step (the filter's prediction
  for SORT and ByteTrack; the last observation in OC-SORT's recovery step).
- Lower is better, on the scale of ``1 - IoU``: 0 is a perfect match, 1 no overlap at all;
  values above 1 (or ``inf``) are allowed for pairs that should never match.

Strategies express their thresholds as a minimum IoU, i.e. a maximum cost ``1 - min_iou``, so
a learned cost that is calibrated to this scale plugs in without retuning a strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

if TYPE_CHECKING:
    from trackflow_ros.tracking.track import Track

#: stands in for "impossible" inside the assignment so that scipy always finds a solution
_FORBIDDEN = 1e6


class AssociationCost(Protocol):
    def __call__(
        self, tracks: Sequence[Track], detections: np.ndarray, track_boxes: np.ndarray
    ) -> np.ndarray: ...


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(A, 4)`` and ``(B, 4)`` x1y1x2y2 boxes."""
    a = np.asarray(boxes_a, dtype=np.float64)
    b = np.asarray(boxes_b, dtype=np.float64)
    ax1, ay1, ax2, ay2 = a[:, 0:1], a[:, 1:2], a[:, 2:3], a[:, 3:4]  # columns: broadcast on b
    bx1, by1, bx2, by2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    iw = np.minimum(ax2, bx2) - np.maximum(ax1, bx1)
    ih = np.minimum(ay2, by2) - np.maximum(ay1, by1)
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class IoUCost:
    """The classic cost: ``1 - IoU`` between each track box and each detection box."""

    def __call__(
        self, tracks: Sequence[Track], detections: np.ndarray, track_boxes: np.ndarray
    ) -> np.ndarray:
        return 1.0 - iou_matrix(track_boxes, detections[:, :4])


def match(
    cost: np.ndarray, max_cost: float, assignment_cost: np.ndarray | None = None
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian matching (scipy's ``linear_sum_assignment``) with a gate.

    The assignment minimises ``assignment_cost`` (default: ``cost``); a pair is kept only if its
    ``cost`` is at most ``max_cost``. OC-SORT needs the two apart: it assigns on IoU plus a
    direction term but gates on IoU alone.

    Returns ``(matches, unmatched_rows, unmatched_cols)``, all sorted.
    """
    n_rows, n_cols = cost.shape
    if n_rows == 0 or n_cols == 0:
        return [], list(range(n_rows)), list(range(n_cols))
    solve = cost if assignment_cost is None else assignment_cost
    solve = np.where(np.isfinite(solve), solve, _FORBIDDEN)
    solve = np.where(cost <= max_cost, solve, _FORBIDDEN)
    rows, cols = linear_sum_assignment(solve)
    keep = cost[rows, cols] <= max_cost
    matches = sorted(zip(rows[keep].tolist(), cols[keep].tolist(), strict=True))
    matched_rows = {r for r, _ in matches}
    matched_cols = {c for _, c in matches}
    unmatched_rows = [r for r in range(n_rows) if r not in matched_rows]
    unmatched_cols = [c for c in range(n_cols) if c not in matched_cols]
    return matches, unmatched_rows, unmatched_cols
