"""Person detection with a user-supplied YOLOv8 or YOLOX model through ONNX Runtime.

What is supported (anything else is refused with a message that says what was found):

- **YOLOv8** (Ultralytics ``export format=onnx``, no NMS in the graph): one output of shape
  ``(1, 4 + C, N)``: rows ``cx, cy, w, h`` in input pixels, then ``C`` class scores (already
  sigmoid-ed). Pre-processing as Ultralytics: letterbox to the input size, centred, padded with
  grey 114, BGR -> RGB, scaled to [0, 1].
- **YOLOX** (Megvii ``tools/export_onnx.py``): one output of shape ``(1, N, 5 + C)``: ``cx, cy,
  w, h, objectness, C class scores`` (objectness and classes already sigmoid-ed), score =
  objectness x person score. The official export leaves the grid decode out of the graph
  (``--decode_in_inference`` off): then ``yolox_grid_decode=True`` (default) applies it,
  ``xy = (xy + grid) * stride``, ``wh = exp(wh) * stride`` over strides 8, 16, 32; a model
  exported with the decode inside needs ``yolox_grid_decode=False``. Pre-processing as YOLOX:
  letterbox to the top-left corner padded with 114, BGR kept, values 0-255 (no normalisation).
- Batch 1, one image per call; the input size is read from the model, or ``input_size`` when
  the model's spatial dimensions are dynamic. Only the person class (``person_class``, 0 in
  COCO) is reported. Boxes are mapped back to the original image and clipped to it; NMS per
  image (persons only).

Execution providers: ``cpu``, ``cuda`` (CUDAExecutionProvider) or ``tensorrt``
(TensorrtExecutionProvider, then CUDA, then CPU). A provider missing from this onnxruntime
build is reported with a warning naming what is available, and the detector falls back to the
next one down to CPU. CUDA and TensorRT are untested on the development machines (no GPU
build of onnxruntime there).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from trackflow_ros.detection.base import as_detections, check_image, nms

_log = logging.getLogger(__name__)

PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}
FORMATS = ("yolov8", "yolox")
YOLOX_STRIDES = (8, 16, 32)
PAD_VALUE = 114


def choose_providers(provider: str, available: list[str]) -> list[str]:
    """The execution providers to ask ONNX Runtime for, warning about missing ones."""
    if provider not in PROVIDERS:
        raise ValueError(f"onnx_provider: unknown provider {provider!r}; choose one of "
                         f"{list(PROVIDERS)}")  # fmt: skip
    wanted = PROVIDERS[provider]
    chosen = [p for p in wanted if p in available]
    missing = [p for p in wanted if p not in available]
    if missing and missing[0] == wanted[0]:
        _log.warning(
            "onnx_provider %r: %s is not available in this onnxruntime build (available: %s); "
            "falling back to %s. A GPU needs the onnxruntime-gpu package and its CUDA/TensorRT "
            "libraries.",
            provider,
            wanted[0],
            ", ".join(available),
            chosen[0] if chosen else "nothing",
        )
    if not chosen:
        raise RuntimeError(f"onnxruntime offers none of {wanted} (available: {available})")
    return chosen


def letterbox(
    image_bgr: np.ndarray, size: tuple[int, int], centred: bool
) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio into ``size`` (height, width), pad with grey 114.

    Returns the padded HxWx3 image, the scale ``r`` and the (left, top) padding, so that an
    original pixel ``x`` sits at ``x * r + left``."""
    h, w = image_bgr.shape[:2]
    th, tw = size
    r = min(th / h, tw / w)
    nw, nh = round(w * r), round(h * r)
    resized = cv2.resize(image_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    out = np.full((th, tw, 3), PAD_VALUE, dtype=np.uint8)
    if centred:
        left, top = (tw - nw) // 2, (th - nh) // 2
    else:
        left, top = 0, 0
    out[top : top + nh, left : left + nw] = resized
    return out, r, (float(left), float(top))


def yolox_grid_decode(raw: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """YOLOX's grid decode of ``(N, 5 + C)`` raw rows (cell offsets and log sizes -> pixels)."""
    h, w = input_hw
    grids, strides = [], []
    for s in YOLOX_STRIDES:
        gh, gw = h // s, w // s
        yv, xv = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        grids.append(np.stack([xv, yv], axis=-1).reshape(-1, 2))
        strides.append(np.full((gh * gw, 1), s))
    grid = np.concatenate(grids).astype(np.float64)
    stride = np.concatenate(strides).astype(np.float64)
    if len(grid) != len(raw):
        raise ValueError(
            f"YOLOX output has {len(raw)} rows, but the grid decode of a {h}x{w} input over "
            f"strides {YOLOX_STRIDES} expects {len(grid)}; if the model decodes its own "
            "output, set onnx_yolox_grid_decode to false"
        )
    out = raw.astype(np.float64).copy()
    out[:, :2] = (out[:, :2] + grid) * stride
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride
    return out


class ONNXDetector:
    """Callable ``image_bgr -> (N, 5) [x1, y1, x2, y2, score]``; see the module docstring."""

    def __init__(
        self,
        model_path: str | Path,
        model_format: str = "yolov8",
        provider: str = "cpu",
        score_threshold: float = 0.25,
        nms_iou: float = 0.45,
        person_class: int = 0,
        input_size: int = 640,
        yolox_grid_decode: bool = True,
    ) -> None:
        import onnxruntime as ort  # only for this detector

        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ValueError(f"onnx_model_path: file not found: {model_path}")
        if model_format not in FORMATS:
            raise ValueError(f"onnx_format: unknown format {model_format!r}; choose one of "
                             f"{list(FORMATS)}")  # fmt: skip
        self.format = model_format
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.person_class = int(person_class)
        self.grid_decode = bool(yolox_grid_decode)
        providers = choose_providers(provider, ort.get_available_providers())
        try:
            self.session = ort.InferenceSession(str(path), providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(f"onnx_model_path: {path} could not be loaded: {exc}") from None
        self.providers = self.session.get_providers()
        if self.providers[0] != providers[0]:
            _log.warning(
                "onnx_provider %r: onnxruntime could not start %s and runs on %s",
                provider,
                providers[0],
                self.providers[0],
            )
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(
                f"onnx_model_path: {path}: expected one NCHW image input, got "
                f"{[(i.name, i.shape) for i in inputs]}"
            )
        self.input_name = inputs[0].name
        _, _, h, w = inputs[0].shape
        self.input_hw = (
            h if isinstance(h, int) else int(input_size),
            w if isinstance(w, int) else int(input_size),
        )
        self.input_dtype = np.float16 if "float16" in inputs[0].type else np.float32

    def preprocess(self, image_bgr: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        """The model's input tensor (1, 3, H, W) and the letterbox scale and padding."""
        centred = self.format == "yolov8"
        padded, r, pad = letterbox(image_bgr, self.input_hw, centred)
        if self.format == "yolov8":
            tensor = padded[:, :, ::-1].astype(np.float32) / 255.0  # RGB, [0, 1]
        else:
            tensor = padded.astype(np.float32)  # YOLOX: BGR, 0-255
        tensor = np.ascontiguousarray(tensor.transpose(2, 0, 1)[None]).astype(self.input_dtype)
        return tensor, r, pad

    def decode(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model output -> person boxes (cx, cy, w, h in input pixels) and scores."""
        out = np.asarray(output, dtype=np.float64)
        if out.ndim != 3 or out.shape[0] != 1:
            raise ValueError(f"expected a (1, ...) 3-D model output, got shape {out.shape}")
        out = out[0]
        if self.format == "yolov8":
            rows = out.T  # (N, 4 + C)
            n_classes = rows.shape[1] - 4
            if self.person_class >= n_classes:
                raise ValueError(
                    f"YOLOv8 output {output.shape} has {n_classes} classes; person class "
                    f"{self.person_class} is not among them (expected (1, 4 + C, N))"
                )
            return rows[:, :4], rows[:, 4 + self.person_class]
        n_classes = out.shape[1] - 5
        if self.person_class >= n_classes:
            raise ValueError(
                f"YOLOX output {output.shape} has {n_classes} classes; person class "
                f"{self.person_class} is not among them (expected (1, N, 5 + C))"
            )
        if self.grid_decode:
            out = yolox_grid_decode(out, self.input_hw)
        return out[:, :4], out[:, 4] * out[:, 5 + self.person_class]

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray:
        check_image(image_bgr, "ONNXDetector")
        tensor, r, (left, top) = self.preprocess(image_bgr)
        output = self.session.run(None, {self.input_name: tensor})[0]
        cxcywh, scores = self.decode(output)
        keep = np.isfinite(scores) & (scores >= self.score_threshold)
        keep &= np.isfinite(cxcywh).all(axis=1)
        cxcywh, scores = cxcywh[keep], scores[keep]
        h, w = image_bgr.shape[:2]
        boxes = np.column_stack(
            [
                (cxcywh[:, 0] - cxcywh[:, 2] / 2 - left) / r,
                (cxcywh[:, 1] - cxcywh[:, 3] / 2 - top) / r,
                (cxcywh[:, 0] + cxcywh[:, 2] / 2 - left) / r,
                (cxcywh[:, 1] + cxcywh[:, 3] / 2 - top) / r,
            ]
        ).reshape(-1, 4)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[ok], scores[ok]
        keep_idx = nms(boxes, scores, self.nms_iou)
        return as_detections(boxes[keep_idx], scores[keep_idx])
