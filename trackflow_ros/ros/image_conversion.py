"""sensor_msgs/Image messages <-> numpy BGR for the node: a thin adapter over the ROS-free
``trackflow_ros.image_encoding``, which holds the only decoder and the only validation rules
(so the node and the rosbag tools accept and reject the same buffers, with the same words).

The split between the two calls is the node's: ``check_image`` looks only at the header fields
and the data length (O(1), cheap enough for the subscription callback, so that every malformed
message is counted and reported even when the worker is busy), ``image_to_bgr`` then does the
copy on the worker thread.

The functions duck-type the message (``height``, ``width``, ``encoding``, ``step``, ``data``):
nothing here imports a message package except ``bgr_to_image``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trackflow_ros import image_encoding
from trackflow_ros.image_encoding import CHANNELS, ImageEncodingError

__all__ = ["CHANNELS", "ImageError", "bgr_to_image", "check_image", "image_to_bgr"]

#: the node's name for the core's error; the same class, so ``except ImageError`` catches
#: everything the core raises
ImageError = ImageEncodingError


def check_image(msg: Any) -> None:
    """Raise ``ImageError`` naming the problem unless ``image_to_bgr(msg)`` can succeed."""
    image_encoding.check_image_fields(
        msg.height, msg.width, msg.encoding, msg.step, image_encoding.data_size(msg.data)
    )


def image_to_bgr(msg: Any) -> np.ndarray:
    """An (H, W, 3) uint8 BGR copy of the image, which outlives the message."""
    return image_encoding.image_to_bgr(msg.height, msg.width, msg.encoding, msg.step, msg.data)


def bgr_to_image(image_bgr: np.ndarray, header: Any) -> Any:
    """A bgr8 sensor_msgs/Image of ``image_bgr`` (H, W, 3 uint8) with ``header``."""
    from sensor_msgs.msg import Image

    fields = image_encoding.bgr_image_fields(image_bgr)
    # rclpy takes bytes in one copy but iterates a numpy array (50x slower for a 768x576 frame)
    fields["data"] = fields["data"].tobytes()
    return Image(header=header, is_bigendian=0, **fields)
