"""Drive a tracker_node process over real DDS: the tests, the throughput bench and demos use it.

``TrackerNodeProcess`` starts ``python -m trackflow_ros.ros.tracker_node`` with a params file,
``-p`` overrides and topic remaps, and stops it with SIGINT (as a terminal would), keeping its
log. ``NodeClient`` is the other end in this process: publishers for images and CameraInfo,
subscriptions to the node's outputs (recorded with their arrival time), spun by a background
executor, and helpers that wait for discovery and for the tracks of a given image stamp.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from trackflow_ros.distance.pinhole import CameraIntrinsics
from trackflow_ros.msg import TrackedPersonArray
from trackflow_ros.ros.image_conversion import bgr_to_image

RELIABLE = QoSProfile(
    depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE
)


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TrackerNodeProcess:
    """The node as a separate process; use as a context manager."""

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        params_file: Path | str | None = None,
        remaps: Mapping[str, str] | None = None,
        log_path: Path | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.cmd = [sys.executable, "-m", "trackflow_ros.ros.tracker_node", "--ros-args"]
        if params_file is not None:
            self.cmd += ["--params-file", str(params_file)]
        for name, value in (params or {}).items():
            self.cmd += ["-p", f"{name}:={_param_text(value)}"]
        for src, dst in (remaps or {}).items():
            self.cmd += ["-r", f"{src}:={dst}"]
        self.log_path = Path(log_path) if log_path is not None else None
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.env.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "0")
        self.proc: subprocess.Popen[str] | None = None
        self._log_file: Any = None
        self.returncode: int | None = None

    def start(self) -> TrackerNodeProcess:
        out = subprocess.DEVNULL
        if self.log_path is not None:
            self._log_file = open(self.log_path, "w")  # closed in stop()
            out = self._log_file
        self.proc = subprocess.Popen(
            self.cmd, stdout=out, stderr=subprocess.STDOUT, text=True, env=self.env
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGINT, then wait; kill only if it does not exit (that is then a failure)."""
        if self.proc is None:
            return -1
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self.returncode = self.proc.returncode
        return self.returncode

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def __enter__(self) -> TrackerNodeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stamp_of(seconds: float) -> Time:
    ns = round(seconds * 1e9)
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def stamp_seconds(stamp: Time) -> float:
    return stamp.sec + 1e-9 * stamp.nanosec


def camera_info_msg(camera: CameraIntrinsics, frame_id: str = "camera_optical_frame") -> CameraInfo:
    msg = CameraInfo(header=Header(frame_id=frame_id), width=camera.width, height=camera.height)
    msg.k = camera.k.reshape(-1).astype(float)
    msg.p = np.hstack([camera.k, np.zeros((3, 1))]).reshape(-1).astype(float)
    msg.r = np.eye(3).reshape(-1)
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    return msg


class NodeClient:
    """Publishes to and records from a tracker node; call ``close()`` when done."""

    def __init__(
        self,
        name: str = "tracker_node_client",
        namespace: str = "",
        image_topic: str | None = None,
        camera_info_topic: str | None = None,
        depth: int = 10,
    ) -> None:
        self._own_context = not rclpy.ok()
        if self._own_context:
            rclpy.init()
        self.node = rclpy.create_node(name)
        ns = namespace.rstrip("/")
        self.namespace = ns
        self.lock = threading.Lock()
        self.tracks: list[tuple[float, TrackedPersonArray]] = []
        self.markers: list[tuple[float, MarkerArray]] = []
        self.images: list[tuple[float, Image]] = []
        self.diagnostics: list[tuple[float, DiagnosticArray]] = []
        qos = QoSProfile(
            depth=depth,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.VOLATILE,
        )
        self.image_pub = self.node.create_publisher(Image, image_topic or f"{ns}/image", qos)
        self.info_pub = self.node.create_publisher(
            CameraInfo, camera_info_topic or f"{ns}/camera_info", qos
        )
        self._subs = [
            self.node.create_subscription(
                TrackedPersonArray, f"{ns}/tracks", self._recorder(self.tracks), RELIABLE
            ),
            self.node.create_subscription(
                MarkerArray, f"{ns}/tracks/markers", self._recorder(self.markers), RELIABLE
            ),
            self.node.create_subscription(
                DiagnosticArray, "/diagnostics", self._recorder(self.diagnostics), RELIABLE
            ),
        ]
        self._clients: dict[tuple[Any, str], Any] = {}
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()

    def subscribe_images(self, namespace: str = "") -> None:
        ns = namespace.rstrip("/")
        self._subs.append(
            self.node.create_subscription(
                Image, f"{ns}/tracks/image", self._recorder(self.images), RELIABLE
            )
        )

    def _recorder(self, store: list) -> Callable[[Any], None]:
        def record(msg: Any) -> None:
            now = time.time()
            with self.lock:
                store.append((now, msg))

        return record

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # context shut down under us while closing
            pass

    def wait_for(
        self, condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.02
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(poll)

    def wait_for_node(self, timeout: float = 60.0) -> None:
        """Until the node subscribes to our image and camera_info and publishes tracks."""
        self.wait_for(
            lambda: (
                self.image_pub.get_subscription_count() > 0
                and self.info_pub.get_subscription_count() > 0
                and self._subs[0].get_publisher_count() > 0
            ),
            timeout,
            "the tracker node to appear on the graph",
        )

    def publish_camera_info(self, camera: CameraIntrinsics, frame_id: str = "camera_optical_frame"):
        self.info_pub.publish(camera_info_msg(camera, frame_id))

    def publish_image(
        self, image_bgr: np.ndarray, stamp: float, frame_id: str = "camera_optical_frame"
    ) -> None:
        header = Header(stamp=stamp_of(stamp), frame_id=frame_id)
        self.image_pub.publish(bgr_to_image(image_bgr, header))

    def tracks_for(self, stamp: float) -> TrackedPersonArray | None:
        want = stamp_of(stamp)
        with self.lock:
            for _, msg in reversed(self.tracks):
                if msg.header.stamp == want:
                    return msg
        return None

    def wait_for_tracks(
        self, stamp: float, timeout: float = 30.0, poll: float = 0.02
    ) -> TrackedPersonArray:
        self.wait_for(
            lambda: self.tracks_for(stamp) is not None, timeout, f"tracks of {stamp}", poll
        )
        msg = self.tracks_for(stamp)
        assert msg is not None
        return msg

    def call(self, srv_type: Any, name: str, request: Any, timeout: float = 10.0) -> Any:
        """A service call from this client's node (the background executor completes it).

        Service clients are kept until ``close()``: destroying one while the executor spins
        in its thread was seen to stop a later CameraInfo from reaching the node."""
        key = (srv_type, name)
        cli = self._clients.get(key)
        if cli is None:
            cli = self._clients[key] = self.node.create_client(srv_type, name)
        if not cli.wait_for_service(timeout_sec=timeout):
            raise TimeoutError(f"service {name} not available within {timeout} s")
        future = cli.call_async(request)
        self.wait_for(future.done, timeout, f"a reply from {name}", poll=0.001)
        return future.result()

    def send_camera_info_until_used(
        self, camera: CameraIntrinsics, frame_id: str = "camera_optical_frame", timeout=30.0
    ) -> None:
        """Publish the CameraInfo until the node's diagnostics say it has one. On the
        development host the first CameraInfos after discovery were sometimes never delivered
        (reliable QoS, seen in about 1 run in 10), and can in any case arrive after later
        messages on other topics; a camera driver publishes one with every image, so only
        tests and benches that send a few need this."""

        def received() -> bool:
            self.publish_camera_info(camera, frame_id)
            return self.latest_diagnostics().get("intrinsics") == "camera_info"

        self.wait_for(received, timeout, "the node to take the camera_info", poll=0.2)

    def latest_diagnostics(self) -> dict[str, str]:
        """Key/values of the newest DiagnosticStatus of the tracker node in this client's
        namespace (/diagnostics is shared by every node of the graph)."""
        name = f"{self.namespace}/tracker_node: pipeline"
        with self.lock:
            for _, array in reversed(self.diagnostics):
                for status in array.status:
                    if status.name == name:
                        return {kv.key: kv.value for kv in status.values}
        return {}

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        if self._own_context:
            rclpy.try_shutdown()
        self._spinner.join(timeout=5.0)


@contextmanager
def node_session(
    namespace: str,
    params: Mapping[str, Any] | None = None,
    params_file: Path | str | None = None,
    remaps: Mapping[str, str] | None = None,
    log_path: Path | str | None = None,
    **client_options: Any,
) -> Iterator[tuple[TrackerNodeProcess, NodeClient]]:
    """The node in its own process under ``namespace`` and a client in the same namespace.

    However the block ends, the client is closed and then the node stopped with SIGINT, so no
    test or benchmark leaves a node running; the node's exit status is ``proc.returncode``
    afterwards, for the caller to check (a crash or a node that had to be killed is a failure).
    """
    proc = TrackerNodeProcess(
        params=params,
        params_file=params_file,
        remaps={"__ns": namespace, **(remaps or {})},
        log_path=log_path,
    ).start()
    try:
        client = NodeClient(namespace=namespace, **client_options)
    except BaseException:
        proc.stop()
        raise
    try:
        yield proc, client
    finally:
        client.close()
        proc.stop()
