"""The per-frame pipeline on real PETS09-S2L1 frames with its real calibration."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from trackflow_ros.distance.pinhole import CameraIntrinsics
from trackflow_ros.pipeline import (
    FrameResult,
    InputError,
    PersonTrack,
    Pipeline,
    PipelineConfig,
)

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
    """HOG + pinhole + ByteTrack + TrackFlow over the first frames (the default pipeline)."""
    pipeline = Pipeline(PipelineConfig(frame_rate=7.0))
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
