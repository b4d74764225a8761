"""How far off are the tracks' distances? Ground truth with ground-plane positions + extrinsics.

MOT15 ground truth of some sequences (PETS09-S2L1, TUD-Stadtmitte) carries each person's
ground-plane position (``x, y`` metres, z = 0). With the camera's extrinsics
(``p_cam = R p_world + t``) every ground-truth box then has a true distance, camera centre to
foot point, and a true 3D position in the camera optical frame, the same quantities a
``TrackedPerson`` reports. Tracks are matched to ground truth per frame by box overlap
(Hungarian on IoU, IoU >= 0.5, as CLEAR MOT matches), and only matched tracks with a finite
distance are scored: a distance error of a track on the wrong person would measure the
matching, not the distance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.optimize import linear_sum_assignment

from trackflow_ros.tracking import iou_matrix

#: width of the true-distance bins of the report, metres
BIN_WIDTH = 5.0


class ExtrinsicsError(ValueError):
    """An extrinsics file that cannot be used; the message names it."""


@dataclass(frozen=True)
class Extrinsics:
    """World (ground plane, metres) -> camera optical frame: ``p_cam = R p_world + t``."""

    rotation: np.ndarray  # (3, 3)
    translation: np.ndarray  # (3,)

    @property
    def camera_centre(self) -> np.ndarray:
        """The camera centre in world coordinates, ``-R^T t``."""
        return -self.rotation.T @ self.translation

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> (N, 3) camera optical frame."""
        return np.asarray(world, dtype=float) @ self.rotation.T + self.translation

    @classmethod
    def from_yaml(cls, path: Path | str) -> Extrinsics:
        """``rotation`` (9 row-major values), ``translation`` (3); an optional
        ``camera_centre_world`` must agree with them (a check that R and t are not swapped
        or inverted)."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
            rotation = np.asarray(data["rotation"], dtype=float).reshape(3, 3)
            translation = np.asarray(data["translation"], dtype=float).reshape(3)
        except OSError as exc:
            raise ExtrinsicsError(f"{path}: cannot read extrinsics: {exc}") from exc
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise ExtrinsicsError(
                f"{path}: not an extrinsics YAML (rotation: 9 values, translation: 3): {exc!r}"
            ) from exc
        if not (np.isfinite(rotation).all() and np.isfinite(translation).all()):
            raise ExtrinsicsError(f"{path}: rotation/translation contain non-finite values")
        if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-4):
            raise ExtrinsicsError(f"{path}: rotation is not orthonormal")
        extrinsics = cls(rotation, translation)
        if "camera_centre_world" in data:
            given = np.asarray(data["camera_centre_world"], dtype=float).reshape(3)
            if not np.allclose(given, extrinsics.camera_centre, atol=1e-2):
                raise ExtrinsicsError(
                    f"{path}: camera_centre_world {given.tolist()} disagrees with -R^T t = "
                    f"{extrinsics.camera_centre.round(3).tolist()}"
                )
        return extrinsics


def has_ground_plane(gt: np.ndarray) -> bool:
    """True when ``gt`` (MOT15 rows) carries world ``x, y`` (columns 8, 9; -1 when absent)."""
    if gt.shape[1] < 9 or not len(gt):
        return False
    xy = gt[:, 7:9]
    return bool(np.any(~((xy[:, 0] == -1) & (xy[:, 1] == -1))))


@dataclass
class _Frame:
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2
    distances: np.ndarray  # (N,)
    positions: np.ndarray  # (N, 3) camera frame


def distance_report(
    tracks: Mapping[int, Iterable[Any]],
    gt: np.ndarray,
    extrinsics: Extrinsics,
    iou_threshold: float = 0.5,
) -> dict[str, Any]:
    """Distance and 3D position errors of tracks matched to ground truth.

    ``tracks``: MOT frame -> persons (with ``box`` x1,y1,x2,y2, ``distance``, ``position``;
    objects or dicts). ``gt``: MOT15 rows (frame, id, left, top, w, h, flag, x, y, z); only
    flag-1 rows with a ground-plane position are used.
    Returns metres: ``matched``, ``with_distance``, ``median_abs_error``, ``mean_abs_error``,
    ``bias`` (mean signed, estimate - truth), ``rmse``, ``median_rel_error``,
    ``median_position_error``, and ``bins`` by true distance.
    """
    gt = np.asarray(gt, dtype=float)
    usable = gt[(gt[:, 6] == 1) & ~((gt[:, 7] == -1) & (gt[:, 8] == -1))]
    centre = extrinsics.camera_centre
    errors, truths, position_errors = [], [], []
    matched = 0
    for frame in np.unique(usable[:, 0]).astype(int):
        rows = usable[usable[:, 0] == frame]
        persons = list(tracks.get(int(frame), []))
        if not persons:
            continue
        ours = _as_frame(persons)
        gt_boxes = rows[:, 2:6].copy()
        gt_boxes[:, 2:4] += gt_boxes[:, 0:2]
        iou = iou_matrix(ours.boxes, gt_boxes)
        r, c = linear_sum_assignment(-iou)
        keep = iou[r, c] >= iou_threshold
        r, c = r[keep], c[keep]
        matched += len(r)
        world = np.column_stack([rows[c, 7], rows[c, 8], np.zeros(len(c))])
        true_distance = np.linalg.norm(world - centre, axis=1)
        estimate = ours.distances[r]
        finite = np.isfinite(estimate)
        errors.extend((estimate - true_distance)[finite])
        truths.extend(true_distance[finite])
        true_position = extrinsics.to_camera(world)
        pos_ok = np.isfinite(ours.positions[r]).all(axis=1)
        position_errors.extend(
            np.linalg.norm(ours.positions[r][pos_ok] - true_position[pos_ok], axis=1)
        )
    errors_a, truths_a = np.asarray(errors), np.asarray(truths)
    report: dict[str, Any] = {"matched": int(matched), "with_distance": len(errors_a)}
    report.update(_stats(errors_a, truths_a))
    report["median_position_error"] = float(np.median(position_errors)) if position_errors else None
    report["bins"] = []
    if len(truths_a):
        low = BIN_WIDTH * np.floor(truths_a.min() / BIN_WIDTH)
        high = BIN_WIDTH * np.ceil(truths_a.max() / BIN_WIDTH + 1e-9)
        for start in np.arange(low, high, BIN_WIDTH):
            inside = (truths_a >= start) & (truths_a < start + BIN_WIDTH)
            if inside.any():
                entry = {"true_distance_m": [float(start), float(start + BIN_WIDTH)]}
                entry["count"] = int(inside.sum())
                entry.update(_stats(errors_a[inside], truths_a[inside]))
                report["bins"].append(entry)
    report["iou_threshold"] = iou_threshold
    return report


def _stats(errors: np.ndarray, truths: np.ndarray) -> dict[str, float | None]:
    if not len(errors):
        keys = ("median_abs_error", "mean_abs_error", "bias", "rmse", "median_rel_error")
        return dict.fromkeys(keys)
    return {
        "median_abs_error": float(np.median(np.abs(errors))),
        "mean_abs_error": float(np.mean(np.abs(errors))),
        "bias": float(np.mean(errors)),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "median_rel_error": float(np.median(np.abs(errors) / truths)),
    }


def _get(person: Any, name: str) -> Any:
    return person[name] if isinstance(person, Mapping) else getattr(person, name)


def _as_frame(persons: list[Any]) -> _Frame:
    return _Frame(
        boxes=np.array([_get(p, "box") for p in persons], dtype=float).reshape(-1, 4),
        distances=np.array([_get(p, "distance") for p in persons], dtype=float),
        positions=np.array([_get(p, "position") for p in persons], dtype=float).reshape(-1, 3),
    )
