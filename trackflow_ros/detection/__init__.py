"""Person detectors behind one contract (:mod:`.base`): OpenCV HOG (the default, no weights) and
ONNX Runtime for YOLOX / YOLOv8 person models. ``external`` means detections arrive from outside
(another node, a file) and no detector object exists."""

from __future__ import annotations

from typing import Any

from trackflow_ros.detection.base import Detector

DETECTORS = ("hog", "onnx", "external")


def make_detector(config: Any) -> Detector | None:
    """The detector a :class:`~trackflow_ros.pipeline.PipelineConfig` (or any object with the
    same attribute names) asks for; ``None`` for ``external``. onnxruntime is imported only for
    ``onnx``."""
    name = config.detector
    if name == "external":
        return None
    if name == "hog":
        from trackflow_ros.detection.hog import HOGDetector

        return HOGDetector(
            upscale=config.hog_upscale,
            score_threshold=config.detector_score_threshold,
            nms_iou=config.detector_nms_iou,
            win_stride=config.hog_win_stride,
            scale=config.hog_scale,
            box_width_fraction=config.hog_box_width_fraction,
            box_height_fraction=config.hog_box_height_fraction,
        )
    if name == "onnx":
        from trackflow_ros.detection.onnx import ONNXDetector

        return ONNXDetector(
            config.onnx_model_path,
            model_format=config.onnx_format,
            provider=config.onnx_provider,
            score_threshold=config.detector_score_threshold,
            nms_iou=config.detector_nms_iou,
            person_class=config.onnx_person_class,
            input_size=config.onnx_input_size,
            yolox_grid_decode=config.onnx_yolox_grid_decode,
        )
    raise ValueError(f"detector: unknown detector {name!r}; choose one of {list(DETECTORS)}")


__all__ = ["DETECTORS", "Detector", "make_detector"]
