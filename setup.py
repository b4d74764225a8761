"""pip packaging of the trackflow_ros Python package.

In a colcon workspace CMakeLists.txt installs the package (ament_python_install_package) and
builds the messages; this file serves pip users and the development venv (scripts/setup.sh),
where the messages are built separately with cmake. Dependencies are pinned in
requirements.txt, not here, because the ROS 2 ones come from a distro on a robot.
"""

from setuptools import find_packages, setup

setup(
    name="trackflow_ros",
    version="0.1.0",
    description="Person tracking with a normalizing-flow association cost, for ROS 2",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["trackflow_ros", "trackflow_ros.*"]),
    package_data={"trackflow_ros.association": ["weights/*.pt"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/trackflow_ros"]),
        ("share/trackflow_ros", ["package.xml"]),
    ],
    entry_points={
        "console_scripts": [
            "trackflow-eval = trackflow_ros.cli:eval_main",
            "trackflow-train-flow = trackflow_ros.cli:train_flow_main",
            "trackflow-roundtrip = trackflow_ros.ros.roundtrip:main",
            "trackflow-fit-scenes = trackflow_ros.scene.fit_cli:main",
            "trackflow-make-synthetic = trackflow_ros.distance.synthetic:main",
            "trackflow-train-distance = trackflow_ros.distance.train:main",
            "trackflow-eval-distance = trackflow_ros.distance.evaluate:main",
            "trackflow-export = trackflow_ros.distance.export:main",
            "trackflow-make-bag = trackflow_ros.evaluation.make_bag:main",
            "trackflow-replay = trackflow_ros.evaluation.replay:main",
            "trackflow-demo = trackflow_ros.ros.demo:main",
            "tracker_node = trackflow_ros.ros.tracker_node:main",
        ],
    },
)
