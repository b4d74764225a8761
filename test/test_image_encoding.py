"""One set of image rules: a malformed sensor_msgs/Image buffer is refused by the rosbag tools
(rosbags messages, through ``InputBag.frames``) and by the node (rclpy messages, through
``check_image`` in its callback and ``image_to_bgr`` on its worker) with the same reason."""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Image

from trackflow_ros.evaluation.bag_io import IMAGE, BagError, InputBag, OutputBag, image_message
from trackflow_ros.image_encoding import ImageEncodingError, bgr_image_fields, image_to_bgr
from trackflow_ros.ros.image_conversion import ImageError, check_image
from trackflow_ros.ros.image_conversion import image_to_bgr as node_image_to_bgr

TOPIC = "/camera/image_raw"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"encoding": "yuv422"}, "unsupported image encoding 'yuv422'"),
        ({"width": 0}, "empty image: 0x4 pixels"),
        ({"width": 20000, "step": 60000}, "has a side longer than 16384 pixels"),
        ({"width": 9000, "height": 9000, "step": 27000}, "more than 67108864"),
        ({"step": 17}, "step 17 is shorter than a row of 6 bgr8 pixels (18 bytes)"),
        ({"step": 10**6}, "step 1000000 is implausible for a row of 18 bytes"),
        ({"data": np.zeros(50, np.uint8)}, "data has 50 bytes, fewer than height*step"),
    ],
)
def test_bag_path_and_node_path_reject_the_same_buffer_with_the_same_message(
    tmp_path, fields, reason
):
    bag = tmp_path / "bad"
    with OutputBag(bag, "mcap") as writer:
        msg = image_message(writer.typestore, np.zeros((4, 6, 3), np.uint8), 1000, "cam")
        for key, value in fields.items():
            setattr(msg, key, value)
        cdr = writer.typestore.serialize_cdr(msg, IMAGE)
        writer.write_raw(TOPIC, IMAGE, cdr, 1000)

    # the node receives exactly these bytes
    node_msg = deserialize_message(bytes(cdr), Image)
    with pytest.raises(ImageError) as node_check:
        check_image(node_msg)
    with pytest.raises(ImageError) as node_convert:
        node_image_to_bgr(node_msg)
    node_reason = str(node_check.value)
    assert reason in node_reason
    assert str(node_convert.value) == node_reason

    with pytest.raises(BagError) as bag_error:
        list(InputBag(bag).frames(TOPIC, None))
    assert str(bag_error.value).endswith(f"{TOPIC} message 0 (stamp 1000 ns): {node_reason}")


def test_what_we_write_is_what_we_read_and_an_empty_picture_is_not_written():
    bgr = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)
    fields = bgr_image_fields(bgr)
    np.testing.assert_array_equal(image_to_bgr(**fields), bgr)
    with pytest.raises(ImageEncodingError, match=r"empty image: 5x0 pixels"):
        bgr_image_fields(np.zeros((0, 5, 3), np.uint8))


def test_data_that_is_not_a_contiguous_byte_buffer_is_refused_by_name():
    strided = np.zeros(2 * 4 * 18, np.uint8)[::2]  # 72 bytes' worth, every other byte
    with pytest.raises(ImageEncodingError, match="not a contiguous buffer"):
        image_to_bgr(4, 6, "bgr8", 18, strided)
    with pytest.raises(ImageEncodingError, match="image data is a list, not a byte buffer"):
        image_to_bgr(4, 6, "bgr8", 18, [0] * 72)
