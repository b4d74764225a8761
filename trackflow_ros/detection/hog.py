"""OpenCV's HOG + linear SVM people detector (Dalal & Triggs): the default, needs no weights.

Two facts about it shape this wrapper (measured on PETS09-S2L1, see docs/BENCHMARKS.md):

- Its window is 64x128 px and it finds people about 96 px tall or more; people further away
  are missed. ``upscale`` (2 by default) enlarges the frame before detection, so people down to
  ~50 px are found, at about 4x the cost.
- Its window carries a margin: the person fills roughly the central half of the window's width
  and 80% of its height. Raw windows match ground truth poorly (IoU often < 0.5), so each box
  is shrunk about its centre to ``box_width_fraction`` x ``box_height_fraction`` of the window.

The score is the SVM margin (0 at the decision boundary, ~1-3 for clear people), squashed to
(0, 1) with ``score = 1 - exp(-margin)`` so that trackers' score thresholds (ByteTrack's 0.5/0.6
split) have a usable meaning; windows with a margin below ``hit_threshold`` are not reported.
Overlapping windows are merged by non-maximum suppression instead of OpenCV's grouping, which
would discard the scores.
"""

from __future__ import annotations

import cv2
import numpy as np

from trackflow_ros.detection.base import as_detections, check_image, nms


class HOGDetector:
    """Callable ``image_bgr -> (N, 5) [x1, y1, x2, y2, score]``; see the module docstring.

    Args:
        upscale: frame enlargement before detection (1 = native size).
        score_threshold: minimum reported score, on the (0, 1) scale.
        nms_iou: IoU above which the weaker of two boxes is suppressed.
        win_stride: step of the sliding window in (upscaled) pixels.
        scale: pyramid step between detection scales.
        box_width_fraction, box_height_fraction: the part of the window the person fills
            (1, 1 reports raw windows).
        hit_threshold: minimum SVM margin of a window considered at all.
    """

    def __init__(
        self,
        upscale: float = 2.0,
        score_threshold: float = 0.0,
        nms_iou: float = 0.3,
        win_stride: int = 8,
        scale: float = 1.05,
        box_width_fraction: float = 0.5,
        box_height_fraction: float = 0.8,
        hit_threshold: float = 0.0,
    ) -> None:
        if not upscale > 0:
            raise ValueError(f"hog_upscale must be positive, got {upscale}")
        if not scale > 1:
            raise ValueError(f"hog_scale must be > 1, got {scale}")
        if not 0 < box_width_fraction <= 1 or not 0 < box_height_fraction <= 1:
            raise ValueError(
                "hog_box_width_fraction and hog_box_height_fraction must be in (0, 1], got "
                f"{box_width_fraction}, {box_height_fraction}"
            )
        self.upscale = float(upscale)
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.win_stride = (int(win_stride), int(win_stride))
        self.scale = float(scale)
        self.box_width_fraction = float(box_width_fraction)
        self.box_height_fraction = float(box_height_fraction)
        self.hit_threshold = float(hit_threshold)
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray:
        check_image(image_bgr, "HOGDetector")
        return self.finish(*self.windows(image_bgr))

    def windows(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The raw detection windows (N, 4) x, y, w, h in image pixels and their SVM margins:
        the expensive part, kept apart so that box tightening can be tuned without it.

        Sorted by position, size and margin: OpenCV gathers windows from its worker threads in
        whatever order they finish, which changes from run to run, and with it the order of
        equal-score detections after suppression and so the track ids a replay hands out."""
        image = image_bgr
        if self.upscale != 1.0:
            image = cv2.resize(
                image_bgr, None, fx=self.upscale, fy=self.upscale, interpolation=cv2.INTER_LINEAR
            )
        rects, weights = self._hog.detectMultiScale(
            image,
            hitThreshold=self.hit_threshold,
            winStride=self.win_stride,
            padding=(8, 8),
            scale=self.scale,
            groupThreshold=0,  # no grouping: it drops the scores; NMS in finish() instead
        )
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4) / self.upscale
        margins = np.asarray(weights, dtype=np.float64).reshape(-1)
        order = np.lexsort((margins, rects[:, 3], rects[:, 2], rects[:, 1], rects[:, 0]))
        return rects[order], margins[order]

    def finish(self, rects: np.ndarray, margins: np.ndarray) -> np.ndarray:
        """Windows -> tightened, scored, thresholded and suppressed (N, 5) detections."""
        scores = 1.0 - np.exp(-np.maximum(margins, 0.0))
        cx = rects[:, 0] + rects[:, 2] / 2.0
        cy = rects[:, 1] + rects[:, 3] / 2.0
        half_w = rects[:, 2] * self.box_width_fraction / 2.0
        half_h = rects[:, 3] * self.box_height_fraction / 2.0
        boxes = np.column_stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h])
        keep = scores >= self.score_threshold
        boxes, scores = boxes[keep], scores[keep]
        keep = nms(boxes, scores, self.nms_iou)
        return as_detections(boxes[keep], scores[keep])
