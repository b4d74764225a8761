"""MOTChallenge readers and writer on the real shared sequences, and on broken copies of them.

Expected values come from the files themselves (highest frame, box extents, the data README's
table), never from numbers typed in here, so that a reader that gets a field wrong fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from trackflow_ros.evaluation.motchallenge import (
    MotFormatError,
    SequenceInfo,
    find_sequences,
    read_detections,
    read_ground_truth,
    read_results,
    read_seqinfo,
    write_results,
)
from trackflow_ros.types import empty_detections

MOT15_NAMES = (
    "ADL-Rundle-6",
    "ETH-Pedcross2",
    "ETH-Sunnyday",
    "KITTI-13",
    "PETS09-S2L1",
    "TUD-Campus",
    "TUD-Stadtmitte",
)


@pytest.fixture(scope="module")
def mot15(data_dir) -> Path:
    return data_dir / "MOT15" / "train"


def _raw_rows(path: Path) -> np.ndarray:
    """The file's numbers by a route independent of the module under test."""
    return np.loadtxt(path, delimiter=",", ndmin=2)


def _readme_table(data_dir: Path) -> dict[str, tuple[int, int, int, int]]:
    """``{sequence: (frames, fps, width, height)}`` from the data README's table."""
    # The image size is written "w\u00d7h" with a multiplication sign; re reads the escape.
    pattern = re.compile(
        r"^\|\s*MOT1[57]\s*\|\s*(\S+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\u00d7(\d+)"
    )
    table = {}
    for line in (data_dir / "README.md").read_text().splitlines():
        match = pattern.match(line)
        if match:
            name, *numbers = match.groups()
            table[name] = tuple(int(n) for n in numbers)
    return table


def test_find_sequences_lists_every_mot15_sequence_in_order(mot15):
    sequences = find_sequences(mot15)
    assert [s.path.name for s in sequences] == sorted(d.name for d in mot15.iterdir())
    assert tuple(s.path.name for s in sequences) == MOT15_NAMES
    assert all(isinstance(s, SequenceInfo) for s in sequences)


def test_find_sequences_on_one_sequence_folder(mot15):
    (info,) = find_sequences(mot15 / "KITTI-13")
    assert info == read_seqinfo(mot15 / "KITTI-13")


def test_find_sequences_without_any_names_the_folder(tmp_path):
    (tmp_path / "not-a-sequence").mkdir()
    with pytest.raises(MotFormatError, match=re.escape(str(tmp_path))):
        find_sequences(tmp_path)


@pytest.mark.parametrize("name", MOT15_NAMES)
def test_seqinfo_matches_the_files_and_the_readme(data_dir, mot15, name):
    info = read_seqinfo(mot15 / name)
    gt = _raw_rows(mot15 / name / "gt" / "gt.txt")
    det = _raw_rows(mot15 / name / "det" / "det.txt")
    assert info.name == name
    assert info.path == mot15 / name
    # seqLength is the last frame of both gt and det (data README: checked when written).
    assert info.length == int(gt[:, 0].max()) == int(det[:, 0].max())
    # Detections were clipped to the image: their right edge reaches imWidth - 1 and their
    # bottom edge never passes imHeight - 1 (up to the files' 6 significant digits).
    assert np.isclose((det[:, 2] + det[:, 4]).max(), info.width - 1, atol=0.01)
    assert (det[:, 3] + det[:, 5]).max() <= info.height - 1 + 0.01
    assert _readme_table(data_dir)[name] == (info.length, info.frame_rate, info.width, info.height)


def test_seqinfo_of_mot17_matches_readme(data_dir):
    table = _readme_table(data_dir)
    for info in find_sequences(data_dir / "MOT17" / "train"):
        assert table[info.name] == (info.length, info.frame_rate, info.width, info.height)
        gt = _raw_rows(info.path / "gt" / "gt.txt")
        assert info.length == int(gt[:, 0].max())


@pytest.mark.parametrize("name", MOT15_NAMES)
def test_detections_hold_every_row_as_corners(mot15, name):
    info = read_seqinfo(mot15 / name)
    path = mot15 / name / "det" / "det.txt"
    raw = _raw_rows(path)
    dets = read_detections(path, info.length)
    assert sum(len(d) for d in dets.values()) == len(raw)
    assert sorted(dets) == sorted({int(f) for f in raw[:, 0]})
    assert min(dets) >= 1 and max(dets) == info.length
    first = int(raw[0, 0])
    in_first = raw[raw[:, 0] == first]
    expected = np.c_[in_first[:, 2:4], in_first[:, 2:4] + in_first[:, 4:6], in_first[:, 6]]
    np.testing.assert_allclose(dets[first], expected)
    for boxes in dets.values():
        assert boxes.dtype == np.float64 and boxes.shape[1] == 5
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    missing = set(range(1, info.length + 1)) - set(dets)
    for frame in missing:
        assert dets.get(frame, empty_detections()).shape == (0, 5)


def test_ground_truth_keeps_every_column(data_dir, mot15):
    mot15_gt = read_ground_truth(mot15 / "PETS09-S2L1" / "gt" / "gt.txt")
    np.testing.assert_array_equal(mot15_gt, _raw_rows(mot15 / "PETS09-S2L1" / "gt" / "gt.txt"))
    assert mot15_gt.shape[1] == 10
    mot17_path = data_dir / "MOT17" / "train" / "MOT17-09" / "gt" / "gt.txt"
    mot17_gt = read_ground_truth(mot17_path)
    np.testing.assert_array_equal(mot17_gt, _raw_rows(mot17_path))
    assert mot17_gt.shape[1] == 9


def test_empty_detection_file_has_no_frames(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("")
    assert read_detections(path) == {}
    path.write_text("\n  \n")
    assert read_detections(path, length=10) == {}
    assert read_results(path).shape == (0, 7)


def test_whitespace_around_fields_is_accepted(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text(" 3 , -1, 10.5 ,20, 30 , 40 ,0.9\r\n")
    dets = read_detections(path)
    np.testing.assert_allclose(dets[3], [[10.5, 20, 40.5, 60, 0.9]])


def test_boxes_past_the_image_border_are_kept(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("1,-1,-25,-10,60,120,0.8,-1,-1,-1\n")
    np.testing.assert_allclose(read_detections(path, 1)[1], [[-25, -10, 35, 110, 0.8]])


BAD_LINES = {
    "too few fields": ("5,-1,10,20,30,40", "fields"),
    "text": ("5,-1,10,abc,30,40,0.9,-1,-1,-1", "'abc' is not a number"),
    "nan": ("5,-1,10,nan,30,40,0.9,-1,-1,-1", "non-finite"),
    "inf score": ("5,-1,10,20,30,40,inf,-1,-1,-1", "non-finite"),
    "zero width": ("5,-1,10,20,0,40,0.9,-1,-1,-1", "width <= 0"),
    "negative height": ("5,-1,10,20,30,-4,0.9,-1,-1,-1", "height <= 0"),
    "frame 0": ("0,-1,10,20,30,40,0.9,-1,-1,-1", "frame < 1"),
    "fractional frame": ("2.5,-1,10,20,30,40,0.9,-1,-1,-1", "frame is not an integer"),
    "frame beyond length": ("72,-1,10,20,30,40,0.9,-1,-1,-1", "frame > sequence length 71"),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_malformed_detection_line_names_file_and_line(mot15, tmp_path, case):
    bad, reason = BAD_LINES[case]
    lines = (mot15 / "TUD-Campus" / "det" / "det.txt").read_text().splitlines()
    line_number = 123
    lines.insert(line_number - 1, bad)
    path = tmp_path / "broken_det.txt"
    path.write_text("\n".join(lines) + "\n")
    length = read_seqinfo(mot15 / "TUD-Campus").length
    with pytest.raises(MotFormatError, match=re.escape(f"broken_det.txt:{line_number}: ")) as err:
        read_detections(path, length)
    assert reason in str(err.value)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("7,1,10,20,30,40,1,-1,-1", "9 fields, earlier lines have 10"),
        ("7,2.5,10,20,30,40,1,-1,-1,-1", "id is not an integer"),
        ("7,-3,10,20,30,40,1,-1,-1,-1", "id < 0"),
        ("1,1,10,20,30,40,1,-1,-1,-1", "(frame, id) pair repeats"),
        ("7,1,10,20,30,40,nan,-1,-1,-1", "non-finite"),
    ],
)
def test_malformed_ground_truth_line_names_file_and_line(mot15, tmp_path, bad, reason):
    lines = (mot15 / "TUD-Campus" / "gt" / "gt.txt").read_text().splitlines()
    assert lines[0].startswith("1,1,")  # the duplicate case repeats this pair
    lines.insert(200, bad)
    path = tmp_path / "gt.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MotFormatError, match=re.escape(f"gt.txt:201: {reason}")):
        read_ground_truth(path)


def test_missing_seqinfo_names_the_file(tmp_path):
    with pytest.raises(MotFormatError, match=re.escape(str(tmp_path / "seqinfo.ini"))):
        read_seqinfo(tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("seqLength", None, "seqLength is missing"),
        ("seqLength", "many", "seqLength='many' is not int"),
        ("frameRate", "0", "frameRate='0' must be positive"),
        ("imWidth", "-640", "imWidth='-640' must be positive"),
    ],
)
def test_bad_seqinfo_key_names_file_and_key(mot15, tmp_path, key, value, reason):
    text = (mot15 / "TUD-Campus" / "seqinfo.ini").read_text()
    replacement = "" if value is None else f"{key}={value}"
    text, count = re.subn(rf"^{key}=.*$", replacement, text, flags=re.MULTILINE)
    assert count == 1
    (tmp_path / "seqinfo.ini").write_text(text)
    with pytest.raises(MotFormatError) as err:
        read_seqinfo(tmp_path)
    assert str(tmp_path / "seqinfo.ini") in str(err.value)
    assert reason in str(err.value)


def test_results_round_trip_through_the_file(mot15, tmp_path):
    gt = read_ground_truth(mot15 / "TUD-Stadtmitte" / "gt" / "gt.txt")
    rng = np.random.default_rng(0)
    rows = np.c_[gt[:, :2], gt[:, 2:4], gt[:, 2:4] + gt[:, 4:6], rng.uniform(0, 1, len(gt))]
    shuffled = rows[rng.permutation(len(rows))]
    path = tmp_path / "out" / "nested" / "TUD-Stadtmitte.txt"
    write_results(path, shuffled)

    lines = path.read_text().splitlines()
    assert len(lines) == len(rows)
    assert all(line.endswith(",-1,-1,-1") for line in lines)
    back = read_results(path, read_seqinfo(mot15 / "TUD-Stadtmitte").length)
    expected = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    np.testing.assert_array_equal(back[:, :2], expected[:, :2])  # sorted by frame, then id
    np.testing.assert_allclose(back[:, 2:6], expected[:, 2:6], atol=1e-3)
    np.testing.assert_allclose(back[:, 6], expected[:, 6], rtol=1e-5)
    # The file holds left, top, width, height: the gt's own columns.
    raw = _raw_rows(path)
    order = np.lexsort((gt[:, 1], gt[:, 0]))
    np.testing.assert_allclose(raw[:, 2:6], gt[order, 2:6], atol=1e-3)


def test_write_results_accepts_tuples_and_reads_as_detections(tmp_path):
    path = tmp_path / "r.txt"
    write_results(path, [(2, 7, 10.0, 20.0, 50.0, 100.0, 0.5), (1, 3, 0.0, 0.0, 1.0, 2.0, 1.0)])
    assert path.read_text().splitlines()[0] == "1,3,0.000,0.000,1.000,2.000,1,-1,-1,-1"
    dets = read_detections(path)
    np.testing.assert_allclose(dets[2], [[10, 20, 50, 100, 0.5]])


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((1, 1, 10.0, 20.0, 10.0, 40.0, 0.9), "width <= 0"),
        ((0, 1, 10.0, 20.0, 30.0, 40.0, 0.9), "frame < 1"),
        ((1, -2, 10.0, 20.0, 30.0, 40.0, 0.9), "id < 0"),
        ((1, 1, 10.0, float("nan"), 30.0, 40.0, 0.9), "non-finite"),
    ],
)
def test_write_results_refuses_rows_it_could_not_read_back(tmp_path, row, reason):
    path = tmp_path / "r.txt"
    with pytest.raises(ValueError, match=reason):
        write_results(path, [row])
    assert not path.exists()


def test_write_results_refuses_a_wrong_shape(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        write_results(tmp_path / "r.txt", np.zeros((3, 6)))
