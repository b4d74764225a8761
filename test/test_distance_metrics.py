"""Distance metrics on hand-made cases whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trackflow_ros.distance.metrics import DISTANCE_BINS, OCCLUSION_BINS, distance_metrics


def test_bins_and_keys_are_the_issues() -> None:
    assert list(DISTANCE_BINS) == ["0-10", "10-20", "20-30", "30-100", "100+"]
    assert list(OCCLUSION_BINS) == ["0-0.3", "0.3-0.5", "0.5-0.75", "0.75-1"]
    m = distance_metrics([5.0], [5.0], [0.0])
    assert set(m) == {
        "abs_error_by_distance",
        "abs_error_by_occlusion",
        "delta1",
        "abs_rel",
        "rmse",
    }


def test_hand_made_case() -> None:
    true = np.array([5.0, 15.0, 25.0, 50.0, 150.0, 10.0])
    pred = np.array([6.0, 12.0, 25.0, 70.0, 150.0, 10.5])
    occ = np.array([0.0, 0.3, 0.5, 0.75, 1.0, 0.29])
    m = distance_metrics(pred, true, occ)
    # 10.0 is in 10-20 ([lo, hi)), so that bin holds errors 3 and 0.5
    assert m["abs_error_by_distance"] == {
        "0-10": 1.0,
        "10-20": pytest.approx(1.75),
        "20-30": 0.0,
        "30-100": 20.0,
        "100+": 0.0,
    }
    # 0.3 -> 0.3-0.5, 0.5 -> 0.5-0.75, 0.75 and 1.0 -> 0.75-1 (closed at 1)
    assert m["abs_error_by_occlusion"] == {
        "0-0.3": pytest.approx(0.75),
        "0.3-0.5": 3.0,
        "0.5-0.75": 0.0,
        "0.75-1": 10.0,
    }
    # ratios: 1.2, 1.25, 1, 1.4, 1, 1.05 -> strictly below 1.25: four of six
    assert m["delta1"] == pytest.approx(4 / 6)
    assert m["abs_rel"] == pytest.approx(np.mean([1 / 5, 3 / 15, 0, 20 / 50, 0, 0.05]))
    assert m["rmse"] == pytest.approx(math.sqrt((1 + 9 + 0 + 400 + 0 + 0.25) / 6))


def test_empty_bins_are_none_not_zero() -> None:
    m = distance_metrics([12.0, 14.0], [11.0, 15.0], [0.1, 0.2])
    assert m["abs_error_by_distance"]["0-10"] is None
    assert m["abs_error_by_distance"]["10-20"] == 1.0
    assert m["abs_error_by_occlusion"]["0.75-1"] is None
    assert all(v is None for v in distance_metrics([1.0], [1.0])["abs_error_by_occlusion"].values())


@pytest.mark.parametrize(
    ("pred", "true", "occ"),
    [
        ([np.nan], [1.0], [0.0]),
        ([-1.0], [1.0], [0.0]),
        ([1.0], [0.0], [0.0]),
        ([1.0, 2.0], [1.0], None),
        ([1.0], [1.0], [1.5]),
        ([], [], None),
    ],
)
def test_bad_input_raises(pred, true, occ) -> None:
    with pytest.raises(ValueError):
        distance_metrics(pred, true, occ)
