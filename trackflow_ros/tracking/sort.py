"""SORT (Bewley et al., 2016, "Simple Online and Realtime Tracking").

A constant-velocity Kalman filter per track ([u, v, s, r] state), one Hungarian assignment on
the cost (IoU in the paper) per frame, a track reported once it was matched ``min_hits`` frames
in a row (or in the first ``min_hits`` frames of a sequence), dropped after ``max_age`` missed
frames. ``min_hits=3`` and ``min_iou=0.3`` are the reference code's. The paper drops a track
after a single missed frame (T_lost = 1, ``max_age=1``); by default a track lives one second
without a match instead (``max_age=None``: the frame rate, rounded up), as the ``trackers``
reference implementation does, because a robot's detector misses people for several frames at
a time and a one-frame lifetime turns each miss into a new identity. ``max_age=1`` gives the
paper's behaviour (docs/BASELINES.md measures both).
"""

from __future__ import annotations

import math

import numpy as np

from trackflow_ros.tracking.association import AssociationCost, match
from trackflow_ros.tracking.base import Tracker
from trackflow_ros.tracking.kalman import XYSR
from trackflow_ros.tracking.track import Track


class SORT(Tracker):
    kalman = XYSR

    def __init__(
        self,
        cost: AssociationCost | None = None,
        frame_rate: float = 30.0,
        max_age: int | None = None,
        min_hits: int = 3,
        min_iou: float = 0.3,
        new_track_threshold: float = 0.0,
    ) -> None:
        super().__init__(cost, frame_rate)
        self.max_age = max(1, math.ceil(frame_rate)) if max_age is None else max_age
        self.min_hits = min_hits
        self.max_cost = 1.0 - min_iou
        self.new_track_threshold = new_track_threshold

    def _associate(self, dets: np.ndarray) -> list[int]:
        cost = self._cost(self.tracks, dets)
        matches, _, unmatched = match(cost, self.max_cost)
        self._apply(self.tracks, dets, list(range(len(dets))), matches, cost)
        return unmatched

    def _is_confirmed(self, track: Track) -> bool:
        return track.hit_streak >= self.min_hits or self.frame_count <= self.min_hits

    def _is_dead(self, track: Track) -> bool:
        return track.time_since_update > self.max_age
