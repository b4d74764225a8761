"""The values of a TrackedPerson(Array) message's fields, independent of any message library.

The node (rclpy messages) and the rosbag tools (rosbags messages) write the same messages, and
a replayed bag must carry exactly what the node publishes. The conversions that could drift
apart are decided here once: box corners to x, y, width, height; counters clamped to uint32;
a scene cluster outside uint8 reported as 0 (clustering off). ``ros/conversions.py`` and
``evaluation/bag_messages.py`` only wrap the two 3-vectors in their library's Point and Vector3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

UINT32_MAX = 2**32 - 1


def _u32(value: Any) -> int:
    return int(min(max(int(value), 0), UINT32_MAX))


def person_fields(person: Any) -> dict[str, Any]:
    """The fields of ``msg/TrackedPerson`` for one ``PersonTrack``, as Python numbers;
    ``position`` and ``velocity`` as ``(x, y, z)`` float tuples. Unknown values stay NaN."""
    x1, y1, x2, y2 = (float(v) for v in np.asarray(person.box, dtype=float)[:4])
    return {
        "id": int(person.id),
        "state": int(person.state),
        "score": float(person.score),
        "bbox_x": x1,
        "bbox_y": y1,
        "bbox_width": x2 - x1,
        "bbox_height": y2 - y1,
        "distance": float(person.distance),
        "distance_variance": float(person.distance_variance),
        "position": tuple(float(v) for v in np.asarray(person.position, dtype=float)[:3]),
        "velocity": tuple(float(v) for v in np.asarray(person.velocity, dtype=float)[:3]),
        "association_cost": float(person.association_cost),
        "age": _u32(person.age),
        "frames_since_update": _u32(person.frames_since_update),
    }


def scene_cluster_field(cluster: Any) -> int:
    """``TrackedPersonArray.scene_cluster`` (uint8): the cluster index, or 0 when out of range."""
    cluster = int(cluster)
    return cluster if 0 <= cluster <= 255 else 0
