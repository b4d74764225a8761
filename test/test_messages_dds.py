"""TrackedPersonArray across two processes over real DDS (Fast DDS via rclpy)."""

from __future__ import annotations

import subprocess
import sys

from message_compare import assert_same
from rclpy.serialization import deserialize_message

from trackflow_ros.msg import TrackedPerson, TrackedPersonArray
from trackflow_ros.ros.message_dict import message_to_dict
from trackflow_ros.ros.roundtrip import example_array

ROUNDTRIP = [sys.executable, "-m", "trackflow_ros.ros.roundtrip"]


def test_example_sets_every_field_away_from_its_default():
    """Otherwise a field lost on the way would still compare equal."""
    defaults = message_to_dict(TrackedPerson())
    example = example_array()
    people = [message_to_dict(p) for p in example.persons]
    untouched = [k for k in defaults if all(p[k] == defaults[k] for p in people)]
    assert untouched == [], f"fields no person sets: {untouched}"
    assert example.scene_cluster != 0 and example.header.frame_id and example.header.stamp.sec


def test_two_persons_cross_from_a_publisher_process_to_a_subscriber_process(tmp_path):
    topic = "/trackflow_test/roundtrip"
    out = tmp_path / "received.cdr"
    listener = subprocess.Popen(
        [*ROUNDTRIP, "listen", "--topic", topic, "--timeout", "40", "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    talker = subprocess.run(
        [*ROUNDTRIP, "talk", "--topic", topic, "--timeout", "40"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    _, listener_err = listener.communicate(timeout=60)
    assert talker.returncode == 0, talker.stderr
    assert listener.returncode == 0, listener_err

    received = deserialize_message(out.read_bytes(), TrackedPersonArray)
    expected = example_array()
    assert received.header.stamp.sec == expected.header.stamp.sec
    assert received.header.stamp.nanosec == expected.header.stamp.nanosec
    assert received.header.frame_id == "camera_optical"
    assert [p.id for p in received.persons] == [2**40 + 7, 3]
    assert received.persons[0].position.z == 12.375
    assert received.persons[1].velocity.x == -0.25
    assert_same(message_to_dict(expected), message_to_dict(received))


def test_talker_reports_a_missing_subscriber_instead_of_hanging():
    talker = subprocess.run(
        [*ROUNDTRIP, "talk", "--topic", "/trackflow_test/nobody_listens", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert talker.returncode == 1
    assert "no subscriber on /trackflow_test/nobody_listens" in talker.stderr
