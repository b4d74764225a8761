"""sensor_msgs/Image <-> numpy BGR, with the checks a node needs against malformed messages.

``cv_bridge`` is not available as a wheel (and the PyPI ``cv-bridge`` is ROS 1), so this is our
own: a few numpy views. Validation is split from conversion on purpose: ``check_image`` looks
only at the header fields and the data length (O(1), cheap enough for the subscription
callback, so that every malformed message is counted and reported even when the worker is
busy), ``image_to_bgr`` then does the copy on the worker thread.

The functions duck-type the message (``height``, ``width``, ``encoding``, ``step``,
``is_bigendian``, ``data``): nothing here imports a message package except ``bgr_to_image``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# encoding -> channels; all 8-bit, so endianness does not matter
CHANNELS = {"rgb8": 3, "bgr8": 3, "mono8": 1, "rgba8": 4, "bgra8": 4}
SUPPORTED_ENCODINGS = tuple(CHANNELS)
# Larger than any camera a person tracker would see (8K is 33 Mpx); a claim beyond it is a
# corrupted header, and believing it would make the node allocate gigabytes.
DEFAULT_MAX_PIXELS = 8192 * 8192


class ImageError(ValueError):
    """A message that cannot be turned into an image; the text says what is wrong with it."""


def check_image(msg: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Raise ``ImageError`` naming the problem unless ``image_to_bgr(msg)`` can succeed."""
    encoding = str(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if encoding not in SUPPORTED_ENCODINGS:
        raise ImageError(
            f"unsupported encoding {encoding!r} (supported: {', '.join(SUPPORTED_ENCODINGS)})"
        )
    if height <= 0 or width <= 0:
        raise ImageError(f"empty image: {width}x{height}")
    if height * width > max_pixels:
        raise ImageError(f"image too large: {width}x{height} exceeds {max_pixels} pixels")
    row_bytes = width * CHANNELS[encoding]
    if step < row_bytes:
        raise ImageError(
            f"step {step} is shorter than a row of {width} {encoding} pixels ({row_bytes} bytes)"
        )
    if step > 4 * row_bytes + 4096:
        # rows are padded to an alignment, never to several times their length
        raise ImageError(f"step {step} is implausible for a row of {row_bytes} bytes")
    size = len(msg.data)
    if size < height * step:
        raise ImageError(
            f"data has {size} bytes, fewer than height*step = {height}*{step} = {height * step}"
        )


def image_to_bgr(msg: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An (H, W, 3) uint8 BGR copy of the image; ``step`` padding is skipped.

    Extra bytes after ``height * step`` are ignored (some drivers over-allocate).
    """
    check_image(msg, max_pixels)
    encoding = str(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    channels = CHANNELS[encoding]
    flat = np.frombuffer(msg.data, dtype=np.uint8, count=height * step)
    rows = flat.reshape(height, step)[:, : width * channels].reshape(height, width, channels)
    if encoding == "bgr8":
        return rows.copy()
    if encoding == "rgb8":
        return np.ascontiguousarray(rows[:, :, ::-1])
    if encoding == "mono8":
        return np.repeat(rows, 3, axis=2)
    if encoding == "rgba8":
        return np.ascontiguousarray(rows[:, :, 2::-1])
    return np.ascontiguousarray(rows[:, :, :3])  # bgra8


def bgr_to_image(image_bgr: np.ndarray, header: Any) -> Any:
    """A bgr8 sensor_msgs/Image of ``image_bgr`` (H, W, 3 uint8) with ``header``."""
    from sensor_msgs.msg import Image

    image_bgr = np.ascontiguousarray(image_bgr, dtype=np.uint8)
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) BGR image, got shape {image_bgr.shape}")
    height, width = image_bgr.shape[:2]
    msg = Image(header=header, height=height, width=width, encoding="bgr8", is_bigendian=0)
    msg.step = width * 3
    msg.data = image_bgr.tobytes()
    return msg
