"""Scene clusters: CLIP frame embeddings (open_clip, local weights only) and k-means into the
16 clusters whose index conditions the TrackFlow cost (``TrackFlowCost.scene``).

The encoder and classifier (torch, open_clip) are imported on first use, so reading a clusters
file or running the CLI's argument checks does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import Any

from trackflow_ros.scene.base import DEFAULT_MODEL, RANDOM_INIT, EncoderError
from trackflow_ros.scene.clusters import N_CLUSTERS, ClustersError, SceneClusters, fit_clusters

_LAZY = {"ClipEncoder": "encoder", "SceneClassifier": "classifier"}

__all__ = [
    "DEFAULT_MODEL",
    "N_CLUSTERS",
    "RANDOM_INIT",
    "ClipEncoder",
    "ClustersError",
    "EncoderError",
    "SceneClassifier",
    "SceneClusters",
    "fit_clusters",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"trackflow_ros.scene.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
