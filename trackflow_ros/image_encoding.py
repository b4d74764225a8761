"""sensor_msgs/Image pixel buffers <-> numpy BGR arrays, without ROS.

``cv_bridge`` is not installable here (and the PyPI ``cv-bridge`` is ROS 1 and broken with
numpy 2), and the conversion is a reshape: so it lives here, ROS-free, and serves the rosbag
tools (rosbags messages) as well as anything else holding an Image's fields. Only 8-bit
encodings a person detector can use are accepted; anything else is an ``ImageEncodingError``
that names the encoding, never a silently wrong picture.
"""

from __future__ import annotations

import cv2
import numpy as np

#: encoding -> (channels, cv2 conversion to BGR or None when already BGR)
ENCODINGS: dict[str, tuple[int, int | None]] = {
    "bgr8": (3, None),
    "rgb8": (3, cv2.COLOR_RGB2BGR),
    "mono8": (1, cv2.COLOR_GRAY2BGR),
    "bgra8": (4, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, cv2.COLOR_RGBA2BGR),
}
#: larger images than this are refused (a corrupt header, not a camera)
MAX_SIDE = 16384


class ImageEncodingError(ValueError):
    """An image buffer that cannot be turned into a BGR picture; the message says why."""


def image_to_bgr(height: int, width: int, encoding: str, step: int, data) -> np.ndarray:
    """The ``(height, width, 3)`` uint8 BGR picture of an Image's fields.

    ``step`` (bytes per row) may exceed ``width * channels`` (row padding); the padding is
    dropped. The result never shares memory with ``data``, so callers can keep it.
    """
    if encoding not in ENCODINGS:
        raise ImageEncodingError(
            f"unsupported image encoding {encoding!r}; supported: {', '.join(ENCODINGS)}"
        )
    channels, conversion = ENCODINGS[encoding]
    if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
        raise ImageEncodingError(f"image size {width}x{height} is empty or implausibly large")
    row = width * channels
    if step < row:
        raise ImageEncodingError(
            f"step {step} is smaller than width * channels = {row} for {encoding}"
        )
    buffer = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    if buffer.size < height * step:
        raise ImageEncodingError(
            f"image data has {buffer.size} bytes, height * step = {height * step} expected"
        )
    pixels = buffer[: height * step].reshape(height, step)[:, :row].reshape(height, width, channels)
    if conversion is None:
        return np.ascontiguousarray(pixels).copy()
    return cv2.cvtColor(np.ascontiguousarray(pixels), conversion)


def bgr_image_fields(image: np.ndarray) -> dict:
    """The Image fields (``height, width, encoding, step, data``) of a BGR uint8 picture."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageEncodingError(
            f"expected an (H, W, 3) uint8 BGR array, got {image.dtype} {image.shape}"
        )
    height, width = image.shape[:2]
    return {
        "height": int(height),
        "width": int(width),
        "encoding": "bgr8",
        "step": int(width * 3),
        "data": np.ascontiguousarray(image).reshape(-1),
    }
