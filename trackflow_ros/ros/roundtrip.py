"""A TrackedPersonArray sent from one process to another over real DDS.

This proves the message build and the ROS 2 graph on a machine before any tracking runs:
``python -m trackflow_ros.ros.roundtrip demo`` starts a listener process and a talker process
and prints what crossed. The tests use the same ``talk`` and ``listen`` commands.

Both ends use a reliable, transient-local QoS of depth 1, so the one message reaches the
listener however discovery interleaves: the talker publishes once a subscriber is matched and
stays until that subscriber leaves (or the timeout), the listener exits after one message.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Vector3
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from std_msgs.msg import Header

from trackflow_ros.msg import TrackedPerson, TrackedPersonArray
from trackflow_ros.ros.message_dict import message_to_dict

DEFAULT_TOPIC = "/trackflow/roundtrip"
QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)


def example_array() -> TrackedPersonArray:
    """Two persons with every field set to a distinct, non-default value (so a dropped or
    swapped field shows up as a difference)."""
    confirmed = TrackedPerson(
        id=2**40 + 7,  # beyond 32 bits: the id is uint64 end to end
        state=TrackedPerson.STATE_CONFIRMED,
        score=0.875,
        bbox_x=101.5,
        bbox_y=52.25,
        bbox_width=40.0,
        bbox_height=96.5,
        distance=12.5,
        distance_variance=0.75,
        position=Point(x=-1.25, y=1.5, z=12.375),
        velocity=Vector3(x=0.5, y=-0.0625, z=-1.125),
        association_cost=3.5,
        age=41,
        frames_since_update=0,
    )
    lost = TrackedPerson(
        id=3,
        state=TrackedPerson.STATE_LOST,
        score=0.5,
        bbox_x=-4.0,  # a box may extend past the image border
        bbox_y=300.0,
        bbox_width=22.5,
        bbox_height=61.0,
        distance=31.0,
        distance_variance=4.5,
        position=Point(x=6.0, y=1.75, z=30.25),
        velocity=Vector3(x=-0.25, y=0.125, z=0.375),
        association_cost=float("nan"),  # not matched in this frame
        age=9,
        frames_since_update=4,
    )
    header = Header(stamp=Time(sec=1_700_000_123, nanosec=456_789_000), frame_id="camera_optical")
    return TrackedPersonArray(header=header, persons=[confirmed, lost], scene_cluster=11)


def talk(topic: str, timeout: float) -> int:
    """Publish ``example_array()`` once a subscriber is matched; linger until it leaves."""
    rclpy.init()
    node = rclpy.create_node("trackflow_roundtrip_talker")
    try:
        pub = node.create_publisher(TrackedPersonArray, topic, QOS)
        deadline = time.monotonic() + timeout
        while pub.get_subscription_count() == 0:
            if time.monotonic() > deadline:
                print(f"talker: no subscriber on {topic} within {timeout} s", file=sys.stderr)
                return 1
            rclpy.spin_once(node, timeout_sec=0.05)
        pub.publish(example_array())
        while pub.get_subscription_count() > 0 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.05)
        return 0
    finally:
        node.destroy_node()
        rclpy.shutdown()


def listen(topic: str, timeout: float, out: Path | None) -> int:
    """Wait for one message; write its CDR bytes to ``out`` (or print it as JSON)."""
    rclpy.init()
    node = rclpy.create_node("trackflow_roundtrip_listener")
    received: list[TrackedPersonArray] = []
    try:
        node.create_subscription(TrackedPersonArray, topic, received.append, QOS)
        deadline = time.monotonic() + timeout
        while not received:
            if time.monotonic() > deadline:
                print(f"listener: nothing received on {topic} within {timeout} s", file=sys.stderr)
                return 1
            rclpy.spin_once(node, timeout_sec=0.05)
        if out is not None:
            out.write_bytes(serialize_message(received[0]))
        else:
            print(json.dumps(message_to_dict(received[0]), indent=2))
        return 0
    finally:
        node.destroy_node()
        rclpy.shutdown()


def demo(topic: str, timeout: float) -> int:
    """Listener and talker as two processes; print what the listener got."""
    cmd = [sys.executable, "-m", "trackflow_ros.ros.roundtrip"]
    listener = subprocess.Popen([*cmd, "listen", "--topic", topic, "--timeout", str(timeout)])
    talker = subprocess.run([*cmd, "talk", "--topic", topic, "--timeout", str(timeout)])
    listener_rc = listener.wait(timeout=timeout + 10)
    ok = talker.returncode == 0 and listener_rc == 0
    print(
        "round trip over DDS: "
        + ("OK, the listener process received the message above" if ok else "FAILED")
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["talk", "listen", "demo"])
    parser.add_argument("--topic", default=DEFAULT_TOPIC)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds")
    parser.add_argument("--out", type=Path, help="listen: write the CDR bytes here")
    args = parser.parse_args(argv)
    if args.command == "talk":
        return talk(args.topic, args.timeout)
    if args.command == "listen":
        return listen(args.topic, args.timeout, args.out)
    return demo(args.topic, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
