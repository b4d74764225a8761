"""The per-frame pipeline on real PETS09-S2L1 frames with its real calibration."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import warnings

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trackflow_ros.distance.pinhole import CameraIntrinsics
from trackflow_ros.pipeline import (
    FrameResult,
    InputError,
    PersonTrack,
    Pipeline,
    PipelineConfig,
    load_params_file,
)
from trackflow_ros.velocity import VelocityFilter

N_FRAMES = 20


@pytest.fixture(scope="module")
def camera(data_dir) -> CameraIntrinsics:
    return CameraIntrinsics.from_yaml(data_dir / "calibration" / "PETS09-S2L1.camera_info.yaml")


@pytest.fixture(scope="module")
def frames(data_dir) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(data_dir / "PETS09-S2L1.avi"))
    out = []
    while len(out) < N_FRAMES:
        ok, frame = cap.read()
        assert ok, "PETS09-S2L1.avi ended early"
        out.append(frame)
    cap.release()
    return out


@pytest.fixture(scope="module")
def hog_run(frames, camera) -> list[FrameResult]:
    """HOG + pinhole + ByteTrack + TrackFlow over the first frames: the default pipeline, but
    for a coarser HOG pyramid (step 1.1: ~0.6x the time, recall 0.02 lower; see
    docs/BENCHMARKS.md) to keep the test fast on a loaded machine."""
    pipeline = Pipeline(PipelineConfig(frame_rate=7.0, hog_scale=1.1))
    return [pipeline.process(f, i / 7.0, camera) for i, f in enumerate(frames)]


def test_pipeline_hog_persons_have_plausible_distances_and_stable_ids(hog_run):
    persons = [p for r in hog_run for p in r.persons]
    assert len(persons) >= 2 * N_FRAMES, "expected several people per frame"
    for p in persons:
        assert isinstance(p, PersonTrack)
        assert p.state == 1  # confirmed tracks only
        assert p.box.shape == (4,) and p.position.shape == (3,) and p.velocity.shape == (3,)
    distances = np.array([p.distance for p in persons])
    assert np.isfinite(distances).all()
    # PETS09-S2L1's people stand 13.9-38.5 m from the camera (gt + calibration); HOG boxes are
    # looser than gt, so allow a margin but most must be in the true range
    inside = (distances > 13.0) & (distances < 40.0)
    assert inside.mean() > 0.8, np.round(distances, 1)
    # identities: most ids of one frame are still there in the next frame
    kept = []
    for a, b in itertools.pairwise(hog_run):
        ids_a, ids_b = {p.id for p in a.persons}, {p.id for p in b.persons}
        if ids_a:
            kept.append(len(ids_a & ids_b) / len(ids_a))
    assert np.mean(kept) > 0.8, kept


def test_pipeline_rejects_bad_input_clearly(camera):
    pipeline = Pipeline(PipelineConfig(detector="external", cost="iou", frame_rate=7.0))
    with pytest.raises(InputError, match="HxWx3 uint8"):
        pipeline.process(np.zeros((10, 10), np.float32), 0.0, camera, np.zeros((0, 5)))
    with pytest.raises(InputError, match="detections are required"):
        pipeline.process(np.zeros((10, 10, 3), np.uint8), 0.0, camera)
    with pytest.raises(InputError, match=r"\(N, >=5\)"):
        pipeline.process(None, 0.0, camera, np.zeros((3, 2)))
    with pytest.raises(InputError, match="stamp"):
        pipeline.process(None, float("nan"), camera, np.zeros((0, 5)))


# --- configuration -----------------------------------------------------------------------
def test_params_file_documents_every_pipeline_parameter_with_its_default(repo_root):
    path = repo_root / "config" / "tracker.yaml"
    params = load_params_file(path)
    fields = {f.name for f in dataclasses.fields(PipelineConfig)}
    missing = fields - set(params)
    assert not missing, f"config/tracker.yaml lacks {sorted(missing)}"
    config = PipelineConfig.from_yaml(path)
    defaults = PipelineConfig()
    differs = [n for n in fields if getattr(config, n) != getattr(defaults, n)]
    assert not differs, f"config/tracker.yaml and PipelineConfig defaults differ in {differs}"
    text = path.read_text()
    for name in fields:  # each parameter comes with a comment somewhere above it
        assert f"    {name}:" in text


def test_params_file_variants(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    frame_rate: 7\n    tracker: sort\n"
        "/robot/tracker_node:\n  ros__parameters:\n    tracker: ocsort\n"
        "    image_topic: /cam/image\n"
    )
    config = PipelineConfig.from_yaml(path)
    assert config.frame_rate == 7.0 and isinstance(config.frame_rate, float)
    assert config.tracker == "ocsort"  # the node's own section wins over /**
    path.write_text("tracker_node:\n  ros__parameters:\n    trackr: sort\n")
    with pytest.raises(ValueError, match=r"p\.yaml.*'trackr'.*did you mean 'tracker'"):
        PipelineConfig.from_yaml(path)
    path.write_text("tracker_node:\n  ros__parameters:\n    my_param: 1\n")
    assert PipelineConfig.from_yaml(path, extra_keys={"my_param"}).tracker == "bytetrack"
    path.write_text("tracker_node: [1, 2\n")
    with pytest.raises(ValueError, match=r"p\.yaml: not valid YAML"):
        PipelineConfig.from_yaml(path)
    with pytest.raises(ValueError, match=r"nope\.yaml: cannot read"):
        PipelineConfig.from_yaml(tmp_path / "nope.yaml")


def test_every_parameter_carries_what_a_node_declares():
    """Description for all; a range for every number, choices for the enumerations: the node
    declares its parameters from this metadata, and validation uses the same."""
    for f in dataclasses.fields(PipelineConfig):
        assert f.metadata["description"], f.name
        if type(f.default) in (int, float):
            assert f.metadata["low"] is not None and f.metadata["high"] is not None, f.name
            assert f.metadata["low"] <= f.default <= f.metadata["high"], f.name
        if f.metadata["choices"] is not None:
            assert f.default in f.metadata["choices"], f.name
    choices = {f.name: f.metadata["choices"] for f in dataclasses.fields(PipelineConfig)}
    assert set(choices["tracker"]) == {"sort", "bytetrack", "ocsort"}
    assert set(choices["detector"]) == {"hog", "onnx", "external"}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"tracker": "deepsort"}, "tracker"),
        ({"cost": "l2"}, "cost"),
        ({"detector": "yolo"}, "detector"),
        ({"detector_score_threshold": -0.1}, "detector_score_threshold"),
        ({"detector_nms_iou": 1.5}, "detector_nms_iou"),
        ({"hog_upscale": 0}, "hog_upscale"),
        ({"hog_scale": 1.0}, "hog_scale"),
        ({"frame_rate": -7}, "frame_rate"),
        ({"frame_rate": float("nan")}, "frame_rate"),
        ({"frame_rate": "fast"}, "frame_rate"),
        ({"person_height": 0}, "person_height"),
        ({"scene_enabled": "yes"}, "scene_enabled"),
        ({"scene_period": 2.5}, "scene_period"),
        ({"detector": "onnx"}, "onnx_model_path"),
        ({"detector": "onnx", "onnx_model_path": "/nonexistent/m.onnx"}, "onnx_model_path"),
        ({"distance": "distsynth", "distsynth_weights": "/nonexistent.pt"}, "distsynth_weights"),
        ({"trackflow_weights": "/nonexistent.pt"}, "trackflow_weights"),
        ({"scene_enabled": True}, "scene_clusters"),
        ({"onnx_provider": "rocm"}, "onnx_provider"),
        ({"device": "tpu"}, "device"),
        ({"no_such_parameter": 1}, "no_such_parameter"),
    ],
)
def test_bad_config_values_name_the_parameter(params, name):
    with pytest.raises(ValueError, match=name):
        PipelineConfig.from_dict(params)


# --- frames without intrinsics, external detections, velocities --------------------------
def _public_detections(data_dir) -> dict[int, np.ndarray]:
    det = np.loadtxt(data_dir / "MOT15/train/PETS09-S2L1/det/det.txt", delimiter=",")
    out = {}
    for frame in range(1, 41):
        rows = det[det[:, 0] == frame]
        out[frame] = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6], rows[:, 6]])
    return out


def test_external_detections_without_image_or_camera(data_dir, caplog):
    dets = _public_detections(data_dir)
    pipeline = Pipeline(PipelineConfig(detector="external", frame_rate=7.0))
    results = [pipeline.process(None, f / 7.0, None, d) for f, d in dets.items()]
    persons = [p for r in results for p in r.persons]
    assert persons
    for p in persons:  # no intrinsics: every 3D field is NaN, the 2D ones are not
        assert np.isnan(p.distance) and np.isnan(p.position).all() and np.isnan(p.velocity).all()
        assert np.isfinite(p.box).all()
    assert all(r.detections.shape[1] == 7 for r in results)
    # NaN rows are dropped with a warning; the frame still tracks
    bad = np.vstack([dets[40], [[np.nan, 1, 2, 3, 0.9]]])
    with caplog.at_level(logging.WARNING):
        result = pipeline.process(None, 41 / 7.0, None, bad)
    assert "dropped 1 of" in caplog.text
    assert len(result.detections) == len(dets[40])


def test_velocities_are_walking_speeds(data_dir, camera):
    """Public Faster R-CNN boxes + pinhole depth: the filtered speeds are those of walking
    people (PETS09's ground truth walks at a median 1.0 m/s on the ground plane)."""
    dets = _public_detections(data_dir)
    pipeline = Pipeline(PipelineConfig(detector="external", cost="iou", frame_rate=7.0))
    seen: set[int] = set()
    speeds = []
    for frame, d in dets.items():
        for p in pipeline.process(None, frame / 7.0, camera, d).persons:
            if p.id not in seen:  # a track's first position gives no velocity
                assert np.isnan(p.velocity).all()
                seen.add(p.id)
            else:
                assert np.isfinite(p.velocity).all()
                speeds.append(np.linalg.norm(p.velocity))
    assert len(speeds) > 50
    assert 0.4 < np.median(speeds) < 2.0, np.quantile(speeds, [0.1, 0.5, 0.9])


def test_velocity_filter_follows_constant_motion():
    truth = np.array([0.8, 0.0, -1.2])
    f = VelocityFilter()
    rng = np.random.default_rng(0)
    start = np.array([2.0, 1.5, 25.0])
    assert np.isnan(f.update(0.0, start)).all()
    for k in range(1, 60):
        t = k / 7.0
        ray = (start + truth * t) / np.linalg.norm(start + truth * t)
        v = f.update(t, start + truth * t + ray * rng.normal(0.0, 1.0))  # 1 m depth jitter
    np.testing.assert_allclose(v, truth, atol=0.35)
    assert np.array_equal(f.update(t, start), v)  # a repeated stamp changes nothing


def test_reset_restarts_identities(data_dir):
    dets = _public_detections(data_dir)
    pipeline = Pipeline(PipelineConfig(detector="external", cost="iou", frame_rate=7.0))
    first = [pipeline.process(None, f / 7.0, None, dets[f]) for f in range(1, 6)]
    pipeline.reset()
    again = [pipeline.process(None, f / 7.0, None, dets[f]) for f in range(1, 6)]
    assert [sorted(p.id for p in r.persons) for r in first] == [
        sorted(p.id for p in r.persons) for r in again
    ]


def test_live_reconfiguration(frames, camera):
    pipeline = Pipeline(PipelineConfig(frame_rate=7.0, hog_upscale=1.0))
    before = pipeline.process(frames[0], 0.0, camera).detections
    pipeline.reconfigure({"detector_score_threshold": 0.7, "trackflow_iou_weight": 0.6})
    assert pipeline.config.detector_score_threshold == 0.7
    assert pipeline.cost.iou_weight == 0.6
    after = pipeline.process(frames[0], 1 / 7.0, camera).detections
    assert (after[:, 4] >= 0.7).all() and len(after) < len(before)
    with pytest.raises(ValueError, match="tracker: cannot change while running"):
        pipeline.reconfigure({"tracker": "sort"})
    with pytest.raises(ValueError, match="detector_score_threshold"):
        pipeline.reconfigure({"detector_score_threshold": -1.0})
    assert (
        pipeline.config.detector_score_threshold == 0.7 and pipeline.config.tracker == "bytetrack"
    )


# --- malformed input never crashes the pipeline ---------------------------------------
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-100, max_value=900),
    st.sampled_from([0.0, -1.0, 1e300, -1e300, 1e-300]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_values, min_size=0, max_size=8), min_size=0, max_size=6),
    stamp=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1.0)),
)
@example(rows=[[-1e300, -1e300, 1e300, 1e300, 0.9], [100, 100, 140, 200, 0.9]], stamp=1.0)
@example(rows=[[1, 2, 3], [4, 5, 6, 7, 8]], stamp=1.0)  # ragged
@example(rows=[[0.0] * 8, [-1.0, -5.086886145591578e-187] + [0.0] * 6], stamp=1.0)  # sub-pixel
@example(rows=[[100, 100, 140, 200, 0.9]], stamp=-5.0)  # time goes back
def test_malformed_detections_raise_input_error_or_track(rows, stamp):
    """Any list of rows (ragged, NaN, inf, huge, negative sizes) and any stamp: the frame is
    tracked (bad rows dropped) or refused with InputError, never another exception, and the
    pipeline keeps working on the next good frame."""
    camera = CameraIntrinsics(1000.0, 1000.0, 320.0, 240.0, 640, 480)
    pipeline = Pipeline(PipelineConfig(detector="external", cost="iou", frame_rate=10.0))
    good = np.array([[100.0, 100.0, 140.0, 200.0, 0.9]])
    pipeline.process(None, 0.0, camera, good)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no overflow in the filters
            result = pipeline.process(None, stamp, camera, rows)
    except InputError:
        pass
    else:
        assert np.isfinite(result.detections[:, :5]).all()
        for p in result.persons:
            assert np.isfinite(p.box).all()
    result = pipeline.process(None, 10.0, camera, good)
    assert all(np.isfinite(p.box).all() for p in result.persons)


def test_image_checks_and_views(frames, camera):
    pipeline = Pipeline(PipelineConfig(frame_rate=7.0, hog_upscale=1.0, cost="iou"))
    frame = frames[0]
    for bad in (
        frame.astype(np.uint16),
        frame[:, :, :2],
        np.dstack([frame, frame[:, :, :1]]),  # 4 channels: the node converts, not the pipeline
        frame[:0],
        frame.tolist(),
    ):
        with pytest.raises(InputError):
            pipeline.process(bad, 0.0, camera)
    # views of a frame are real images: mirrored and channel-reversed both go through
    mirrored = pipeline.process(frame[:, ::-1], 0.0, camera)
    rgb_view = pipeline.process(frame[:, :, ::-1], 1 / 7.0, camera)
    assert len(mirrored.detections) > 0 and len(rgb_view.detections) > 0
