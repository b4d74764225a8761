"""MOTChallenge files: sequence metadata, detections, ground truth and tracker results.

Everything here is plain files in, numpy arrays out, so the tracker and the benchmarks can run
without ROS. The readers are strict on purpose: a tracker fed a broken detection file, or scored
against a broken results file, produces numbers that look plausible and are wrong. So a bad
line is an error that names ``file:line`` and the reason, never a silently dropped row.

Text files (``det.txt``, ``gt.txt``, results) are comma-separated, one box per line:
``frame, id, left, top, width, height, score_or_flag, ...``. The rules every reader applies:

- a line needs at least 7 fields; spaces around fields are ignored, blank lines are skipped,
  an empty file is valid (no boxes);
- every field must be a number, and the first seven must be finite (no ``nan``/``inf``);
- ``frame`` is an integer >= 1, and <= the sequence length when the caller passes one;
- ``width`` and ``height`` are > 0;
- ground truth and results, whose ids mean something, also need ``id`` to be an integer >= 0
  and no ``(frame, id)`` pair twice (TrackEval would otherwise fail without naming the line,
  or for negative ids silently mix tracks up).

Boxes partly or wholly outside the image are kept as they are: MOT boxes legitimately extend
past the border (people leaving the frame), and clamping is the tracker's decision.

Box formats differ by direction, and both are documented where they cross: files hold
``left, top, width, height``; arrays handed to and returned by this module for detections and
results hold corners ``x1, y1, x2, y2`` (x2 = left + width), which is what the tracker uses.
Ground truth is returned as in the file, because its tools need the extra columns too.
"""

from __future__ import annotations

import configparser
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_FIELDS = 7
SEQINFO = "seqinfo.ini"
RESULT_COLUMNS = ("frame", "id", "x1", "y1", "x2", "y2", "score")


class MotFormatError(ValueError):
    """A MOTChallenge file is missing or not in the expected format; the message names it."""


@dataclass(frozen=True)
class SequenceInfo:
    """The ``[Sequence]`` section of a ``seqinfo.ini``, plus the folder it came from."""

    name: str
    frame_rate: float
    length: int
    width: int
    height: int
    path: Path


def read_seqinfo(seq_dir: Path) -> SequenceInfo:
    """Read ``seq_dir/seqinfo.ini``; every value must be present, numeric and positive."""
    path = Path(seq_dir) / SEQINFO
    if not path.is_file():
        raise MotFormatError(f"{path}: sequence metadata file not found")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as err:
        raise MotFormatError(f"{path}: not a valid ini file ({err})") from err
    if not parser.has_section("Sequence"):
        raise MotFormatError(f"{path}: no [Sequence] section")
    section = parser["Sequence"]

    def value(key: str) -> str:
        text = section.get(key, "").strip()
        if not text:
            raise MotFormatError(f"{path}: [Sequence] {key} is missing or empty")
        return text

    def positive(key: str, kind: type[int] | type[float]) -> int | float:
        text = value(key)
        try:
            number = kind(text)
        except ValueError:
            raise MotFormatError(
                f"{path}: [Sequence] {key}={text!r} is not {kind.__name__}"
            ) from None
        if not np.isfinite(number) or number <= 0:
            raise MotFormatError(f"{path}: [Sequence] {key}={text!r} must be positive")
        return number

    return SequenceInfo(
        name=value("name"),
        frame_rate=float(positive("frameRate", float)),
        length=int(positive("seqLength", int)),
        width=int(positive("imWidth", int)),
        height=int(positive("imHeight", int)),
        path=Path(seq_dir),
    )


def find_sequences(data: Path) -> list[SequenceInfo]:
    """The sequences under ``data``: ``data`` itself if it has a ``seqinfo.ini``, else each
    immediate subfolder that has one, sorted by folder name.

    Discovery only looks for the metadata file, so any MOTChallenge-style sequence works
    without this code knowing its name, length or frame rate.
    """
    data = Path(data)
    if (data / SEQINFO).is_file():
        return [read_seqinfo(data)]
    if not data.is_dir():
        raise MotFormatError(f"{data}: not a directory")
    found = [read_seqinfo(d) for d in sorted(data.iterdir()) if (d / SEQINFO).is_file()]
    if not found:
        raise MotFormatError(f"{data}: no sequence found (no {SEQINFO} in it or its subfolders)")
    return found


def _parse(path: Path, same_width: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of every non-blank line of ``path`` and their 1-based line numbers.

    With ``same_width`` all lines must have the same number of fields (the array keeps them
    all); otherwise only the first ``MIN_FIELDS`` columns are kept.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MotFormatError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise MotFormatError(f"{path}: cannot be read ({err})") from err
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    width = None
    # Split on "\n" only, so line numbers are an editor's; a "\r" left over is whitespace.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) < MIN_FIELDS:
            raise MotFormatError(
                f"{path}:{number}: {len(fields)} fields, at least {MIN_FIELDS} expected"
            )
        try:
            values = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise MotFormatError(
                f"{path}:{number}: field {bad.strip()!r} is not a number"
            ) from None
        if same_width:
            if width is None:
                width = len(values)
            elif len(values) != width:
                raise MotFormatError(
                    f"{path}:{number}: {len(values)} fields, earlier lines have {width}"
                )
        else:
            values = values[:MIN_FIELDS]
        rows.append(values)
        line_numbers.append(number)
    columns = width if same_width and width is not None else MIN_FIELDS
    array = np.array(rows, dtype=np.float64).reshape(len(rows), columns)
    return array, np.array(line_numbers, dtype=np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _violation(rows: np.ndarray, length: int | None, track_ids: bool) -> tuple[int, str] | None:
    """The first row (index) that breaks one of the module's rules, and why; None if none."""
    head = rows[:, :MIN_FIELDS]
    frame, ids = head[:, 0], head[:, 1]
    checks = [
        (~np.isfinite(head).all(axis=1), "non-finite value (nan or inf) in the first 7 fields"),
        (frame != np.round(frame), "frame is not an integer"),
        (frame < 1, "frame < 1 (MOT frames are numbered from 1)"),
    ]
    if length is not None:
        checks.append((frame > length, f"frame > sequence length {length}"))
    checks += [(head[:, 4] <= 0, "width <= 0"), (head[:, 5] <= 0, "height <= 0")]
    if track_ids:
        checks += [(ids != np.round(ids), "id is not an integer"), (ids < 0, "id < 0")]
        order = np.lexsort((ids, frame))  # stable: a repeat is flagged on its later row
        repeat = np.zeros(len(rows), dtype=bool)
        repeat[order[1:]] = (head[order[1:], :2] == head[order[:-1], :2]).all(axis=1)
        checks.append((repeat, "(frame, id) pair repeats an earlier line"))
    for bad, reason in checks:
        if bad.any():
            return int(np.flatnonzero(bad)[0]), reason
    return None


def _check(path: Path, rows: np.ndarray, lines: np.ndarray, length: int | None, ids: bool) -> None:
    """Raise ``MotFormatError`` naming ``path:line`` for the first row that breaks a rule."""
    found = _violation(rows, length, ids)
    if found is not None:
        index, reason = found
        raise MotFormatError(f"{path}:{lines[index]}: {reason}")


def _corners(xywh: np.ndarray) -> np.ndarray:
    """left, top, width, height -> x1, y1, x2, y2."""
    out = xywh.copy()
    out[:, 2:4] += out[:, 0:2]
    return out


def read_detections(path: Path, length: int | None = None) -> dict[int, np.ndarray]:
    """Read a MOT ``det.txt`` into ``{frame: (N, 5) float64 [x1, y1, x2, y2, score]}``.

    Frames without detections are absent: use ``dets.get(frame, empty_detections())`` with
    ``trackflow_ros.types.empty_detections``.
    Rows keep their file order within a frame. Pass the sequence ``length`` to also reject
    frames beyond the end of the sequence.
    """
    rows, lines = _parse(path, same_width=False)
    _check(Path(path), rows, lines, length, ids=False)
    if not len(rows):
        return {}
    frames = rows[:, 0].astype(np.int64)
    boxes = np.empty((len(rows), 5), dtype=np.float64)
    boxes[:, :4] = _corners(rows[:, 2:6])
    boxes[:, 4] = rows[:, 6]
    order = np.argsort(frames, kind="stable")
    unique, starts = np.unique(frames[order], return_index=True)
    groups = np.split(boxes[order], starts[1:])
    return {int(f): g for f, g in zip(unique, groups, strict=True)}


def read_ground_truth(path: Path, length: int | None = None) -> np.ndarray:
    """Read a MOT ``gt.txt`` as an (M, C) float64 array, C >= 7, rows as in the file.

    Columns are the file's: ``frame, id, left, top, width, height, flag, ...`` (MOT15 adds world
    ``x, y, z``; MOT16/17 add ``class, visibility``), so every line must have the same number
    of fields. ``flag`` 0 marks boxes that the benchmark ignores.
    """
    rows, lines = _parse(path, same_width=True)
    _check(Path(path), rows, lines, length, ids=True)
    return rows


def read_results(path: Path, length: int | None = None) -> np.ndarray:
    """Read a MOTChallenge results file as (K, 7) float64 ``[frame, id, x1, y1, x2, y2, score]``.

    The inverse of ``write_results`` (same row order as the file); columns past the seventh
    are ignored. Scoring tools call it to reject a bad file with its line number before
    TrackEval sees it.
    """
    rows, lines = _parse(path, same_width=False)
    _check(Path(path), rows, lines, length, ids=True)
    out = rows.copy()
    out[:, 2:6] = _corners(rows[:, 2:6])
    return out


def write_results(
    path: Path,
    rows: Iterable[tuple[int, int, float, float, float, float, float]] | np.ndarray,
) -> None:
    """Write tracker output as a MOTChallenge results file, creating parent folders.

    ``rows`` are ``(frame, id, x1, y1, x2, y2, score)``: corners in, as the tracker holds
    boxes. Each output line is ``frame,id,left,top,width,height,score,-1,-1,-1`` (the trailing
    ``-1`` are the unused world coordinates), sorted by frame then id, as the benchmark's tools
    expect. Rows that ``read_results`` would reject (frame < 1, non-integer or negative id,
    x2 <= x1, non-finite values, a repeated (frame, id)) raise ``ValueError`` here instead, so
    that a bad file is never written.
    """
    path = Path(path)
    if isinstance(rows, np.ndarray):
        array = np.asarray(rows, dtype=np.float64)
    else:
        array = np.array(list(rows), dtype=np.float64)
    if array.shape == (0,):  # an empty list of rows
        array = array.reshape(0, len(RESULT_COLUMNS))
    if array.ndim != 2 or array.shape[1] != len(RESULT_COLUMNS):
        raise ValueError(f"results must be (K, 7) {RESULT_COLUMNS}, got shape {array.shape}")
    array = array[np.lexsort((array[:, 1], array[:, 0]))]
    # Check what will be written (3 decimals), so that the file always reads back.
    xywh = array.copy()
    xywh[:, 4:6] -= xywh[:, 2:4]
    xywh[:, 2:6] = np.round(xywh[:, 2:6], 3)
    found = _violation(xywh, None, track_ids=True)
    if found is not None:
        index, reason = found
        raise ValueError(f"{path}: refusing to write row {array[index].tolist()}: {reason}")
    lines = [
        f"{int(f)},{int(i)},{x:.3f},{y:.3f},{w:.3f},{h:.3f},{s:.6g},-1,-1,-1\n"
        for f, i, x, y, w, h, s in xywh
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
