"""Pictures of the tracks: annotated frames (the node's ``tracks/image``, replay videos) and a
bird's-eye plot of 3D trajectories.

Colours are a function of the track id alone, so a person keeps their colour across frames,
runs and tools.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from trackflow_ros.markers import id_rgb
from trackflow_ros.pipeline import PersonTrack


def id_color(track_id: int) -> tuple[int, int, int]:
    """The id's colour as BGR 0..255: the same colour RViz markers give the id."""
    r, g, b = id_rgb(track_id)
    return int(b * 255), int(g * 255), int(r * 255)


def label(person: PersonTrack) -> str:
    """``"7 d=12.3m"``, or just the id when the distance is unknown."""
    if np.isfinite(person.distance):
        return f"{person.id} d={person.distance:.1f}m"
    return f"{person.id}"


def draw_tracks(
    image_bgr: np.ndarray,
    persons: Iterable[PersonTrack],
    trails: Mapping[int, Sequence[tuple[float, float]]] | None = None,
) -> np.ndarray:
    """A copy of ``image_bgr`` with each person's box and label (id and distance) and, when
    given, their trail (pixel points per id, oldest first, e.g. from :class:`Trails`)."""
    if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8:
        raise ValueError("draw_tracks: image must be a uint8 numpy array")
    if image_bgr.ndim == 2:
        out = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    elif image_bgr.ndim == 3 and image_bgr.shape[2] == 3:
        out = image_bgr.copy()
    else:
        raise ValueError(f"draw_tracks: expected HxWx3 BGR or HxW, got shape {image_bgr.shape}")
    scale = max(out.shape[0], out.shape[1]) / 1000.0
    thickness = max(1, round(2 * scale))
    font_scale = max(0.4, 0.6 * scale)
    for track_id, points in (trails or {}).items():
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) >= 2:
            cv2.polylines(
                out, [np.round(pts).astype(np.int32)], False, id_color(track_id), thickness
            )
    for person in persons:
        box = np.asarray(person.box, dtype=np.float64)
        if not np.isfinite(box).all():
            continue
        x1, y1, x2, y2 = np.round(box).astype(int)
        color = id_color(person.id)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness)
        text = label(person)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        top = max(y1 - th - base - 2, 0)
        cv2.rectangle(out, (x1, top), (x1 + tw + 2, top + th + base + 2), color, -1)
        cv2.putText(
            out,
            text,
            (x1 + 1, top + th + 1),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return out


class Trails:
    """Each live track's recent foot points (bottom centre of its box), for ``draw_tracks``;
    tracks not seen for ``max_missing`` updates are forgotten, so memory stays bounded."""

    def __init__(self, length: int = 30, max_missing: int = 30) -> None:
        self.length = int(length)
        self.max_missing = int(max_missing)
        self._points: dict[int, deque[tuple[float, float]]] = {}
        self._missing: dict[int, int] = {}

    def update(self, persons: Iterable[PersonTrack]) -> dict[int, list[tuple[float, float]]]:
        seen = set()
        for p in persons:
            x1, _, x2, y2 = (float(v) for v in p.box)
            self._points.setdefault(p.id, deque(maxlen=self.length)).append(((x1 + x2) / 2, y2))
            seen.add(p.id)
        for track_id in list(self._points):
            self._missing[track_id] = 0 if track_id in seen else self._missing.get(track_id, 0) + 1
            if self._missing[track_id] > self.max_missing:
                del self._points[track_id], self._missing[track_id]
        return {k: list(v) for k, v in self._points.items()}


def birdseye_plot(
    tracks_xyz_by_id: Mapping[int, np.ndarray | Sequence[Sequence[float]]],
    out_png: Path | str,
    title: str = "tracked persons, bird's-eye view",
) -> Path:
    """Plot each id's 3D positions (camera optical frame) from above: x (lateral, right) against
    z (forward), the camera at the origin. NaN positions are skipped. Writes ``out_png``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # no global backend change
    from matplotlib.figure import Figure

    out_png = Path(out_png)
    fig = Figure(figsize=(6, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0], [0], marker="^", color="k", markersize=10, linestyle="none", label="camera")
    for track_id, xyz in sorted(tracks_xyz_by_id.items()):
        pts = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) == 0:
            continue
        b, g, r = id_color(track_id)
        color = (r / 255, g / 255, b / 255)
        ax.plot(pts[:, 0], pts[:, 2], "-", color=color, linewidth=1.5)
        ax.plot(pts[-1, 0], pts[-1, 2], "o", color=color, markersize=4)
        ax.annotate(str(track_id), (pts[-1, 0], pts[-1, 2]), fontsize=8, color=color)
    ax.set_xlabel("x, lateral (m, right of the camera)")
    ax.set_ylabel("z, forward (m)")
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png)
    return out_png
