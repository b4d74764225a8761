"""The node's building blocks without a graph: image/CameraInfo conversion and validation,
message and marker conversion, the one-slot mailbox, throttled warnings, parameters."""

from __future__ import annotations

import math
import re
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rcl_interfaces.msg import ParameterType
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from trackflow_ros import image_encoding
from trackflow_ros.distance.pinhole import CameraInfoError
from trackflow_ros.image_encoding import ImageEncodingError
from trackflow_ros.pipeline import PersonTrack, PipelineConfig
from trackflow_ros.ros.camera_info import camera_info_to_intrinsics, fallback_intrinsics
from trackflow_ros.ros.conversions import (
    MarkerBuilder,
    detections_from_detection2d_array,
    tracks_to_msg,
)
from trackflow_ros.ros.frame_mailbox import FrameMailbox
from trackflow_ros.ros.image_conversion import (
    CHANNELS,
    ImageError,
    bgr_to_image,
    check_image,
    image_to_bgr,
)
from trackflow_ros.ros.node_stats import NodeStats
from trackflow_ros.ros.parameters import (
    COMMENTED_IN_PARAMS_FILE,
    NODE_PARAMS,
    all_param_specs,
    pipeline_param_specs,
)
from trackflow_ros.ros.throttled_log import ThrottledWarnings


def _image(arr: np.ndarray, encoding: str, pad: int = 0) -> Image:
    """An Image of ``arr`` (H, W, C) with ``pad`` garbage bytes at the end of every row."""
    h, w = arr.shape[:2]
    rows = arr.reshape(h, -1)
    padded = np.concatenate([rows, np.full((h, pad), 77, np.uint8)], axis=1)
    return Image(
        height=h, width=w, encoding=encoding, step=rows.shape[1] + pad, data=padded.tobytes()
    )


# ------------------------------------------------------------------------- image conversion
@pytest.mark.parametrize("pad", [0, 3, 64])
def test_every_encoding_converts_to_the_same_bgr_image_with_row_padding(pad):
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (5, 7, 1), dtype=np.uint8)
    cases = {
        "bgr8": bgr,
        "rgb8": bgr[:, :, ::-1],
        "bgra8": np.concatenate([bgr, alpha], axis=2),
        "rgba8": np.concatenate([bgr[:, :, ::-1], alpha], axis=2),
    }
    for encoding, arr in cases.items():
        out = image_to_bgr(_image(np.ascontiguousarray(arr), encoding, pad))
        assert out.shape == (5, 7, 3) and out.dtype == np.uint8
        np.testing.assert_array_equal(out, bgr, err_msg=encoding)
    gray = bgr[:, :, 1:2]
    out = image_to_bgr(_image(np.ascontiguousarray(gray), "mono8", pad))
    np.testing.assert_array_equal(out, np.repeat(gray, 3, axis=2))


def test_bgr_to_image_round_trips():
    bgr = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    msg = bgr_to_image(bgr, Header(frame_id="cam"))
    assert (msg.encoding, msg.step, msg.header.frame_id) == ("bgr8", 18, "cam")
    np.testing.assert_array_equal(image_to_bgr(msg), bgr)
    with pytest.raises(ImageError, match=r"expected an \(H, W, 3\) uint8 BGR array, got float64"):
        bgr_to_image(bgr.astype(float), Header())  # not silently cast to uint8


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"encoding": "yuv422"},
            "unsupported image encoding 'yuv422' (supported: bgr8, rgb8, mono8, bgra8, rgba8)",
        ),
        ({"encoding": "16UC1"}, "unsupported image encoding '16UC1'"),
        ({"width": 0}, "empty image: 0x4 pixels"),
        ({"height": 0}, "empty image: 6x0 pixels"),
        (
            {"width": 100000, "height": 100000},
            "image too large: 100000x100000 has a side longer than 16384 pixels",
        ),
        ({"width": 20000, "height": 1}, "image too large: 20000x1 has a side longer than 16384"),
        (
            {"width": 9000, "height": 9000},
            "image too large: 9000x9000 is 81000000 pixels, more than 67108864",
        ),
        ({"step": 17}, "step 17 is shorter than a row of 6 bgr8 pixels (18 bytes)"),
        (
            {"step": 10**6},
            "step 1000000 is implausible for a row of 18 bytes (more than 4*18+4096)",
        ),
        ({"data": bytes(50)}, "data has 50 bytes, fewer than height*step = 4*18 = 72"),
    ],
)
def test_malformed_images_are_rejected_with_the_reason(fields, reason):
    """The cheap check in the callback and the conversion on the worker give the same reason."""
    msg = _image(np.zeros((4, 6, 3), np.uint8), "bgr8")
    for key, value in fields.items():
        setattr(msg, key, value)
    with pytest.raises(ImageError, match=re.escape(reason)) as checked:
        check_image(msg)
    with pytest.raises(ImageError) as converted:
        image_to_bgr(msg)
    assert str(converted.value) == str(checked.value)


def test_the_node_error_is_the_core_error():
    """The node catches ``ImageError``; the core raises ``ImageEncodingError``: one class."""
    assert ImageError is ImageEncodingError
    with pytest.raises(ImageError):
        image_encoding.image_to_bgr(4, 6, "yuv422", 18, bytes(72))


@settings(max_examples=300, deadline=None)
@given(
    encoding=st.sampled_from([*CHANNELS, "yuv422", "bayer_rggb8", "", "32FC1"]),
    height=st.integers(-2, 40),
    width=st.integers(-2, 40),
    step_delta=st.integers(-10, 10),
    data_delta=st.integers(-100, 100),
)
def test_any_header_either_converts_correctly_or_raises_image_error(
    encoding, height, width, step_delta, data_delta
):
    """No message makes the converter raise anything but ImageError, or read out of bounds."""
    channels = CHANNELS.get(encoding, 3)
    step = max(width, 0) * channels + step_delta
    size = max(0, max(height, 0) * max(step, 0) + data_delta)
    data = (np.arange(size) % 251).astype(np.uint8).tobytes()
    msg = SimpleNamespace(encoding=encoding, height=height, width=width, step=step, data=data)
    try:
        out = image_to_bgr(msg)
    except ImageError as exc:
        assert str(exc)
        return
    assert encoding in CHANNELS and height > 0 and width > 0
    assert step >= width * channels and size >= height * step
    assert out.shape == (height, width, 3)
    first = np.frombuffer(data, np.uint8)[: width * channels].reshape(width, channels)
    expected = {"rgb8": first[:, ::-1], "rgba8": first[:, 2::-1], "mono8": first.repeat(3, 1)}
    np.testing.assert_array_equal(out[0], expected.get(encoding, first[:, :3]))


# ------------------------------------------------------------------------------ camera_info
def test_camera_info_gives_intrinsics_and_zero_or_nan_focal_is_refused():
    info = CameraInfo(width=768, height=576)
    info.k = np.array([1176.8, 0, 384, 0, 1176.8, 288, 0, 0, 1], float)
    cam = camera_info_to_intrinsics(info)
    assert (cam.fx, cam.cy, cam.width) == (1176.8, 288, 768)
    for bad in (0.0, float("nan"), -5.0, float("inf")):
        info.k = np.array([bad, 0, 384, 0, 1176.8, 288, 0, 0, 1], float)
        with pytest.raises(CameraInfoError, match="focal length"):
            camera_info_to_intrinsics(info)
    assert fallback_intrinsics(0.0, 500.0, -1, -1, 640, 480) is None
    cam = fallback_intrinsics(500.0, 510.0, -1.0, 100.0, 640, 480)
    assert (cam.cx, cam.cy, cam.fy) == (320.0, 100.0, 510.0)


# ------------------------------------------------------------------------ messages, markers
def _person(track_id: int, position=(1.0, 1.5, 10.0), velocity=(0.5, 0.0, -0.25)):
    return PersonTrack(
        id=track_id,
        state=1,
        score=0.8,
        box=np.array([10.0, 20.0, 40.0, 120.0]),
        distance=float(np.linalg.norm(position)),
        distance_variance=0.4,
        position=np.array(position, float),
        velocity=np.array(velocity, float),
        association_cost=float("nan"),
        age=5,
        frames_since_update=0,
    )


def test_tracks_message_carries_every_field_and_the_image_header():
    header = Header(frame_id="cam_optical")
    header.stamp.sec = 12
    msg = tracks_to_msg([_person(2**40 + 1)], header, 3)
    (p,) = msg.persons
    assert msg.header.frame_id == "cam_optical" and msg.header.stamp.sec == 12
    assert msg.scene_cluster == 3 and p.id == 2**40 + 1
    assert (p.bbox_x, p.bbox_y, p.bbox_width, p.bbox_height) == (10.0, 20.0, 30.0, 100.0)
    assert (p.position.z, p.velocity.z) == (10.0, -0.25)
    assert math.isnan(p.association_cost) and p.age == 5


def test_markers_follow_persons_and_dead_tracks_get_deleted():
    builder = MarkerBuilder(person_height=1.7)
    header = Header(frame_id="cam")
    first = builder.build([_person(1), _person(2, velocity=(np.nan, np.nan, np.nan))], header)
    kinds = {(m.ns, m.id, m.type, m.action) for m in first.markers}
    assert ("person", 1, Marker.CYLINDER, Marker.ADD) in kinds
    assert ("label", 2, Marker.TEXT_VIEW_FACING, Marker.ADD) in kinds
    assert ("velocity", 1, Marker.ARROW, Marker.ADD) in kinds
    assert ("velocity", 2, Marker.ARROW, Marker.ADD) not in kinds  # unknown velocity: no arrow
    body = next(m for m in first.markers if m.ns == "person" and m.id == 1)
    assert body.pose.position.y == pytest.approx(1.5 - 0.85)  # centred above the foot (y down)
    label = next(m for m in first.markers if m.ns == "label" and m.id == 1)
    assert label.text == "id 1 d=10.2m"

    second = builder.build([_person(2, position=(np.nan, np.nan, np.nan))], header)
    deleted = {(m.ns, m.id) for m in second.markers if m.action == Marker.DELETE}
    assert deleted == {("person", 1), ("label", 1), ("velocity", 1), ("person", 2), ("label", 2)}
    assert all(m.action == Marker.DELETE for m in second.markers)
    assert builder.build([], header).markers == []  # nothing left to delete


def test_detection2d_arrays_of_both_vision_msgs_layouts_become_rows():
    """Stand-in objects shaped like vision_msgs (not installed here; named as such)."""

    def det(cx, cy, w, h, scores, new_layout=True):
        center = (
            SimpleNamespace(position=SimpleNamespace(x=cx, y=cy), theta=0.0)
            if new_layout
            else SimpleNamespace(x=cx, y=cy, theta=0.0)
        )
        results = [SimpleNamespace(hypothesis=SimpleNamespace(score=s)) for s in scores]
        return SimpleNamespace(
            bbox=SimpleNamespace(center=center, size_x=w, size_y=h), results=results
        )

    msg = SimpleNamespace(
        detections=[det(50, 100, 20, 80, [0.3, 0.9]), det(10, 10, 4, 4, [], new_layout=False)]
    )
    rows = detections_from_detection2d_array(msg)
    np.testing.assert_allclose(rows, [[40, 60, 60, 140, 0.9], [8, 8, 12, 12, 1.0]])
    assert detections_from_detection2d_array(SimpleNamespace(detections=[])).shape == (0, 5)


# ------------------------------------------------------------------------ threads, counters
def test_mailbox_keeps_only_the_newest_frame_and_counts_the_rest():
    box: FrameMailbox[int] = FrameMailbox()
    assert box.put(1) is False
    assert box.put(2) is True and box.put(3) is True
    assert box.take(timeout=0.1) == 3
    assert box.take(timeout=0.05) is None  # empty: times out
    assert (box.dropped, box.received) == (2, 3)
    got = []
    worker = threading.Thread(target=lambda: got.append(box.take()))
    worker.start()
    box.close()
    worker.join(timeout=2.0)
    assert got == [None] and not worker.is_alive()


def test_throttled_warnings_log_once_per_period_and_count_the_silent_ones():
    lines: list[str] = []
    warn = ThrottledWarnings(lines.append, period_s=5.0)
    for i in range(10):
        warn.warn("image", f"bad {i}", now=100.0 + i * 0.1)
    warn.warn("camera_info", "bad info", now=100.5)
    warn.warn("image", "bad late", now=106.0)
    assert lines == ["bad 0", "bad info", "bad late (10 such since the last warning of this kind)"]
    assert warn.total == {"image": 11, "camera_info": 1}


def test_stats_give_rates_and_stage_medians():
    stats = NodeStats()
    for i in range(11):
        stats.on_received(now=10.0 + i * 0.1)
    for i in range(5):
        stats.on_processed({"detect": 0.1 + i * 0.01, "publish": 0.002}, 0.3, now=10.0 + i * 0.25)
    stats.on_dropped()
    s = stats.summary(now=11.0)
    assert s["input_rate_hz"] == pytest.approx(10.0)
    assert s["processed_rate_hz"] == pytest.approx(4.0)
    assert s["detect_ms_median"] == pytest.approx(120.0)
    assert s["frames_dropped"] == 1 and s["stamp_to_publish_ms_max"] == pytest.approx(300.0)


# ------------------------------------------------------------------------------- parameters
def test_every_parameter_has_a_description_a_range_where_numeric_and_is_in_the_config(repo_root):
    specs = all_param_specs()
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for spec in specs:
        desc = spec.descriptor()
        assert len(desc.description) > 20, spec.name
        if desc.type in (ParameterType.PARAMETER_INTEGER, ParameterType.PARAMETER_DOUBLE):
            assert desc.integer_range or desc.floating_point_range, spec.name
    text = (repo_root / "config" / "tracker.yaml").read_text()
    params = yaml.safe_load(text)["tracker_node"]["ros__parameters"]
    listed = set(params) | {n for n in COMMENTED_IN_PARAMS_FILE if f"    # {n}: " in text}
    assert sorted(listed) == sorted(names)
    lines = text.splitlines()
    for name in names:  # each one under a comment (or in a group of parameters under one)
        i = next(k for k, line in enumerate(lines) if re.match(rf"    (# )?{name}:", line))
        above = lines[i - 1].strip()
        assert above.startswith("#") or re.match(r"\w+: ", above), name


def test_pipeline_parameters_mirror_the_pipeline_config_defaults():
    defaults = PipelineConfig()
    specs = pipeline_param_specs(PipelineConfig)
    assert {s.name for s in specs} == set(defaults.to_dict())
    for spec in specs:
        assert spec.default == getattr(defaults, spec.name), spec.name
    live = {s.name for s in (*NODE_PARAMS, *specs) if s.live}
    assert {"detector_score_threshold", "detector_nms_iou", "publish_image"} <= live
    fixed = {
        "detector",
        "tracker",
        "cost",
        "device",
        "qos_depth",
        "trackflow_weights",
        "hog_upscale",
    }
    assert not live & fixed


# ----------------------------------------------------------------- the node object in-process
def _node(**overrides):
    import rclpy
    from rclpy.parameter import Parameter

    from trackflow_ros.ros.tracker_node import TrackerNode

    if not rclpy.ok():
        rclpy.init()
    params = [Parameter(k, value=v) for k, v in overrides.items()]
    return TrackerNode(parameter_overrides=params)


def test_fallback_intrinsics_then_camera_info_and_a_single_warning_without_either():
    node = _node(fallback_fx=1000.0, fallback_fy=1000.0)
    try:
        cam = node._camera_for(640, 480)
        assert (cam.fx, cam.cx, cam.cy) == (1000.0, 320.0, 240.0)
        assert node._intrinsics_source() == "fallback parameters"
        info = CameraInfo(width=640, height=480)
        info.k = np.array([800.0, 0, 300, 0, 800.0, 200, 0, 0, 1])
        node._on_camera_info(info)
        assert node._camera_for(640, 480).fx == 800.0  # a valid camera_info wins
        assert node._intrinsics_source() == "camera_info"
        info.k = np.array([np.nan, 0, 300, 0, 800.0, 200, 0, 0, 1])
        node._on_camera_info(info)  # ignored: the previous one stays
        assert node._camera_for(640, 480).fx == 800.0
        assert node._stats.rejected == 1
    finally:
        node.destroy_node()
    node = _node()
    try:
        assert node._camera_for(640, 480) is None and node._warned_no_camera
        assert node._intrinsics_source().startswith("none")
        assert node._camera_for(640, 480) is None  # warned once only (flag stays set)
    finally:
        node.destroy_node()


def test_parameter_values_out_of_range_or_of_a_wrong_choice_stop_the_node_with_the_name():
    with pytest.raises(ValueError, match="qos_reliability must be one of"):
        _node(qos_reliability="sometimes")
    with pytest.raises(ValueError, match="parameter qos_depth"):
        _node(qos_depth=0)
    with pytest.raises(ValueError, match=r"hog_upscale.*decimal point"):
        _node(hog_upscale=2)
