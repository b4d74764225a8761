"""ROS 2 side of trackflow_ros: nodes and message conversions.

This is the only sub-package that imports rclpy or ROS message types; everything else in
trackflow_ros must stay importable on a machine without ROS 2.
"""
