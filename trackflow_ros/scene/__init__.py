"""Scene clusters: CLIP frame embeddings (open_clip, local weights only) and k-means into the
16 clusters whose index conditions the TrackFlow cost (``TrackFlowCost.scene``)."""

from trackflow_ros.scene.classifier import SceneClassifier
from trackflow_ros.scene.clusters import (
    N_CLUSTERS,
    ClustersError,
    SceneClusters,
    fit_clusters,
)
from trackflow_ros.scene.encoder import DEFAULT_MODEL, RANDOM_INIT, ClipEncoder, EncoderError

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
