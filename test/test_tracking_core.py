"""The tracking core on small crafted scenes, where the right answer is known."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from trackflow_ros.tracking import (
    OCSORT,
    SORT,
    TRACKERS,
    ByteTrack,
    IoUCost,
    TrackState,
    iou_matrix,
    kalman,
    make_tracker,
    match,
)
from trackflow_ros.tracking.kalman import XYAH, XYSR


def person(cx: float, cy: float, h: float = 100.0, score: float = 0.9) -> np.ndarray:
    """A standing person: width 0.4 h, box around (cx, cy)."""
    w = 0.4 * h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score])


def frame(*people: np.ndarray) -> np.ndarray:
    return np.array(people).reshape(-1, 5)


def reported_ids(tracker) -> dict[int, int]:
    """detection row -> id of the reported track that matched it this frame"""
    return {t.det_index: t.id for t in tracker.reported() if t.det_index >= 0}


# --- building blocks -------------------------------------------------------------------------
def test_iou_matrix_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], dtype=float)
    np.testing.assert_allclose(iou_matrix(a, b), [[1, 1 / 3, 0], [1, 1 / 3, 0]])
    assert iou_matrix(np.zeros((0, 4)), b).shape == (0, 3)


def test_match_gates_and_assigns_optimally():
    cost = np.array([[0.1, 0.2], [0.15, 0.9]])
    # greedy would take (0,0) then leave row 1 with 0.9 > gate; optimal takes (0,1),(1,0)
    matches, rows, cols = match(cost, max_cost=0.5)
    assert matches == [(0, 1), (1, 0)] and rows == [] and cols == []
    matches, rows, cols = match(np.array([[0.6, np.inf]]), max_cost=0.5)
    assert matches == [] and rows == [0] and cols == [0, 1]


@pytest.mark.parametrize("model", [XYSR, XYAH])
def test_kalman_learns_a_constant_velocity(model):
    """Two filters in one batch: one person walking right, one standing still."""
    x0, P0 = model.initiate(person(100, 200))
    x1, P1 = model.initiate(person(400, 200))
    x, P = np.stack([x0, x1]), np.stack([P0, P1])
    no_loss = np.zeros(2, dtype=bool)
    for k in range(1, 15):
        x, P = kalman.predict(model, x, P, no_loss)
        boxes = np.stack([person(100 + 5 * k, 200)[:4], person(400, 200)[:4]])
        x, P = kalman.update(model, x, P, boxes)
    x, P = kalman.predict(model, x, P, no_loss)
    expected = np.stack([person(100 + 5 * 15, 200)[:4], person(400, 200)[:4]])
    np.testing.assert_allclose(model.to_boxes(x), expected, atol=1.0)
    assert np.allclose(P, P.transpose(0, 2, 1)) and (np.linalg.eigvalsh(P) > 0).all()


@pytest.mark.parametrize("model", [XYSR, XYAH])
def test_box_parameterisation_round_trip(model):
    box = np.array([10.0, 20.0, 50.0, 120.0])
    x, _ = model.initiate(box)
    np.testing.assert_allclose(model.to_boxes(x), box)


# --- lifecycle and the contract --------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_empty_frames_and_first_detections(name):
    tracker = make_tracker(name)
    assert tracker.update(np.zeros((0, 5))) == []  # no tracks, no detections
    tracks = tracker.update(frame(person(100, 100)))  # detections, no tracks
    assert len(tracks) == 1 and tracks[0].det_index == 0
    tracks = tracker.update(np.zeros((0, 5)))  # tracks, no detections
    assert all(t.time_since_update == 1 and t.det_index == -1 for t in tracks)


def test_sort_lifecycle_tentative_confirmed_lost_removed():
    tracker = SORT(max_age=2, min_hits=3)
    for _ in range(4):  # skip SORT's rule that reports everything in the first min_hits frames
        tracker.update(frame(person(500, 500)))
    tracker.update(frame(person(100, 100)))
    (t,) = [t for t in tracker.tracks if t.start_frame == 5]
    states = [t.state]
    for k in range(1, 4):
        tracker.update(frame(person(500, 500), person(100 + 2 * k, 100)))
        states.append(t.state)
    assert states == [TrackState.TENTATIVE] * 3 + [TrackState.CONFIRMED]
    tracker.update(frame(person(500, 500)))
    assert t.state == TrackState.LOST and t in tracker.tracks
    tracker.update(frame(person(500, 500)))
    assert t in tracker.tracks  # missed 2 = max_age frames: still kept
    tracker.update(frame(person(500, 500)))
    assert t not in tracker.tracks  # removed
    tracker.update(frame(person(500, 500), person(100, 100)))
    assert max(t.id for t in tracker.tracks) > t.id  # identities are never reused


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_nan_and_degenerate_boxes_are_dropped_loudly(name, caplog):
    tracker = make_tracker(name)
    dets = np.array(
        [person(100, 100), [np.nan, 0, 10, 10, 0.9], [50, 50, 50, 90, 0.9], [5, 5, 1, 9, 0.9]]
    )
    with caplog.at_level(logging.WARNING):
        tracks = tracker.update(dets)
    assert len(tracks) == 1
    assert "dropped 3 of 4 detections" in caplog.text and "[1, 2, 3]" in caplog.text
    with pytest.raises(ValueError, match="expected an"):
        tracker.update(np.zeros((3, 4)))


def test_boxes_outside_the_image_are_tracked_unchanged():
    tracker = SORT()
    box = person(-10, 100)  # half outside the left border
    tracks = tracker.update(frame(box))
    np.testing.assert_allclose(tracks[0].last_observation, box[:4])


# --- scenes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_two_people_crossing_keep_their_identities(name):
    """A near person (tall box) walks right, a far one (short box) walks left; they cross."""
    tracker = make_tracker(name)
    near_ids, far_ids = set(), set()
    for k in range(30):
        near, far = person(100 + 10 * k, 300, h=160), person(400 - 10 * k, 260, h=90)
        tracker.update(frame(near, far))
        ids = reported_ids(tracker)
        if k >= 4:
            near_ids.add(ids.get(0))
            far_ids.add(ids.get(1))
    assert len(near_ids) == 1 and len(far_ids) == 1 and near_ids != far_ids
    assert None not in near_ids | far_ids


def walk_with_gap(tracker, gap: int, frames: int = 25, speed: float = 8.0):
    """One person walking right; missed by the detector for ``gap`` frames mid-way."""
    ids = []
    for k in range(frames):
        missing = 10 <= k < 10 + gap
        tracker.update(frame() if missing else frame(person(100 + speed * k, 300)))
        ids.append(None if missing else reported_ids(tracker).get(0))
    return ids


@pytest.mark.parametrize(
    "tracker", [SORT(), ByteTrack(), OCSORT()], ids=["sort", "bytetrack", "ocsort"]
)
def test_occlusion_gap_longer_than_one_frame_keeps_the_identity(tracker):
    ids = walk_with_gap(tracker, gap=4)
    before, after = ids[5:10], ids[-5:]
    assert len(set(before)) == 1 and set(after) == set(before)


def test_sort_with_the_papers_t_lost_drops_a_track_after_one_missed_frame():
    ids = walk_with_gap(SORT(max_age=1), gap=4)
    assert ids[9] is not None and ids[-1] is not None and ids[-1] != ids[9]


def test_bytetrack_keeps_a_track_through_low_score_detections():
    """Occluded people get low scores; ByteTrack's second stage still matches them."""
    tracker = ByteTrack()
    ids, matched_low = [], []
    for k in range(20):
        score = 0.3 if 8 <= k < 14 else 0.9
        tracker.update(frame(person(100 + 6 * k, 300, score=score)))
        (track,) = tracker.tracks
        if score < 0.5:
            matched_low.append(track.time_since_update == 0 and track.det_index == 0)
        ids.append(track.id)
    assert all(matched_low) and len(set(ids)) == 1
    # below low_threshold the same frames are misses: the track coasts unmatched
    tracker = ByteTrack()
    for k in range(14):
        tracker.update(frame(person(100 + 6 * k, 300, score=0.05 if 8 <= k < 14 else 0.9)))
    (track,) = tracker.tracks
    assert track.time_since_update == 6 and track.state == TrackState.LOST


def test_ocsort_recovers_a_stopped_person_from_the_last_observation():
    """A person walks, stops while occluded, and reappears where last seen: the prediction has
    run ahead and no longer overlaps, but OC-SORT's recovery step matches the observation."""

    def scene(tracker):
        ids = []
        for k in range(12):
            tracker.update(frame(person(100 + 12 * k, 300)))
            ids.append(reported_ids(tracker).get(0))
        for _ in range(5):
            tracker.update(frame())
        for _ in range(4):
            tracker.update(frame(person(100 + 12 * 11, 300)))
            ids.append(reported_ids(tracker).get(0))
        return ids

    oc = scene(OCSORT())
    assert oc[11] is not None and oc[-1] == oc[11]
    sort = scene(SORT(max_age=30))  # same lifetime, no recovery step: a new identity
    assert sort[-1] != sort[11]


def test_ocsort_reupdate_removes_the_error_of_the_gap():
    """After re-association, ORU replays the filter along the interpolated path, so the
    velocity estimate reflects the observations, not the drift during the gap."""
    tracker = OCSORT()
    for k in range(10):
        tracker.update(frame(person(100 + 10 * k, 300)))
    for _ in range(3):
        tracker.update(frame())
    tracker.update(frame(person(100 + 10 * 13, 300)))
    (track,) = tracker.tracks
    assert track.time_since_update == 0
    assert track.x[4] == pytest.approx(10.0, abs=1.5)  # px/frame along x


class CountingCost(IoUCost):
    def __init__(self):
        self.calls = []

    def __call__(self, tracks, detections, track_boxes):
        assert track_boxes.shape == (len(tracks), 4)
        self.calls.append((len(tracks), len(detections)))
        return super().__call__(tracks, detections, track_boxes)


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_every_strategy_uses_the_pluggable_cost(name):
    cost = CountingCost()
    baseline = make_tracker(name)
    tracker = make_tracker(name, cost=cost)
    for k in range(10):
        dets = frame(person(100 + 5 * k, 300), person(300, 300 - 4 * k, score=0.4 + 0.05 * k))
        a, b = baseline.update(dets), tracker.update(dets)
        assert [(t.id, t.det_index) for t in a] == [(t.id, t.det_index) for t in b]
    assert cost.calls and all(n_t > 0 and n_d > 0 for n_t, n_d in cost.calls)


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_a_cost_that_forbids_everything_matches_nothing(name):
    tracker = make_tracker(name, cost=lambda t, d, b: np.full((len(t), len(d)), np.inf))
    for _ in range(3):
        tracks = tracker.update(frame(person(100, 300)))
    assert all(t.hits == 0 for t in tracks)
