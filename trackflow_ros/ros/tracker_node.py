"""tracker_node: camera images in, tracked persons (ids, distances, 3D positions) out.

    tracker_node --ros-args --params-file config/tracker.yaml \
        -r image:=/camera/image_raw -r camera_info:=/camera/camera_info

A managed (lifecycle) node that wires the ROS-free ``trackflow_ros.pipeline.Pipeline``
(detector -> distance -> tracker) to topics and nothing more:

- subscribes ``image`` (sensor_msgs/Image: rgb8, bgr8, mono8, rgba8, bgra8) and
  ``camera_info`` (sensor_msgs/CameraInfo), both with sensor-data QoS (reliability and depth
  are parameters; depth 1 by default); with ``detector: external`` and vision_msgs installed,
  also ``detections`` (vision_msgs/Detection2DArray), which then drives the processing;
- publishes ``tracks`` (trackflow_ros/TrackedPersonArray, header = the image's),
  ``tracks/markers`` (visualization_msgs/MarkerArray), ``tracks/image`` (annotated, when
  ``publish_image`` is true or the topic has a subscriber), ``tracks/detections3d``
  (vision_msgs/Detection3DArray, when vision_msgs is installed) and ``/diagnostics``.

Real time: the subscription callback validates a message's header (cheap) and drops it into a
one-slot mailbox; a worker thread converts and processes the newest frame only, counting the
frames it never saw. The executor thread stays free, so parameter and lifecycle services
answer while a slow detector runs, and no backlog can build up.

Lifecycle: ``configure`` builds the pipeline (loads weights) and the publishers,
``activate`` subscribes and starts the worker, ``deactivate`` stops both, ``cleanup`` drops
the pipeline. ``autostart`` (default true) runs configure + activate at start-up, so the node
works with no lifecycle manager (``ros2 lifecycle`` is not needed, and not available on the
development machines). Parameters that shape what ``configure`` builds are rejected with a
reason while the node is configured and accepted while it is unconfigured.

Bad input never stops the node: a malformed image or CameraInfo is counted, reported by a
throttled warning that names the problem, and skipped; an exception inside the pipeline is
counted and reported the same way and the next frame is processed normally.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from trackflow_ros.distance.pinhole import CameraInfoError, CameraIntrinsics
from trackflow_ros.msg import TrackedPersonArray
from trackflow_ros.ros.camera_info import camera_info_to_intrinsics, fallback_intrinsics
from trackflow_ros.ros.conversions import (
    VISION_MSGS,
    MarkerBuilder,
    detections_from_detection2d_array,
    tracks_to_detection3d_array,
    tracks_to_msg,
)
from trackflow_ros.ros.frame_mailbox import FrameMailbox
from trackflow_ros.ros.image_conversion import ImageError, bgr_to_image, check_image, image_to_bgr
from trackflow_ros.ros.node_stats import NodeStats
from trackflow_ros.ros.parameters import NODE_PARAMS, ParamSpec, pipeline_param_specs
from trackflow_ros.ros.throttled_log import ThrottledWarnings
from trackflow_ros.viz import Trails, draw_tracks

NODE_NAME = "tracker_node"
OUTPUT_QOS = QoSProfile(
    depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE
)
# Reliable so that best-effort and reliable subscribers (RViz offers both) match; depth 1
# because an annotated image is only worth seeing while it is new.
IMAGE_OUT_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE
)
TRAIL_LENGTH = 30
WARNING_PERIOD_S = 5.0  # at most one warning per kind of bad input per this many seconds
PERSON_DIAMETER_M = 0.5  # of the RViz cylinder and the Detection3D box


def _pipeline_module() -> Any:
    """Imported on first use so that a broken optional backend cannot break parameter listing."""
    from trackflow_ros import pipeline

    return pipeline


@dataclass
class Frame:
    """What the callback hands to the worker: a header-checked image (and detections)."""

    header: Header
    image: Image | None
    detections: np.ndarray | None
    received: float  # time.monotonic() at the callback


def _stamp_seconds(header: Header) -> float:
    return header.stamp.sec + 1e-9 * header.stamp.nanosec


class TrackerNode(LifecycleNode):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._pipeline_specs = pipeline_param_specs(_pipeline_module().PipelineConfig)
        self._specs: dict[str, ParamSpec] = {}
        for spec in (*NODE_PARAMS, *self._pipeline_specs):
            if spec.name in self._specs:
                raise RuntimeError(f"parameter {spec.name} declared twice")
            self._specs[spec.name] = spec
        self._declare_all()
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self._configured = False
        self._pipeline: Any = None
        self._mailbox: FrameMailbox[Frame] = FrameMailbox()
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._stats = NodeStats()
        self._warnings = ThrottledWarnings(self.get_logger().warning, WARNING_PERIOD_S)
        self._pending_live: dict[str, Any] = {}  # pipeline changes for the worker to apply
        self._live_lock = threading.Lock()
        self._camera_lock = threading.Lock()
        self._camera_info: CameraIntrinsics | None = None
        self._warned_no_camera = False
        self._last_stamp: float | None = None
        self._markers = MarkerBuilder()
        self._trails = Trails(length=TRAIL_LENGTH)
        self._recent_images: deque[Image] = deque(maxlen=8)  # external detections: pair by stamp
        self._last_log = time.monotonic()
        self._last_counts: dict[str, float] = {}  # counters at the previous diagnostics
        self._pubs: dict[str, Any] = {}
        self._subs: list[Any] = []
        self._timer: Any = None
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", OUTPUT_QOS)
        if VISION_MSGS is None:
            self.get_logger().info(
                "vision_msgs is not installed: the 'detections' input (detector: external) and "
                "the 'tracks/detections3d' output are unavailable; tracks, markers and the "
                "annotated image work as usual"
            )

    # ----------------------------------------------------------------------------- parameters
    def _declare_all(self) -> None:
        for spec in self._specs.values():
            try:
                self.declare_parameter(spec.name, spec.default, spec.descriptor())
            except Exception as exc:  # a params-file value of the wrong type or out of range
                hint = ""
                if isinstance(spec.default, float) and "'INTEGER'" in str(exc):
                    hint = f" Write it with a decimal point, e.g. {spec.name}: 2.0."
                raise ValueError(
                    f"parameter {spec.name}: {exc} (default {spec.default!r}; "
                    f"{spec.descriptor().description}){hint}"
                ) from exc
            problem = spec.check(self.get_parameter(spec.name).value)
            if problem:
                raise ValueError(f"parameter {problem}")

    def _param(self, name: str) -> Any:
        return self.get_parameter(name).value

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        for param in params:
            spec = self._specs.get(param.name)
            if spec is None:
                continue  # rclpy's own (use_sim_time, ...)
            problem = spec.check(param.value)
            if problem:
                return SetParametersResult(successful=False, reason=problem)
            if not spec.live and self._configured:
                return SetParametersResult(
                    successful=False,
                    reason=(
                        f"{param.name} cannot change while the node is configured: it shapes "
                        "what configure builds. Deactivate and clean up the lifecycle node, set "
                        "it, and configure again (or restart the node with the new value)."
                    ),
                )
        live_pipeline = {
            p.name: p.value
            for p in params
            if p.name in self._specs and self._specs[p.name] in self._pipeline_specs
        }
        if live_pipeline and self._pipeline is not None:
            try:
                self._apply_live_pipeline(live_pipeline)
            except Exception as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _apply_live_pipeline(self, changes: dict[str, Any]) -> None:
        """Validate live pipeline settings now (so a bad value is rejected with its reason);
        the worker hands them to ``Pipeline.reconfigure`` between two frames, so this
        callback never waits for a frame in progress and never changes one half-way."""
        with self._live_lock:
            pending = {**self._pending_live, **changes}
            dataclasses.replace(self._pipeline.config, **pending)  # ValueError names the field
            self._pending_live = pending

    def _swap_in_live_changes(self) -> None:
        with self._live_lock:
            pending, self._pending_live = self._pending_live, {}
        if pending:
            self._pipeline.reconfigure(pending)
            self.get_logger().info(f"live parameter change applied: {pending}")

    def _pipeline_params(self) -> dict[str, Any]:
        out = {}
        for spec in self._pipeline_specs:
            value = self._param(spec.name)
            out[spec.name] = None if spec.optional and value == "" else value
        return out

    # ------------------------------------------------------------------------------ lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        pipeline_mod = _pipeline_module()
        try:
            config = pipeline_mod.PipelineConfig.from_dict(self._pipeline_params())
            if config.detector == "external" and VISION_MSGS is None:
                raise RuntimeError(
                    "detector 'external' takes vision_msgs/Detection2DArray on 'detections', "
                    "but vision_msgs is not installed here; install ros-<distro>-vision-msgs or "
                    "choose a built-in detector"
                )
            pipeline = pipeline_mod.Pipeline(config)
        except Exception as exc:
            self.get_logger().error(f"configure failed: {exc}")
            return TransitionCallbackReturn.FAILURE
        self._pipeline = pipeline
        self._pubs = {
            "tracks": self.create_publisher(TrackedPersonArray, "tracks", OUTPUT_QOS),
            "markers": self.create_publisher(MarkerArray, "tracks/markers", OUTPUT_QOS),
            "image": self.create_publisher(Image, "tracks/image", IMAGE_OUT_QOS),
        }
        if VISION_MSGS is not None:
            self._pubs["detections3d"] = self.create_publisher(
                VISION_MSGS.Detection3DArray, "tracks/detections3d", OUTPUT_QOS
            )
        self._timer = self.create_timer(self._param("diagnostics_period"), self._on_timer)
        self._configured = True
        self.get_logger().info(
            f"configured: detector {config.detector}, distance {config.distance}, "
            f"tracker {config.tracker}, cost {config.cost}"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        reliability = (
            ReliabilityPolicy.RELIABLE
            if self._param("qos_reliability") == "reliable"
            else ReliabilityPolicy.BEST_EFFORT
        )
        sensor_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=int(self._param("qos_depth")),
            reliability=reliability,
            durability=DurabilityPolicy.VOLATILE,
        )
        # camera_info first: when both are ready in one executor pass, the calibration that
        # came with an image is then in place before the image reaches the worker
        self._subs = [
            self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, sensor_qos),
            self.create_subscription(Image, "image", self._on_image, sensor_qos),
        ]
        if self._pipeline.config.detector == "external":
            self._subs.append(
                self.create_subscription(
                    VISION_MSGS.Detection2DArray, "detections", self._on_detections, sensor_qos
                )
            )
        self._stop.clear()
        self._mailbox = FrameMailbox()
        self._worker = threading.Thread(target=self._work, name="tracker_worker", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"active: listening on {self.resolve_topic_name('image')} and "
            f"{self.resolve_topic_name('camera_info')}"
        )
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_worker()
        for sub in self._subs:
            self.destroy_subscription(sub)
        self._subs = []
        if "markers" in self._pubs:
            header = Header(frame_id=self._param("camera_frame_id"))
            header.stamp = self.get_clock().now().to_msg()
            self._pubs["markers"].publish(self._markers.clear(header))
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_worker()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        for sub in self._subs:
            self.destroy_subscription(sub)
        self._subs = []
        for pub in self._pubs.values():
            self.destroy_publisher(pub)
        self._pubs = {}
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        self._pipeline = None
        self._configured = False
        self._last_stamp = None
        self._trails = Trails(length=TRAIL_LENGTH)

    def _stop_worker(self) -> None:
        self._stop.set()
        self._mailbox.close()
        if self._worker is not None:
            self._worker.join(timeout=30.0)
            self._worker = None

    # ------------------------------------------------------------------------------ callbacks
    def _on_image(self, msg: Image) -> None:
        self._stats.on_received()
        try:
            check_image(msg)
        except ImageError as exc:
            self._stats.on_rejected()
            self._warnings.warn("image", f"image rejected: {exc}")
            return
        if self._pipeline is not None and self._pipeline.config.detector == "external":
            self._recent_images.append(msg)  # used by the detections that carry its stamp
            return
        if self._mailbox.put(Frame(msg.header, msg, None, time.monotonic())):
            self._stats.on_dropped()

    def _on_camera_info(self, msg: CameraInfo) -> None:
        try:
            camera = camera_info_to_intrinsics(msg)
        except CameraInfoError as exc:
            self._stats.on_rejected()
            self._warnings.warn("camera_info", f"camera_info ignored: {exc}")
            return
        with self._camera_lock:
            self._camera_info = camera

    def _on_detections(self, msg: Any) -> None:  # untested here: needs vision_msgs
        self._stats.on_received()
        try:
            dets = detections_from_detection2d_array(msg)
        except (AttributeError, TypeError, ValueError) as exc:
            self._stats.on_rejected()
            self._warnings.warn("detections", f"detections rejected: {exc!r}")
            return
        image = next(
            (i for i in reversed(self._recent_images) if i.header.stamp == msg.header.stamp), None
        )
        if self._mailbox.put(Frame(msg.header, image, dets, time.monotonic())):
            self._stats.on_dropped()

    # --------------------------------------------------------------------------------- worker
    def _work(self) -> None:
        while not self._stop.is_set():
            frame = self._mailbox.take(timeout=0.5)
            if frame is None:
                continue
            try:
                self._process(frame)
            except Exception as exc:  # one bad frame must not end the node
                self._stats.on_failed(repr(exc))
                self._warnings.warn("pipeline", f"frame failed in the pipeline: {exc!r}")

    def _intrinsics_source(self) -> str:
        """Where distances come from now: camera_info, the fallback parameters, or none."""
        with self._camera_lock:
            if self._camera_info is not None:
                return "camera_info"
        if self._param("fallback_fx") > 0 and self._param("fallback_fy") > 0:
            return "fallback parameters"
        return "none (NaN distances and 3D fields)"

    def _camera_for(self, width: int, height: int) -> CameraIntrinsics | None:
        with self._camera_lock:
            camera = self._camera_info
        if camera is not None and (camera.width, camera.height) == (width, height):
            return camera
        if camera is not None:
            self._warnings.warn(
                "camera_size",
                f"camera_info is for {camera.width}x{camera.height} images but the image is "
                f"{width}x{height}; not using it for this frame",
            )
        fallback = fallback_intrinsics(
            self._param("fallback_fx"),
            self._param("fallback_fy"),
            self._param("fallback_cx"),
            self._param("fallback_cy"),
            width,
            height,
        )
        if fallback is None and not self._warned_no_camera:
            self._warned_no_camera = True
            self.get_logger().warning(
                "no valid camera_info yet and no fallback_fx/fallback_fy parameters: publishing "
                "tracks with NaN distances and 3D positions until a camera_info arrives"
            )
        return fallback

    def _process(self, frame: Frame) -> None:
        t0 = time.perf_counter()
        image_bgr = None
        if frame.image is not None:
            image_bgr = image_to_bgr(frame.image)
        t_convert = time.perf_counter() - t0
        extra = float(self._param("debug_extra_latency_s"))
        if extra > 0:
            self._stop.wait(extra)
        if image_bgr is not None:
            height, width = image_bgr.shape[:2]
            camera = self._camera_for(width, height)
        else:
            with self._camera_lock:
                camera = self._camera_info
        stamp = _stamp_seconds(frame.header)
        if stamp <= 0.0:  # unstamped source: velocities need a clock, take ours
            stamp = self.get_clock().now().nanoseconds * 1e-9
        if self._last_stamp is not None and stamp < self._last_stamp:
            self.get_logger().info(
                f"image time went back ({self._last_stamp:.3f} -> {stamp:.3f} s; a rosbag "
                "loop?): tracks reset"
            )
            self._pipeline.reset()
            self._trails = Trails(length=TRAIL_LENGTH)
        self._last_stamp = stamp
        self._swap_in_live_changes()
        result = self._pipeline.process(image_bgr, stamp, camera, frame.detections)

        t1 = time.perf_counter()
        header = Header(stamp=frame.header.stamp, frame_id=frame.header.frame_id)
        if not header.frame_id:
            header.frame_id = self._param("camera_frame_id")
        self._publish(result, header, image_bgr)
        t_publish = time.perf_counter() - t1

        now_ros = self.get_clock().now().nanoseconds * 1e-9
        stage = {"convert": t_convert, "publish": t_publish}
        stage.update({k: float(v) for k, v in result.timings.items()})
        stage["total"] = time.monotonic() - frame.received
        age = now_ros - _stamp_seconds(frame.header) if _stamp_seconds(frame.header) > 0 else None
        self._stats.on_processed(stage, age)

    def _publish(self, result: Any, header: Header, image_bgr: np.ndarray | None) -> None:
        persons = result.persons
        pubs = self._pubs
        pubs["tracks"].publish(tracks_to_msg(persons, header, result.scene_cluster))
        height = float(self._pipeline.config.person_height)
        if self._param("publish_markers"):
            self._markers.person_height = height
            pubs["markers"].publish(self._markers.build(persons, header))
        if "detections3d" in pubs and self._param("publish_detections3d"):
            pubs["detections3d"].publish(
                tracks_to_detection3d_array(persons, header, height, PERSON_DIAMETER_M)
            )
        trails = self._trails.update(persons)  # every frame, so trails have no gaps
        want_image = self._param("publish_image") or pubs["image"].get_subscription_count() > 0
        if want_image and image_bgr is not None:
            annotated = draw_tracks(image_bgr, persons, trails=trails)
            pubs["image"].publish(bgr_to_image(annotated, header))

    # ---------------------------------------------------------------------------- diagnostics
    def _on_timer(self) -> None:
        summary = self._stats.summary()
        level = DiagnosticStatus.OK
        message = "tracking"
        # WARN/ERROR reflect the last period, so the status recovers once the input does
        last = self._last_counts
        new_rejected = summary["inputs_rejected"] - last.get("inputs_rejected", 0)
        new_failed = summary["frames_failed"] - last.get("frames_failed", 0)
        new_processed = summary["frames_processed"] - last.get("frames_processed", 0)
        self._last_counts = summary
        if new_failed and not new_processed:
            level, message = DiagnosticStatus.ERROR, f"frames fail: {self._stats.last_error}"
        elif new_failed:
            level, message = DiagnosticStatus.WARN, f"some frames failed: {self._stats.last_error}"
        elif new_rejected:
            level, message = DiagnosticStatus.WARN, "inputs rejected (see the log for why)"
        elif summary["frames_received"] and not summary["frames_processed"]:
            level, message = DiagnosticStatus.WARN, "frames received but none processed yet"
        status = DiagnosticStatus(
            level=level,
            name=f"{self.get_fully_qualified_name()}: pipeline",
            message=message,
            hardware_id="",
            values=[KeyValue(key=k, value=_fmt(v)) for k, v in summary.items()],
        )
        status.values.append(KeyValue(key="intrinsics", value=self._intrinsics_source()))
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)
        period = float(self._param("log_period"))
        now = time.monotonic()
        if period > 0 and now - self._last_log >= period:
            self._last_log = now
            self.get_logger().info(self._stats.log_line())


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv if argv is None else argv
    rclpy.init(args=args)
    node: TrackerNode | None = None
    executor = SingleThreadedExecutor()
    try:
        node = TrackerNode()
        executor.add_node(node)
        if node.get_parameter("autostart").value:
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                print("tracker_node: configure failed (reason logged above)", file=sys.stderr)
                return 1
            if node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
                print("tracker_node: activate failed (reason logged above)", file=sys.stderr)
                return 1
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except ValueError as exc:  # bad parameter values
        print(f"tracker_node: {exc}", file=sys.stderr)
        return 1
    finally:
        if node is not None:
            node._stop_worker()
            executor.remove_node(node)
            node.destroy_node()
        executor.shutdown()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
