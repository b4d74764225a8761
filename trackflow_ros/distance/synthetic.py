"""Synthetic street scenes with known per-person distances, for training and testing DistSynth.

There is no real image-plus-distance dataset on the development machines (MOTSynth is not
here), so this module renders one with numpy and OpenCV: a perspective camera over a ground
plane, person-like figures of varied height, width, colour and walking pose at known 3D
positions, static and moving occluders (cars, walls, poles, bushes) that hide parts of people
(so the visible box height stops telling the distance), varied backgrounds and lighting, and
short clips of consecutive frames in which people walk and occluders drive past. Everything is
drawn from ``numpy.random.default_rng((seed, clip))``: the same seed gives the same split, byte
for byte, and clip k does not depend on how many clips are asked for.

Annotation format (``FORMAT`` / ``FORMAT_VERSION``), in the spirit of MOTSynth::

    DIR/meta.json                      {"format", "version", "seed", "clips", "frames_per_clip",
                                        "image_size": [w, h], "generator": {...}}
    DIR/clip_0000/000000.jpg ...       the frames (BGR JPEG, quality 92)
    DIR/clip_0000/annotations.json

``annotations.json`` holds one clip::

    {"clip": "clip_0000", "fps": 10.0,
     "intrinsics": {"fx", "fy", "cx", "cy", "width", "height"},   # pixels, no distortion
     "camera": {"height_m", "pitch_deg",                          # above the ground plane
                "R": 3x3, "t": 3},                                # p_cam = R p_world + t
     "frames": [{"file": "000000.jpg",
                 "persons": [{"track_id": 3,
                              "box": [x1, y1, x2, y2],        # visible part, pixels
                              "full_box": [x1, y1, x2, y2],   # whole person, may leave the image
                              "distance": 12.3,               # m, camera centre to foot point
                              "occlusion": 0.42,              # hidden fraction of the person
                              "position": [x, y, z],          # foot point, camera optical frame
                              "height_m": 1.74}, ...]}, ...]}

``box`` is what a detector would see: the bounding box of the person's visible pixels. The
occlusion ratio is the fraction of the person's pixels (rendered alone, on an unbounded canvas)
that are not visible in the frame, whether hidden by an occluder, by another person or by the
image border. People with fewer than ``MIN_VISIBLE_PX`` visible pixels are left out of that
frame. The world frame has z up and the ground at z = 0; the optical frame is REP-103 (x right,
y down, z forward), so the distance is also the norm of ``position``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

FORMAT = "trackflow-distance-synthetic"
FORMAT_VERSION = 1
MIN_VISIBLE_PX = 12


class DatasetError(ValueError):
    """A split folder that is not in the annotation format (names the file)."""


@dataclass(frozen=True)
class SyntheticConfig:
    """Ranges the generator draws from. Distances reach ~45 m; nothing lands in the 100+ bin."""

    width: int = 320
    height: int = 240
    frames_per_clip: int = 8
    fps_range: tuple[float, float] = (7.0, 15.0)
    hfov_deg: tuple[float, float] = (50.0, 75.0)
    camera_height_m: tuple[float, float] = (1.0, 7.0)
    pitch_deg: tuple[float, float] = (0.0, 18.0)
    persons: tuple[int, int] = (3, 9)
    depth_m: tuple[float, float] = (3.0, 40.0)
    static_occluders: tuple[int, int] = (1, 5)
    moving_occluders: tuple[int, int] = (0, 2)


# --------------------------------------------------------------------------- camera


@dataclass(frozen=True)
class _Camera:
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    R: np.ndarray  # world -> optical
    centre: np.ndarray  # world

    def to_cam(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, float) - self.centre) @ self.R.T

    def project(self, p: np.ndarray) -> np.ndarray:
        c = self.to_cam(p)
        z = np.maximum(c[..., 2], 1e-3)
        return np.stack([self.fx * c[..., 0] / z + self.cx, self.fy * c[..., 1] / z + self.cy], -1)


def _make_camera(rng: np.random.Generator, cfg: SyntheticConfig) -> _Camera:
    hfov = np.radians(rng.uniform(*cfg.hfov_deg))
    f = 0.5 * cfg.width / np.tan(hfov / 2)
    pitch = np.radians(rng.uniform(*cfg.pitch_deg))
    h = rng.uniform(*cfg.camera_height_m)
    s, c = np.sin(pitch), np.cos(pitch)
    # rows: optical x (right), y (down), z (forward) in world coordinates (x east, y north, z up)
    R = np.array([[1.0, 0.0, 0.0], [0.0, -s, -c], [0.0, c, -s]])
    return _Camera(
        f, f, cfg.width / 2.0, cfg.height / 2.0, cfg.width, cfg.height, R, np.array([0, 0, h])
    )


# --------------------------------------------------------------------------- scene objects


@dataclass
class _Person:
    track_id: int
    pos: np.ndarray  # (2,) ground x, y
    vel: np.ndarray  # (2,) m/s
    height: float
    width_factor: float
    phase: float
    stride: float
    colours: dict[str, tuple[int, int, int]]


@dataclass
class _Occluder:
    kind: str  # car, wall, pole, bush, box
    pos: np.ndarray
    vel: np.ndarray
    width: float
    height: float
    colour: tuple[int, int, int]


def _billboard_axes(cam: _Camera, pos: np.ndarray) -> np.ndarray:
    """A horizontal unit vector across the line of sight: billboards face the camera."""
    d = np.array([pos[0] - cam.centre[0], pos[1] - cam.centre[1]])
    d /= max(np.linalg.norm(d), 1e-6)
    return np.array([d[1], -d[0], 0.0])


def _to_px(cam: _Camera, pos: np.ndarray, lateral: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Billboard points (u across, v up, metres) around ground point ``pos`` -> pixels."""
    base = np.array([pos[0], pos[1], 0.0])
    world = base + uv[:, :1] * lateral + uv[:, 1:2] * np.array([0.0, 0.0, 1.0])
    return cam.project(world)


def _colour(rng: np.random.Generator, lo: int = 20, hi: int = 235) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def _person_parts(p: _Person) -> list[tuple[np.ndarray, str]]:
    """Body polygons in billboard coordinates (metres), back to front, with their colour key."""
    H = p.height
    w = 0.26 * H * p.width_factor  # shoulder width
    swing = p.stride * np.sin(p.phase)
    hip, shoulder, neck = 0.50 * H, 0.80 * H, 0.86 * H
    leg_w = 0.09 * H * p.width_factor

    def limb(top: tuple[float, float], bottom: tuple[float, float], half: float) -> np.ndarray:
        return np.array(
            [
                [top[0] - half, top[1]],
                [top[0] + half, top[1]],
                [bottom[0] + half, bottom[1]],
                [bottom[0] - half, bottom[1]],
            ]
        )

    parts = [
        (limb((-0.18 * w, hip), (-0.18 * w + swing * 0.35 * H, 0.0), leg_w / 2), "legs"),
        (limb((0.18 * w, hip), (0.18 * w - swing * 0.35 * H, 0.0), leg_w / 2), "legs"),
        (limb((-0.5 * w, shoulder), (-0.5 * w - swing * 0.25 * H, 0.47 * H), 0.035 * H), "top"),
        (limb((0.5 * w, shoulder), (0.5 * w + swing * 0.25 * H, 0.47 * H), 0.035 * H), "top"),
        (
            np.array(
                [[-0.5 * w, shoulder], [0.5 * w, shoulder], [0.36 * w, hip], [-0.36 * w, hip]]
            ),
            "top",
        ),
        (limb((0.0, neck), (0.0, shoulder - 0.02 * H), 0.03 * H), "skin"),
    ]
    t = np.linspace(0, 2 * np.pi, 14, endpoint=False)
    head_r = 0.065 * H
    head = np.stack([0.8 * head_r * np.cos(t), H - head_r + head_r * np.sin(t)], 1)
    parts.append((head, "skin"))
    hair = np.stack(
        [0.82 * head_r * np.cos(t[:8] * 0.5), H - head_r + head_r * np.sin(t[:8] * 0.5)], 1
    )
    parts.append((hair, "hair"))
    # feet
    parts.append(
        (
            limb(
                (-0.18 * w + swing * 0.35 * H, 0.03 * H),
                (-0.18 * w + swing * 0.35 * H, 0.0),
                leg_w * 0.7,
            ),
            "shoes",
        )
    )
    parts.append(
        (
            limb(
                (0.18 * w - swing * 0.35 * H, 0.03 * H),
                (0.18 * w - swing * 0.35 * H, 0.0),
                leg_w * 0.7,
            ),
            "shoes",
        )
    )
    return parts


def _occluder_parts(o: _Occluder) -> list[np.ndarray]:
    w, h = o.width, o.height
    if o.kind == "car":
        body = np.array([[-w / 2, 0.25], [w / 2, 0.25], [w / 2, 0.55 * h], [-w / 2, 0.55 * h]])
        cabin = np.array([[-0.3 * w, 0.55 * h], [0.3 * w, 0.55 * h], [0.2 * w, h], [-0.22 * w, h]])
        t = np.linspace(0, 2 * np.pi, 10, endpoint=False)
        wheels = [
            np.stack([x + 0.3 * np.cos(t), 0.3 + 0.3 * np.sin(t)], 1) for x in (-0.32 * w, 0.32 * w)
        ]
        return [body, cabin, *wheels]
    if o.kind == "bush":
        t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        return [np.stack([w / 2 * np.cos(t), h / 2 + h / 2 * np.sin(t)], 1)]
    return [np.array([[-w / 2, 0.0], [w / 2, 0.0], [w / 2, h], [-w / 2, h]])]


_OCCLUDER_SIZES = {  # kind: (width range, height range) in metres
    "car": ((3.6, 4.8), (1.3, 1.7)),
    "wall": ((1.5, 6.0), (0.7, 1.4)),
    "pole": ((0.12, 0.35), (2.5, 4.0)),
    "bush": ((0.8, 2.0), (0.6, 1.3)),
    "box": ((0.6, 1.4), (0.6, 1.2)),
}


def _make_occluder(rng: np.random.Generator, pos: np.ndarray, moving: bool) -> _Occluder:
    kind = "car" if moving and rng.random() < 0.7 else str(rng.choice(list(_OCCLUDER_SIZES)))
    (w0, w1), (h0, h1) = _OCCLUDER_SIZES[kind]
    vel = np.zeros(2)
    if moving:
        speed = rng.uniform(1.0, 6.0) if kind == "car" else rng.uniform(0.5, 1.5)
        vel = np.array([speed * rng.choice([-1.0, 1.0]), rng.normal(0, 0.2)])
    return _Occluder(kind, pos, vel, rng.uniform(w0, w1), rng.uniform(h0, h1), _colour(rng))


# --------------------------------------------------------------------------- rendering


def _fill(img: np.ndarray, px: np.ndarray, value, offset=(0.0, 0.0)) -> None:
    pts = np.round((px - np.asarray(offset)) * 4).astype(np.int32)  # 2 bits of sub-pixel
    cv2.fillPoly(img, [pts], value, lineType=cv2.LINE_8, shift=2)


def _background(rng: np.random.Generator, cam: _Camera) -> np.ndarray:
    """Sky (or far wall) above the horizon, a textured ground plane with perspective lines."""
    W, H = cam.width, cam.height
    img = np.zeros((H, W, 3), np.float32)
    pitch = np.arcsin(-cam.R[1, 1])
    horizon = cam.cy - cam.fy * np.tan(pitch)
    sky_top, sky_bottom = np.array(_colour(rng, 120, 255)), np.array(_colour(rng, 150, 255))
    rows = np.arange(H, dtype=np.float32)[:, None]
    a = np.clip(rows / max(horizon, 1.0), 0, 1)
    img[:] = (sky_top * (1 - a) + sky_bottom * a)[:, None, :]
    # far buildings: rectangles standing on the horizon
    for _ in range(rng.integers(0, 7)):
        x0 = rng.uniform(-20, W)
        bw, bh = rng.uniform(15, 80), rng.uniform(5, 60)
        cv2.rectangle(
            img,
            (int(x0), int(horizon - bh)),
            (int(x0 + bw), int(horizon + 1)),
            _colour(rng, 40, 200),
            -1,
        )
    ground = np.array(_colour(rng, 40, 190), np.float32)
    g0 = int(np.clip(np.ceil(horizon), 0, H))
    img[g0:] = ground
    # ground texture: tiles or lane lines of a second colour, drawn in world coordinates
    line_colour = tuple(float(v) for v in np.clip(ground + rng.normal(0, 45, 3), 0, 255))
    spacing = rng.uniform(1.0, 5.0)
    thick = int(rng.integers(1, 3))
    for k in range(-30, 31):
        for seg in (
            np.array([[k * spacing, 0.5, 0.0], [k * spacing, 200.0, 0.0]]),
            np.array([[-150.0, k * spacing + 15, 0.0], [150.0, k * spacing + 15, 0.0]]),
        ):
            if rng.random() < 0.4:
                continue
            cam_pts = cam.to_cam(seg)
            if np.all(cam_pts[:, 2] < 0.5):
                continue
            if cam_pts[0, 2] < 0.5 or cam_pts[1, 2] < 0.5:  # clip at the near plane
                t0 = (0.5 - cam_pts[0, 2]) / (cam_pts[1, 2] - cam_pts[0, 2])
                cut = seg[0] + t0 * (seg[1] - seg[0])
                seg = np.array([cut, seg[1]]) if cam_pts[0, 2] < 0.5 else np.array([seg[0], cut])
            p = cam.project(seg)
            if np.all(np.isfinite(p)) and np.abs(p).max() < 1e5:
                cv2.line(img, tuple(np.int32(p[0])), tuple(np.int32(p[1])), line_colour, thick)
    # a ground-plane lighting gradient and blotches of texture
    img[g0:] *= np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.9, 1.2), H - g0, dtype=np.float32)[
        :, None, None
    ]
    noise = cv2.resize(rng.normal(0, 12, (H // 8 + 1, W // 8 + 1, 3)).astype(np.float32), (W, H))
    return img + noise


def _render_frame(
    rng: np.random.Generator,
    cam: _Camera,
    background: np.ndarray,
    persons: list[_Person],
    occluders: list[_Occluder],
    lighting: tuple[float, np.ndarray, float],
) -> tuple[np.ndarray, list[dict]]:
    W, H = cam.width, cam.height
    img = background.copy()
    ids = np.zeros((H, W), np.int32)  # 0 background, k+1 person k, -1 occluder
    items = []
    for k, p in enumerate(persons):
        depth = cam.to_cam(np.array([p.pos[0], p.pos[1], 0.0]))[2]
        items.append((depth, "person", k))
    for k, o in enumerate(occluders):
        depth = cam.to_cam(np.array([o.pos[0], o.pos[1], 0.0]))[2]
        items.append((depth, "occluder", k))
    items.sort(key=lambda it: -it[0])  # painter's algorithm: far to near
    full = {}
    for depth, kind, k in items:
        if depth < 0.8:
            continue
        if kind == "occluder":
            o = occluders[k]
            lat = _billboard_axes(cam, o.pos)
            for poly in _occluder_parts(o):
                px = _to_px(cam, o.pos, lat, poly)
                shade = o.colour if poly.shape[0] != 10 else (25, 25, 25)
                _fill(img, px, tuple(float(c) for c in shade))
                _fill(ids, px, -1)
            continue
        p = persons[k]
        lat = _billboard_axes(cam, p.pos)
        polys = [(_to_px(cam, p.pos, lat, uv), key) for uv, key in _person_parts(p)]
        allpx = np.concatenate([px for px, _ in polys])
        lo, hi = np.floor(allpx.min(0)) - 2, np.ceil(allpx.max(0)) + 2
        size = (hi - lo).astype(int)
        if size.max() > 4000:
            continue
        alone = np.zeros((size[1], size[0]), np.uint8)
        for px, key in polys:
            _fill(img, px, tuple(float(c) for c in p.colours[key]))
            _fill(ids, px, k + 1)
            _fill(alone, px, 1, offset=lo)
        full[k] = (int(alone.sum()), allpx.min(0), allpx.max(0), depth)
    gain, tint, noise_std = lighting
    img = img * gain * tint + rng.normal(0, noise_std, img.shape)
    frame = np.clip(img, 0, 255).astype(np.uint8)

    annotations = []
    for k, (area, lo, hi, _depth) in full.items():
        mask = ids == k + 1
        visible = int(mask.sum())
        if visible < MIN_VISIBLE_PX or area <= 0:
            continue
        ys, xs = np.nonzero(mask)
        p = persons[k]
        foot = cam.to_cam(np.array([p.pos[0], p.pos[1], 0.0]))
        annotations.append(
            {
                "track_id": p.track_id,
                "box": [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)],
                "full_box": [round(float(v), 2) for v in (lo[0], lo[1], hi[0], hi[1])],
                "distance": round(float(np.linalg.norm(foot)), 4),
                "occlusion": round(float(np.clip(1.0 - visible / area, 0.0, 1.0)), 4),
                "position": [round(float(v), 4) for v in foot],
                "height_m": round(p.height, 3),
            }
        )
    annotations.sort(key=lambda a: a["track_id"])
    return frame, annotations


def _ground_point(
    cam: _Camera, rng: np.random.Generator, depth: float, margin: float
) -> np.ndarray:
    """A ground point at forward ``depth`` (optical z) within the horizontal field of view."""
    half = (cam.width / 2) / cam.fx * depth * margin
    x = rng.uniform(-half, half)
    # solve for a world ground point with optical z = depth and optical x = x
    fwd = np.array([cam.R[2, 0], cam.R[2, 1]])
    fwd_h = fwd / np.linalg.norm(fwd)
    # optical z of ground point g: R[2] . (g - c) = depth; g = c_xy + s*fwd_h + x*right
    s = (depth - cam.R[2, 2] * (0 - cam.centre[2])) / (fwd @ fwd_h)
    return cam.centre[:2] + s * fwd_h + np.array([x, 0.0])


def render_clip(seed: int, clip: int, cfg: SyntheticConfig) -> tuple[list[np.ndarray], dict]:
    """One clip: its frames (BGR uint8) and its annotation dict (see the module docstring)."""
    rng = np.random.default_rng((seed, clip))
    cam = _make_camera(rng, cfg)
    fps = float(rng.uniform(*cfg.fps_range))
    persons = []
    for tid in range(int(rng.integers(cfg.persons[0], cfg.persons[1] + 1))):
        depth = rng.uniform(*cfg.depth_m)
        speed = rng.uniform(0.3, 1.8)
        heading = rng.uniform(0, 2 * np.pi)
        skin = _colour(rng, 60, 230)
        persons.append(
            _Person(
                track_id=tid + 1,
                pos=_ground_point(cam, rng, depth, 1.1),
                vel=speed * np.array([np.cos(heading), np.sin(heading)]),
                height=float(np.clip(rng.normal(1.72, 0.09), 1.45, 2.0)),
                width_factor=float(rng.uniform(0.8, 1.25)),
                phase=float(rng.uniform(0, 2 * np.pi)),
                stride=float(rng.uniform(0.1, 0.35) * min(speed, 1.2)),
                colours={
                    "skin": skin,
                    "hair": _colour(rng, 0, 120),
                    "top": _colour(rng),
                    "legs": _colour(rng),
                    "shoes": _colour(rng, 0, 90),
                },
            )
        )
    occluders = []
    n_static = int(rng.integers(cfg.static_occluders[0], cfg.static_occluders[1] + 1))
    n_moving = int(rng.integers(cfg.moving_occluders[0], cfg.moving_occluders[1] + 1))
    for j in range(n_static + n_moving):
        # most occluders stand on the line of sight to a person, so occlusion is common
        target = persons[int(rng.integers(len(persons)))]
        if rng.random() < 0.8:
            frac = rng.uniform(0.35, 0.9)
            pos = cam.centre[:2] + frac * (target.pos - cam.centre[:2])
            pos = pos + rng.normal(0, 0.3, 2)
        else:
            pos = _ground_point(cam, rng, rng.uniform(*cfg.depth_m), 1.0)
        occluders.append(_make_occluder(rng, pos, moving=j >= n_static))
    background = _background(rng, cam)
    lighting = (
        float(rng.uniform(0.55, 1.3)),
        rng.uniform(0.85, 1.15, 3).astype(np.float32),
        float(rng.uniform(1.0, 6.0)),
    )
    frames, records = [], []
    dt = 1.0 / fps
    for t in range(cfg.frames_per_clip):
        frame, persons_t = _render_frame(rng, cam, background, persons, occluders, lighting)
        frames.append(frame)
        records.append({"file": f"{t:06d}.jpg", "persons": persons_t})
        for p in persons:
            p.pos = p.pos + p.vel * dt
            p.phase += 2 * np.pi * dt * np.linalg.norm(p.vel) / 1.4
        for o in occluders:
            o.pos = o.pos + o.vel * dt
    t_vec = -cam.R @ cam.centre
    ann = {
        "clip": f"clip_{clip:04d}",
        "fps": round(fps, 3),
        "intrinsics": {
            "fx": cam.fx,
            "fy": cam.fy,
            "cx": cam.cx,
            "cy": cam.cy,
            "width": cam.width,
            "height": cam.height,
        },
        "camera": {
            "height_m": round(float(cam.centre[2]), 4),
            "pitch_deg": round(float(np.degrees(np.arcsin(-cam.R[1, 1]))), 4),
            "R": cam.R.round(8).tolist(),
            "t": t_vec.round(8).tolist(),
        },
        "frames": records,
    }
    return frames, ann


def write_split(out: Path, seed: int, clips: int, cfg: SyntheticConfig | None = None) -> Path:
    """Render ``clips`` clips into ``out`` in the annotation format; returns ``out``."""
    cfg = cfg or SyntheticConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for c in range(clips):
        frames, ann = render_clip(seed, c, cfg)
        folder = out / ann["clip"]
        folder.mkdir(exist_ok=True)
        for frame, rec in zip(frames, ann["frames"], strict=True):
            if not cv2.imwrite(str(folder / rec["file"]), frame, [cv2.IMWRITE_JPEG_QUALITY, 92]):
                raise OSError(f"{folder / rec['file']}: could not write the frame")
        (folder / "annotations.json").write_text(json.dumps(ann, indent=1))
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "seed": seed,
        "clips": clips,
        "frames_per_clip": cfg.frames_per_clip,
        "image_size": [cfg.width, cfg.height],
        "generator": asdict(cfg),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    return out


# --------------------------------------------------------------------------- reading


@dataclass
class Clip:
    """One annotated clip as read back: frame paths, intrinsics, per-frame person records."""

    name: str
    folder: Path
    intrinsics: dict
    frames: list[dict]

    def frame_path(self, t: int) -> Path:
        return self.folder / self.frames[t]["file"]

    @staticmethod
    def boxes(frame: dict) -> np.ndarray:
        return np.array([p["box"] for p in frame["persons"]], float).reshape(-1, 4)


def read_split(data: Path) -> list[Clip]:
    """Every clip of a split folder, sorted by name; a malformed file raises naming it."""
    data = Path(data)
    if not data.is_dir():
        raise DatasetError(f"{data}: not a directory")
    files = sorted(data.glob("*/annotations.json"))
    if not files:
        raise DatasetError(f"{data}: no */annotations.json (not a {FORMAT} split)")
    clips = []
    for f in files:
        try:
            ann = json.loads(f.read_text())
            intr = {k: ann["intrinsics"][k] for k in ("fx", "fy", "cx", "cy", "width", "height")}
            frames = ann["frames"]
            for fr in frames:
                fr["file"]
                for p in fr["persons"]:
                    if len(p["box"]) != 4 or not np.isfinite(p["distance"]):
                        raise ValueError("bad box or distance")
                    float(p["occlusion"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{f}: not a valid annotation file: {exc!r}") from exc
        clips.append(Clip(ann.get("clip", f.parent.name), f.parent, intr, frames))
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trackflow-make-synthetic",
        description="Render a synthetic split of clips with per-person distances (see "
        "trackflow_ros/distance/synthetic.py for the format).",
    )
    parser.add_argument("--out", type=Path, required=True, help="split folder to write")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--clips", type=int, required=True)
    parser.add_argument("--frames", type=int, default=SyntheticConfig.frames_per_clip)
    parser.add_argument("--width", type=int, default=SyntheticConfig.width)
    parser.add_argument("--height", type=int, default=SyntheticConfig.height)
    args = parser.parse_args(argv)
    if args.clips < 1 or args.frames < 1 or args.width < 32 or args.height < 32:
        parser.error("--clips and --frames must be >= 1, --width/--height >= 32")
    cfg = SyntheticConfig(width=args.width, height=args.height, frames_per_clip=args.frames)
    try:
        write_split(args.out, args.seed, args.clips, cfg)
    except OSError as exc:
        print(f"trackflow-make-synthetic: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.clips} clips of {args.frames} frames to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
