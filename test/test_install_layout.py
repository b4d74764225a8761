"""The CMake install a colcon user gets: one merged Python package and the node executable.

colcon runs exactly this configure/build/install for an ament_cmake package; here it runs
against the ROS 2 wheels in the venv, from a copy of the sources outside the repository (the
venv lives inside it, and CMake refuses exported include paths inside the source tree).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

SOURCES = [
    "CMakeLists.txt",
    "package.xml",
    "msg",
    "trackflow_ros",
    "scripts",
    "launch",
    "config",
    "rviz",
]


def test_cmake_install_matches_what_ros2_run_and_launch_expect(repo_root, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        path = repo_root / name
        copy = shutil.copytree if path.is_dir() else shutil.copy2
        copy(path, src / name)
    venv = Path(sys.prefix)
    env = dict(os.environ, CMAKE_PREFIX_PATH=str(venv), AMENT_PREFIX_PATH=str(venv))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    prefix = tmp_path / "install"
    steps = [
        ["cmake", "-S", src, "-B", tmp_path / "build", f"-DCMAKE_INSTALL_PREFIX={prefix}",
         f"-DPython3_EXECUTABLE={sys.executable}", "-DBUILD_TESTING=OFF"],
        ["cmake", "--build", tmp_path / "build", "-j2"],
        ["cmake", "--install", tmp_path / "build"],
    ]  # fmt: skip
    for step in steps:
        result = subprocess.run(step, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    pyver = sysconfig.get_python_version()
    package = prefix / "lib" / f"python{pyver}" / "site-packages" / "trackflow_ros"
    # our sources, not rosidl's empty __init__.py, and the generated messages beside them
    assert (package / "__init__.py").read_text() == (
        repo_root / "trackflow_ros/__init__.py"
    ).read_text()
    assert (package / "ros" / "roundtrip.py").is_file()
    assert (package / "msg" / "_tracked_person_array.py").is_file()
    assert list(package.glob("trackflow_ros_s__rosidl_typesupport_c*.so"))
    node = prefix / "lib" / "trackflow_ros" / "tracker_node"
    assert node.is_file() and os.access(node, os.X_OK)
    share = prefix / "share" / "trackflow_ros"
    assert (share / "launch" / "tracker.launch.py").is_file()
    assert (share / "config" / "tracker.yaml").is_file()
    assert (share / "rviz" / "tracker.rviz").is_file()
    assert (share / "msg" / "TrackedPersonArray.msg").is_file()
    assert (prefix / "share/ament_index/resource_index/packages/trackflow_ros").is_file()
