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

import colorsys
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from geometry_msgs.msg import Point, Vector3
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from trackflow_ros.msg import TrackedPerson, TrackedPersonArray

try:  # optional: a ROS distro package with no PyPI wheel
    import vision_msgs.msg as VISION_MSGS
except ImportError:  # pragma: no cover - depends on the installation
    VISION_MSGS = None

UINT32_MAX = 2**32 - 1
MARKER_NAMESPACES = ("person", "label", "velocity")


def _f(value: Any) -> float:
    return float(value)


def _u32(value: Any) -> int:
    return int(min(max(int(value), 0), UINT32_MAX))


def person_to_msg(person: Any) -> TrackedPerson:
    """One ``PersonTrack`` as a TrackedPerson (unknown values stay NaN)."""
    x1, y1, x2, y2 = (float(v) for v in np.asarray(person.box, dtype=float)[:4])
    position = np.asarray(person.position, dtype=float)
    velocity = np.asarray(person.velocity, dtype=float)
    return TrackedPerson(
        id=int(person.id),
        state=int(person.state),
        score=_f(person.score),
        bbox_x=x1,
        bbox_y=y1,
        bbox_width=x2 - x1,
        bbox_height=y2 - y1,
        distance=_f(person.distance),
        distance_variance=_f(person.distance_variance),
        position=Point(x=position[0], y=position[1], z=position[2]),
        velocity=Vector3(x=velocity[0], y=velocity[1], z=velocity[2]),
        association_cost=_f(person.association_cost),
        age=_u32(person.age),
        frames_since_update=_u32(person.frames_since_update),
    )


def tracks_to_msg(persons: Iterable[Any], header: Any, scene_cluster: int) -> TrackedPersonArray:
    """All persons of one frame; ``header`` is the source image's (stamp and optical frame)."""
    cluster = int(scene_cluster)
    return TrackedPersonArray(
        header=header,
        persons=[person_to_msg(p) for p in persons],
        scene_cluster=cluster if 0 <= cluster <= 255 else 0,
    )


def marker_id(track_id: int) -> int:
    """Marker ids are int32; track ids are uint64. Folding is collision-free below 2**31 ids."""
    return int(track_id) % (2**31)


def _color(track_id: int, alpha: float) -> ColorRGBA:
    """A stable, well-spread colour per id (golden-ratio hue steps)."""
    r, g, b = colorsys.hsv_to_rgb((int(track_id) * 0.618033988749895) % 1.0, 0.85, 0.95)
    return ColorRGBA(r=r, g=g, b=b, a=alpha)


class MarkerBuilder:
    """Per-person RViz markers, remembering what it published so that dead tracks are DELETEd.

    For each person with a known 3D position: a person-sized cylinder standing on the foot
    point (optical frame: y points down, so "up" is -y), a text label "id N d=..m" above it,
    and, when the velocity is known, an arrow from the foot point along one second of motion.
    Every marker of a person has the person's marker id in its own namespace, so the next
    frame's markers replace it in place and a vanished person's markers get a DELETE.
    """

    def __init__(
        self, person_height: float = 1.7, person_diameter: float = 0.5, alpha: float = 0.6
    ) -> None:
        self.person_height = float(person_height)
        self.person_diameter = float(person_diameter)
        self.alpha = float(alpha)
        self._published: set[tuple[str, int]] = set()

    def build(self, persons: Sequence[Any], header: Any) -> MarkerArray:
        markers: list[Marker] = []
        current: set[tuple[str, int]] = set()
        for person in persons:
            position = np.asarray(person.position, dtype=float)
            if position.shape != (3,) or not np.all(np.isfinite(position)):
                continue
            mid = marker_id(person.id)
            for marker in self._person_markers(person, position, mid, header):
                markers.append(marker)
                current.add((marker.ns, marker.id))
        for ns, mid in sorted(self._published - current):
            markers.append(Marker(header=header, ns=ns, id=mid, action=Marker.DELETE))
        self._published = current
        return MarkerArray(markers=markers)

    def clear(self, header: Any) -> MarkerArray:
        """DELETEs for everything published (on deactivation / shutdown)."""
        markers = [
            Marker(header=header, ns=ns, id=mid, action=Marker.DELETE)
            for ns, mid in sorted(self._published)
        ]
        self._published = set()
        return MarkerArray(markers=markers)

    def _person_markers(self, person: Any, foot: np.ndarray, mid: int, header: Any) -> list[Marker]:
        h = self.person_height
        color = _color(person.id, self.alpha)
        body = Marker(header=header, ns="person", id=mid, type=Marker.CYLINDER, action=Marker.ADD)
        body.pose.position = Point(x=foot[0], y=foot[1] - h / 2.0, z=foot[2])
        # the cylinder's axis is its local z; a 90 degree turn about x lays it along y (vertical)
        body.pose.orientation.x = math.sqrt(0.5)
        body.pose.orientation.w = math.sqrt(0.5)
        body.scale = Vector3(x=self.person_diameter, y=self.person_diameter, z=h)
        body.color = color

        distance = float(person.distance)
        text = f"id {int(person.id)}" + (f" d={distance:.1f}m" if math.isfinite(distance) else "")
        label = Marker(
            header=header, ns="label", id=mid, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD
        )
        label.pose.position = Point(x=foot[0], y=foot[1] - h - 0.3, z=foot[2])
        label.pose.orientation.w = 1.0
        label.scale.z = 0.4  # text height, m
        label.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
        label.text = text
        markers = [body, label]

        velocity = np.asarray(person.velocity, dtype=float)
        if velocity.shape == (3,) and np.all(np.isfinite(velocity)):
            arrow = Marker(header=header, ns="velocity", id=mid, type=Marker.ARROW)
            arrow.action = Marker.ADD
            arrow.pose.orientation.w = 1.0
            end = foot + velocity  # one second ahead
            arrow.points = [
                Point(x=foot[0], y=foot[1], z=foot[2]),
                Point(x=end[0], y=end[1], z=end[2]),
            ]
            arrow.scale = Vector3(x=0.08, y=0.16, z=0.2)  # shaft, head diameter, head length
            arrow.color = color
            markers.append(arrow)
        return markers


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
