"""Pipeline output <-> rosbags message objects (TrackedPersonArray, MarkerArray), ROS-free.

The node builds the same messages with rclpy classes (``trackflow_ros/ros/conversions.py``);
offline tools cannot import rclpy, and rosbags' message classes are plain dataclasses with no
defaults, so this module builds them field by field. The markers follow the node's
conventions exactly (namespaces ``person``/``label``/``velocity``, marker id = track id folded to
int32, a person-sized cylinder on the foot point, "id N d=..m" above it, a one-second velocity
arrow, DELETE for the markers of tracks that vanished), so a replayed bag looks in RViz like a
recording of the node.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from trackflow_ros.evaluation.bag_io import header_of

TRACKS_TYPE = "trackflow_ros/msg/TrackedPersonArray"
MARKERS_TYPE = "visualization_msgs/msg/MarkerArray"
UINT32_MAX = 2**32 - 1


def _u32(value: Any) -> int:
    return int(min(max(int(value), 0), UINT32_MAX))


def tracks_message(typestore, persons: Iterable[Any], stamp_ns: int, frame_id: str, cluster: int):
    """A rosbags ``TrackedPersonArray`` of one frame's ``PersonTrack`` list."""
    t = typestore.types
    people = []
    for p in persons:
        x1, y1, x2, y2 = (float(v) for v in np.asarray(p.box, dtype=float)[:4])
        pos = np.asarray(p.position, dtype=float)
        vel = np.asarray(p.velocity, dtype=float)
        people.append(
            t["trackflow_ros/msg/TrackedPerson"](
                id=int(p.id),
                state=int(p.state),
                score=float(p.score),
                bbox_x=x1,
                bbox_y=y1,
                bbox_width=x2 - x1,
                bbox_height=y2 - y1,
                distance=float(p.distance),
                distance_variance=float(p.distance_variance),
                position=t["geometry_msgs/msg/Point"](
                    x=float(pos[0]), y=float(pos[1]), z=float(pos[2])
                ),
                velocity=t["geometry_msgs/msg/Vector3"](
                    x=float(vel[0]), y=float(vel[1]), z=float(vel[2])
                ),
                association_cost=float(p.association_cost),
                age=_u32(p.age),
                frames_since_update=_u32(p.frames_since_update),
            )
        )
    cluster = int(cluster)
    return t[TRACKS_TYPE](
        header=header_of(typestore, stamp_ns, frame_id),
        persons=people,
        scene_cluster=cluster if 0 <= cluster <= 255 else 0,
    )


def persons_from_message(msg) -> list[dict[str, Any]]:
    """The persons of a deserialised TrackedPersonArray (rosbags) as plain dicts with numpy
    ``box`` (x1, y1, x2, y2), ``position`` and ``velocity``: what scoring needs."""
    out = []
    for p in msg.persons:
        out.append(
            {
                "id": int(p.id),
                "state": int(p.state),
                "score": float(p.score),
                "box": np.array(
                    [p.bbox_x, p.bbox_y, p.bbox_x + p.bbox_width, p.bbox_y + p.bbox_height],
                    dtype=float,
                ),
                "distance": float(p.distance),
                "distance_variance": float(p.distance_variance),
                "position": np.array([p.position.x, p.position.y, p.position.z], dtype=float),
                "velocity": np.array([p.velocity.x, p.velocity.y, p.velocity.z], dtype=float),
                "association_cost": float(p.association_cost),
                "age": int(p.age),
                "frames_since_update": int(p.frames_since_update),
            }
        )
    return out


def marker_id(track_id: int) -> int:
    """Marker ids are int32, track ids uint64 (the node folds them the same way)."""
    return int(track_id) % (2**31)


def id_color(track_id: int) -> tuple[float, float, float]:
    """A stable, well-spread RGB colour per id (golden-ratio hue steps), as the node uses."""
    return colorsys.hsv_to_rgb((int(track_id) * 0.618033988749895) % 1.0, 0.85, 0.95)


class MarkerArrayBuilder:
    """rosbags ``MarkerArray`` per frame; remembers what it published to DELETE stale markers."""

    def __init__(
        self,
        typestore,
        person_height: float = 1.7,
        person_diameter: float = 0.5,
        alpha: float = 0.6,
    ) -> None:
        self.ts = typestore
        self.person_height = float(person_height)
        self.person_diameter = float(person_diameter)
        self.alpha = float(alpha)
        self._published: set[tuple[str, int]] = set()
        t = typestore.types
        self._Marker = t["visualization_msgs/msg/Marker"]
        self._Point = t["geometry_msgs/msg/Point"]
        self._Vector3 = t["geometry_msgs/msg/Vector3"]
        self._Quaternion = t["geometry_msgs/msg/Quaternion"]
        self._Pose = t["geometry_msgs/msg/Pose"]
        self._Color = t["std_msgs/msg/ColorRGBA"]
        self._Duration = t["builtin_interfaces/msg/Duration"]
        self._Compressed = t["sensor_msgs/msg/CompressedImage"]
        self._MeshFile = t["visualization_msgs/msg/MeshFile"]

    def build(self, persons: Sequence[Any], stamp_ns: int, frame_id: str):
        header = header_of(self.ts, stamp_ns, frame_id)
        markers = []
        current: set[tuple[str, int]] = set()
        for person in persons:
            foot = np.asarray(person.position, dtype=float)
            if foot.shape != (3,) or not np.all(np.isfinite(foot)):
                continue
            for marker in self._person_markers(person, foot, header):
                markers.append(marker)
                current.add((marker.ns, marker.id))
        for ns, mid in sorted(self._published - current):
            markers.append(self._marker(header, ns, mid, action=self._Marker.DELETE))
        self._published = current
        return self.ts.types[MARKERS_TYPE](markers=markers)

    def _marker(self, header, ns: str, mid: int, **fields):
        values = {
            "type": self._Marker.CUBE,
            "action": self._Marker.ADD,
            "pose": self._pose((0.0, 0.0, 0.0)),
            "scale": self._Vector3(x=0.0, y=0.0, z=0.0),
            "color": self._Color(r=0.0, g=0.0, b=0.0, a=0.0),
            "lifetime": self._Duration(sec=0, nanosec=0),
            "frame_locked": False,
            "points": [],
            "colors": [],
            "texture_resource": "",
            "texture": self._Compressed(
                header=header_of(self.ts, 0, ""), format="", data=np.zeros(0, dtype=np.uint8)
            ),
            "uv_coordinates": [],
            "text": "",
            "mesh_resource": "",
            "mesh_file": self._MeshFile(filename="", data=np.zeros(0, dtype=np.uint8)),
            "mesh_use_embedded_materials": False,
        }
        values.update(fields)
        return self._Marker(header=header, ns=ns, id=mid, **values)

    def _point(self, xyz) -> Any:
        return self._Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))

    def _pose(self, position, orientation=(0.0, 0.0, 0.0, 1.0)):
        x, y, z = (float(v) for v in position)
        qx, qy, qz, qw = orientation
        return self._Pose(
            position=self._point((x, y, z)),
            orientation=self._Quaternion(x=qx, y=qy, z=qz, w=qw),
        )

    def _person_markers(self, person: Any, foot: np.ndarray, header) -> list:
        h, mid = self.person_height, marker_id(person.id)
        r, g, b = id_color(person.id)
        color = self._Color(r=r, g=g, b=b, a=self.alpha)
        # optical frame: y points down, so the cylinder (axis = local z) is turned 90 degrees
        # about x to stand along y, centred half a person above the foot point
        body = self._marker(
            header,
            "person",
            mid,
            type=self._Marker.CYLINDER,
            pose=self._pose(
                (foot[0], foot[1] - h / 2.0, foot[2]), (math.sqrt(0.5), 0.0, 0.0, math.sqrt(0.5))
            ),
            scale=self._Vector3(x=self.person_diameter, y=self.person_diameter, z=h),
            color=color,
        )
        distance = float(person.distance)
        text = f"id {int(person.id)}" + (f" d={distance:.1f}m" if math.isfinite(distance) else "")
        label = self._marker(
            header,
            "label",
            mid,
            type=self._Marker.TEXT_VIEW_FACING,
            pose=self._pose((foot[0], foot[1] - h - 0.3, foot[2])),
            scale=self._Vector3(x=0.0, y=0.0, z=0.4),
            color=self._Color(r=1.0, g=1.0, b=1.0, a=1.0),
            text=text,
        )
        markers = [body, label]
        velocity = np.asarray(person.velocity, dtype=float)
        if velocity.shape == (3,) and np.all(np.isfinite(velocity)):
            end = foot + velocity  # one second ahead
            markers.append(
                self._marker(
                    header,
                    "velocity",
                    mid,
                    type=self._Marker.ARROW,
                    points=[self._point(p) for p in (foot, end)],
                    scale=self._Vector3(x=0.08, y=0.16, z=0.2),
                    color=color,
                )
            )
        return markers
