"""Run-time scene cluster of the camera stream, re-encoded every ``period`` frames.

A CLIP forward pass costs far more than a tracker step (docs/BENCHMARKS.md), and the scene of a
robot's camera changes over seconds, not frames: the cluster is recomputed on the first frame
and then every ``period``-th frame, and the cached index is returned in between. The index
feeds ``TrackFlowCost.scene``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trackflow_ros.scene.clusters import ClustersError, SceneClusters
from trackflow_ros.scene.encoder import ClipEncoder


class SceneClassifier:
    """``update(frame_bgr) -> cluster index``, encoding only every ``period`` frames.

    The encoder must be the one the clusters were fitted with (model name, embedding size and
    weights); anything else is a :class:`ClustersError`.
    """

    def __init__(self, encoder: ClipEncoder, clusters: SceneClusters, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1 frame, got {period}")
        if encoder.model_name != clusters.model or encoder.dim != clusters.dim:
            raise ClustersError(
                f"clusters were fitted with {clusters.model} ({clusters.dim}-d embeddings), "
                f"the encoder is {encoder.model_name} ({encoder.dim}-d)"
            )
        if encoder.encoder_id != clusters.encoder_id:
            raise ClustersError(
                f"clusters were fitted with other {clusters.model} weights "
                f"({clusters.checkpoint}: {clusters.encoder_id}) than the encoder's "
                f"({encoder.checkpoint}: {encoder.encoder_id})"
            )
        self.encoder = encoder
        self.clusters = clusters
        self.period = int(period)
        self.reset()

    @classmethod
    def from_files(
        cls,
        model: str,
        checkpoint: str | Path | None,
        clusters: str | Path,
        period: int,
        device: str = "cpu",
    ) -> SceneClassifier:
        """Load the clusters file, then the encoder.

        ``checkpoint=None`` takes the checkpoint recorded in the clusters file (a path, or
        ``random`` when the clusters were fitted with an explicitly random encoder); its
        identity is checked against the file either way.
        """
        loaded = SceneClusters.load(clusters)
        if model != loaded.model:  # before building an encoder that would be refused
            raise ClustersError(
                f"{clusters}: clusters were fitted with {loaded.model}, not the requested {model}"
            )
        if checkpoint is None:
            checkpoint = loaded.checkpoint
        seed = _seed_of(loaded.encoder_id)
        encoder = ClipEncoder(model, checkpoint, device=device, seed=seed)
        return cls(encoder, loaded, period)

    def reset(self) -> None:
        """Forget the cached cluster: the next frame is encoded (e.g. on a new stream)."""
        self._frames = 0
        self.index: int | None = None
        #: how many frames were encoded since the last reset
        self.encodes = 0

    def update(self, frame_bgr: np.ndarray) -> int:
        """The scene cluster of this frame: freshly computed on frames 0, period, 2*period, ...
        after a reset, the cached one otherwise. A bad frame due for encoding raises
        ``ValueError`` and leaves the state unchanged (the next frame is encoded)."""
        if self._frames % self.period == 0 or self.index is None:
            self.index = int(self.clusters.assign(self.encoder.encode([frame_bgr]))[0])
            self.encodes += 1
            self._frames = 0
        self._frames += 1
        return self.index


def _seed_of(encoder_id: str) -> int:
    """The seed of a ``random-init:seed=S`` id (0 for checkpoint ids, where it is unused)."""
    prefix = "random-init:seed="
    if encoder_id.startswith(prefix):
        try:
            return int(encoder_id[len(prefix) :])
        except ValueError:
            pass
    return 0
