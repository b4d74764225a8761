"""One frame in, tracked persons out: detector -> distance -> tracker with its association cost.

ROS-free on purpose: the live node, rosbag replay and the offline evaluation all run this same
object, so what is measured offline is what runs on the robot. Everything is configured by one
flat :class:`PipelineConfig` whose field names are the node's parameter names in
``config/tracker.yaml``.

Per frame (:meth:`Pipeline.process`):

1. detect (or take the external detections), drop unusable rows with a logged warning;
2. distance per detection (columns ``DISTANCE``/``DISTANCE_VARIANCE`` of
   :mod:`trackflow_ros.types`) when intrinsics are known, NaN otherwise;
3. scene cluster (optional; it conditions the TrackFlow cost);
4. track (SORT / ByteTrack / OC-SORT with the IoU or TrackFlow cost);
5. per reported (confirmed) track: distance and 3D position, velocity from positions over stamps.

Where a track's distance comes from (a choice, documented in the README):

- ``pinhole``: recomputed from the track's *output box* (the tracker's filtered box), not the
  matched detection's raw box. The filtered box is smoother (velocity is a difference of
  positions, and box-height jitter of a few pixels is a metre at 25 m), and it exists also in
  frames where the track was not matched.
- ``distsynth``: the learned estimate exists only per detection, so a track takes its last
  matched detection's distance and variance; its position is the output box's foot-point ray
  scaled to that distance.

Velocity: a constant-velocity Kalman filter per track over its positions and the frames'
stamps (:mod:`trackflow_ros.velocity`: monocular depth jitters along the viewing ray, so a plain
difference of positions gives several m/s for walking people); NaN until a track has two
positions. A stamp that does not increase leaves the velocity unchanged.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from trackflow_ros.association.features import DEFAULT_IOU_WEIGHT, DEFAULT_IOU_WEIGHT_NEXT
from trackflow_ros.detection import DETECTORS, make_detector
from trackflow_ros.distance.pinhole import CameraIntrinsics, DistanceEstimate, PinholeDistance
from trackflow_ros.tracking import TRACKERS, Track, Tracker, make_tracker
from trackflow_ros.types import (
    DISTANCE,
    DISTANCE_VARIANCE,
    MIN_COLUMNS,
    empty_detections,
    validate_detections,
)
from trackflow_ros.velocity import VelocityFilter

_log = logging.getLogger(__name__)

#: columns of the detections the pipeline hands to the tracker: box, score, distance, variance
COLUMNS = 7

COSTS = ("iou", "trackflow")
DISTANCES = ("pinhole", "distsynth")
ONNX_FORMATS = ("yolov8", "yolox")
ONNX_PROVIDERS = ("cpu", "cuda", "tensorrt")
DEVICES = ("cpu", "cuda", "auto")

#: parameters of the node that are not the pipeline's (topics, QoS, outputs, fallback
#: intrinsics): :meth:`PipelineConfig.from_yaml` accepts them in a params file and leaves them
#: to the node. Any other unknown key is an error there.
NODE_PARAMETERS = frozenset(
    {
        "image_topic",
        "camera_info_topic",
        "tracks_topic",
        "detections_topic",
        "markers_topic",
        "annotated_image_topic",
        "detections3d_topic",
        "publish_image",
        "publish_markers",
        "publish_detections3d",
        "qos_reliability",
        "qos_depth",
        "qos_history",
        "camera_frame_id",
        "fallback_fx",
        "fallback_fy",
        "fallback_cx",
        "fallback_cy",
        "fallback_width",
        "fallback_height",
        "diagnostics_period",
        "log_period",
        "use_sim_time",
        "autostart",
        "debug_extra_latency_s",
    }
)


#: parameters :meth:`Pipeline.reconfigure` applies to a running pipeline; the others change what
#: the pipeline is made of (models, tracker state) and need a new Pipeline
LIVE_PARAMETERS = frozenset(
    {
        "detector_score_threshold",
        "detector_nms_iou",
        "trackflow_iou_weight",
        "trackflow_iou_weight_next_frame",
        "velocity_accel_std",
        "velocity_depth_rel_std",
        "velocity_lateral_rel_std",
    }
)


class InputError(ValueError):
    """Input that :meth:`Pipeline.process` cannot use (wrong image type or shape, missing or
    malformed detections, a non-finite stamp). The frame is not processed; the pipeline's
    state is unchanged, so the caller may log it and go on with the next frame."""


def _param(
    default: Any,
    description: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    choices: Iterable[str] | None = None,
) -> Any:
    """A config field with what a ROS node needs to declare it as a parameter: a description,
    a range (``low``..``high``, ``low`` excluded when ``low_open``) or a set of choices.
    :class:`PipelineConfig` validates against the same metadata, so they cannot drift apart."""
    meta = {"description": description, "low": low, "high": high, "low_open": low_open}
    meta["choices"] = tuple(choices) if choices is not None else None
    return field(default=default, metadata=meta)


@dataclass
class PipelineConfig:
    """Every field is a node parameter of the same name (``config/tracker.yaml`` documents
    each; ``dataclasses.fields(PipelineConfig)[i].metadata`` holds its description, range or
    choices for declaring it). Paths are strings; an empty string means "not set" (ROS
    parameters have no None). Invalid values raise ``ValueError`` naming the parameter."""

    # --- detector ---------------------------------------------------------------------
    detector: str = _param(
        "hog",
        "person detector: hog (no weights), onnx (YOLOv8/YOLOX model) or external",
        choices=DETECTORS,
    )
    detector_score_threshold: float = _param(0.1, "minimum detection score kept", low=0.0, high=1.0)
    detector_nms_iou: float = _param(
        0.3, "IoU above which the weaker of two detections is suppressed", low=0.0, high=1.0
    )
    hog_upscale: float = _param(
        2.0, "HOG: frame enlargement before detection", low=0.0, high=8.0, low_open=True
    )
    hog_win_stride: int = _param(8, "HOG: sliding-window step, px", low=1, high=64)
    hog_scale: float = _param(1.05, "HOG: image pyramid step", low=1.0, high=2.0, low_open=True)
    hog_box_width_fraction: float = _param(
        0.5, "HOG: part of the window's width the person fills", low=0.0, high=1.0, low_open=True
    )
    hog_box_height_fraction: float = _param(
        0.8, "HOG: part of the window's height the person fills", low=0.0, high=1.0, low_open=True
    )
    onnx_model_path: str = _param("", "ONNX: the person model file (.onnx)")
    onnx_format: str = _param(
        "yolov8",
        "ONNX: output format, yolov8 (1, 4+C, N) or yolox (1, N, 5+C)",
        choices=ONNX_FORMATS,
    )
    onnx_provider: str = _param(
        "cpu", "ONNX Runtime execution provider (falls back towards cpu)", choices=ONNX_PROVIDERS
    )
    onnx_person_class: int = _param(0, "ONNX: index of the person class", low=0, high=10000)
    onnx_input_size: int = _param(
        640, "ONNX: square input size when the model's is dynamic", low=32, high=4096
    )
    onnx_yolox_grid_decode: bool = _param(
        True, "ONNX, YOLOX: apply the grid decode (the graph does not)"
    )
    # --- distance ----------------------------------------------------------------------
    distance: str = _param(
        "pinhole",
        "distance estimator: pinhole (box height + intrinsics) or distsynth",
        choices=DISTANCES,
    )
    person_height: float = _param(
        1.7, "pinhole: assumed height of a person, m", low=0.0, high=3.0, low_open=True
    )
    distsynth_weights: str = _param("", "DistSynth checkpoint path")
    distsynth_clip_length: int = _param(6, "DistSynth: frames of context", low=1, high=64)
    # --- tracker and cost --------------------------------------------------------------
    tracker: str = _param("bytetrack", "tracker: sort, bytetrack or ocsort", choices=TRACKERS)
    cost: str = _param("trackflow", "association cost: iou or trackflow", choices=COSTS)
    trackflow_weights: str = _param("", "TrackFlow checkpoint; empty: the shipped one")
    trackflow_iou_weight: float = _param(
        DEFAULT_IOU_WEIGHT, "share of 1 - IoU in the TrackFlow cost after a miss", low=0.0, high=1.0
    )
    trackflow_iou_weight_next_frame: float = _param(
        DEFAULT_IOU_WEIGHT_NEXT,
        "share of 1 - IoU in the TrackFlow cost for tracks matched in the previous frame",
        low=0.0,
        high=1.0,
    )
    frame_rate: float = _param(
        30.0,
        "camera frame rate, frames/s (trackers scale their buffers by it)",
        low=0.0,
        high=1000.0,
        low_open=True,
    )
    velocity_accel_std: float = _param(
        1.0, "velocity filter: motion noise, m/s^2", low=0.0, high=100.0, low_open=True
    )
    velocity_depth_rel_std: float = _param(
        0.05,
        "velocity filter: position noise along the ray, fraction of the distance",
        low=0.0,
        high=1.0,
        low_open=True,
    )
    velocity_lateral_rel_std: float = _param(
        0.01,
        "velocity filter: position noise across the ray, fraction of the distance",
        low=0.0,
        high=1.0,
        low_open=True,
    )
    # --- scene clusters ----------------------------------------------------------------
    scene_enabled: bool = _param(False, "classify the scene (CLIP + k-means) for TrackFlow")
    scene_model: str = _param("ViT-B-32", "scene: open_clip model name")
    scene_checkpoint: str = _param("", "scene: CLIP checkpoint path")
    scene_clusters: str = _param("", "scene: fitted clusters file")
    scene_period: int = _param(30, "scene: frames between classifications", low=1, high=100000)
    # --- compute -----------------------------------------------------------------------
    device: str = _param("cpu", "torch device: cpu, cuda or auto", choices=DEVICES)
    torch_threads: int = _param(1, "torch CPU threads for TrackFlow", low=1, high=256)

    def __post_init__(self) -> None:
        self._coerce()
        self._validate()

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> PipelineConfig:
        """From flat parameters; an unknown key is a ``ValueError`` naming it."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = [k for k in params if k not in names]
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(str(key), names, n=1)
                hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ValueError(f"unknown pipeline parameter(s): {', '.join(hints)}")
        return cls(**params)

    @classmethod
    def from_yaml(
        cls,
        path: Path | str,
        node_name: str | None = None,
        extra_keys: Iterable[str] | None = None,
    ) -> PipelineConfig:
        """From a ROS 2 params file: the ``ros__parameters`` of ``node_name`` (default: the
        file's only node, or ``tracker_node``) merged over those of ``/**``.

        Keys of the node that are not pipeline fields must be node parameters
        (:data:`NODE_PARAMETERS`, or ``extra_keys`` when given): anything else is a typo and
        raises. Every error names the file.
        """
        path = Path(path)
        params = load_params_file(path, node_name)
        allowed = NODE_PARAMETERS if extra_keys is None else frozenset(extra_keys)
        names = {f.name for f in dataclasses.fields(cls)}
        pipeline = {k: v for k, v in params.items() if k in names}
        unknown = [k for k in params if k not in names and k not in allowed]
        try:
            if unknown:
                cls.from_dict({k: params[k] for k in unknown})  # raises with hints
            return cls.from_dict(pipeline)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def _coerce(self) -> None:
        """ROS params files and dicts carry ints for floats and so on; accept what is
        unambiguous, refuse the rest with the parameter's name."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = type(f.default)
            if kind is bool:
                if not isinstance(value, (bool, np.bool_)):
                    raise ValueError(f"{f.name}: expected true or false, got {value!r}")
                value = bool(value)
            elif kind is int:
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                    if isinstance(value, float) and value.is_integer():
                        value = int(value)
                    else:
                        raise ValueError(f"{f.name}: expected an integer, got {value!r}")
                value = int(value)
            elif kind is float:
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                    raise ValueError(f"{f.name}: expected a number, got {value!r}")
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError(f"{f.name}: must be finite, got {value}")
            elif kind is str:
                if value is None:
                    value = ""
                if isinstance(value, Path):
                    value = str(value)
                if not isinstance(value, str):
                    raise ValueError(f"{f.name}: expected a string, got {value!r}")
            setattr(self, f.name, value)

    def _validate(self) -> None:
        def choice(name: str, options: Iterable[str]) -> None:
            if getattr(self, name) not in options:
                raise ValueError(
                    f"{name}: unknown value {getattr(self, name)!r}; choose one of {list(options)}"
                )

        def at_least(name: str, low: float, strict: bool = False) -> None:
            v = getattr(self, name)
            if v < low or (strict and v == low):
                raise ValueError(f"{name}: must be {'>' if strict else '>='} {low}, got {v}")

        def at_most(name: str, high: float) -> None:
            if getattr(self, name) > high:
                raise ValueError(f"{name}: must be <= {high}, got {getattr(self, name)}")

        def file(name: str) -> None:
            value = getattr(self, name)
            if not value:
                raise ValueError(f"{name}: required by the configuration, but not set")
            if not Path(value).expanduser().is_file():
                raise ValueError(f"{name}: file not found: {value}")

        for f in dataclasses.fields(self):
            meta = f.metadata
            if meta.get("choices") is not None:
                choice(f.name, meta["choices"])
            if meta.get("low") is not None:
                at_least(f.name, meta["low"], strict=meta["low_open"])
            if meta.get("high") is not None:
                at_most(f.name, meta["high"])
        if self.detector == "onnx":
            file("onnx_model_path")
        if self.distance == "distsynth":
            file("distsynth_weights")
        if self.cost == "trackflow" and self.trackflow_weights:
            file("trackflow_weights")
        if self.scene_enabled:
            file("scene_clusters")
            if self.scene_checkpoint:
                file("scene_checkpoint")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_params_file(path: Path | str, node_name: str | None = None) -> dict[str, Any]:
    """The flat ``ros__parameters`` of one node of a ROS 2 params file (``/**`` merged below
    the node's own); errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the params file: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: not a ROS 2 params file (expected `<node>: ros__parameters:`)")

    def section(key: str) -> dict[str, Any]:
        entry = data[key]
        if not isinstance(entry, dict) or not isinstance(entry.get("ros__parameters"), dict):
            raise ValueError(f"{path}: `{key}` has no `ros__parameters:` mapping")
        return entry["ros__parameters"]

    nodes = [k for k in data if k != "/**"]
    if node_name is None:
        node_name = nodes[0] if len(nodes) == 1 else "tracker_node"
    matching = [k for k in nodes if str(k).split("/")[-1] == node_name.split("/")[-1]]
    params: dict[str, Any] = dict(section("/**")) if "/**" in data else {}
    if matching:
        params.update(section(matching[0]))
    elif "/**" not in data:
        raise ValueError(f"{path}: no parameters for node {node_name!r} (nodes: {nodes})")
    return _flatten(params)


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """ROS allows nested parameter groups (``a: {b: 1}`` is ``a.b``)."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


@dataclass
class PersonTrack:
    """One reported person; mirrors ``msg/TrackedPerson.msg`` with numpy/Python types.
    Unknown values are NaN."""

    id: int
    state: int  # TrackedPerson.STATE_*: 0 tentative, 1 confirmed, 2 lost
    score: float
    box: np.ndarray  # (4,) x1, y1, x2, y2 pixels
    distance: float  # metres, camera centre to foot point
    distance_variance: float  # m^2
    position: np.ndarray  # (3,) metres, camera optical frame (x right, y down, z forward)
    velocity: np.ndarray  # (3,) m/s, same frame
    association_cost: float
    age: int
    frames_since_update: int


@dataclass
class FrameResult:
    persons: list[PersonTrack]
    scene_cluster: int  # 0 when scene clustering is off
    detections: np.ndarray  # (N, 7) the detections used, with the distance columns
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


class Pipeline:
    """See the module docstring. Not thread-safe: one frame at a time."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.detector = make_detector(config)
        self.pinhole = PinholeDistance(person_height=config.person_height)
        self.distsynth = None
        if config.distance == "distsynth":
            self.distsynth = _load_distsynth(config)
        self.scene = None
        if config.scene_enabled:
            self.scene = _load_scene(config)
        self.cost = None
        if config.cost == "trackflow":
            from trackflow_ros.association.cost import TrackFlowCost  # torch: only when asked

            self.cost = TrackFlowCost(
                Path(config.trackflow_weights) if config.trackflow_weights else None,
                frame_rate=config.frame_rate,
                iou_weight=config.trackflow_iou_weight,
                iou_weight_next_frame=config.trackflow_iou_weight_next_frame,
                threads=config.torch_threads,
            )
        self.tracker: Tracker = make_tracker(
            config.tracker, cost=self.cost, frame_rate=config.frame_rate
        )
        self._motion: dict[int, VelocityFilter] = {}
        self._scene_cluster = 0
        self._warned: set[str] = set()

    def reconfigure(self, params: dict[str, Any]) -> None:
        """Change :data:`LIVE_PARAMETERS` while running (e.g. from a ROS parameter callback;
        call it between frames, not during :meth:`process`). Raises ``ValueError`` with the
        reason, and changes nothing, when a value is invalid or a parameter cannot change live.
        The velocity parameters apply to tracks born afterwards."""
        fixed = sorted(k for k in params if k not in LIVE_PARAMETERS)
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)}: cannot change while running (they select or load models "
                "or reset the tracker); restart with the new value"
            )
        config = dataclasses.replace(self.config, **params)  # validates
        if self.detector is not None:
            for attr, name in (("score_threshold", "detector_score_threshold"),
                               ("nms_iou", "detector_nms_iou")):  # fmt: skip
                if hasattr(self.detector, attr):
                    setattr(self.detector, attr, getattr(config, name))
        if self.cost is not None:
            self.cost.iou_weight = config.trackflow_iou_weight
            self.cost.iou_weight_next_frame = config.trackflow_iou_weight_next_frame
        self.config = config

    def reset(self) -> None:
        """Forget all tracks (identities restart at 1), velocities and buffered frames."""
        self.tracker.reset()
        self._motion.clear()
        self._scene_cluster = 0
        for part in (self.distsynth, self.scene):
            if part is not None and hasattr(part, "reset"):
                part.reset()
        if self.cost is not None and hasattr(self.cost, "_encoded"):
            # TrackFlow caches history summaries by track id; ids restart at 1 after a reset,
            # so a stale summary could be taken for a new track of the same id and frame
            self.cost._encoded.clear()

    # -- the frame ------------------------------------------------------------------------
    def process(
        self,
        image_bgr: np.ndarray | None,
        stamp: float,
        camera: CameraIntrinsics | None,
        detections: np.ndarray | None = None,
    ) -> FrameResult:
        """Track one frame.

        Args:
            image_bgr: HxWx3 uint8 BGR; ``None`` only when ``detections`` are given and no
                stage needs pixels.
            stamp: capture time in seconds (velocities are per second of it).
            camera: intrinsics of this image; ``None`` gives NaN distances and 3D fields.
            detections: ``(N, >=5)`` ``x1, y1, x2, y2, score`` rows. Required with the
                ``external`` detector; with a built-in one they replace its output for this
                frame (e.g. public detections in an evaluation). Rows with NaN/inf or empty
                boxes are dropped with a warning.

        Raises:
            InputError: the frame cannot be used (see :class:`InputError`); nothing changed.
        """
        timings: dict[str, float] = {}
        self._check_inputs(image_bgr, stamp, detections)
        t0 = time.perf_counter()
        if detections is None:
            # views (flipped, cropped, channel-reversed) are fine here; OpenCV wants contiguous
            dets = self.detector(np.ascontiguousarray(image_bgr))  # type: ignore[misc]
        else:
            dets = detections
        dets = _drop_absurd(validate_detections(dets, "detections"))
        t1 = time.perf_counter()
        timings["detect"] = t1 - t0

        dets = self._with_distances(dets, image_bgr, camera)
        t2 = time.perf_counter()
        timings["distance"] = t2 - t1

        if self.scene is not None and image_bgr is not None:
            self._scene_cluster = int(self.scene.update(image_bgr))
            if self.cost is not None:
                self.cost.scene = self._scene_cluster
        t3 = time.perf_counter()
        timings["scene"] = t3 - t2

        self.tracker.update(dets, image_bgr)
        reported = self.tracker.reported()
        t4 = time.perf_counter()
        timings["associate"] = t4 - t3

        persons = self._persons(reported, dets, float(stamp), camera)
        timings["output"] = time.perf_counter() - t4
        timings["total"] = time.perf_counter() - t0
        return FrameResult(persons, self._scene_cluster, dets, timings)

    # -- stages ---------------------------------------------------------------------------
    def _check_inputs(self, image, stamp, detections) -> None:
        try:
            stamp_ok = math.isfinite(float(stamp))
        except (TypeError, ValueError):
            stamp_ok = False
        if not stamp_ok:
            raise InputError(f"stamp must be a finite number of seconds, got {stamp!r}")
        if image is not None:
            if not isinstance(image, np.ndarray):
                raise InputError(f"image must be a numpy array, got {type(image).__name__}")
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise InputError(
                    "image must be an HxWx3 uint8 BGR array, "
                    f"got shape {image.shape} dtype {image.dtype}"
                )
            if image.shape[0] == 0 or image.shape[1] == 0:
                raise InputError(f"image is empty: shape {image.shape}")
        if detections is None:
            if self.detector is None:
                raise InputError("the detector is 'external': detections are required")
            if image is None:
                raise InputError(f"the {self.config.detector!r} detector needs an image")
        else:
            try:
                arr = np.asarray(detections, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InputError(f"detections are not a numeric array: {exc}") from None
            if arr.size and (arr.ndim != 2 or arr.shape[1] < MIN_COLUMNS):
                raise InputError(
                    "detections must be an (N, >=5) array [x1, y1, x2, y2, score, ...], "
                    f"got shape {arr.shape}"
                )

    def _with_distances(
        self, dets: np.ndarray, image: np.ndarray | None, camera: CameraIntrinsics | None
    ) -> np.ndarray:
        """(N, 7): box, score, distance, variance; NaN distances without intrinsics."""
        out = np.full((len(dets), COLUMNS), np.nan)
        out[:, :MIN_COLUMNS] = dets[:, :MIN_COLUMNS]
        if len(dets) == 0 or camera is None:
            return out if len(dets) else empty_detections(COLUMNS)
        if image is not None:
            self._check_camera_size(image, camera)
        estimate: DistanceEstimate | None = None
        if self.distsynth is not None:
            if image is None:
                self._warn_once(
                    "distsynth-no-image",
                    "DistSynth needs the image; frames without one get NaN distances",
                )
            else:
                estimate = self.distsynth.estimate(image, out[:, :4], camera)
        else:
            estimate = self.pinhole.estimate(out[:, :4], camera)
        if estimate is not None:
            out[:, DISTANCE] = estimate.distance
            out[:, DISTANCE_VARIANCE] = estimate.variance
        return out

    def _check_camera_size(self, image: np.ndarray, camera: CameraIntrinsics) -> None:
        h, w = image.shape[:2]
        if (w, h) != (camera.width, camera.height):
            self._warn_once(
                f"size-{w}x{h}-{camera.width}x{camera.height}",
                f"image is {w}x{h} but the camera intrinsics are for "
                f"{camera.width}x{camera.height}: distances will be wrong",
            )

    def _persons(
        self,
        tracks: list[Track],
        dets: np.ndarray,
        stamp: float,
        camera: CameraIntrinsics | None,
    ) -> list[PersonTrack]:
        boxes = np.array([self.tracker.output_box(t) for t in tracks]).reshape(-1, 4)
        n = len(tracks)
        distance = np.full(n, np.nan)
        variance = np.full(n, np.nan)
        position = np.full((n, 3), np.nan)
        if n and camera is not None:
            geometry = self.pinhole.estimate(boxes, camera)
            if self.distsynth is None:
                distance, variance, position = (
                    geometry.distance,
                    geometry.variance,
                    geometry.position,
                )
            else:
                last = np.array([t.detection for t in tracks])
                distance = last[:, DISTANCE] if last.shape[1] > DISTANCE else distance
                variance = (
                    last[:, DISTANCE_VARIANCE] if last.shape[1] > DISTANCE_VARIANCE else variance
                )
                ray = geometry.position / geometry.distance[:, None]
                position = ray * distance[:, None]
        persons = []
        alive = set()
        for i, t in enumerate(tracks):
            alive.add(t.id)
            velocity = self._velocity(t.id, stamp, position[i])
            persons.append(
                PersonTrack(
                    id=int(t.id),
                    state=int(t.state),
                    score=float(t.score),
                    box=boxes[i].astype(np.float64),
                    distance=float(distance[i]),
                    distance_variance=float(variance[i]),
                    position=position[i].astype(np.float64),
                    velocity=velocity,
                    association_cost=float(t.last_cost),
                    age=int(t.age),
                    frames_since_update=int(t.time_since_update),
                )
            )
        live_ids = {t.id for t in self.tracker.tracks}
        for track_id in [k for k in self._motion if k not in live_ids]:
            del self._motion[track_id]
        return persons

    def _velocity(self, track_id: int, stamp: float, position: np.ndarray) -> np.ndarray:
        motion = self._motion.get(track_id)
        if not np.isfinite(position).all():
            return motion.velocity if motion is not None else np.full(3, np.nan)
        if motion is None:
            c = self.config
            motion = self._motion[track_id] = VelocityFilter(
                c.velocity_accel_std, c.velocity_depth_rel_std, c.velocity_lateral_rel_std
            )
        return motion.update(stamp, position)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _log.warning(message)


#: pixel coordinates beyond this magnitude are no camera's: such rows would overflow the filters
MAX_COORDINATE = 1e5


def _drop_absurd(dets: np.ndarray) -> np.ndarray:
    """Drop rows whose box lies beyond :data:`MAX_COORDINATE` pixels, loudly (boxes merely
    outside the image are kept, as in :func:`~trackflow_ros.types.validate_detections`)."""
    bad = (np.abs(dets[:, :4]) > MAX_COORDINATE).any(axis=1)
    if bad.any():
        _log.warning(
            "detections: dropped %d of %d with coordinates beyond +-%g px (rows %s)",
            int(bad.sum()),
            len(dets),
            MAX_COORDINATE,
            np.flatnonzero(bad).tolist(),
        )
        dets = dets[~bad]
    return dets


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; other values unchanged."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _load_distsynth(config: PipelineConfig):
    try:
        from trackflow_ros.distance.distsynth import DistSynthDistance
    except ImportError as exc:
        raise ValueError(
            "distance: 'distsynth' needs trackflow_ros.distance.distsynth, which is not "
            f"available in this installation ({exc}); use distance: pinhole"
        ) from None
    return DistSynthDistance(
        config.distsynth_weights,
        device=resolve_device(config.device),
        clip_length=config.distsynth_clip_length,
    )


def _load_scene(config: PipelineConfig):
    try:
        from trackflow_ros.scene import SceneClassifier
    except ImportError as exc:
        raise ValueError(
            "scene_enabled: scene clustering needs trackflow_ros.scene, which is not "
            f"available in this installation ({exc}); set scene_enabled: false"
        ) from None
    return SceneClassifier.from_files(
        config.scene_model,
        config.scene_checkpoint or None,
        config.scene_clusters,
        config.scene_period,
        device=resolve_device(config.device),
    )
