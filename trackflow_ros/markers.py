"""What the RViz markers of a frame are, independent of any message library.

The live node (rclpy messages) and rosbag replay (rosbags messages) must draw exactly the same
markers, so that a replayed bag looks in RViz like a recording of the node. This module decides
them once, as plain :class:`MarkerSpec` records; ``ros/conversions.py`` and
``evaluation/bag_messages.py`` only turn specs into their library's ``Marker``.

Per person with a known 3D position (camera optical frame, REP-103: y points down, so "up" is
-y): a person-sized cylinder standing on the foot point, a text label "id N d=..m" above it,
and, when the velocity is known, an arrow from the foot point along one second of motion. Every
marker of a person has the person's marker id in its own namespace, so the next frame's markers
replace it in place, and a person who vanished gets a DELETE for each marker it had.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NAMESPACES = ("person", "label", "velocity")
_GOLDEN = 0.618033988749895

Vec3 = tuple[float, float, float]


def marker_id(track_id: int) -> int:
    """Marker ids are int32, track ids uint64: folding is collision-free below 2**31 ids."""
    return int(track_id) % (2**31)


def id_rgb(track_id: int) -> Vec3:
    """A stable, well-spread RGB colour (0..1) per id: golden-ratio hue steps."""
    return colorsys.hsv_to_rgb((int(track_id) * _GOLDEN) % 1.0, 0.85, 0.95)


@dataclass(frozen=True)
class MarkerSpec:
    """One marker, in the terms of visualization_msgs/Marker. ``kind`` is ``cylinder``,
    ``text``, ``arrow`` or ``delete`` (a DELETE of ``ns``/``id``; the other fields unused)."""

    ns: str
    id: int
    kind: str
    position: Vec3 = (0.0, 0.0, 0.0)
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)  # x, y, z, w
    scale: Vec3 = (0.0, 0.0, 0.0)
    color: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # r, g, b, a
    text: str = ""
    points: tuple[Vec3, ...] = ()


class MarkerPlanner:
    """Per-frame marker specs, remembering what was drawn so that dead tracks are DELETEd."""

    def __init__(
        self, person_height: float = 1.7, person_diameter: float = 0.5, alpha: float = 0.6
    ) -> None:
        self.person_height = float(person_height)
        self.person_diameter = float(person_diameter)
        self.alpha = float(alpha)
        self._drawn: set[tuple[str, int]] = set()

    def plan(self, persons: Sequence[Any]) -> list[MarkerSpec]:
        """Specs for ``persons`` (duck-typed ``PersonTrack``s), then DELETEs for the vanished."""
        specs: list[MarkerSpec] = []
        for person in persons:
            foot = np.asarray(person.position, dtype=float)
            if foot.shape == (3,) and np.all(np.isfinite(foot)):
                specs += self._person(person, foot)
        current = {(s.ns, s.id) for s in specs}
        specs += [MarkerSpec(ns, i, "delete") for ns, i in sorted(self._drawn - current)]
        self._drawn = current
        return specs

    def clear(self) -> list[MarkerSpec]:
        """DELETEs for everything drawn (on deactivation or shutdown)."""
        specs = [MarkerSpec(ns, i, "delete") for ns, i in sorted(self._drawn)]
        self._drawn = set()
        return specs

    def _person(self, person: Any, foot: np.ndarray) -> list[MarkerSpec]:
        h, mid = self.person_height, marker_id(person.id)
        x, y, z = (float(v) for v in foot)
        color = (*id_rgb(person.id), self.alpha)
        half_turn_x = (math.sqrt(0.5), 0.0, 0.0, math.sqrt(0.5))  # cylinder axis z -> along y
        distance = float(person.distance)
        text = f"id {int(person.id)}" + (f" d={distance:.1f}m" if math.isfinite(distance) else "")
        specs = [
            MarkerSpec(
                "person", mid, "cylinder", (x, y - h / 2.0, z), half_turn_x,
                (self.person_diameter, self.person_diameter, h), color,
            ),
            MarkerSpec(
                "label", mid, "text", (x, y - h - 0.3, z), scale=(0.0, 0.0, 0.4),
                color=(1.0, 1.0, 1.0, 1.0), text=text,
            ),
        ]  # fmt: skip
        velocity = np.asarray(person.velocity, dtype=float)
        if velocity.shape == (3,) and np.all(np.isfinite(velocity)):
            end = tuple(float(v) for v in foot + velocity)  # one second ahead
            specs.append(
                MarkerSpec(
                    "velocity", mid, "arrow", scale=(0.08, 0.16, 0.2),  # shaft, head d, head l
                    color=color, points=((x, y, z), end),
                )
            )  # fmt: skip
        return specs
