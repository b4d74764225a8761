"""Launch trackflow_ros' tracker_node with its parameters file.

    ros2 launch trackflow_ros tracker.launch.py image_topic:=/camera/image_raw \
        camera_info_topic:=/camera/camera_info [namespace:=...] [params_file:=...] \
        [use_sim_time:=true]

Thin on purpose: everything it does is also ``tracker_node --ros-args --params-file
config/tracker.yaml -r image:=... -r camera_info:=...`` (what the tests run, since `launch` and
`launch_ros` have no PyPI wheels on the development machines). The node is a lifecycle node
that configures and activates itself (``autostart: true``), so a plain ``Node`` action runs it;
set ``autostart: false`` in the params file to hand it to a lifecycle manager instead.
test/test_launch_description.py checks this file where launch_ros is installed.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(
        get_package_share_directory("trackflow_ros"), "config", "tracker.yaml"
    )
    args = [
        DeclareLaunchArgument("namespace", default_value="", description="node namespace"),
        DeclareLaunchArgument(
            "params_file", default_value=default_params, description="node parameters YAML"
        ),
        DeclareLaunchArgument(
            "image_topic", default_value="/camera/image_raw", description="input images"
        ),
        DeclareLaunchArgument(
            "camera_info_topic",
            default_value="/camera/camera_info",
            description="calibration of the input images",
        ),
        DeclareLaunchArgument(
            "use_sim_time", default_value="false", description="use /clock (rosbag replay)"
        ),
    ]
    node = Node(
        package="trackflow_ros",
        executable="tracker_node",
        name="tracker_node",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        parameters=[
            LaunchConfiguration("params_file"),
            {"use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool)},
        ],
        remappings=[
            ("image", LaunchConfiguration("image_topic")),
            ("camera_info", LaunchConfiguration("camera_info_topic")),
        ],
    )
    return LaunchDescription([*args, node])
