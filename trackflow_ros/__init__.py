"""trackflow_ros: tracked persons with stable identities and 3D distances from a camera.

The package is split in two: a ROS-free core (detection, distance, association, tracking,
evaluation) that works on numpy arrays, and ``trackflow_ros.ros``, the only place that imports
rclpy or message types.
"""

# The generated message modules (``trackflow_ros.msg``) are installed by the message build
# into site-packages, while a development checkout imports this source tree. extend_path joins
# every ``trackflow_ros`` directory on sys.path into one package, so both halves import under
# one name; in a colcon install both already live in one directory and this is a no-op.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
