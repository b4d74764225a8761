"""Launch trackflow_ros' tracker_node with its parameters file.

    ros2 launch trackflow_ros tracker.launch.py [params_file:=...] [image_topic:=...]

Untested on the development machines: `launch` and `launch_ros` have no PyPI wheels.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(
        get_package_share_directory("trackflow_ros"), "config", "tracker.yaml"
    )
    params_file = LaunchConfiguration("params_file")
    image_topic = LaunchConfiguration("image_topic")
    camera_info_topic = LaunchConfiguration("camera_info_topic")
    return LaunchDescription(
        [
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
            Node(
                package="trackflow_ros",
                executable="tracker_node",
                name="tracker_node",
                output="screen",
                parameters=[
                    params_file,
                    {"image_topic": image_topic, "camera_info_topic": camera_info_topic},
                ],
            ),
        ]
    )
