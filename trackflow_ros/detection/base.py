"""The one contract every person detector meets, so the pipeline never asks which one it has.

``Detector.__call__(image_bgr) -> (N, 5) float64 [x1, y1, x2, y2, score]``: boxes in pixels of
the image passed in (top-left origin), persons only, after the detector's own score threshold
and non-maximum suppression. An image without people gives a ``(0, 5)`` array.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from trackflow_ros.types import MIN_COLUMNS, empty_detections


@runtime_checkable
class Detector(Protocol):
    """A callable person detector (see the module docstring for the output)."""

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray: ...


def check_image(image_bgr: np.ndarray, who: str) -> None:
    """Detectors take HxWx3 uint8 BGR; anything else is the caller's bug, said plainly."""
    if not isinstance(image_bgr, np.ndarray):
        raise TypeError(f"{who}: image must be a numpy array, got {type(image_bgr).__name__}")
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(
            f"{who}: image must be an HxWx3 uint8 BGR array, "
            f"got shape {image_bgr.shape} dtype {image_bgr.dtype}"
        )
    if image_bgr.shape[0] == 0 or image_bgr.shape[1] == 0:
        raise ValueError(f"{who}: image is empty ({image_bgr.shape})")


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first (OpenCV's NMSBoxes,
    so the detectors need neither torch nor hand-written suppression)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    xywh = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0],
                            boxes[:, 3] - boxes[:, 1]])  # fmt: skip
    # NMSBoxes keeps scores strictly above its threshold, which must be >= 0: shift the
    # scores by one so that a score of 0 is kept too (the order is unchanged)
    keep = cv2.dnn.NMSBoxes(
        xywh.tolist(), (scores.astype(float) + 1.0).tolist(), 0.0, float(iou_threshold)
    )
    keep = np.asarray(keep, dtype=int).reshape(-1)
    return keep[np.argsort(-scores[keep], kind="stable")]


def as_detections(boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Stack boxes (N, 4) and scores (N,) into the contract's (N, 5) float64 array."""
    if len(boxes) == 0:
        return empty_detections(MIN_COLUMNS)
    return np.column_stack([boxes, scores]).astype(np.float64)
