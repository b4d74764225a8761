"""ROS-free tracking core: Kalman filters, track lifecycle, SORT / ByteTrack / OC-SORT.

All strategies share one contract, ``update(detections, frame=None) -> tracks``, and one
pluggable association cost (see :mod:`trackflow_ros.tracking.association`).
"""

from __future__ import annotations

from trackflow_ros.tracking.association import AssociationCost, IoUCost, iou_matrix, match
from trackflow_ros.tracking.base import Tracker
from trackflow_ros.tracking.bytetrack import ByteTrack
from trackflow_ros.tracking.ocsort import OCSORT
from trackflow_ros.tracking.sort import SORT
from trackflow_ros.tracking.track import Track, TrackState

TRACKERS: dict[str, type[Tracker]] = {"sort": SORT, "bytetrack": ByteTrack, "ocsort": OCSORT}


def make_tracker(name: str, **kwargs) -> Tracker:
    """A tracker by name (``sort``, ``bytetrack``, ``ocsort``); kwargs go to its constructor."""
    try:
        cls = TRACKERS[name]
    except KeyError:
        raise ValueError(f"unknown tracker {name!r}; choose one of {sorted(TRACKERS)}") from None
    return cls(**kwargs)


__all__ = [
    "OCSORT",
    "SORT",
    "TRACKERS",
    "AssociationCost",
    "ByteTrack",
    "IoUCost",
    "Track",
    "TrackState",
    "Tracker",
    "iou_matrix",
    "make_tracker",
    "match",
]
