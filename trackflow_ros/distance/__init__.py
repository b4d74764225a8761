"""Per-person distance: the pinhole fallback and the learned DistSynth model."""

from trackflow_ros.distance.pinhole import (
    CameraInfoError,
    CameraIntrinsics,
    DistanceEstimate,
    PinholeDistance,
)

__all__ = ["CameraInfoError", "CameraIntrinsics", "DistanceEstimate", "PinholeDistance"]
