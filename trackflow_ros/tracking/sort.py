"""SORT (Bewley et al., 2016, "Simple Online and Realtime Tracking").

A constant-velocity Kalman filter per track ([u, v, s, r] state), one Hungarian assignment on
the cost (IoU in the paper) per frame, a track reported once it was matched ``min_hits`` frames
in a row (or in the first ``min_hits`` frames of a sequence), dropped after ``max_age`` missed
frames. Defaults are the reference code's: ``max_age=1, min_hits=3, min_iou=0.3``.
"""

from __future__ import annotations

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
        max_age: int = 1,
        min_hits: int = 3,
        min_iou: float = 0.3,
        new_track_threshold: float = 0.0,
    ) -> None:
        super().__init__(cost, frame_rate)
        self.max_age = max_age
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
