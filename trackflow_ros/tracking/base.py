"""What every tracking-by-detection strategy shares: the per-frame loop, identities, births,
the lifecycle and the contract ``update(detections, frame=None) -> tracks``.

A strategy (SORT, ByteTrack, OC-SORT) only says how it associates, when a track counts as
confirmed and when it is dropped; everything else lives here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from trackflow_ros.tracking.association import AssociationCost, IoUCost
from trackflow_ros.tracking.kalman import XYSR
from trackflow_ros.tracking.track import Track, TrackState, correct_tracks, predict_tracks
from trackflow_ros.types import SCORE, validate_detections


class Tracker(ABC):
    """Base of the strategies. Subclasses implement :meth:`_associate` and the two rules.

    Args:
        cost: association cost (see :mod:`trackflow_ros.tracking.association`); IoU by default.
        frame_rate: frames per second of the input, for strategies that scale time budgets.
    """

    #: which Kalman parameterisation the original tracker uses
    kalman = XYSR

    def __init__(self, cost: AssociationCost | None = None, frame_rate: float = 30.0) -> None:
        if not np.isfinite(frame_rate) or frame_rate <= 0:
            raise ValueError(f"frame_rate must be a positive number, got {frame_rate}")
        self.cost: AssociationCost = cost if cost is not None else IoUCost()
        self.frame_rate = float(frame_rate)
        self.tracks: list[Track] = []
        self.frame_count = 0
        self._next_id = 1

    def update(self, detections: np.ndarray, frame: np.ndarray | None = None) -> list[Track]:
        """Advance one frame.

        Args:
            detections: ``(N, 5 + E)`` rows ``[x1, y1, x2, y2, score, extras...]``; ``N`` may be
                0. Unusable rows are dropped with a warning (see
                :func:`trackflow_ros.types.validate_detections`).
            frame: the image, for costs that look at appearance; the IoU strategies ignore it.

        Returns:
            Every live track after this frame, tentative and lost ones included; the ones to
            report are those whose ``state`` is CONFIRMED (see :meth:`reported`).
        """
        dets = validate_detections(detections)
        self.frame_count += 1
        predict_tracks(self.tracks)
        births = self._associate(dets)
        for i in births:
            if dets[i, SCORE] >= self.new_track_threshold:
                self.tracks.append(
                    Track(self._next_id, dets[i], self.frame_count, self.kalman, det_index=i)
                )
                self._next_id += 1
        for track in self.tracks:
            if track.time_since_update == 0 and self._is_confirmed(track):
                track.state = TrackState.CONFIRMED
                track.ever_confirmed = True
            elif track.time_since_update > 0 and track.ever_confirmed:
                track.state = TrackState.LOST
            else:
                track.state = TrackState.TENTATIVE
        self.tracks = [t for t in self.tracks if not self._is_dead(t)]
        return list(self.tracks)

    def reported(self) -> list[Track]:
        """The tracks an evaluation or a consumer should see this frame."""
        return [t for t in self.tracks if t.state == TrackState.CONFIRMED]

    def output_box(self, track: Track) -> np.ndarray:
        """The box reported for a track: the filter's estimate (OC-SORT overrides)."""
        return track.box

    def reset(self) -> None:
        """Forget every track and restart identities, e.g. for a new sequence."""
        self.tracks = []
        self.frame_count = 0
        self._next_id = 1

    # --- what a strategy decides ----------------------------------------------------------
    #: minimum detection score that may start a new track
    new_track_threshold: float = 0.0

    @abstractmethod
    def _associate(self, dets: np.ndarray) -> list[int]:
        """Match ``dets`` to ``self.tracks`` (updating the matched tracks) and return the
        indices of the detections that may start new tracks."""

    @abstractmethod
    def _is_confirmed(self, track: Track) -> bool:
        """Whether a track matched in this frame is reported."""

    @abstractmethod
    def _is_dead(self, track: Track) -> bool:
        """Whether a track is dropped for good after this frame."""

    # --- helpers for strategies -----------------------------------------------------------
    def _cost(self, tracks: list[Track], dets: np.ndarray, boxes: np.ndarray | None = None):
        """The pluggable cost between ``tracks`` and ``dets`` (track boxes: their predictions)."""
        if not tracks or len(dets) == 0:
            return np.zeros((len(tracks), len(dets)))
        if boxes is None:
            boxes = np.array([t.box for t in tracks])
        return np.asarray(self.cost(tracks, dets, boxes), dtype=np.float64)

    def _apply(
        self, tracks: list[Track], dets: np.ndarray, det_index: list[int], matches, cost
    ) -> None:
        """Correct the matched tracks (one batched filter update) and record the matches;
        ``det_index`` maps rows of ``dets`` to rows of this frame's detections."""
        if not matches:
            return
        rows, cols = (list(v) for v in zip(*matches, strict=True))
        correct_tracks(
            [tracks[r] for r in rows],
            dets[cols],
            self.frame_count,
            [det_index[c] for c in cols],
            cost[rows, cols],
        )
