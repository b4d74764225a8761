"""Pipeline output (``PersonTrack``) -> ROS messages: tracks, RViz markers, vision_msgs.

``PersonTrack`` is duck-typed here (id, state, score, box, distance, distance_variance,
position, velocity, association_cost, age, frames_since_update), so this module needs only
numpy and the message packages.

vision_msgs is optional: ``VISION_MSGS`` is None when it is not importable, and the functions
that need it say so. On the development machines it is not installed, so the vision_msgs paths
(``detections_from_detection2d_array`` aside, which is duck-typed and unit-tested against
stand-in objects) are untested there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from geometry_msgs.msg import Point, Quaternion, Vector3
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from trackflow_ros.markers import MarkerPlanner, MarkerSpec
from trackflow_ros.msg import TrackedPerson, TrackedPersonArray
from trackflow_ros.person_fields import person_fields, scene_cluster_field

try:  # optional: a ROS distro package with no PyPI wheel
    import vision_msgs.msg as VISION_MSGS
except ImportError:  # pragma: no cover - depends on the installation
    VISION_MSGS = None


def person_to_msg(person: Any) -> TrackedPerson:
    """One ``PersonTrack`` as a TrackedPerson (field values from
    :mod:`trackflow_ros.person_fields`, as the rosbag tools')."""
    fields = person_fields(person)
    x, y, z = fields.pop("position")
    vx, vy, vz = fields.pop("velocity")
    position, velocity = Point(x=x, y=y, z=z), Vector3(x=vx, y=vy, z=vz)
    return TrackedPerson(**fields, position=position, velocity=velocity)


def tracks_to_msg(persons: Iterable[Any], header: Any, scene_cluster: int) -> TrackedPersonArray:
    """All persons of one frame; ``header`` is the source image's (stamp and optical frame)."""
    return TrackedPersonArray(
        header=header,
        persons=[person_to_msg(p) for p in persons],
        scene_cluster=scene_cluster_field(scene_cluster),
    )


_KINDS = {"cylinder": Marker.CYLINDER, "text": Marker.TEXT_VIEW_FACING, "arrow": Marker.ARROW}


def _marker(spec: MarkerSpec, header: Any) -> Marker:
    """One rclpy Marker from a library-neutral spec (``trackflow_ros.markers``)."""
    if spec.kind == "delete":
        return Marker(header=header, ns=spec.ns, id=spec.id, action=Marker.DELETE)
    marker = Marker(header=header, ns=spec.ns, id=spec.id, type=_KINDS[spec.kind])
    marker.action = Marker.ADD
    marker.pose.position = Point(x=spec.position[0], y=spec.position[1], z=spec.position[2])
    ox, oy, oz, ow = spec.orientation
    marker.pose.orientation = Quaternion(x=ox, y=oy, z=oz, w=ow)
    marker.scale = Vector3(x=spec.scale[0], y=spec.scale[1], z=spec.scale[2])
    r, g, b, a = spec.color
    marker.color = ColorRGBA(r=r, g=g, b=b, a=a)
    marker.text = spec.text
    marker.points = [Point(x=p[0], y=p[1], z=p[2]) for p in spec.points]
    return marker


class MarkerBuilder:
    """RViz markers per frame as a MarkerArray; what to draw (and DELETE) is decided by
    :class:`trackflow_ros.markers.MarkerPlanner`, shared with rosbag replay."""

    def __init__(
        self, person_height: float = 1.7, person_diameter: float = 0.5, alpha: float = 0.6
    ) -> None:
        self.planner = MarkerPlanner(person_height, person_diameter, alpha)

    def build(self, persons: Sequence[Any], header: Any) -> MarkerArray:
        return MarkerArray(markers=[_marker(s, header) for s in self.planner.plan(persons)])

    def clear(self, header: Any) -> MarkerArray:
        """DELETEs for everything published (on deactivation / shutdown)."""
        return MarkerArray(markers=[_marker(s, header) for s in self.planner.clear()])


def detections_from_detection2d_array(msg: Any) -> np.ndarray:
    """(N, 5) [x1, y1, x2, y2, score] from a vision_msgs/Detection2DArray (duck-typed).

    Handles both BoundingBox2D layouts (``center.position.x`` since vision_msgs 4, Humble;
    ``center.x`` before). The score is the best hypothesis' score (1.0 when a detection carries
    none). NaN boxes pass through: the tracker drops them with a logged warning.
    """
    rows = []
    for det in msg.detections:
        center = det.bbox.center
        pos = getattr(center, "position", center)
        cx, cy = float(pos.x), float(pos.y)
        w, h = float(det.bbox.size_x), float(det.bbox.size_y)
        scores = []
        for result in det.results:
            hyp = getattr(result, "hypothesis", result)
            scores.append(float(hyp.score))
        score = max(scores) if scores else 1.0
        rows.append([cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0, score])
    return np.asarray(rows, dtype=float).reshape(-1, 5)


def tracks_to_detection3d_array(
    persons: Iterable[Any], header: Any, person_height: float, person_diameter: float
) -> Any:
    """A vision_msgs/Detection3DArray (``id`` = track id) of the persons with a 3D position.

    Untested on the development machines (vision_msgs is not installed there).
    """
    if VISION_MSGS is None:
        raise RuntimeError("vision_msgs is not installed")
    out = VISION_MSGS.Detection3DArray(header=header)
    for person in persons:
        foot = np.asarray(person.position, dtype=float)
        if foot.shape != (3,) or not np.all(np.isfinite(foot)):
            continue
        det = VISION_MSGS.Detection3D(header=header, id=str(int(person.id)))
        det.bbox.center.position = Point(x=foot[0], y=foot[1] - person_height / 2.0, z=foot[2])
        det.bbox.center.orientation.w = 1.0
        det.bbox.size = Vector3(x=person_diameter, y=person_height, z=person_diameter)
        hyp = VISION_MSGS.ObjectHypothesisWithPose()
        hyp.hypothesis.class_id = "person"
        hyp.hypothesis.score = float(person.score)
        hyp.pose.pose.position = det.bbox.center.position
        hyp.pose.pose.orientation.w = 1.0
        det.results.append(hyp)
        out.detections.append(det)
    return out
