# Developer entry points. `make setup` is idempotent; every other target runs it first.
PY := .venv/bin/python
# Keep DDS discovery on this host unless the caller says otherwise.
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST

.PHONY: setup test demo roundtrip lint format clean

setup:
	bash scripts/setup.sh

test: setup
	$(PY) -m pytest

# The real tracker_node on the PETS09-S2L1 video over DDS, scored against its ground truth.
demo: setup
	$(PY) -m trackflow_ros.ros.demo

# A TrackedPersonArray between two processes over DDS (checks the ROS 2 set-up alone).
roundtrip: setup
	$(PY) -m trackflow_ros.ros.roundtrip demo

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf build .venv
