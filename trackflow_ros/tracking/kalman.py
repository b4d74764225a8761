"""Constant-velocity Kalman filters over bounding boxes, in the two parameterisations that the
original trackers use, run on all tracks of a frame at once.

- :class:`XYSR` — SORT and OC-SORT: state ``[u, v, s, r, u', v', s']`` (centre, area, aspect
  ratio; the aspect ratio is assumed constant), fixed noise as in SORT's reference code.
- :class:`XYAH` — ByteTrack (from DeepSORT): state ``[x, y, a, h, x', y', a', h']`` (centre,
  aspect ratio, height) with noise proportional to the box height, so that small and large
  people are filtered alike.

A model is stateless; each track keeps its own mean ``x`` and covariance ``P``.
:func:`predict` and :func:`update` take stacked ``(k, n)`` means and ``(k, n, n)``
covariances: the trackers call them once per frame (and per association stage) for all tracks
together, because per-track numpy calls on 7x7 matrices cost more in overhead than in maths.
Every model measures the first four state entries, so updates use slices of P, not products
with a measurement matrix.
"""

from __future__ import annotations

import numpy as np


def _constant_velocity(n_pos: int, n_vel: int) -> np.ndarray:
    """Transition matrix: the first ``n_vel`` positions move with a velocity."""
    F = np.eye(n_pos + n_vel)
    F[np.arange(n_vel), n_pos + np.arange(n_vel)] = 1.0
    return F


class XYSR:
    """SORT's filter (Bewley et al. 2016): R, Q, P0 as its code sets them."""

    F = _constant_velocity(4, 3)
    R = np.diag([1.0, 1.0, 10.0, 10.0])
    Q = np.diag([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001])
    P0 = np.diag([10.0, 10.0, 10.0, 10.0, 10000.0, 10000.0, 10000.0])

    @staticmethod
    def measure(boxes: np.ndarray) -> np.ndarray:
        w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
        return np.stack([boxes[..., 0] + w / 2, boxes[..., 1] + h / 2, w * h, w / h], -1)

    @staticmethod
    def to_boxes(x: np.ndarray) -> np.ndarray:
        area, ratio = np.maximum(x[..., 2], 0.0), x[..., 3]
        w = np.sqrt(np.maximum(area * ratio, 0.0))
        h = np.divide(area, w, out=np.zeros_like(w), where=w > 0)
        cx, cy = x[..., 0], x[..., 1]
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)

    @classmethod
    def initiate(cls, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.r_[cls.measure(box[:4]), 0.0, 0.0, 0.0], cls.P0.copy()

    @classmethod
    def process_noise(cls, x: np.ndarray) -> np.ndarray:
        return cls.Q

    @classmethod
    def measurement_noise(cls, x: np.ndarray) -> np.ndarray:
        return cls.R

    @staticmethod
    def before_predict(x: np.ndarray, lost: np.ndarray) -> None:
        # an area that would turn negative stops shrinking (SORT's guard)
        x[x[:, 6] + x[:, 2] <= 0, 6] = 0.0


class XYAH:
    """ByteTrack's filter (from DeepSORT). Every standard deviation is a multiple of the height
    h except the aspect ratio's, so each covariance is ``h^2 * A + B`` with constant A, B."""

    F = _constant_velocity(4, 4)
    _POS = np.array([1 / 20, 1 / 20, 0.0, 1 / 20])
    _VEL = np.array([1 / 160, 1 / 160, 0.0, 1 / 160])
    P0 = np.diag(np.square(np.r_[2 * _POS, 10 * _VEL])), np.diag([0, 0, 1e-4, 0, 0, 0, 1e-10, 0])
    Q = np.diag(np.square(np.r_[_POS, _VEL])), np.diag([0, 0, 1e-4, 0, 0, 0, 1e-10, 0])
    R = np.diag(np.square(_POS)), np.diag([0, 0, 1e-2, 0])

    @staticmethod
    def measure(boxes: np.ndarray) -> np.ndarray:
        w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
        return np.stack([boxes[..., 0] + w / 2, boxes[..., 1] + h / 2, w / h, h], -1)

    @staticmethod
    def to_boxes(x: np.ndarray) -> np.ndarray:
        cx, cy, h = x[..., 0], x[..., 1], x[..., 3]
        w = x[..., 2] * h
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)

    @classmethod
    def initiate(cls, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = cls.measure(box[:4])
        scaled, fixed = cls.P0
        return np.r_[z, 0.0, 0.0, 0.0, 0.0], scaled * z[3] ** 2 + fixed

    @classmethod
    def process_noise(cls, x: np.ndarray) -> np.ndarray:
        scaled, fixed = cls.Q
        return scaled * np.square(x[:, 3])[:, None, None] + fixed

    @classmethod
    def measurement_noise(cls, x: np.ndarray) -> np.ndarray:
        scaled, fixed = cls.R
        return scaled * np.square(x[:, 3])[:, None, None] + fixed

    @staticmethod
    def before_predict(x: np.ndarray, lost: np.ndarray) -> None:
        # a lost track keeps moving but its height stops changing (ByteTrack's multi_predict)
        x[lost, 7] = 0.0


BoxModel = type[XYSR] | type[XYAH]


def predict(
    model: BoxModel, x: np.ndarray, P: np.ndarray, lost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One step ahead for ``k`` filters: ``x (k, n)``, ``P (k, n, n)``, ``lost (k,)`` bool."""
    x = x.copy()
    model.before_predict(x, lost)
    Q = model.process_noise(x)  # from the mean before the step, as ByteTrack does
    F = model.F
    return x @ F.T, F @ P @ F.T + Q


def update(
    model: BoxModel, x: np.ndarray, P: np.ndarray, boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Correct ``k`` filters with one x1y1x2y2 box each (``boxes (k, 4)``)."""
    PHt = P[:, :, :4]
    K = PHt @ np.linalg.inv(P[:, :4, :4] + model.measurement_noise(x))
    x = x + (K @ (model.measure(boxes) - x[:, :4])[..., None])[..., 0]
    P = P - K @ PHt.transpose(0, 2, 1)
    return x, (P + P.transpose(0, 2, 1)) / 2  # keep P symmetric against rounding
