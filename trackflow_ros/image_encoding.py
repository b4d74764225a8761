"""sensor_msgs/Image pixel buffers <-> numpy BGR arrays, without ROS.

``cv_bridge`` is not installable here (and the PyPI ``cv-bridge`` is ROS 1 and broken with
numpy 2), and the conversion is a reshape: so it lives here, ROS-free, as the one decoder and
the one set of validation rules for every path that meets an Image: the rosbag tools (rosbags
messages), the DDS demo, and the tracker node through ``trackflow_ros.ros.image_conversion``
(rclpy messages). A buffer the node rejects is therefore rejected by the bag tools with the
same words, and vice versa.

Validation is a separate, O(1) step (``check_image_fields``: header fields and data length,
never the pixels) because the node runs it in its subscription callback, where every malformed
message must be counted and reported even while the worker is busy; ``image_to_bgr`` repeats it
(it is cheap) so that no caller can convert an unchecked buffer.

Only 8-bit encodings a person detector can use are accepted; anything else is an
``ImageEncodingError`` that names what is wrong, never a silently wrong picture or an
out-of-bounds read.
"""

from __future__ import annotations

import cv2
import numpy as np

#: encoding -> (channels, cv2 conversion to BGR or None when already BGR); all 8-bit, so
#: ``is_bigendian`` never matters
ENCODINGS: dict[str, tuple[int, int | None]] = {
    "bgr8": (3, None),
    "rgb8": (3, cv2.COLOR_RGB2BGR),
    "mono8": (1, cv2.COLOR_GRAY2BGR),
    "bgra8": (4, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, cv2.COLOR_RGBA2BGR),
}
#: encoding -> bytes per pixel
CHANNELS: dict[str, int] = {name: channels for name, (channels, _) in ENCODINGS.items()}

# Two size bounds, because they catch different things (the node had the first, the bag tools
# the second; both now apply everywhere). MAX_PIXELS guards memory: 8K video is 33 Mpx, and a
# header claiming more is corrupt; believing it would make us allocate hundreds of megabytes per
# frame (the bound keeps a BGR copy within 192 MiB). MAX_SIDE refuses shapes no camera a person
# tracker uses has, which MAX_PIXELS lets through (a 100000x2 strip).
#: a side longer than this is not a camera's
MAX_SIDE = 16384
#: more pixels than this (8192 x 8192) is a corrupt header, not a camera
MAX_PIXELS = 8192 * 8192
# Rows are padded to an alignment (a few bytes to a page), never to several times their
# length: a larger ``step`` is a corrupt header, and trusting it would make a short image
# demand a huge ``data``.
_MAX_STEP_FACTOR = 4
_MAX_STEP_SLACK = 4096


class ImageEncodingError(ValueError):
    """An image buffer that cannot be turned into a BGR picture; the message says why."""


def data_size(data) -> int:
    """``len`` is not enough: it counts elements, and ``data`` arrives as bytes, array.array
    (rclpy) or a numpy array (rosbags); this counts bytes, in O(1) for the callback."""
    try:
        view = memoryview(data)
    except TypeError:
        raise ImageEncodingError(
            f"image data is a {type(data).__name__}, not a byte buffer"
        ) from None
    if not view.c_contiguous:  # a strided numpy view: the rows are not where step says
        raise ImageEncodingError("image data is not a contiguous buffer")
    return view.nbytes


def check_image_fields(height, width, encoding, step, size: int) -> None:
    """Raise ``ImageEncodingError`` naming the problem unless the fields describe a picture
    that ``image_to_bgr`` can decode from ``size`` bytes of data.

    Looks at nothing but the five numbers, so it is cheap enough for a subscription callback.
    Extra bytes after ``height * step`` are allowed (some drivers over-allocate).
    """
    encoding = str(encoding)
    height, width, step, size = int(height), int(width), int(step), int(size)
    if encoding not in ENCODINGS:
        raise ImageEncodingError(
            f"unsupported image encoding {encoding!r} (supported: {', '.join(ENCODINGS)})"
        )
    if height <= 0 or width <= 0:
        raise ImageEncodingError(f"empty image: {width}x{height} pixels")
    if height > MAX_SIDE or width > MAX_SIDE:
        raise ImageEncodingError(
            f"image too large: {width}x{height} has a side longer than {MAX_SIDE} pixels"
        )
    if height * width > MAX_PIXELS:
        raise ImageEncodingError(
            f"image too large: {width}x{height} is {height * width} pixels, more than {MAX_PIXELS}"
        )
    row = width * CHANNELS[encoding]
    if step < row:
        raise ImageEncodingError(
            f"step {step} is shorter than a row of {width} {encoding} pixels ({row} bytes)"
        )
    if step > _MAX_STEP_FACTOR * row + _MAX_STEP_SLACK:
        raise ImageEncodingError(
            f"step {step} is implausible for a row of {row} bytes (more than "
            f"{_MAX_STEP_FACTOR}*{row}+{_MAX_STEP_SLACK})"
        )
    if size < height * step:
        raise ImageEncodingError(
            f"data has {size} bytes, fewer than height*step = {height}*{step} = {height * step}"
        )


def image_to_bgr(height, width, encoding, step, data) -> np.ndarray:
    """The ``(height, width, 3)`` uint8 BGR picture of an Image's fields.

    ``step`` padding is dropped. The result never shares memory with ``data``, so callers can
    keep it after the message is gone.
    """
    check_image_fields(height, width, encoding, step, data_size(data))
    encoding = str(encoding)
    height, width, step = int(height), int(width), int(step)
    channels, conversion = ENCODINGS[encoding]
    row = width * channels
    buffer = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8, count=height * step)
    pixels = buffer.reshape(height, step)[:, :row].reshape(height, width, channels)
    if conversion is None:
        return np.array(pixels, order="C")  # always a copy
    return cv2.cvtColor(np.ascontiguousarray(pixels), conversion)


def bgr_image_fields(image: np.ndarray) -> dict:
    """The Image fields (``height, width, encoding, step, data``) of a BGR uint8 picture.

    Refuses what ``image_to_bgr`` would refuse, so that we never write an image that our own
    readers (or the node) reject.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageEncodingError(
            f"expected an (H, W, 3) uint8 BGR array, got {image.dtype} {image.shape}"
        )
    height, width = image.shape[:2]
    fields = {
        "height": int(height),
        "width": int(width),
        "encoding": "bgr8",
        "step": int(width * 3),
        "data": np.ascontiguousarray(image).reshape(-1),
    }
    check_image_fields(height, width, "bgr8", width * 3, image.size)
    return fields
