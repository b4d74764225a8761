"""Turning TrackFlow log-likelihoods into association costs.

The flow gives ``nll = -log p(x | track)``, a number on no fixed scale. The trackers gate and
assign on the scale of ``1 - IoU`` (see :mod:`trackflow_ros.tracking.association`), so the NLL
is mapped to ``cost = 1 - P(match | nll)``, where ``P(match | nll) = sigmoid(slope * nll +
intercept)`` is a logistic calibration fitted after training on true pairs against the wrong
pairs of the same frames (held-out trajectories). A strategy's "minimum IoU 0.3" then reads
"match probability at least 0.3", which is why the strategies keep their thresholds unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

from trackflow_ros.association.model import TrackFlowModel


class FlowScorer:
    """Batched NLL and calibrated cost from a model; numpy in, numpy out."""

    def __init__(self, model: TrackFlowModel, calibration: dict[str, float]) -> None:
        self.model = model.eval()
        self.slope = float(calibration["slope"])
        self.intercept = float(calibration["intercept"])

    @torch.inference_mode()
    def nll(
        self,
        history: np.ndarray,
        mask: np.ndarray,
        track: np.ndarray,
        scene: np.ndarray,
        x: np.ndarray,
        pair_track: np.ndarray,
    ) -> np.ndarray:
        """NLL of pairs ``x (P, F)``; pair p belongs to track ``pair_track[p]`` of the
        ``(T, ...)`` track inputs. Each track's context is computed once and broadcast."""
        if len(x) == 0:
            return np.zeros(0)
        context = self.model.context(
            torch.as_tensor(history, dtype=torch.float32),
            torch.as_tensor(mask),
            torch.as_tensor(track, dtype=torch.float32),
            torch.as_tensor(scene, dtype=torch.long),
        )
        return self.nll_given_context(context, x, pair_track)

    @torch.inference_mode()
    def nll_given_context(
        self, context: torch.Tensor, x: np.ndarray, pair_track: np.ndarray
    ) -> np.ndarray:
        """NLL of pairs ``x (P, F)`` whose tracks' contexts are rows ``pair_track`` of
        ``context (T, C)``: each context computed once, broadcast over its pairs."""
        pairs = torch.as_tensor(x, dtype=torch.float32)
        log_p = self.model.log_prob(pairs, context[torch.as_tensor(pair_track)])
        return -log_p.double().numpy()

    def cost(self, nll: np.ndarray) -> np.ndarray:
        """``1 - P(match | nll)``: 0 for a sure match, 1 for a sure mismatch."""
        z = np.clip(self.slope * nll + self.intercept, -50, 50)
        return 1.0 - 1.0 / (1.0 + np.exp(-z))
