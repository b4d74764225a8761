"""``TrackFlowCost``: the TrackFlow NLL as an association cost for SORT, ByteTrack and OC-SORT.

Per call (one association stage of one frame):

1. pair features of all (track, detection) pairs, against the box the strategy compares with;
2. a cheap gate (centre within ``gate_shift`` box heights per missed frame, size within a
   factor ``exp(gate_log_ratio)``): pairs outside it cost ``inf`` and never reach the flow;
3. one batched flow evaluation of all gated pairs, each track's context computed once; the
   GRU summary of a track's history is kept until the track is matched again, because the
   history only changes then (ByteTrack and OC-SORT call the cost several times a frame);
4. ``cost = 1 - P(match | nll)`` (see :mod:`.scorer`), fused with IoU as
   ``w * (1 - IoU) + (1 - w) * cost``, with ``w = iou_weight_next_frame`` for tracks matched
   in the previous frame and ``w = iou_weight`` after a miss (both 0.8 by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from trackflow_ros.association.checkpoint import DEFAULT_WEIGHTS, load_checkpoint
from trackflow_ros.association.features import (
    DEFAULT_IOU_WEIGHT,
    DEFAULT_IOU_WEIGHT_NEXT,
    GATE_LOG_RATIO,
    GATE_SHIFT,
    gate,
    histories,
    pair_features,
    track_features,
)
from trackflow_ros.association.scorer import FlowScorer
from trackflow_ros.tracking.association import iou_matrix
from trackflow_ros.tracking.track import Track


class TrackFlowCost:
    """Implements the tracking core's cost contract (``cost(tracks, detections, boxes)``).

    One instance per tracker: it remembers its tracks' history summaries by track id.

    Args:
        weights: checkpoint path; the model shipped in the package by default.
        frame_rate: of the input, part of the model's context.
        iou_weight: share of ``1 - IoU`` in the fused cost (0 = the flow alone) for tracks
            missed in the previous frame(s).
        iou_weight_next_frame: the same for tracks matched in the previous frame. The two
            can differ (between consecutive frames the box overlap is a strong cue; after a
            miss it fades); 0.8 for both is the default, and docs/RESULTS.md scores what a
            share chosen out of sample per sequence gives instead.
        scene: scene cluster index (0 when scene clustering is off).
        threads: torch CPU threads for the flow; one is fastest for the few hundred pairs of a
            frame (measured in docs/BENCHMARKS.md) and leaves the other core to the node.
    """

    def __init__(
        self,
        weights: Path | None = None,
        frame_rate: float = 30.0,
        iou_weight: float = DEFAULT_IOU_WEIGHT,
        iou_weight_next_frame: float = DEFAULT_IOU_WEIGHT_NEXT,
        scene: int = 0,
        gate_shift: float = GATE_SHIFT,
        gate_log_ratio: float = GATE_LOG_RATIO,
        threads: int = 1,
    ) -> None:
        model, calibration, _ = load_checkpoint(weights or DEFAULT_WEIGHTS)
        self.config = model.config
        self.scorer = FlowScorer(model, calibration)
        self.frame_rate = float(frame_rate)
        self.iou_weight = float(iou_weight)
        self.iou_weight_next_frame = float(iou_weight_next_frame)
        self.scene = int(scene)
        self.gate_shift = gate_shift
        self.gate_log_ratio = gate_log_ratio
        #: track id -> (frame of its last observation, GRU summary of its history)
        self._encoded: dict[int, tuple[int, torch.Tensor]] = {}
        torch.set_num_threads(threads)

    def __call__(
        self, tracks: Sequence[Track], detections: np.ndarray, track_boxes: np.ndarray
    ) -> np.ndarray:
        n_tracks, n_dets = len(tracks), len(detections)
        cost = np.full((n_tracks, n_dets), np.inf)
        if n_tracks == 0 or n_dets == 0:
            return cost
        now = max(t.last_frame + t.time_since_update for t in tracks)
        x = pair_features(track_boxes, detections, use_distance=self.config.use_distance)
        gaps = np.array([t.time_since_update for t in tracks])
        rows, cols = np.nonzero(gate(x, gaps, self.gate_shift, self.gate_log_ratio))
        if len(rows):
            used = np.unique(rows)
            context = self._context([tracks[i] for i in used], track_boxes[used], now)
            nll = self.scorer.nll_given_context(context, x[rows, cols], np.searchsorted(used, rows))
            cost[rows, cols] = self.scorer.cost(nll)
        weight = np.where(gaps <= 1, self.iou_weight_next_frame, self.iou_weight)[:, None]
        if weight.any():
            iou_cost = 1.0 - iou_matrix(track_boxes, detections[:, :4])
            # an IoU share of 1 means IoU alone, also for gated pairs (0 * inf would be NaN)
            cost = weight * iou_cost + (1.0 - weight) * np.where(weight < 1, cost, 0.0)
        return cost

    @torch.inference_mode()
    def _context(self, tracks: list[Track], references: np.ndarray, now: int) -> torch.Tensor:
        model = self.scorer.model
        stale = [t for t in tracks if self._encoded.get(t.id, (None,))[0] != t.last_frame]
        if stale:
            steps, mask = histories(
                [t.observations for t in stale], self.config.history, self.frame_rate
            )
            encoded = model.encode(
                torch.as_tensor(steps, dtype=torch.float32), torch.as_tensor(mask)
            )
            for t, e in zip(stale, encoded, strict=True):
                self._encoded[t.id] = (t.last_frame, e)
            if len(self._encoded) > 4 * len(tracks) + 256:  # forget long-gone tracks
                self._encoded = {
                    i: v for i, v in self._encoded.items() if v[0] > now - 10 * self.frame_rate
                }
        last_boxes = np.array([t.last_observation for t in tracks])
        last_frames = np.array([t.last_frame for t in tracks])
        features = track_features(last_boxes, last_frames, now, self.frame_rate, references)
        return model.context_from(
            torch.stack([self._encoded[t.id][1] for t in tracks]),
            torch.as_tensor(features, dtype=torch.float32),
            torch.full((len(tracks),), self.scene, dtype=torch.long),
        )
