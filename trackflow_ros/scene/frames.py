"""Frames to fit scene clusters on: every N-th frame of a video, or of a list of images.

A file that cannot be read is an error naming it, never a silently skipped frame: clusters
fitted on part of what the user pointed at would be wrong without anyone noticing.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


class FrameSourceError(ValueError):
    """A video or image cannot be read; the message names the file."""


def video_frames(path: str | Path, every: int = 1) -> tuple[int | None, Iterator[np.ndarray]]:
    """``(number of frames that will be yielded if the container knows its length, iterator)``
    over frames 0, every, 2*every, ... of ``path`` (BGR uint8)."""
    path = Path(path)
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if not path.is_file():
        raise FrameSourceError(f"{path}: video not found")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FrameSourceError(f"{path}: cannot be opened as a video")
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    total = (count + every - 1) // every if count > 0 else None

    def frames() -> Iterator[np.ndarray]:
        try:
            index = 0
            while True:
                if index % every == 0:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    yield frame
                elif not cap.grab():  # skipped frames are only demuxed, not converted
                    break
                index += 1
            if index == 0:
                raise FrameSourceError(f"{path}: no frame could be decoded")
        finally:
            cap.release()

    return total, frames()


def image_paths(specs: list[str]) -> list[Path]:
    """Image files named by ``specs``: files, folders (their images, sorted) or glob patterns
    (sorted matches), in the order given."""
    paths: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise FrameSourceError(f"{p}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        elif p.is_file():
            found = [p]
        elif glob.has_magic(spec):
            found = sorted(Path(q) for q in glob.glob(spec) if Path(q).is_file())
            if not found:
                raise FrameSourceError(f"{spec}: pattern matches no file")
        else:
            raise FrameSourceError(f"{p}: no such image, folder or pattern")
        paths.extend(found)
    return paths


def image_frames(paths: list[Path], every: int = 1) -> tuple[int, Iterator[np.ndarray]]:
    """``(count, iterator)`` over images 0, every, 2*every, ... of ``paths`` (BGR uint8)."""
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    chosen = paths[::every]

    def frames() -> Iterator[np.ndarray]:
        for p in chosen:
            image = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if image is None:
                raise FrameSourceError(f"{p}: cannot be read as an image")
            yield image

    return len(chosen), frames()
