"""Pipeline output <-> rosbags message objects (TrackedPersonArray, MarkerArray), ROS-free.

The node builds the same messages with rclpy classes (``trackflow_ros/ros/conversions.py``);
offline tools cannot import rclpy, and rosbags' message classes are plain dataclasses with no
defaults, so this module builds them field by field. The markers are the node's:
both draw what ``trackflow_ros.markers.MarkerPlanner`` decides, so a replayed bag looks in RViz
like a recording of the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from trackflow_ros.evaluation.bag_io import header_of
from trackflow_ros.markers import MarkerPlanner, MarkerSpec
from trackflow_ros.person_fields import person_fields, scene_cluster_field

TRACKS_TYPE = "trackflow_ros/msg/TrackedPersonArray"
MARKERS_TYPE = "visualization_msgs/msg/MarkerArray"


def tracks_message(typestore, persons: Iterable[Any], stamp_ns: int, frame_id: str, cluster: int):
    """A rosbags ``TrackedPersonArray`` of one frame's ``PersonTrack`` list (field values from
    :mod:`trackflow_ros.person_fields`, as the node's)."""
    t = typestore.types
    people = []
    for p in persons:
        fields = person_fields(p)
        x, y, z = fields.pop("position")
        vx, vy, vz = fields.pop("velocity")
        people.append(
            t["trackflow_ros/msg/TrackedPerson"](
                **fields,
                position=t["geometry_msgs/msg/Point"](x=x, y=y, z=z),
                velocity=t["geometry_msgs/msg/Vector3"](x=vx, y=vy, z=vz),
            )
        )
    return t[TRACKS_TYPE](
        header=header_of(typestore, stamp_ns, frame_id),
        persons=people,
        scene_cluster=scene_cluster_field(cluster),
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


class MarkerArrayBuilder:
    """rosbags ``MarkerArray`` per frame; what to draw (and DELETE) is decided by
    :class:`trackflow_ros.markers.MarkerPlanner`, exactly as in the node."""

    def __init__(
        self,
        typestore,
        person_height: float = 1.7,
        person_diameter: float = 0.5,
        alpha: float = 0.6,
    ) -> None:
        self.ts = typestore
        self.planner = MarkerPlanner(person_height, person_diameter, alpha)
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
        self._kinds = {
            "cylinder": self._Marker.CYLINDER,
            "text": self._Marker.TEXT_VIEW_FACING,
            "arrow": self._Marker.ARROW,
        }

    def build(self, persons: Sequence[Any], stamp_ns: int, frame_id: str):
        header = header_of(self.ts, stamp_ns, frame_id)
        markers = [self._marker(spec, header) for spec in self.planner.plan(persons)]
        return self.ts.types[MARKERS_TYPE](markers=markers)

    def _marker(self, spec: MarkerSpec, header):
        """A rosbags Marker: its dataclass has no defaults, so every field is given."""
        delete = spec.kind == "delete"
        return self._Marker(
            header=header,
            ns=spec.ns,
            id=spec.id,
            type=self._Marker.CUBE if delete else self._kinds[spec.kind],
            action=self._Marker.DELETE if delete else self._Marker.ADD,
            pose=self._Pose(
                position=self._point(spec.position),
                orientation=self._Quaternion(
                    x=spec.orientation[0],
                    y=spec.orientation[1],
                    z=spec.orientation[2],
                    w=spec.orientation[3],
                ),
            ),
            scale=self._Vector3(x=spec.scale[0], y=spec.scale[1], z=spec.scale[2]),
            color=self._Color(r=spec.color[0], g=spec.color[1], b=spec.color[2], a=spec.color[3]),
            lifetime=self._Duration(sec=0, nanosec=0),
            frame_locked=False,
            points=[self._point(p) for p in spec.points],
            colors=[],
            texture_resource="",
            texture=self._Compressed(
                header=header_of(self.ts, 0, ""), format="", data=np.zeros(0, dtype=np.uint8)
            ),
            uv_coordinates=[],
            text=spec.text,
            mesh_resource="",
            mesh_file=self._MeshFile(filename="", data=np.zeros(0, dtype=np.uint8)),
            mesh_use_embedded_materials=False,
        )

    def _point(self, xyz) -> Any:
        return self._Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))
