"""ByteTrack (Zhang et al., ECCV 2022, "ByteTrack: Multi-Object Tracking by Associating Every
Detection Box").

Every detection box takes part, low-score ones included:

1. high-score detections (score >= ``high_threshold``) against all tracked and lost tracks,
   cost fused with the detection score (``1 - (1 - cost) * score``), gate ``match_cost``;
2. low-score detections (``low_threshold`` <= score < ``high_threshold``) against the tracks
   still unmatched that were tracked in the previous frame (not the lost ones), gate
   ``low_match_cost``: occluded people often get low scores, and this keeps their identity;
3. remaining high-score detections against unconfirmed tracks (born in the previous frame),
   gate ``unconfirmed_match_cost``; an unconfirmed track that misses is dropped.

Remaining high-score detections of at least ``new_track_threshold`` start tracks; a track is
confirmed (activated) after one match, or at once in a sequence's first frame; lost tracks are
kept ``track_buffer`` frames at 30 fps (scaled by the frame rate). Kalman filter on
[x, y, a, h] with height-proportional noise. Defaults are those of the official code for
MOT17: ``track_thresh=0.5`` (new tracks from 0.6), ``match_thresh=0.8``, buffer 30.
"""

from __future__ import annotations

import numpy as np

from trackflow_ros.tracking.association import AssociationCost, iou_matrix, match
from trackflow_ros.tracking.base import Tracker
from trackflow_ros.tracking.kalman import XYAH
from trackflow_ros.tracking.track import Track
from trackflow_ros.types import SCORE


def fuse_score(cost: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ByteTrack's score fusion, on the cost scale: similarity ``(1 - cost)`` times score."""
    return 1.0 - (1.0 - cost) * scores[None, :]


class ByteTrack(Tracker):
    kalman = XYAH

    def __init__(
        self,
        cost: AssociationCost | None = None,
        frame_rate: float = 30.0,
        high_threshold: float = 0.5,
        low_threshold: float = 0.1,
        new_track_threshold: float = 0.6,
        match_cost: float = 0.8,
        low_match_cost: float = 0.5,
        unconfirmed_match_cost: float = 0.7,
        track_buffer: int = 30,
        min_hits: int = 1,
        duplicate_iou: float = 0.85,
    ) -> None:
        super().__init__(cost, frame_rate)
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.new_track_threshold = new_track_threshold
        self.match_cost = match_cost
        self.low_match_cost = low_match_cost
        self.unconfirmed_match_cost = unconfirmed_match_cost
        self.max_age = int(frame_rate / 30.0 * track_buffer)
        self.min_hits = min_hits
        self.duplicate_iou = duplicate_iou

    def _associate(self, dets: np.ndarray) -> list[int]:
        scores = dets[:, SCORE]
        high = np.flatnonzero(scores >= self.high_threshold).tolist()
        low = np.flatnonzero((scores >= self.low_threshold) & (scores < self.high_threshold))
        low = low.tolist()
        confirmed = [t for t in self.tracks if t.ever_confirmed]
        unconfirmed = [t for t in self.tracks if not t.ever_confirmed]

        # 1. high-score detections, all confirmed tracks (tracked and lost)
        left_tracks, left_high = list(range(len(confirmed))), list(range(len(high)))
        if confirmed and high:
            cost = fuse_score(self._cost(confirmed, dets[high]), scores[high])
            matches, left_tracks, left_high = match(cost, self.match_cost)
            self._apply(confirmed, dets[high], high, matches, cost)

        # 2. low-score detections, tracks that were tracked in the previous frame only
        recent = [confirmed[i] for i in left_tracks if confirmed[i].time_since_update == 1]
        if recent and low:
            cost = self._cost(recent, dets[low])
            matches, _, _ = match(cost, self.low_match_cost)
            self._apply(recent, dets[low], low, matches, cost)

        # 3. what is left of the high-score detections, tracks born in the previous frame
        rest = [high[i] for i in left_high]
        left_rest = list(range(len(rest)))
        if unconfirmed and rest:
            cost = fuse_score(self._cost(unconfirmed, dets[rest]), scores[rest])
            matches, _, left_rest = match(cost, self.unconfirmed_match_cost)
            self._apply(unconfirmed, dets[rest], rest, matches, cost)

        self._remove_duplicates()
        return [rest[i] for i in left_rest]

    def _remove_duplicates(self) -> None:
        """A lost track and a tracked one on the same person: keep the older (official code)."""
        tracked = [t for t in self.tracks if t.ever_confirmed and t.time_since_update == 0]
        lost = [t for t in self.tracks if t.ever_confirmed and t.time_since_update > 0]
        if not tracked or not lost:
            return
        iou = iou_matrix(np.array([t.box for t in tracked]), np.array([t.box for t in lost]))
        dropped = set()
        for i, j in zip(*np.nonzero(iou > self.duplicate_iou), strict=True):
            a, b = tracked[i], lost[j]
            older_a = self.frame_count - a.start_frame > b.last_frame - b.start_frame
            dropped.add(id(b) if older_a else id(a))
        self.tracks = [t for t in self.tracks if id(t) not in dropped]

    def _is_confirmed(self, track: Track) -> bool:
        return track.ever_confirmed or track.hits >= self.min_hits or track.start_frame == 1

    def _is_dead(self, track: Track) -> bool:
        if not track.ever_confirmed:
            return track.time_since_update > 0
        return track.time_since_update > self.max_age
