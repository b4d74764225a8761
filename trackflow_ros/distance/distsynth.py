"""DistSynth at run time: one frame in, a distance and variance per box out.

Callers feed frames one at a time; the estimator keeps the encoded features of the last
``clip_length`` frames in a ring buffer (the backbone is per frame, so a frame is encoded once,
not once per clip it belongs to) and runs the ConvLSTM, FPN, RoIAlign and head over them. Until
``clip_length`` frames have been seen the clip is shorter (T = 1 on the first frame). Call
``reset()`` when the stream jumps (a new video, a seek), so that unrelated frames do not mix.

The same preprocessing (``prepare_frame``) serves training, evaluation and the ONNX export.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import numpy as np
import torch

from trackflow_ros.distance.model import (
    DistSynth,
    DistSynthConfig,
    box_geometry,
    box_heatmap,
    load_checkpoint,
    pinhole_prior,
    resolve_device,
)
from trackflow_ros.distance.pinhole import CameraIntrinsics, DistanceEstimate, measurable

PIXEL_MEAN, PIXEL_STD = 0.45, 0.25


def frame_tensor(frame_bgr: np.ndarray, boxes_in: np.ndarray, cfg: DistSynthConfig) -> np.ndarray:
    """(4, h, w) float32 network input: resized normalised RGB and the box-centre heatmap.
    ``boxes_in`` are already in input pixels."""
    size = (cfg.input_width, cfg.input_height)
    rgb = cv2.cvtColor(cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    x = (rgb.astype(np.float32) / 255.0 - PIXEL_MEAN) / PIXEL_STD
    heat = box_heatmap(boxes_in, cfg.input_width, cfg.input_height, cfg.heatmap_sigma)
    return np.concatenate([x.transpose(2, 0, 1), heat[None]], 0)


def box_inputs(
    boxes: np.ndarray, camera: CameraIntrinsics, cfg: DistSynthConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes in input pixels (N, 4), geometry features (N, 11) and pinhole priors (N,)."""
    boxes = np.asarray(boxes, np.float64)[:, :4]
    scale = np.array(
        [cfg.input_width / camera.width, cfg.input_height / camera.height] * 2, np.float64
    )
    prior = pinhole_prior(boxes, camera.fx, camera.fy, camera.cx, camera.cy, cfg.person_height)
    geom = box_geometry(
        boxes, camera.fx, camera.fy, camera.cx, camera.cy, camera.width, camera.height, prior
    )
    return (boxes * scale).astype(np.float32), geom, prior.astype(np.float32)


def foot_positions(boxes: np.ndarray, distance: np.ndarray, camera: CameraIntrinsics):
    """Foot points (bottom centre) back-projected along their rays to ``distance`` (N, 3)."""
    ray = np.stack(
        [
            ((boxes[:, 0] + boxes[:, 2]) / 2 - camera.cx) / camera.fx,
            (boxes[:, 3] - camera.cy) / camera.fy,
            np.ones(len(boxes)),
        ],
        1,
    )
    return ray / np.linalg.norm(ray, axis=1, keepdims=True) * distance[:, None]


class DistSynthDistance:
    """Learned distances with uncertainty; same ``DistanceEstimate`` as ``PinholeDistance``.

    ``device``: "cpu", "cuda" or "auto". ``fp16`` (CUDA only; refused on CPU) runs the network
    in half precision; it is written but untested on the development machines (no GPU there).
    """

    def __init__(
        self,
        weights: str | Path,
        device: str = "cpu",
        clip_length: int = 6,
        fp16: bool = False,
    ) -> None:
        if clip_length < 1:
            raise ValueError(f"clip_length must be >= 1, got {clip_length}")
        self.device = resolve_device(device)
        if fp16 and self.device.type != "cuda":
            raise ValueError("fp16 needs a CUDA device; on CPU DistSynth runs in float32")
        model, self.info = load_checkpoint(weights, str(self.device))
        self.model: DistSynth = model.half() if fp16 else model
        self.dtype = torch.float16 if fp16 else torch.float32
        self.config: DistSynthConfig = model.config
        self.clip_length = int(clip_length)
        self._buffer: deque = deque(maxlen=self.clip_length)

    def reset(self) -> None:
        """Forget the buffered frames (a new stream starts)."""
        self._buffer.clear()

    @torch.inference_mode()
    def estimate(
        self, frame_bgr: np.ndarray, boxes: np.ndarray, camera: CameraIntrinsics
    ) -> DistanceEstimate:
        """Boxes (N, >=4) x1, y1, x2, y2 in the frame's pixels; boxes that are not
        :func:`~trackflow_ros.distance.pinhole.measurable` get NaN."""
        frame_bgr = np.asarray(frame_bgr)
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(
                f"frame must be (H, W, 3) uint8 BGR, got {frame_bgr.shape} {frame_bgr.dtype}"
            )
        if frame_bgr.shape[:2] != (camera.height, camera.width):
            raise ValueError(
                f"frame is {frame_bgr.shape[1]}x{frame_bgr.shape[0]} but the camera intrinsics "
                f"are for {camera.width}x{camera.height}"
            )
        boxes = np.asarray(boxes, dtype=float)
        if boxes.ndim != 2 or boxes.shape[1] < 4:
            raise ValueError(f"boxes must be (N, >=4) x1, y1, x2, y2; got shape {boxes.shape}")
        boxes = boxes[:, :4]
        ok = measurable(boxes)
        rois, geom, prior = box_inputs(boxes[ok], camera, self.config)
        x = torch.from_numpy(frame_tensor(frame_bgr, rois, self.config))[None]
        c2, c3, c4, c5 = self.model.encode(x.to(self.device, self.dtype))
        self._buffer.append((c2, c3, c4, c5))

        n = len(boxes)
        distance, variance = np.full(n, np.nan), np.full(n, np.nan)
        if ok.any():
            c5_seq = torch.stack([f[3] for f in self._buffer], 1)
            r = torch.from_numpy(rois)
            roi_t = torch.cat([torch.zeros(len(r), 1), r], 1).to(self.device, self.dtype)
            mean, log_var = self.model.decode(
                (c2, c3, c4),
                c5_seq,
                roi_t,
                torch.from_numpy(geom).to(self.device, self.dtype),
                torch.from_numpy(prior).to(self.device, self.dtype),
            )
            distance[ok] = mean.float().cpu().numpy()
            variance[ok] = torch.exp(log_var.float()).cpu().numpy()
        position = foot_positions(boxes, distance, camera)
        return DistanceEstimate(distance, variance, position)
