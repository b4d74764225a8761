"""The TrackFlow density model: p(x | context(track), scene).

- History encoder: a GRU over the track's last K observations (relative to its latest one),
  masked for tracks shorter than K. A GRU rather than a transformer: K is small, it is cheaper
  per frame, and its summary can be kept until the track's next match.
- Scene: a learnable embedding of the scene cluster (16 clusters; index 0 when clustering is
  off, which is what the MOTChallenge evaluation uses, having no images).
- Context = MLP([GRU state, track features (gap, fps, height), scene embedding]), computed once
  per track per frame and broadcast over its candidate detections.
- Flow (nflows): ``num_blocks`` x [ActNorm, masked affine autoregressive transform with residual
  MADE layers conditioned on the context, reverse permutation] over a standard normal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from nflows.distributions import StandardNormal
from nflows.flows import Flow
from nflows.transforms import (
    ActNorm,
    CompositeTransform,
    MaskedAffineAutoregressiveTransform,
    ReversePermutation,
)
from torch import nn

from trackflow_ros.association.features import BOX_FEATURES, HISTORY_FEATURES, TRACK_FEATURES


@dataclass(frozen=True)
class FlowConfig:
    """Everything that fixes the shapes of the model and the meaning of its inputs; stored in
    every checkpoint and compared on load."""

    history: int = 8  # K observations fed to the encoder
    num_blocks: int = 4  # flow blocks (the paper uses 16; see docs/RESULTS.md for the choice)
    hidden: int = 64  # MADE hidden units
    made_blocks: int = 2  # residual blocks per MADE
    gru_hidden: int = 32
    context: int = 32
    scene_clusters: int = 16
    scene_dim: int = 8
    use_distance: bool = False
    use_appearance: bool = False

    @property
    def features(self) -> int:
        return BOX_FEATURES + int(self.use_distance) + int(self.use_appearance)

    def to_dict(self) -> dict:
        return asdict(self)


class TrackFlowModel(nn.Module):
    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = nn.GRU(HISTORY_FEATURES + 1, config.gru_hidden, batch_first=True)
        self.scene = nn.Embedding(config.scene_clusters, config.scene_dim)
        self.context_net = nn.Sequential(
            nn.Linear(config.gru_hidden + TRACK_FEATURES + config.scene_dim, config.context),
            nn.ReLU(),
            nn.Linear(config.context, config.context),
        )
        layers: list[nn.Module] = []
        for _ in range(config.num_blocks):
            layers += [
                ActNorm(config.features),
                MaskedAffineAutoregressiveTransform(
                    features=config.features,
                    hidden_features=config.hidden,
                    context_features=config.context,
                    num_blocks=config.made_blocks,
                    use_residual_blocks=True,
                ),
                ReversePermutation(config.features),
            ]
        self.flow = Flow(CompositeTransform(layers), StandardNormal([config.features]))

    def context(
        self,
        history: torch.Tensor,
        mask: torch.Tensor,
        track: torch.Tensor,
        scene: torch.Tensor,
    ) -> torch.Tensor:
        """``history (T, K, 5)``, ``mask (T, K)`` bool, ``track (T, 7)``, ``scene (T,)`` long
        -> ``(T, context)``."""
        return self.context_from(self.encode(history, mask), track, scene)

    def encode(self, history: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The GRU's summary of the history, ``(T, gru_hidden)``. Padding steps are zeroed and
        flagged by an extra input channel, so the GRU reads "no observation" rather than a fake
        observation at the latest position. It depends on the observations only, so callers
        may keep it until the track is next matched."""
        steps = torch.cat([history * mask[..., None], mask[..., None].to(history.dtype)], -1)
        _, state = self.encoder(steps)
        return state[-1]

    def context_from(
        self, encoded: torch.Tensor, track: torch.Tensor, scene: torch.Tensor
    ) -> torch.Tensor:
        return self.context_net(torch.cat([encoded, track, self.scene(scene)], -1))

    def log_prob(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Log-density of pair features ``x (P, F)`` given their tracks' ``context (P, C)``."""
        return self.flow.log_prob(x, context=context)
