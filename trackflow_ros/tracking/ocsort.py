"""OC-SORT (Cao et al., CVPR 2023, "Observation-Centric SORT: Rethinking SORT for Robust
Multi-Object Tracking").

SORT's filter and lifecycle, made to trust observations over the filter's estimates:

- OCM, observation-centric momentum: the assignment adds a velocity-direction consistency term,
  the angle between a track's observed motion direction (from observations ``delta_t`` frames
  apart) and the direction from its observation ``delta_t`` frames ago to each detection,
  weighted by ``inertia`` and by the detection score. The gate stays on the cost alone.
- OCR, observation-centric recovery: detections and tracks left unmatched are matched once
  more, against each track's *last observation* rather than its drifting prediction.
- ORU, observation-centric re-update: when a track is matched again after a gap, its filter is
  rolled back to the last observation and re-run along a virtual trajectory interpolated
  between the two observations, so the error piled up during the gap does not stay.

Only detections above ``det_threshold`` are used. Reported boxes are the last observations.
Defaults are those of the official code for MOT17: ``det_thresh=0.6, iou_threshold=0.3,
inertia=0.2, delta_t=3, max_age=30, min_hits=3``.
"""

from __future__ import annotations

import numpy as np

from trackflow_ros.tracking.association import AssociationCost, match
from trackflow_ros.tracking.base import Tracker
from trackflow_ros.tracking.kalman import XYSRFilter
from trackflow_ros.tracking.track import Track
from trackflow_ros.types import SCORE


def _centres(boxes: np.ndarray) -> np.ndarray:
    return np.stack([(boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2], -1)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-6)


class OCSORT(Tracker):
    kalman = XYSRFilter

    def __init__(
        self,
        cost: AssociationCost | None = None,
        frame_rate: float = 30.0,
        det_threshold: float = 0.6,
        min_iou: float = 0.3,
        inertia: float = 0.2,
        delta_t: int = 3,
        max_age: int = 30,
        min_hits: int = 3,
    ) -> None:
        super().__init__(cost, frame_rate)
        self.det_threshold = det_threshold
        self.new_track_threshold = det_threshold
        self.max_cost = 1.0 - min_iou
        self.inertia = inertia
        self.delta_t = delta_t
        self.max_age = max_age
        self.min_hits = min_hits

    def _previous_observation(self, track: Track, frames_back: int) -> np.ndarray:
        """The track's observation ``frames_back`` frames ago or, failing that, the closest
        later one; the latest observation if none is that recent."""
        by_frame = dict(track.observations)
        for dt in range(frames_back, 0, -1):
            row = by_frame.get(self.frame_count - dt)
            if row is not None:
                return row[:4]
        return track.last_observation

    def _direction(self, track: Track) -> np.ndarray:
        """Unit (dy, dx)-free 2D motion direction from the track's observations (0 if unknown)."""
        if len(track.observations) < 2:
            return np.zeros(2)
        last_frame, last = track.observations[-1]
        older = dict(list(track.observations)[:-1])
        previous = older[max(older)][:4]
        for dt in range(self.delta_t, 0, -1):
            if last_frame - dt in older:
                previous = older[last_frame - dt][:4]
                break
        return _unit(_centres(last[:4]) - _centres(previous))

    def _associate(self, dets: np.ndarray) -> list[int]:
        high = np.flatnonzero(dets[:, SCORE] >= self.det_threshold).tolist()
        tracks = self.tracks
        cost = self._cost(tracks, dets[high])
        assignment = cost
        if tracks and high:
            assignment = cost - self._momentum(tracks, dets[high])
        matches, left_tracks, left_dets = match(cost, self.max_cost, assignment)
        self._apply(tracks, dets[high], high, matches, cost)

        # OCR: the leftovers once more, against the tracks' last observations
        if left_tracks and left_dets:
            rest_tracks = [tracks[i] for i in left_tracks]
            rest_dets = [high[i] for i in left_dets]
            last_boxes = np.array([t.last_observation for t in rest_tracks])
            cost = self._cost(rest_tracks, dets[rest_dets], last_boxes)
            matches, _, still_left = match(cost, self.max_cost)
            self._apply(rest_tracks, dets[rest_dets], rest_dets, matches, cost)
            return [rest_dets[i] for i in still_left]
        return [high[i] for i in left_dets]

    def _momentum(self, tracks: list[Track], dets: np.ndarray) -> np.ndarray:
        """OCM: inertia-weighted agreement of motion directions, per (track, detection)."""
        previous = np.array([self._previous_observation(t, self.delta_t) for t in tracks])
        velocity = np.array([self._direction(t) for t in tracks])  # (T, 2)
        to_det = _unit(_centres(dets[None, :, :4]) - _centres(previous)[:, None, :])  # (T, D, 2)
        cos = np.clip(np.einsum("tk,tdk->td", velocity, to_det), -1.0, 1.0)
        agreement = (np.pi / 2 - np.abs(np.arccos(cos))) / np.pi
        has_motion = np.array([len(t.observations) >= 2 for t in tracks], dtype=float)
        return self.inertia * agreement * has_motion[:, None] * dets[None, :, SCORE]

    def _update_track(self, track: Track, det: np.ndarray, det_index: int, cost: float) -> None:
        gap = self.frame_count - track.last_frame
        if gap <= 1:
            super()._update_track(track, det, det_index, cost)
            return
        # ORU: replay the filter from the last observation along the interpolated trajectory
        start, end = track.last_observation, det[:4]
        track.filter.restore(track.saved_filter)
        for step in range(1, gap + 1):
            track.filter.predict()
            track.filter.update(start + (end - start) * step / gap)
        track.register_match(det, self.frame_count, det_index, cost)

    def output_box(self, track: Track) -> np.ndarray:
        return track.last_observation

    def _is_confirmed(self, track: Track) -> bool:
        return track.hit_streak >= self.min_hits or self.frame_count <= self.min_hits

    def _is_dead(self, track: Track) -> bool:
        return track.time_since_update > self.max_age
