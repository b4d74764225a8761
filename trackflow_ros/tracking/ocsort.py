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

from trackflow_ros.tracking import kalman
from trackflow_ros.tracking.association import AssociationCost, match
from trackflow_ros.tracking.base import Tracker
from trackflow_ros.tracking.kalman import XYSR
from trackflow_ros.tracking.track import Track
from trackflow_ros.types import SCORE


def _centres(boxes: np.ndarray) -> np.ndarray:
    return np.stack([(boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2], -1)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-6)


def _direction(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Unit vector from the centre of box ``start`` to the centre of box ``end``."""
    dx = (end[0] + end[2] - start[0] - start[2]) / 2
    dy = (end[1] + end[3] - start[1] - start[3]) / 2
    norm = (dx * dx + dy * dy) ** 0.5 + 1e-6
    return np.array([dx / norm, dy / norm])


class OCSORT(Tracker):
    kalman = XYSR

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
        #: observed motion direction (unit dx, dy) of each track matched at least once
        self._directions: dict[int, np.ndarray] = {}

    def _previous_observation(self, track: Track) -> np.ndarray:
        """The track's oldest observation within the last ``delta_t`` frames, or its latest one
        if none is that recent: the start of its observed motion direction."""
        oldest_allowed = self.frame_count - self.delta_t
        for frame, row in track.observations:  # oldest first
            if frame >= oldest_allowed:
                return row[:4]
        return track.last_observation

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
        previous = np.array([self._previous_observation(t) for t in tracks])
        zero = np.zeros(2)
        velocity = np.array([self._directions.get(t.id, zero) for t in tracks])  # (T, 2)
        to_det = _unit(_centres(dets[None, :, :4]) - _centres(previous)[:, None, :])  # (T, D, 2)
        cos = np.clip(np.einsum("tk,tdk->td", velocity, to_det), -1.0, 1.0)
        agreement = (np.pi / 2 - np.abs(np.arccos(cos))) / np.pi
        has_motion = np.array([t.id in self._directions for t in tracks], dtype=float)
        return self.inertia * agreement * has_motion[:, None] * dets[None, :, SCORE]

    def _apply(
        self, tracks: list[Track], dets: np.ndarray, det_index: list[int], matches, cost
    ) -> None:
        plain = []
        for r, c in matches:
            track = tracks[r]
            # the observed motion direction, from before this observation joins the history
            self._directions[track.id] = _direction(self._previous_observation(track), dets[c])
            if self.frame_count - track.last_frame > 1:
                self._reupdate(track, dets[c], det_index[c], cost[r, c])
            else:
                plain.append((r, c))
        super()._apply(tracks, dets, det_index, plain, cost)

    def _reupdate(self, track: Track, det: np.ndarray, det_index: int, cost: float) -> None:
        """ORU: replay the filter from the last observation along the straight path between
        it and the new one, one virtual observation per missed frame."""
        gap = self.frame_count - track.last_frame
        start, end = track.last_observation, det[:4]
        x, P = track.saved_filter[0][None], track.saved_filter[1][None]
        no_loss = np.zeros(1, dtype=bool)
        for step in range(1, gap + 1):
            x, P = kalman.predict(self.kalman, x, P, no_loss)
            x, P = kalman.update(self.kalman, x, P, (start + (end - start) * step / gap)[None])
        box = self.kalman.to_boxes(x)[0]
        track.register_match(x[0], P[0], box, det, self.frame_count, det_index, cost)

    def output_box(self, track: Track) -> np.ndarray:
        return track.last_observation

    def _is_confirmed(self, track: Track) -> bool:
        return track.hit_streak >= self.min_hits or self.frame_count <= self.min_hits

    def _is_dead(self, track: Track) -> bool:
        if track.time_since_update > self.max_age:
            self._directions.pop(track.id, None)
            return True
        return False

    def reset(self) -> None:
        super().reset()
        self._directions.clear()
