"""Distance from box height and camera intrinsics: the fallback that needs no learned model.

A standing person of height H metres whose box is h pixels tall stands at depth Z = fy * H / h
along the optical axis. The 3D position is the box's foot point (bottom centre) back-projected
along its ray to that depth, in the camera optical frame (REP-103: x right, y down, z forward);
the distance is the norm of that position, i.e. camera centre to foot point.

The estimate is only as good as its two assumptions, so the variance says when they break:
people vary in height (a relative spread ``height_rel_std``), and a box cut by the image border
no longer spans the whole person, so its height under-states the person and the distance
comes out too large. Boxes touching the top or bottom border get a much larger spread; boxes
touching the left or right border a moderately larger one (their height is usually intact).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml


class CameraInfoError(ValueError):
    """Intrinsics that cannot give distances (missing file, bad matrix, non-positive focal)."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of a rectified image (pixels), as in a CameraInfo's K matrix."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        values = np.array([self.fx, self.fy, self.cx, self.cy], dtype=float)
        if not np.all(np.isfinite(values)):
            raise CameraInfoError(f"intrinsics are not finite: fx, fy, cx, cy = {values.tolist()}")
        if self.fx <= 0 or self.fy <= 0:
            raise CameraInfoError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if self.width <= 0 or self.height <= 0:
            raise CameraInfoError(f"image size must be positive, got {self.width}x{self.height}")

    @classmethod
    def from_k(cls, k: np.ndarray | list[float], width: int, height: int) -> CameraIntrinsics:
        """From a 3x3 K matrix (or its 9 row-major values, as in CameraInfo.k)."""
        k = np.asarray(k, dtype=float).reshape(-1)
        if k.size != 9:
            raise CameraInfoError(f"K must have 9 values, got {k.size}")
        return cls(float(k[0]), float(k[4]), float(k[2]), float(k[5]), int(width), int(height))

    @classmethod
    def from_fov(cls, horizontal_fov_deg: float, width: int, height: int) -> CameraIntrinsics:
        """Square pixels, principal point at the centre: for cameras with no calibration."""
        if not 0.0 < horizontal_fov_deg < 180.0:
            raise CameraInfoError(
                f"field of view must be in (0, 180) degrees, got {horizontal_fov_deg}"
            )
        f = 0.5 * width / np.tan(np.radians(horizontal_fov_deg) / 2.0)
        return cls(f, f, width / 2.0, height / 2.0, int(width), int(height))

    @classmethod
    def from_yaml(cls, path: Path | str) -> CameraIntrinsics:
        """Read a ROS camera_info YAML (camera_calibration_parsers format)."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
            k = data["camera_matrix"]["data"]
            return cls.from_k(k, int(data["image_width"]), int(data["image_height"]))
        except OSError as exc:
            raise CameraInfoError(f"{path}: cannot read camera info: {exc}") from exc
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise CameraInfoError(f"{path}: not a camera_info YAML: {exc!r}") from exc

    @property
    def k(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


def measurable(boxes: np.ndarray) -> np.ndarray:
    """``(N,)`` True where an ``(N, 4)`` x1, y1, x2, y2 box can carry a distance: finite and at
    least a pixel tall and wide. A sub-pixel height would put the person astronomically far
    (and overflow on the way); no detector reports such a box for a person."""
    boxes = np.asarray(boxes, dtype=float)
    size_ok = (boxes[:, 2] - boxes[:, 0] >= 1.0) & (boxes[:, 3] - boxes[:, 1] >= 1.0)
    return np.isfinite(boxes[:, :4]).all(axis=1) & size_ok


@dataclass(frozen=True)
class DistanceEstimate:
    """Per box: distance (m), its variance (m^2), foot-point position (N, 3), optical frame."""

    distance: np.ndarray
    variance: np.ndarray
    position: np.ndarray


class PinholeDistance:
    """Distance of upright people from their box height; see the module docstring."""

    def __init__(
        self,
        person_height: float = 1.7,
        height_rel_std: float = 0.1,
        border_margin_px: float = 2.0,
        vertical_cut_rel_std: float = 0.5,
        horizontal_cut_rel_std: float = 0.2,
    ) -> None:
        if not person_height > 0:
            raise ValueError(f"person_height must be positive, got {person_height}")
        self.person_height = float(person_height)
        self.height_rel_std = float(height_rel_std)
        self.border_margin_px = float(border_margin_px)
        self.vertical_cut_rel_std = float(vertical_cut_rel_std)
        self.horizontal_cut_rel_std = float(horizontal_cut_rel_std)

    def estimate(self, boxes: np.ndarray, camera: CameraIntrinsics) -> DistanceEstimate:
        """Boxes (N, >=4) as x1, y1, x2, y2 pixels. Boxes that are not :func:`measurable` get
        NaN, never a guess."""
        boxes = np.asarray(boxes, dtype=float)
        if boxes.ndim != 2 or boxes.shape[1] < 4:
            raise ValueError(f"boxes must be (N, >=4) x1, y1, x2, y2; got shape {boxes.shape}")
        x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
        h = y2 - y1
        ok = measurable(boxes)
        h = np.where(ok, h, np.nan)
        depth = camera.fy * self.person_height / h
        ray = np.stack(
            [
                ((x1 + x2) / 2.0 - camera.cx) / camera.fx,
                (y2 - camera.cy) / camera.fy,
                np.ones_like(h),
            ],
            axis=1,
        )
        position = ray * depth[:, None]
        distance = np.linalg.norm(position, axis=1)

        m = self.border_margin_px
        cut_vertical = (y1 <= m) | (y2 >= camera.height - 1 - m)
        cut_horizontal = (x1 <= m) | (x2 >= camera.width - 1 - m)
        rel_std = np.full(len(boxes), self.height_rel_std)
        rel_std = np.where(cut_horizontal, np.hypot(rel_std, self.horizontal_cut_rel_std), rel_std)
        rel_std = np.where(cut_vertical, np.hypot(rel_std, self.vertical_cut_rel_std), rel_std)
        variance = (distance * rel_std) ** 2
        return DistanceEstimate(distance, variance, position)
