"""sensor_msgs/CameraInfo -> ``CameraIntrinsics``, refusing calibrations that cannot give distances.

A CameraInfo with a zero or NaN focal length is what an uncalibrated driver publishes; using it
would turn every distance into inf/NaN while looking calibrated, so it is rejected with a
reason and the node keeps its previous (or fallback) intrinsics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trackflow_ros.distance.pinhole import CameraInfoError, CameraIntrinsics


def camera_info_to_intrinsics(msg: Any) -> CameraIntrinsics:
    """The rectified-image intrinsics of a CameraInfo (its K), or ``CameraInfoError``."""
    k = np.asarray(msg.k, dtype=float).reshape(-1)
    if k.size != 9:
        raise CameraInfoError(f"K must have 9 values, got {k.size}")
    if not (np.isfinite(k[0]) and np.isfinite(k[4]) and k[0] > 0 and k[4] > 0):
        raise CameraInfoError(
            f"focal length must be finite and positive, got fx={k[0]}, fy={k[4]} "
            "(an uncalibrated camera?)"
        )
    return CameraIntrinsics.from_k(k, int(msg.width), int(msg.height))


def fallback_intrinsics(
    fx: float, fy: float, cx: float, cy: float, width: int, height: int
) -> CameraIntrinsics | None:
    """Intrinsics from the node's parameters for an image of ``width`` x ``height``.

    ``fx``/``fy`` <= 0 means "not set" (None); a negative ``cx``/``cy`` means the image centre.
    """
    if not (fx > 0 and fy > 0):
        return None
    cx = cx if cx >= 0 else width / 2.0
    cy = cy if cy >= 0 else height / 2.0
    return CameraIntrinsics(float(fx), float(fy), float(cx), float(cy), int(width), int(height))
