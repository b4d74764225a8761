"""One tracked person: its filter, its observations, and where it is in its lifecycle.

Lifecycle: TENTATIVE (born, not yet trusted) -> CONFIRMED (reported) -> LOST (missed; its box
is a prediction) -> removed (dropped by the tracker after ``max_age`` missed frames). Each
strategy decides when a track is confirmed, because the original trackers differ there; the
states themselves and the counters are shared.
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum

import numpy as np

from trackflow_ros.tracking import kalman
from trackflow_ros.tracking.kalman import BoxModel

#: observations kept per track: OC-SORT looks back a few frames, TrackFlow's temporal context
#: encoder a few more
HISTORY_LENGTH = 32


class TrackState(IntEnum):
    """Values match trackflow_ros/msg/TrackedPerson STATE_* constants."""

    TENTATIVE = 0
    CONFIRMED = 1
    LOST = 2


class Track:
    """A person's track. Boxes are x1, y1, x2, y2 in pixels."""

    def __init__(
        self,
        track_id: int,
        detection: np.ndarray,
        frame: int,
        model: BoxModel,
        det_index: int = -1,
    ) -> None:
        self.id = track_id
        self.model = model
        self.x, self.P = model.initiate(detection[:4])  # the Kalman filter's mean, covariance
        self.state = TrackState.TENTATIVE
        self.ever_confirmed = False
        self.start_frame = frame
        self.age = 0  # frames since birth
        # as in SORT's code, the detection a track is born from is not counted as a hit
        self.hits = 0  # detections matched since birth
        self.hit_streak = 0  # consecutive frames matched, up to now
        self.time_since_update = 0  # frames since the last match
        self.detection = detection.copy()  # last matched detection row, extras included
        self.score = float(detection[4])
        #: (frame, detection row) of the last HISTORY_LENGTH matches, oldest first
        self.observations: deque[tuple[int, np.ndarray]] = deque(maxlen=HISTORY_LENGTH)
        self.observations.append((frame, self.detection))
        self.det_index = det_index  # row of this frame's detections it matched, else -1
        self.last_cost = float("nan")  # association cost of the latest match
        #: filter state right after the latest match: OC-SORT re-updates from here after a gap
        self.saved_filter = (self.x, self.P)
        #: the filter's box, computed with the filter step (for all tracks at once) because
        #: association reads it many times per frame
        self.box: np.ndarray = detection[:4].copy()

    @property
    def last_observation(self) -> np.ndarray:
        return self.detection[:4]

    @property
    def last_frame(self) -> int:
        return self.observations[-1][0]

    def advance(self, x: np.ndarray, P: np.ndarray, box: np.ndarray) -> None:
        """Move to the next frame with the predicted filter state; the miss counters run.
        ``box`` is the filter's box: a prediction until a match corrects it."""
        self.x, self.P, self.box = x, P, box
        self.age += 1
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        self.det_index = -1
        self.last_cost = float("nan")

    def register_match(
        self, x: np.ndarray, P: np.ndarray, box: np.ndarray, detection: np.ndarray, frame: int,
        det_index: int, cost: float,
    ) -> None:  # fmt: skip
        """Take the filter state corrected with ``detection`` and record the match."""
        self.x, self.P, self.box = x, P, box
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        self.detection = detection.copy()
        self.score = float(detection[4])
        self.observations.append((frame, self.detection))
        self.det_index = det_index
        self.last_cost = float(cost)
        self.saved_filter = (x, P)

    def __repr__(self) -> str:
        x1, y1, x2, y2 = self.box
        return (
            f"Track(id={self.id}, {self.state.name}, box=[{x1:.0f},{y1:.0f},{x2:.0f},{y2:.0f}], "
            f"hits={self.hits}, missed={self.time_since_update})"
        )


def predict_tracks(tracks: list[Track]) -> None:
    """One Kalman prediction for all ``tracks`` (one model) in a single batched call."""
    if not tracks:
        return
    x = np.stack([t.x for t in tracks])
    P = np.stack([t.P for t in tracks])
    lost = np.array([t.time_since_update > 0 for t in tracks])
    model = tracks[0].model
    x, P = kalman.predict(model, x, P, lost)
    boxes = model.to_boxes(x)
    for i, track in enumerate(tracks):
        track.advance(x[i], P[i], boxes[i])


def correct_tracks(
    tracks: list[Track], detections: np.ndarray, frame: int, det_index: list[int], costs
) -> None:
    """Correct each track with its matched detection (row i with track i), batched."""
    if not tracks:
        return
    x = np.stack([t.x for t in tracks])
    P = np.stack([t.P for t in tracks])
    model = tracks[0].model
    x, P = kalman.update(model, x, P, detections[:, :4])
    boxes = model.to_boxes(x)
    for i, track in enumerate(tracks):
        track.register_match(x[i], P[i], boxes[i], detections[i], frame, det_index[i], costs[i])
