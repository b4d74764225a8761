"""Shared test set-up.

DDS tests run on a real ROS 2 graph. To keep them from talking to (or being disturbed by) any
other graph on the machine, each pytest session gets its own ROS_DOMAIN_ID, and discovery is
confined to this host (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST). Subprocesses inherit both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("ROS_DOMAIN_ID", str(100 + os.getpid() % 100))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data (MOTChallenge sequences); ``TRACKFLOW_DATA`` overrides the place."""
    path = Path(os.environ.get("TRACKFLOW_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not (path / "MOT15" / "train").is_dir():
        pytest.fail(
            f"real data not found at {path} (expected MOT15/train in it); "
            "set TRACKFLOW_DATA to the shared data folder",
            pytrace=False,
        )
    return path
