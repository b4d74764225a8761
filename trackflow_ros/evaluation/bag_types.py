"""Our message types for ``rosbags``, so bags are read and written without a ROS install.

rosbags is pure Python and knows the standard ROS 2 types; our own types are registered from
the same ``msg/*.msg`` files that the message build compiles, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

PACKAGE = "trackflow_ros"
MESSAGE_NAMES = ("TrackedPerson", "TrackedPersonArray")


def msg_dir() -> Path:
    """Where the ``.msg`` files are: the source checkout, else an installed ament share dir."""
    candidates = [Path(__file__).resolve().parents[2] / "msg"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / PACKAGE / "msg")
    for candidate in candidates:
        if all((candidate / f"{name}.msg").is_file() for name in MESSAGE_NAMES):
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"{PACKAGE} message definitions not found; looked in: {tried}")


def trackflow_typestore(store: Stores = Stores.ROS2_KILTED) -> Typestore:
    """A typestore with the standard types of ``store`` plus ``trackflow_ros/msg/*``."""
    typestore = get_typestore(store)
    types = {}
    directory = msg_dir()
    for name in MESSAGE_NAMES:
        text = (directory / f"{name}.msg").read_text()
        types.update(get_types_from_msg(text, f"{PACKAGE}/msg/{name}"))
    typestore.register(types)
    return typestore
