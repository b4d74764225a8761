"""TrackEval scoring on real MOTChallenge ground truth, with results made from that gt.

The gt scored as results must be perfect; each corruption is built so that its effect on the
counts is known exactly (two tracks swapping ids halfway costs two id switches and the frames
after the swap), so the expected scores follow from the data and a wrong set-up cannot pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import trackeval

from trackflow_ros.evaluation.metrics import METRIC_KEYS, MetricsError, evaluate_mot
from trackflow_ros.evaluation.motchallenge import (
    MotFormatError,
    find_sequences,
    read_ground_truth,
    write_results,
)


@pytest.fixture(scope="module")
def mot15(data_dir) -> Path:
    return data_dir / "MOT15" / "train"


def _evaluated_rows(seq_dir: Path, classes: tuple[int, ...] | None = None) -> np.ndarray:
    """gt as results ``[frame, id, x1, y1, x2, y2, score]``: flag-1 rows, or the given classes."""
    gt = read_ground_truth(seq_dir / "gt" / "gt.txt")
    keep = gt[:, 6] == 1 if classes is None else np.isin(gt[:, 7], classes)
    g = gt[keep]
    return np.c_[g[:, :2], g[:, 2:4], g[:, 2:4] + g[:, 4:6], np.ones(len(g))]


def _swap_halfway(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Swap the ids of the two tracks sharing most frames, from the middle shared frame on.

    Returns the rows and the number of boxes that IDF1 loses: each of the two gt tracks is
    best matched to the longer of its two parts, so the shorter parts become id errors.
    """
    ids = np.unique(rows[:, 1])
    frames = {i: set(rows[rows[:, 1] == i, 0].astype(int)) for i in ids}
    pairs = [(a, b) for a in ids for b in ids if a < b]
    a, b = max(pairs, key=lambda p: len(frames[p[0]] & frames[p[1]]))
    shared = sorted(frames[a] & frames[b])
    assert len(shared) >= 20, "the sequence needs two long, overlapping tracks"
    middle = shared[len(shared) // 2]
    out = rows.copy()
    late = out[:, 0] >= middle
    out[late & (rows[:, 1] == a), 1] = b
    out[late & (rows[:, 1] == b), 1] = a
    lost = 0
    for track in (a, b):
        track_frames = rows[rows[:, 1] == track, 0]
        after = int((track_frames >= middle).sum())
        lost += min(after, len(track_frames) - after)
    return out, lost


def test_ground_truth_as_results_is_perfect(mot15, tmp_path):
    write_results(tmp_path / "gt" / "TUD-Campus.txt", _evaluated_rows(mot15 / "TUD-Campus"))
    scores = evaluate_mot(mot15, tmp_path / "gt", ["TUD-Campus"])
    assert set(scores) == {"combined", "per_sequence"}
    assert set(scores["per_sequence"]) == {"TUD-Campus"}
    for result in (scores["combined"], scores["per_sequence"]["TUD-Campus"]):
        assert tuple(result) == METRIC_KEYS
        assert result["HOTA"] > 99 and result["MOTA"] > 99 and result["IDF1"] > 99
        assert result["DetA"] > 99 and result["AssA"] > 99
        assert result["IDSW"] == 0 and isinstance(result["IDSW"], int)
    # TrackEval and the output folder keep nothing of the run.
    assert sorted(p.name for p in (tmp_path / "gt").iterdir()) == ["TUD-Campus.txt"]


def test_ignored_gt_rows_reported_as_tracks_are_false_positives(mot15, tmp_path):
    """ETH-Pedcross2 has flag-0 gt rows: results with them too lose exactly that many boxes
    in MOTA, which shows that flag 0 is honoured (and in the gt, not in the results)."""
    gt = read_ground_truth(mot15 / "ETH-Pedcross2" / "gt" / "gt.txt")
    ignored = int((gt[:, 6] == 0).sum())
    evaluated = len(gt) - ignored
    assert ignored > 0
    all_rows = np.c_[gt[:, :2], gt[:, 2:4], gt[:, 2:4] + gt[:, 4:6], np.ones(len(gt))]
    write_results(tmp_path / "all" / "ETH-Pedcross2.txt", all_rows)
    scores = evaluate_mot(mot15, tmp_path / "all", ["ETH-Pedcross2"])["combined"]
    assert scores["MOTA"] == pytest.approx(100 * (1 - ignored / evaluated), abs=1e-9)
    assert scores["IDSW"] == 0


def test_swapped_ids_cost_exactly_what_they_should(mot15, tmp_path):
    clean = _evaluated_rows(mot15 / "TUD-Campus")
    swapped, lost = _swap_halfway(clean)
    write_results(tmp_path / "gt" / "TUD-Campus.txt", clean)
    write_results(tmp_path / "swapped" / "TUD-Campus.txt", swapped)
    perfect = evaluate_mot(mot15, tmp_path / "gt", ["TUD-Campus"])["combined"]
    worse = evaluate_mot(mot15, tmp_path / "swapped", ["TUD-Campus"])["combined"]

    assert worse["IDSW"] == 2
    assert worse["IDF1"] < perfect["IDF1"] - 5
    assert worse["IDF1"] == pytest.approx(100 * (1 - lost / len(clean)), abs=1e-9)
    assert worse["MOTA"] == pytest.approx(100 * (1 - 2 / len(clean)), abs=1e-9)
    assert worse["DetA"] == pytest.approx(100)  # every box is still found ...
    assert worse["AssA"] < perfect["AssA"] - 10  # ... but associated wrongly
    assert worse["HOTA"] < perfect["HOTA"] - 5


def test_shifted_boxes_fail_localisation(mot15, tmp_path):
    rows = _evaluated_rows(mot15 / "TUD-Campus")
    width = rows[:, 4] - rows[:, 2]
    rows[:, [2, 4]] += 0.5 * width[:, None]  # IoU with its own gt box is 1/3
    write_results(tmp_path / "shifted" / "TUD-Campus.txt", rows)
    scores = evaluate_mot(mot15, tmp_path / "shifted", ["TUD-Campus"])["combined"]
    # IoU 1/3 matches for alpha 0.05 ... 0.30 only: 6 of TrackEval's 19 thresholds.
    assert scores["HOTA"] == pytest.approx(100 * 6 / 19, abs=1e-6)
    assert scores["MOTA"] < 0 and scores["IDF1"] < 20


def test_combined_is_trackeval_count_weighted_combination(mot15, tmp_path):
    campus = _evaluated_rows(mot15 / "TUD-Campus")
    swapped, lost = _swap_halfway(campus)
    stadtmitte = _evaluated_rows(mot15 / "TUD-Stadtmitte")
    write_results(tmp_path / "r" / "TUD-Campus.txt", swapped)
    write_results(tmp_path / "r" / "TUD-Stadtmitte.txt", stadtmitte)
    scores = evaluate_mot(mot15, tmp_path / "r", ["TUD-Campus", "TUD-Stadtmitte"])

    assert set(scores["per_sequence"]) == {"TUD-Campus", "TUD-Stadtmitte"}
    combined, per_seq = scores["combined"], scores["per_sequence"]
    assert tuple(combined) == METRIC_KEYS
    assert combined["IDSW"] == sum(s["IDSW"] for s in per_seq.values()) == 2
    for key in ("HOTA", "DetA", "AssA", "IDF1", "MOTA"):
        values = [s[key] for s in per_seq.values()]
        assert min(values) - 1 <= combined[key] <= max(values) + 1e-9, key
    # Counts are summed over sequences before the ratio, not the per-sequence scores averaged.
    boxes = len(campus) + len(stadtmitte)
    assert combined["IDF1"] == pytest.approx(100 * (1 - lost / boxes), abs=1e-9)
    assert combined["MOTA"] == pytest.approx(100 * (1 - 2 / boxes), abs=1e-9)
    assert combined["IDF1"] > np.mean([s["IDF1"] for s in per_seq.values()]) + 1


def test_all_mot15_sequences_at_once(mot15, tmp_path):
    names = [s.path.name for s in find_sequences(mot15)]
    for name in names:
        write_results(tmp_path / "gt" / f"{name}.txt", _evaluated_rows(mot15 / name))
    scores = evaluate_mot(mot15, tmp_path / "gt", names)
    assert list(scores["per_sequence"]) == names
    for result in [scores["combined"], *scores["per_sequence"].values()]:
        assert result["HOTA"] > 99 and result["MOTA"] > 99 and result["IDSW"] == 0


def test_mot17_preprocessing_removes_distractor_matches(data_dir, tmp_path):
    """MOT17 gt: boxes on static persons, distractors and reflections are not false positives
    under the MOT17 rules, but are under MOT15's (which has no classes)."""
    mot17 = data_dir / "MOT17" / "train"
    rows = _evaluated_rows(mot17 / "MOT17-09", classes=(1, 7, 8, 12))
    pedestrians = _evaluated_rows(mot17 / "MOT17-09")
    assert len(rows) > len(pedestrians)
    write_results(tmp_path / "r" / "MOT17-09.txt", rows)
    mot17_rules = evaluate_mot(mot17, tmp_path / "r", ["MOT17-09"], benchmark="MOT17")
    mot15_rules = evaluate_mot(mot17, tmp_path / "r", ["MOT17-09"], benchmark="MOT15")
    assert mot17_rules["combined"]["MOTA"] == pytest.approx(100)
    extra = len(rows) - len(pedestrians)
    assert mot15_rules["combined"]["MOTA"] == pytest.approx(100 * (1 - extra / len(pedestrians)))


def test_malformed_results_line_names_the_file(mot15, tmp_path):
    path = tmp_path / "r" / "TUD-Campus.txt"
    write_results(path, _evaluated_rows(mot15 / "TUD-Campus"))
    lines = path.read_text().splitlines()
    lines.insert(9, "12,3,100.0,oops,40.0,90.0,1,-1,-1,-1")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MotFormatError, match=re.escape(f"{path}:10: field 'oops'")):
        evaluate_mot(mot15, tmp_path / "r", ["TUD-Campus"])


ROW1 = "1,1,10,10,40,100,1,-1,-1,-1"
ROW2 = "2,1,12,10,40,100,1,-1,-1,-1"


@pytest.mark.parametrize(
    ("text", "line"),
    [(f"{ROW1}\n\n", 2), (f"\n{ROW1}\n", 1), (f"{ROW1}\n \n{ROW2}\n", 2)],
    ids=["extra newline at the end", "blank first line", "blank line inside"],
)
def test_blank_line_that_trackeval_cannot_read_is_named(mot15, tmp_path, text, line):
    path = tmp_path / "r" / "TUD-Campus.txt"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(MotFormatError, match=re.escape(f"{path}:{line}: blank line")):
        evaluate_mot(mot15, tmp_path / "r", ["TUD-Campus"])


def test_results_beyond_the_sequence_name_file_and_line(mot15, tmp_path):
    path = tmp_path / "r" / "TUD-Campus.txt"
    write_results(path, [(72, 1, 10.0, 10.0, 50.0, 120.0, 1.0)])
    with pytest.raises(MotFormatError, match=re.escape(f"{path}:1: frame > sequence length 71")):
        evaluate_mot(mot15, tmp_path / "r", ["TUD-Campus"])


def test_missing_results_file_is_named(mot15, tmp_path):
    (tmp_path / "r").mkdir()
    with pytest.raises(MotFormatError, match=re.escape(str(tmp_path / "r" / "TUD-Campus.txt"))):
        evaluate_mot(mot15, tmp_path / "r", ["TUD-Campus"])


def test_trackeval_error_names_the_file_and_leaves_no_log(mot15, tmp_path):
    """A file that our reader accepts but TrackEval rejects (an 8th column that claims a
    non-pedestrian class) surfaces as MetricsError naming the file, and TrackEval does not
    append to an error log in its install folder."""
    path = tmp_path / "r" / "TUD-Campus.txt"
    path.parent.mkdir()
    path.write_text("1,1,10,10,40,100,1,3,-1,-1\n")
    log = Path(trackeval.__file__).parent / "error_log.txt"
    existed = log.exists()
    with pytest.raises(MetricsError, match=re.escape(str(path))) as err:
        evaluate_mot(mot15, tmp_path / "r", ["TUD-Campus"])
    assert "pedestrian" in str(err.value)
    assert log.exists() == existed
