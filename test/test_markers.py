"""The node (rclpy) and rosbag replay (rosbags) write the same messages: RViz markers from one
plan, and TrackedPersonArray from one set of field values (``person_fields``)."""

from __future__ import annotations

import numpy as np
from rclpy.serialization import serialize_message
from std_msgs.msg import Header

from trackflow_ros.evaluation.bag_messages import TRACKS_TYPE, MarkerArrayBuilder, tracks_message
from trackflow_ros.evaluation.bag_types import trackflow_typestore
from trackflow_ros.markers import MarkerPlanner
from trackflow_ros.pipeline import PersonTrack
from trackflow_ros.ros.conversions import MarkerBuilder, tracks_to_msg


def person(track_id: int, position=(1.0, 1.5, 10.0), velocity=(0.5, 0.0, -0.25)) -> PersonTrack:
    return PersonTrack(
        id=track_id, state=1, score=0.8, box=np.array([10.0, 20.0, 40.0, 120.0]),
        distance=float(np.linalg.norm(position)), distance_variance=0.4,
        position=np.array(position, float), velocity=np.array(velocity, float),
        association_cost=float("nan"), age=5, frames_since_update=0,
    )  # fmt: skip


FRAMES = [
    [person(1), person(2**40 + 7, velocity=(np.nan, np.nan, np.nan))],
    [person(2**40 + 7, position=(-2.0, 1.4, 20.0))],  # 1 vanished, 2**40+7 moved, gained no arrow
    [],  # everything deleted
]


def fields(marker) -> tuple:
    """The fields a viewer uses, in plain Python numbers."""
    p, o, s, c = marker.pose.position, marker.pose.orientation, marker.scale, marker.color
    return (
        marker.ns, marker.id, marker.action,
        *(round(float(v), 6) for v in (p.x, p.y, p.z, o.x, o.y, o.z, o.w, s.x, s.y, s.z)),
        *(round(float(v), 6) for v in (c.r, c.g, c.b, c.a)),
        marker.text, tuple((round(q.x, 6), round(q.y, 6), round(q.z, 6)) for q in marker.points),
        marker.type if marker.action == 0 else None,
    )  # fmt: skip


def test_node_and_replay_markers_are_identical_frame_by_frame():
    typestore = trackflow_typestore()
    node, replay = MarkerBuilder(), MarkerArrayBuilder(typestore)
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = 3, 500
    for persons in FRAMES:
        from_node = node.build(persons, header)
        # the node's message as bytes on the wire, read back with rosbags like a recorded bag
        wire = typestore.deserialize_cdr(
            serialize_message(from_node), "visualization_msgs/msg/MarkerArray"
        )
        from_replay = replay.build(persons, 3 * 10**9 + 500, "cam")
        assert [fields(m) for m in wire.markers] == [fields(m) for m in from_replay.markers]
        assert all(m.header.frame_id == "cam" for m in from_replay.markers)


def test_plan_draws_body_label_arrow_and_deletes_what_vanished():
    planner = MarkerPlanner(person_height=1.7)
    first = planner.plan(FRAMES[0])
    assert {(s.ns, s.kind) for s in first if s.id == 1} == {
        ("person", "cylinder"), ("label", "text"), ("velocity", "arrow"),
    }  # fmt: skip
    folded = (2**40 + 7) % 2**31
    assert {s.ns for s in first if s.id == folded} == {"person", "label"}  # no velocity: no arrow
    second = planner.plan(FRAMES[1])
    assert {(s.ns, s.id) for s in second if s.kind == "delete"} == {
        ("person", 1), ("label", 1), ("velocity", 1),
    }  # fmt: skip
    assert planner.plan([]) and planner.plan([]) == []  # deletes once, then nothing


def plain(tracks) -> tuple:
    """A TrackedPersonArray's values, NaN as None (NaN != NaN would fail any comparison)."""

    def v(x):
        return None if isinstance(x, float) and np.isnan(x) else x

    people = [
        tuple(v(getattr(p, f)) for f in (
            "id", "state", "score", "bbox_x", "bbox_y", "bbox_width", "bbox_height", "distance",
            "distance_variance", "association_cost", "age", "frames_since_update",
        )) + tuple(v(float(getattr(q, a))) for q in (p.position, p.velocity) for a in "xyz")
        for p in tracks.persons
    ]  # fmt: skip
    h = tracks.header
    return (h.stamp.sec, h.stamp.nanosec, h.frame_id, tracks.scene_cluster, people)


def test_node_and_replay_tracks_carry_the_same_values():
    odd = person(9, position=(np.nan, np.nan, np.nan))
    odd.age, odd.frames_since_update = 2**40, -3  # clamped into uint32 on both paths
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = 3, 500
    typestore = trackflow_typestore()
    for persons, cluster in [(FRAMES[0], 4), ([odd], 300), ([], 0)]:  # 300: out of uint8 -> 0
        # the node's message as bytes on the wire, read back with rosbags like a recorded bag
        wire = typestore.deserialize_cdr(
            bytes(serialize_message(tracks_to_msg(persons, header, cluster))), TRACKS_TYPE
        )
        replay = tracks_message(typestore, persons, 3 * 10**9 + 500, "cam", cluster)
        cdr = typestore.serialize_cdr(replay, TRACKS_TYPE)
        in_bag = typestore.deserialize_cdr(cdr, TRACKS_TYPE)
        assert plain(wire) == plain(in_bag)
        assert len(wire.persons) == len(persons)
    odd_msg = tracks_message(typestore, [odd], 0, "cam", 300)
    assert (odd_msg.persons[0].age, odd_msg.persons[0].frames_since_update) == (2**32 - 1, 0)
    assert odd_msg.scene_cluster == 0 and np.isnan(odd_msg.persons[0].position.x)
