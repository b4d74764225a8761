"""A person's 3D velocity from noisy monocular positions: a constant-velocity Kalman filter.

Why a filter and not a difference of positions: a monocular distance comes from the box height,
and a detector's box height jitters by a few pixels from frame to frame; at 25 m that is about
a metre of depth. Differenced at 7 fps this gives "speeds" of several m/s for people walking at
1 m/s (measured on PETS09-S2L1: median 7.5 m/s from Faster R-CNN boxes against 1.0 m/s from the
ground truth). The error is almost all along the viewing ray, so the filter's measurement
noise is anisotropic: ``depth_rel_std x distance`` along the ray, ``lateral_rel_std x distance``
across it; the motion model is white acceleration with ``accel_std`` (m/s^2). Time steps come
from the frames' stamps, so dropped frames or a variable rate need no special care.
"""

from __future__ import annotations

import numpy as np


class VelocityFilter:
    """One track's position and velocity (camera optical frame, metres and m/s).

    The velocity is NaN until two positions were seen; a stamp that does not increase is
    ignored (the state stays as it was).
    """

    def __init__(
        self,
        accel_std: float = 1.0,
        depth_rel_std: float = 0.05,
        lateral_rel_std: float = 0.01,
        initial_speed_std: float = 2.0,
    ) -> None:
        self.accel_std = float(accel_std)
        self.depth_rel_std = float(depth_rel_std)
        self.lateral_rel_std = float(lateral_rel_std)
        self.initial_speed_std = float(initial_speed_std)
        self.x: np.ndarray | None = None  # [position (3), velocity (3)]
        self.P: np.ndarray | None = None
        self.stamp = float("nan")
        self.updates = 0

    def _noise(self, position: np.ndarray) -> np.ndarray:
        distance = float(np.linalg.norm(position))
        ray = position / distance if distance > 0 else np.array([0.0, 0.0, 1.0])
        along = np.outer(ray, ray)
        return (self.depth_rel_std * distance) ** 2 * along + (
            self.lateral_rel_std * distance
        ) ** 2 * (np.eye(3) - along)

    def update(self, stamp: float, position: np.ndarray) -> np.ndarray:
        """Add a finite position observed at ``stamp`` (s); returns the velocity (3,)."""
        position = np.asarray(position, dtype=np.float64)
        R = self._noise(position)
        if self.x is None:
            self.x = np.concatenate([position, np.zeros(3)])
            self.P = np.zeros((6, 6))
            self.P[:3, :3] = R
            self.P[3:, 3:] = np.eye(3) * self.initial_speed_std**2
            self.stamp, self.updates = float(stamp), 1
            return self.velocity
        dt = float(stamp) - self.stamp
        if not dt > 0:
            return self.velocity
        eye = np.eye(3)
        F = np.block([[eye, dt * eye], [np.zeros((3, 3)), eye]])
        q = self.accel_std**2
        Q = q * np.block([[dt**4 / 4 * eye, dt**3 / 2 * eye], [dt**3 / 2 * eye, dt**2 * eye]])
        x = F @ self.x
        P = F @ self.P @ F.T + Q
        S = P[:3, :3] + R
        K = np.linalg.solve(S, P[:3, :]).T  # P H^T S^-1, with H = [I 0] and S symmetric
        self.x = x + K @ (position - x[:3])
        self.P = P - K @ P[:3, :]
        self.P = (self.P + self.P.T) / 2.0
        self.stamp = float(stamp)
        self.updates += 1
        return self.velocity

    @property
    def velocity(self) -> np.ndarray:
        if self.x is None or self.updates < 2:
            return np.full(3, np.nan)
        return self.x[3:].copy()
