"""Annotated frames and the bird's-eye plot."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trackflow_ros.pipeline import PersonTrack
from trackflow_ros.viz import Trails, birdseye_plot, draw_tracks, id_color, label


def _person(track_id: int, box, distance=float("nan"), position=None) -> PersonTrack:
    return PersonTrack(
        id=track_id,
        state=1,
        score=0.9,
        box=np.asarray(box, dtype=float),
        distance=distance,
        distance_variance=float("nan"),
        position=np.full(3, np.nan) if position is None else np.asarray(position, float),
        velocity=np.full(3, np.nan),
        association_cost=float("nan"),
        age=3,
        frames_since_update=0,
    )


@pytest.fixture(scope="module")
def frame(data_dir) -> np.ndarray:
    cap = cv2.VideoCapture(str(data_dir / "PETS09-S2L1.avi"))
    ok, image = cap.read()
    assert ok
    return image


def test_draw_tracks_boxes_labels_and_trails(frame):
    before = frame.copy()
    persons = [_person(3, [100, 150, 140, 250], 21.37), _person(4, [400, 200, 430, 280])]
    trails = {3: [(50.0, 400.0), (90.0, 420.0), (120.0, 250.0)]}
    out = draw_tracks(frame, persons, trails)
    assert np.array_equal(frame, before), "the input frame must not be drawn on"
    assert out.shape == frame.shape and out.dtype == np.uint8
    # box edges in the id's colour (left edge, below the label)
    assert tuple(out[220, 100]) == id_color(3)
    assert tuple(out[260, 400]) == id_color(4)
    # the trail passes through its middle point
    assert tuple(out[420, 90]) == id_color(3)
    assert label(persons[0]) == "3 d=21.4m" and label(persons[1]) == "4"
    # the label background sits above the box
    assert (out[130:150, 100:140] == id_color(3)).all(axis=2).any()


def test_draw_tracks_edge_cases(frame):
    assert np.array_equal(draw_tracks(frame, []), frame)
    gray = draw_tracks(frame[:, :, 0].copy(), [_person(1, [10, 10, 50, 90])])
    assert gray.shape == frame.shape
    out = draw_tracks(frame, [_person(1, [np.nan, 0, 5, 5])])  # skipped, no crash
    assert np.array_equal(out, frame)
    with pytest.raises(ValueError, match="uint8"):
        draw_tracks(frame.astype(np.float32), [])


def test_id_colours_are_distinct():
    colours = {id_color(i) for i in range(1, 41)}
    assert len(colours) == 40
    assert id_color(7) == id_color(7)


def test_trails_are_bounded_and_forget_dead_tracks():
    trails = Trails(length=5, max_missing=2)
    for k in range(10):
        out = trails.update([_person(1, [k, 0, k + 2, 10])])
    assert len(out[1]) == 5 and out[1][-1] == (10.0, 10.0)
    for _ in range(3):
        out = trails.update([])
    assert 1 not in out


def test_birdseye_plot_writes_a_png(tmp_path):
    t = np.linspace(0, 5, 30)[:, None]
    tracks = {
        1: np.hstack([-2 + 0.5 * t, np.full_like(t, 1.6), 20 + t]),
        2: np.hstack([3 - 0.3 * t, np.full_like(t, 1.6), 30 - t]),
        3: np.full((4, 3), np.nan),  # never localised: skipped
    }
    tracks[1][5] = np.nan
    path = birdseye_plot(tracks, tmp_path / "sub" / "bev.png")
    image = cv2.imread(str(path))
    assert image is not None and image.shape == (600, 600, 3)
    for track_id in (1, 2):  # each trajectory is drawn in its id's colour
        distance = np.abs(image.astype(int) - np.array(id_color(track_id))).sum(axis=2)
        assert (distance < 30).sum() > 50
