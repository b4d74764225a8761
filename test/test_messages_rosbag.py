"""TrackedPersonArray through a real rosbag2 file written and read by ``rosbags``.

rclpy serialises (the wire format a recording of a live node contains), rosbags writes and
reads the bag with our types registered from msg/*.msg, then both libraries decode the bytes:
rclpy must get the original message back, and rosbags must agree with it field for field.
"""

from __future__ import annotations

import dataclasses

import pytest
from message_compare import assert_same
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer

from trackflow_ros.evaluation.bag_types import trackflow_typestore
from trackflow_ros.msg import TrackedPersonArray
from trackflow_ros.ros.message_dict import message_to_dict
from trackflow_ros.ros.roundtrip import example_array

MSGTYPE = "trackflow_ros/msg/TrackedPersonArray"
TOPIC = "/trackflow/tracks"


def _rosbags_to_dict(obj):
    """rosbags messages are dataclasses that also list their type name (``__msgtype__``) and
    constants (upper case, as ROS requires) as fields; keep the data fields only."""
    if dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)]
        return {n: _rosbags_to_dict(getattr(obj, n)) for n in names if n[0].islower()}
    if isinstance(obj, list):
        return [_rosbags_to_dict(v) for v in obj]
    return obj


@pytest.mark.parametrize("storage", [StoragePlugin.MCAP, StoragePlugin.SQLITE3])
def test_message_survives_a_rosbag2_file(tmp_path, storage):
    typestore = trackflow_typestore()
    original = example_array()
    raw = serialize_message(original)
    stamp_ns = original.header.stamp.sec * 10**9 + original.header.stamp.nanosec

    bag = tmp_path / "tracks"
    with Writer(bag, version=9, storage_plugin=storage) as writer:
        connection = writer.add_connection(TOPIC, MSGTYPE, typestore=typestore)
        writer.write(connection, stamp_ns, raw)

    expected = message_to_dict(original)
    with Reader(bag) as reader:
        assert [c.msgtype for c in reader.connections] == [MSGTYPE]
        messages = list(reader.messages())
    assert len(messages) == 1
    connection, timestamp, data = messages[0]
    assert connection.topic == TOPIC
    assert timestamp == stamp_ns

    by_rclpy = deserialize_message(bytes(data), TrackedPersonArray)
    assert_same(expected, message_to_dict(by_rclpy))

    by_rosbags = typestore.deserialize_cdr(data, MSGTYPE)
    assert_same(expected, _rosbags_to_dict(by_rosbags))
    # and back: what rosbags writes (e.g. a replay tool's output bag), rclpy reads. Not a byte
    # comparison: rclpy leaves CDR alignment padding uninitialised, rosbags zeroes it.
    rewritten = bytes(typestore.serialize_cdr(by_rosbags, MSGTYPE))
    assert_same(expected, message_to_dict(deserialize_message(rewritten, TrackedPersonArray)))
