"""Tracking metrics (HOTA, CLEAR MOT, IDF1) computed by TrackEval, never by our own code.

Numbers must be comparable with published ones, so the scoring is TrackEval's
(``trackeval`` 1.3.0; unlike the original TrackEval it no longer uses the ``np.float``/``np.int``
aliases that numpy 2 removed, so it runs unpatched): its MotChallenge2DBox dataset, its HOTA,
CLEAR and Identity metrics, and its own combination over sequences (``COMBINED_SEQ``). This
module only arranges the call and reads the answer:

- Inputs are checked first with ``motchallenge``'s readers (seqinfo, gt and every results
  file), because TrackEval's own errors name a sequence, not the file and line at fault.
  Anything TrackEval still raises is re-raised as ``MetricsError`` naming the files.
  One rule is stricter here than in ``motchallenge``: TrackEval cannot read a file with a
  blank line anywhere (even one extra newline at the end), so evaluation rejects those with
  the line number, where the plain readers skip them.
- TrackEval prints unconditionally (even with every print option off) and, on error, appends
  a traceback to ``error_log.txt`` inside its own install folder unless ``LOG_ON_ERROR`` is
  None. Its output is captured, the log is off, and summaries, details and plots are off, so
  nothing is written anywhere; ``OUTPUT_FOLDER`` points at a temporary folder all the same.
- Ground-truth rows with flag (7th column) 0 are ignored, as in the MOTChallenge devkit.
  With ``benchmark="MOT15"`` that is the only filter (MOT15 gt has no class column: TrackEval
  would read its world ``x`` as a class). With ``"MOT16"``/``"MOT17"``/``"MOT20"`` TrackEval
  also applies the benchmark's preprocessing: only pedestrians (class 1) are scored and
  tracker boxes that match distractors (static persons, reflections, ...) are removed.

Reported values: HOTA, DetA, AssA as the mean over TrackEval's 19 localisation thresholds
(alpha = 0.05 ... 0.95), which is the number TrackEval prints; IDF1 and MOTA; all in percent.
IDSW is an int.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import trackeval

from trackflow_ros.evaluation.motchallenge import (
    MotFormatError,
    read_ground_truth,
    read_results,
    read_seqinfo,
)

METRIC_KEYS = ("HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW")
BENCHMARKS = ("MOT15", "MOT16", "MOT17", "MOT20")
_CLASS = "pedestrian"  # the only class MotChallenge2DBox scores
_COMBINED = "COMBINED_SEQ"

_EVAL_CONFIG = {
    "USE_PARALLEL": False,
    "BREAK_ON_ERROR": True,
    "LOG_ON_ERROR": None,
    "PRINT_RESULTS": False,
    "PRINT_ONLY_COMBINED": False,
    "PRINT_CONFIG": False,
    "TIME_PROGRESS": False,
    "DISPLAY_LESS_PROGRESS": True,
    "OUTPUT_SUMMARY": False,
    "OUTPUT_EMPTY_CLASSES": False,
    "OUTPUT_DETAILED": False,
    "PLOT_CURVES": False,
}


class MetricsError(RuntimeError):
    """TrackEval could not score the given files; the message names them."""


def evaluate_mot(
    gt_root: Path, results_dir: Path, sequences: list[str], *, benchmark: str = "MOT15"
) -> dict[str, Any]:
    """Score ``results_dir/<seq>.txt`` against ``gt_root/<seq>/gt/gt.txt`` for each sequence.

    ``gt_root`` is laid out like MOTChallenge's ``train`` folder (``<seq>/seqinfo.ini`` and
    ``<seq>/gt/gt.txt``; sequence names are folder names). Results are MOTChallenge results
    files as ``motchallenge.write_results`` writes them. Returns
    ``{"combined": {key: value}, "per_sequence": {seq: {key: value}}}`` with ``METRIC_KEYS``.
    Bad input raises ``MotFormatError`` (file:line) or ``MetricsError`` (files).
    """
    gt_root, results_dir = Path(gt_root), Path(results_dir)
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {BENCHMARKS}, got {benchmark!r}")
    if not sequences:
        raise ValueError("no sequences to evaluate")
    if len(set(sequences)) != len(sequences):
        raise ValueError(f"sequence listed twice: {sequences}")
    results_dir = results_dir.resolve()
    lengths = {}
    for seq in sequences:
        length = read_seqinfo(gt_root / seq).length
        read_ground_truth(gt_root / seq / "gt" / "gt.txt", length)
        read_results(results_dir / f"{seq}.txt", length)
        _reject_blank_lines(gt_root / seq / "gt" / "gt.txt")
        _reject_blank_lines(results_dir / f"{seq}.txt")
        lengths[seq] = length

    files = ", ".join(
        [str(results_dir / f"{s}.txt") for s in sequences]
        + [str(gt_root / s / "gt" / "gt.txt") for s in sequences]
    )
    captured = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="trackeval-") as scratch:
        dataset_config = {
            "GT_FOLDER": str(gt_root),
            "GT_LOC_FORMAT": "{gt_folder}/{seq}/gt/gt.txt",
            # The results folder is used in place as the one "tracker": its parent is the
            # trackers folder and its files sit directly in it (no sub folder).
            "TRACKERS_FOLDER": str(results_dir.parent),
            "TRACKERS_TO_EVAL": [results_dir.name],
            "TRACKER_SUB_FOLDER": "",
            "OUTPUT_FOLDER": scratch,
            "BENCHMARK": benchmark,
            "SKIP_SPLIT_FOL": True,
            # Explicit lengths: TrackEval would otherwise parse seqinfo.ini again, unchecked.
            "SEQ_INFO": dict(lengths),
            "PRINT_CONFIG": False,
        }
        quiet = {"PRINT_CONFIG": False}
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                evaluator = trackeval.Evaluator(dict(_EVAL_CONFIG))
                dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
                metrics = [
                    trackeval.metrics.HOTA(),
                    trackeval.metrics.CLEAR(quiet),
                    trackeval.metrics.Identity(quiet),
                ]
                output, _ = evaluator.evaluate([dataset], metrics)
        except Exception as err:
            raise MetricsError(f"TrackEval failed on {files}: {err}") from err
    result = output[dataset.get_name()][results_dir.name]
    if result is None:  # only if BREAK_ON_ERROR were off; kept as a guard
        raise MetricsError(f"TrackEval failed on {files}: {captured.getvalue()[-2000:]}")
    return {
        "combined": _summary(result[_COMBINED][_CLASS]),
        "per_sequence": {seq: _summary(result[seq][_CLASS]) for seq in sequences},
    }


def _reject_blank_lines(path: Path) -> None:
    """TrackEval fails on any blank line, naming neither file nor line; say both instead."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise MotFormatError(f"{path}:{number}: blank line (TrackEval cannot read it)")


def _summary(res: dict[str, dict[str, Any]]) -> dict[str, float | int]:
    """Pick the reported numbers out of one TrackEval result (one sequence or combined)."""
    hota, clear, identity = res["HOTA"], res["CLEAR"], res["Identity"]
    return {
        "HOTA": 100.0 * float(np.mean(hota["HOTA"])),
        "DetA": 100.0 * float(np.mean(hota["DetA"])),
        "AssA": 100.0 * float(np.mean(hota["AssA"])),
        "IDF1": 100.0 * float(identity["IDF1"]),
        "MOTA": 100.0 * float(clear["MOTA"]),
        "IDSW": int(clear["IDSW"]),
    }
