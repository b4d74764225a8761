"""launch/tracker.launch.py builds the node action users expect (where launch_ros exists).

launch and launch_ros have no PyPI wheels, so on the development machines this test is
skipped with that reason; the node itself is tested by running it directly
(test_tracker_node_dds.py), which is all the launch file does.
"""

from __future__ import annotations

import importlib.util

import pytest


def test_launch_description_declares_the_arguments_and_the_node(repo_root, monkeypatch):
    pytest.importorskip(
        "launch_ros",
        reason="launch_ros is not installed here (no PyPI wheel); runs in a ROS 2 install",
    )
    # the share directory lookup needs an installed package; point it at this checkout
    import ament_index_python.packages as packages
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument
    from launch_ros.actions import Node

    monkeypatch.setattr(packages, "get_package_share_directory", lambda _: str(repo_root))
    spec = importlib.util.spec_from_file_location(
        "tracker_launch", repo_root / "launch" / "tracker.launch.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    args = {e.name: e for e in description.entities if isinstance(e, DeclareLaunchArgument)}
    assert set(args) == {
        "namespace",
        "params_file",
        "image_topic",
        "camera_info_topic",
        "use_sim_time",
    }
    assert args["params_file"].default_value[0].text.endswith("config/tracker.yaml")
    (node,) = [e for e in description.entities if isinstance(e, Node)]
    assert node.node_package == "trackflow_ros" and node.node_executable == "tracker_node"
    context = LaunchContext()
    for arg in args.values():
        arg.visit(context)
    node._perform_substitutions(context)
    remaps = dict(node.expanded_remapping_rules)
    assert remaps == {"image": "/camera/image_raw", "camera_info": "/camera/camera_info"}
