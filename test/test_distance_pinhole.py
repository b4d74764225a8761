"""The pinhole fallback against a synthetic camera, and against the real PETS09 calibration."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from trackflow_ros.distance import CameraInfoError, CameraIntrinsics, PinholeDistance

CAM = CameraIntrinsics(fx=600.0, fy=600.0, cx=320.0, cy=240.0, width=640, height=480)


def project(points: np.ndarray) -> np.ndarray:
    return np.stack(
        [
            CAM.fx * points[:, 0] / points[:, 2] + CAM.cx,
            CAM.fy * points[:, 1] / points[:, 2] + CAM.cy,
        ],
        1,
    )


def boxes_of_people(feet: np.ndarray, height: float) -> np.ndarray:
    """Upright people standing with their feet at ``feet`` (optical frame, y down), 0.5 m wide."""
    heads = feet - np.array([0.0, height, 0.0])
    foot_px, head_px = project(feet), project(heads)
    half = 0.25 * CAM.fx / feet[:, 2]
    return np.stack([foot_px[:, 0] - half, head_px[:, 1], foot_px[:, 0] + half, foot_px[:, 1]], 1)


def test_recovers_position_and_distance_of_people_of_the_assumed_height():
    rng = np.random.default_rng(0)
    feet = np.stack([rng.uniform(-3, 3, 50), np.full(50, 1.2), rng.uniform(4, 30, 50)], 1)
    est = PinholeDistance(person_height=1.7).estimate(boxes_of_people(feet, 1.7), CAM)
    np.testing.assert_allclose(est.position, feet, rtol=1e-9)
    np.testing.assert_allclose(est.distance, np.linalg.norm(feet, axis=1), rtol=1e-9)
    assert np.all(est.variance > 0)


def test_taller_person_reads_closer_in_proportion():
    feet = np.array([[0.0, 1.2, 10.0]])
    est = PinholeDistance(person_height=1.7).estimate(boxes_of_people(feet, 1.87), CAM)
    assert est.position[0, 2] == pytest.approx(10.0 * 1.7 / 1.87)


def test_variance_grows_when_the_box_is_cut_by_the_border():
    est = PinholeDistance().estimate(
        np.array(
            [[300.0, 100.0, 340.0, 300.0], [300.0, 0.0, 340.0, 300.0], [0.0, 100.0, 40.0, 300.0]]
        ),
        CAM,
    )
    rel = np.sqrt(est.variance) / est.distance
    assert rel[1] > 3 * rel[0]  # top cut: the height no longer spans the person
    assert rel[0] < rel[2] < rel[1]  # side cut: height mostly intact


def test_degenerate_and_nan_boxes_give_nan_not_a_guess():
    boxes = np.array(
        [
            [10.0, 10.0, 20.0, 10.0],  # zero height
            [np.nan, 0, 1, 1],
            [-1.0, -5e-187, 0.0, 0.0],  # sub-pixel height (found by hypothesis): overflowed
            [10.0, 10.0, 10.5, 60.0],  # half a pixel wide
            [10.0, 10.0, 20.0, 60.0],
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = PinholeDistance().estimate(boxes, CAM)
    assert np.isnan(est.distance[:4]).all() and np.isnan(est.position[:4]).all()
    assert np.isfinite(est.distance[4])


@pytest.mark.parametrize(
    "k", [[0, 0, 320, 0, 600, 240, 0, 0, 1], [np.nan, 0, 320, 0, 600, 240, 0, 0, 1]]
)
def test_zero_or_nan_focal_length_is_refused(k):
    with pytest.raises(CameraInfoError, match=r"focal|finite"):
        CameraIntrinsics.from_k(k, 640, 480)


def test_empty_input_gives_empty_output():
    est = PinholeDistance().estimate(np.zeros((0, 5)), CAM)
    assert est.distance.shape == (0,) and est.position.shape == (0, 3)


def test_fov_intrinsics():
    cam = CameraIntrinsics.from_fov(90.0, 640, 480)
    assert cam.fx == pytest.approx(320.0) and (cam.cx, cam.cy) == (320.0, 240.0)


def test_real_pets09_calibration_reads_and_a_bad_file_names_itself(data_dir, tmp_path):
    cam = CameraIntrinsics.from_yaml(data_dir / "calibration" / "PETS09-S2L1.camera_info.yaml")
    assert (cam.width, cam.height) == (768, 576) and cam.fx == pytest.approx(1176.807689)
    bad = tmp_path / "bad.yaml"
    bad.write_text("image_width: 10\n")
    with pytest.raises(CameraInfoError, match=r"bad\.yaml"):
        CameraIntrinsics.from_yaml(bad)
