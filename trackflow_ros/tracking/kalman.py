"""Constant-velocity Kalman filters over a bounding box, in the two parameterisations that the
original trackers use.

- :class:`XYSRFilter` — SORT and OC-SORT: state ``[u, v, s, r, u', v', s']`` (centre, area,
  aspect ratio; the aspect ratio is assumed constant), fixed noise as in SORT's code.
- :class:`XYAHFilter` — ByteTrack (from DeepSORT): state ``[x, y, a, h, x', y', a', h']``
  (centre, aspect ratio, height) with noise proportional to the box height, so small and
  large people are filtered alike.

Both expose the same small surface: ``predict()``, ``update(box)``, ``box`` (x1, y1, x2, y2),
``save()``/``restore()`` (OC-SORT's re-update after a gap replays from the last observation).
"""

from __future__ import annotations

import numpy as np


class LinearKalman:
    """x' = F x, z = H x with process noise Q and measurement noise R."""

    def __init__(self, F: np.ndarray, H: np.ndarray, x: np.ndarray, P: np.ndarray) -> None:
        self.F, self.H = F, H
        self.x, self.P = x, P

    def predict(self, Q: np.ndarray) -> None:
        self.x = self.F @ self.x
        self.P = self.F @ self.P @ self.F.T + Q

    def update(self, z: np.ndarray, R: np.ndarray) -> None:
        PHt = self.P @ self.H.T
        S = self.H @ PHt + R
        K = np.linalg.solve(S, PHt.T).T  # S is symmetric: K = P H^T S^-1
        self.x = self.x + K @ (z - self.H @ self.x)
        I_KH = np.eye(len(self.x)) - K @ self.H
        # Joseph form keeps P symmetric positive definite over long runs
        self.P = I_KH @ self.P @ I_KH.T + K @ R @ K.T

    def save(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x.copy(), self.P.copy()

    def restore(self, saved: tuple[np.ndarray, np.ndarray]) -> None:
        self.x, self.P = saved[0].copy(), saved[1].copy()


def _constant_velocity(n_pos: int, n_vel: int) -> tuple[np.ndarray, np.ndarray]:
    """Transition and measurement matrices: the first ``n_vel`` positions move with a velocity."""
    n = n_pos + n_vel
    F = np.eye(n)
    F[np.arange(n_vel), n_pos + np.arange(n_vel)] = 1.0
    H = np.eye(n_pos, n)
    return F, H


def box_to_xysr(box: np.ndarray) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w * h, w / h])


def xysr_to_box(z: np.ndarray) -> np.ndarray:
    area, ratio = max(z[2], 0.0), z[3]
    w = np.sqrt(area * ratio) if ratio > 0 else 0.0
    h = area / w if w > 0 else 0.0
    return np.array([z[0] - w / 2, z[1] - h / 2, z[0] + w / 2, z[1] + h / 2])


class XYSRFilter:
    """SORT's filter (Bewley et al. 2016), noise settings from its reference code."""

    _F, _H = _constant_velocity(4, 3)
    _R = np.diag([1.0, 1.0, 10.0, 10.0])
    _Q = np.diag([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001])
    _P0 = np.diag([10.0, 10.0, 10.0, 10.0, 10000.0, 10000.0, 10000.0])

    def __init__(self, box: np.ndarray) -> None:
        x = np.zeros(7)
        x[:4] = box_to_xysr(box)
        self.kf = LinearKalman(self._F, self._H, x, self._P0.copy())

    def predict(self) -> None:
        if self.kf.x[6] + self.kf.x[2] <= 0:  # the area would turn negative: stop shrinking
            self.kf.x[6] = 0.0
        self.kf.predict(self._Q)

    def update(self, box: np.ndarray) -> None:
        self.kf.update(box_to_xysr(box), self._R)

    @property
    def box(self) -> np.ndarray:
        return xysr_to_box(self.kf.x)

    def save(self) -> tuple[np.ndarray, np.ndarray]:
        return self.kf.save()

    def restore(self, saved: tuple[np.ndarray, np.ndarray]) -> None:
        self.kf.restore(saved)


class XYAHFilter:
    """ByteTrack's filter (from DeepSORT): noise scales with the box height."""

    _F, _H = _constant_velocity(4, 4)
    _W_POS = 1.0 / 20
    _W_VEL = 1.0 / 160

    def __init__(self, box: np.ndarray) -> None:
        z = self._measure(box)
        h = z[3]
        x = np.concatenate([z, np.zeros(4)])
        std = [2 * self._W_POS * h, 2 * self._W_POS * h, 1e-2, 2 * self._W_POS * h]
        std += [10 * self._W_VEL * h, 10 * self._W_VEL * h, 1e-5, 10 * self._W_VEL * h]
        self.kf = LinearKalman(self._F, self._H, x, np.diag(np.square(std)))

    @staticmethod
    def _measure(box: np.ndarray) -> np.ndarray:
        w, h = box[2] - box[0], box[3] - box[1]
        return np.array([box[0] + w / 2, box[1] + h / 2, w / h, h])

    def predict(self, freeze_height_velocity: bool = False) -> None:
        """``freeze_height_velocity``: ByteTrack stops a lost track's height from drifting."""
        if freeze_height_velocity:
            self.kf.x[7] = 0.0
        h = self.kf.x[3]
        std = [self._W_POS * h, self._W_POS * h, 1e-2, self._W_POS * h]
        std += [self._W_VEL * h, self._W_VEL * h, 1e-5, self._W_VEL * h]
        self.kf.predict(np.diag(np.square(std)))

    def update(self, box: np.ndarray) -> None:
        h = self.kf.x[3]
        std = [self._W_POS * h, self._W_POS * h, 1e-1, self._W_POS * h]
        self.kf.update(self._measure(box), np.diag(np.square(std)))

    @property
    def box(self) -> np.ndarray:
        cx, cy, a, h = self.kf.x[:4]
        w = a * h
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def save(self) -> tuple[np.ndarray, np.ndarray]:
        return self.kf.save()

    def restore(self, saved: tuple[np.ndarray, np.ndarray]) -> None:
        self.kf.restore(saved)
