"""rosbag2 files in and out without a ROS install: camera bags from videos, image frames from
any bag, and output bags for tracks, all through ``rosbags`` (pure Python, not rclpy).

Why each piece is here:

- ``make_bag`` turns a video into what a robot would have recorded (``sensor_msgs/Image`` bgr8
  plus ``sensor_msgs/CameraInfo`` with the same stamps, i / fps after a fixed start), so every
  tool downstream (replay, ``ros2 bag play``, the demo) reads the same kind of file as a real
  recording. Metadata is rosbags' rosbag2 version 9, which ``ros2 bag play`` reads.
- ``InputBag`` reads mcap and sqlite3 bags. A bag whose recorder died (no mcap summary/footer,
  or a cut sqlite file) cannot be opened by rosbags at all; it is then read sequentially
  (``mcap``'s stream reader, or sqlite row by row) so that every message before the damage is
  still used, and the damage is raised as ``BagError`` naming the file and where it happened.
- ``OutputBag`` writes rosbags message objects (or raw CDR) and always leaves a readable bag
  behind: ``close`` writes the metadata even after an error upstream.
"""

from __future__ import annotations

import logging
import math
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.rosbag2.errors import ReaderError, WriterError

from trackflow_ros.distance.pinhole import CameraInfoError, CameraIntrinsics
from trackflow_ros.evaluation.bag_types import trackflow_typestore
from trackflow_ros.image_encoding import ImageEncodingError, bgr_image_fields, image_to_bgr

_log = logging.getLogger(__name__)

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
#: a fixed start for generated bags, so the same video always gives the same stamps
DEFAULT_START_NS = 1_700_000_000 * 10**9
DEFAULT_FRAME_ID = "camera_optical_frame"


class BagError(RuntimeError):
    """A bag (or a video for one) that cannot be read or written; the message names the file."""


# --------------------------------------------------------------------------- camera info


@dataclass(frozen=True)
class CameraInfoData:
    """Everything a ``sensor_msgs/CameraInfo`` carries that a file can give."""

    width: int
    height: int
    k: np.ndarray  # (9,) row-major 3x3
    d: np.ndarray = field(default_factory=lambda: np.zeros(5))
    r: np.ndarray = field(default_factory=lambda: np.eye(3).reshape(-1))
    p: np.ndarray | None = None  # (12,); from K when absent
    distortion_model: str = "plumb_bob"

    @property
    def intrinsics(self) -> CameraIntrinsics:
        return CameraIntrinsics.from_k(self.k, self.width, self.height)

    def projection(self) -> np.ndarray:
        if self.p is not None:
            return np.asarray(self.p, dtype=float)
        p = np.zeros((3, 4))
        p[:, :3] = np.asarray(self.k, dtype=float).reshape(3, 3)
        return p.reshape(-1)


def camera_info_from_yaml(path: Path) -> CameraInfoData:
    """A ROS camera_info YAML (camera_calibration_parsers format); errors name the file."""
    path = Path(path)
    intrinsics = CameraIntrinsics.from_yaml(path)  # validates K and the size, names the file
    data = yaml.safe_load(path.read_text())

    def matrix(key: str, size: int, default: np.ndarray | None) -> np.ndarray | None:
        if key not in data:
            return default
        try:
            values = np.asarray(data[key]["data"], dtype=float).reshape(-1)
        except (KeyError, TypeError, ValueError) as exc:
            raise CameraInfoError(f"{path}: {key} is not a matrix with data: {exc!r}") from exc
        if values.size != size:
            raise CameraInfoError(f"{path}: {key} has {values.size} values, {size} expected")
        return values

    try:
        d = np.asarray(data.get("distortion_coefficients", {}).get("data", []), dtype=float)
    except (AttributeError, TypeError, ValueError) as exc:
        raise CameraInfoError(f"{path}: distortion_coefficients is not a matrix: {exc!r}") from exc
    return CameraInfoData(
        width=intrinsics.width,
        height=intrinsics.height,
        k=intrinsics.k.reshape(-1),
        d=d,
        r=matrix("rectification_matrix", 9, np.eye(3).reshape(-1)),
        p=matrix("projection_matrix", 12, None),
        distortion_model=str(data.get("distortion_model", "plumb_bob")),
    )


def camera_info_from_fov(horizontal_fov_deg: float, width: int, height: int) -> CameraInfoData:
    """An ideal pinhole (square pixels, centred) for a camera known only by its field of view."""
    intrinsics = CameraIntrinsics.from_fov(horizontal_fov_deg, width, height)
    return CameraInfoData(width=width, height=height, k=intrinsics.k.reshape(-1))


# --------------------------------------------------------------------------- writing


class OutputBag:
    """A rosbag2 being written; ``close`` (also via ``with``) always leaves metadata behind."""

    def __init__(self, path: Path, storage: str = "mcap") -> None:
        if storage not in STORAGES:
            raise BagError(f"{path}: unknown storage {storage!r}; choose one of {list(STORAGES)}")
        self.path = Path(path)
        self.typestore = trackflow_typestore()
        self._writer = Writer(self.path, version=9, storage_plugin=STORAGES[storage])
        try:
            self._writer.open()
        except (WriterError, OSError) as exc:
            raise BagError(f"{self.path}: cannot create the bag: {exc}") from exc
        self._connections: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def _connection(self, topic: str, msgtype: str):
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self.typestore
            )
            self.counts[topic] = 0
        return self._connections[topic]

    def write(self, topic: str, msg, timestamp_ns: int) -> None:
        """Serialise a rosbags message object to CDR and write it."""
        msgtype = msg.__msgtype__
        self.write_raw(topic, msgtype, self.typestore.serialize_cdr(msg, msgtype), timestamp_ns)

    def write_raw(self, topic: str, msgtype: str, data: bytes, timestamp_ns: int) -> None:
        """Write already serialised CDR (e.g. what an rclpy subscription received)."""
        self._writer.write(self._connection(topic, msgtype), int(timestamp_ns), data)
        self.counts[topic] += 1

    def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def __enter__(self) -> OutputBag:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stamp_of(typestore, stamp_ns: int):
    """A ``builtin_interfaces/Time`` rosbags object for ``stamp_ns``."""
    time_cls = typestore.types["builtin_interfaces/msg/Time"]
    return time_cls(sec=int(stamp_ns // 10**9), nanosec=int(stamp_ns % 10**9))


def header_of(typestore, stamp_ns: int, frame_id: str):
    header_cls = typestore.types["std_msgs/msg/Header"]
    return header_cls(stamp=stamp_of(typestore, stamp_ns), frame_id=frame_id)


def image_message(typestore, image_bgr: np.ndarray, stamp_ns: int, frame_id: str):
    return typestore.types[IMAGE](
        header=header_of(typestore, stamp_ns, frame_id),
        is_bigendian=0,
        **bgr_image_fields(image_bgr),
    )


def camera_info_message(typestore, info: CameraInfoData, stamp_ns: int, frame_id: str):
    roi_cls = typestore.types["sensor_msgs/msg/RegionOfInterest"]
    return typestore.types[CAMERA_INFO](
        header=header_of(typestore, stamp_ns, frame_id),
        height=int(info.height),
        width=int(info.width),
        distortion_model=info.distortion_model,
        d=np.asarray(info.d, dtype=np.float64),
        k=np.asarray(info.k, dtype=np.float64).reshape(-1),
        r=np.asarray(info.r, dtype=np.float64).reshape(-1),
        p=info.projection().astype(np.float64),
        binning_x=0,
        binning_y=0,
        roi=roi_cls(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False),
    )


def make_bag(
    video: Path,
    out: Path,
    fps: float,
    camera: CameraInfoData | float | None = None,
    storage: str = "mcap",
    max_frames: int | None = None,
    topic_prefix: str = "/camera",
    frame_id: str = DEFAULT_FRAME_ID,
    start_ns: int = DEFAULT_START_NS,
    progress: bool = False,
) -> dict:
    """Write ``video``'s frames to a new bag ``out``: ``<prefix>/image_raw`` (bgr8) and, when
    ``camera`` is given (CameraInfoData, or a horizontal field of view in degrees),
    ``<prefix>/camera_info`` with the same stamp, written just before each image.

    Returns ``{"frames", "image_topic", "camera_info_topic", "storage", "path"}``.
    """
    import cv2
    from tqdm import tqdm

    video, out = Path(video), Path(out)
    if not video.is_file():
        raise BagError(f"{video}: video file not found")
    if not (math.isfinite(fps) and fps > 0):
        raise BagError(f"--fps must be a positive number, got {fps}")
    if max_frames is not None and max_frames < 1:
        raise BagError(f"--max-frames must be >= 1, got {max_frames}")
    if out.exists():
        raise BagError(f"{out}: already exists; rosbag2 bags are written to a new folder")
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise BagError(f"{video}: OpenCV cannot open it as a video")
    declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    total = min(declared, max_frames) if declared and max_frames else (max_frames or declared)
    prefix = "/" + topic_prefix.strip("/") if topic_prefix.strip("/") else ""
    image_topic, info_topic = f"{prefix}/image_raw", f"{prefix}/camera_info"
    written = 0
    info: CameraInfoData | None = None
    try:
        with (
            OutputBag(out, storage) as bag,
            tqdm(total=total, unit="frame", desc="make-bag", disable=not progress) as bar,
        ):
            while max_frames is None or written < max_frames:
                ok, frame = capture.read()
                if not ok:
                    break
                if written == 0 and camera is not None:
                    info = _camera_for(camera, frame, video)
                stamp = start_ns + round(written * 1e9 / fps)
                if info is not None:
                    bag.write(
                        info_topic, camera_info_message(bag.typestore, info, stamp, frame_id), stamp
                    )
                bag.write(image_topic, image_message(bag.typestore, frame, stamp, frame_id), stamp)
                written += 1
                bar.update(1)
    finally:
        capture.release()
    if written == 0:
        raise BagError(f"{video}: no frame could be decoded (wrote an empty bag {out})")
    return {
        "frames": written,
        "image_topic": image_topic,
        "camera_info_topic": info_topic if info is not None else None,
        "storage": storage,
        "path": str(out),
    }


def _camera_for(camera: CameraInfoData | float, frame: np.ndarray, video: Path) -> CameraInfoData:
    height, width = frame.shape[:2]
    if isinstance(camera, CameraInfoData):
        if (camera.width, camera.height) != (width, height):
            raise BagError(
                f"{video}: frames are {width}x{height} but the camera info is for "
                f"{camera.width}x{camera.height}"
            )
        return camera
    return camera_info_from_fov(float(camera), width, height)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TopicInfo:
    name: str
    msgtype: str
    count: int | None  # None when the bag had no index (read sequentially)


@dataclass
class BagFrame:
    """One image of the input bag, decoded, with the calibration valid for it."""

    index: int  # 0-based position among the image topic's messages (MOT frame = index + 1)
    stamp_ns: int  # header stamp of the image
    frame_id: str
    image: np.ndarray  # (H, W, 3) uint8 BGR
    camera: CameraIntrinsics | None


class InputBag:
    """A rosbag2 (folder, ``.mcap`` or ``.db3``) opened for reading; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f"{self.path}: bag not found")
        self.typestore = trackflow_typestore()
        self.sequential_reason: str | None = None  # set when rosbags could not open the bag
        self._sqlite_copy: Path | None = None
        self._sqlite_tmp: tempfile.TemporaryDirectory | None = None
        self.topics: dict[str, TopicInfo] = {}
        try:
            with Reader(self.path) as reader:
                for conn in reader.connections:
                    self.topics[conn.topic] = TopicInfo(conn.topic, conn.msgtype, conn.msgcount)
        except (ReaderError, sqlite3.Error, OSError, ValueError, KeyError) as exc:
            self.sequential_reason = f"{type(exc).__name__}: {exc}"
            self._storage_file, self._storage = self._find_storage_file()
            self.topics = {t.name: t for t in self._sequential_topics()}

    # -- storage files, for bags rosbags cannot open
    def _find_storage_file(self) -> tuple[Path, str]:
        candidates = [self.path] if self.path.is_file() else sorted(self.path.iterdir())
        for candidate in candidates:
            if candidate.suffix == ".mcap":
                return candidate, "mcap"
            if candidate.suffix == ".db3":
                return candidate, "sqlite3"
        raise BagError(
            f"{self.path}: not a readable rosbag2 ({self.sequential_reason}) and no .mcap or "
            ".db3 storage file in it"
        )

    def _damaged(self, detail: str) -> BagError:
        return BagError(
            f"{self._storage_file}: bag is truncated or corrupt ({detail}); rosbags could not "
            f"open it ({self.sequential_reason}), messages before the damage were used"
        )

    def _sequential_topics(self) -> list[TopicInfo]:
        if self._storage == "sqlite3":
            try:
                with closing(sqlite3.connect(self._sqlite_uri(), uri=True)) as db:
                    rows = db.execute("SELECT name, type FROM topics").fetchall()
            except sqlite3.Error as exc:
                raise self._damaged(f"sqlite: {exc}") from exc
            return [TopicInfo(name, msgtype, None) for name, msgtype in rows]
        topics: dict[str, TopicInfo] = {}
        try:
            for topic, msgtype, _, _ in self._mcap_records(headers_only=True):
                topics.setdefault(topic, TopicInfo(topic, msgtype, None))
        except BagError:
            pass  # damage is reported when the messages are read
        return list(topics.values())

    def _mcap_records(self, headers_only: bool = False) -> Iterator[tuple[str, str, int, bytes]]:
        from mcap.exceptions import McapError
        from mcap.records import Channel, Message, Schema
        from mcap.stream_reader import StreamReader

        schemas: dict[int, str] = {}
        channels: dict[int, tuple[str, str]] = {}
        with self._storage_file.open("rb") as stream:
            reader = StreamReader(stream, record_size_limit=2**31)
            try:
                for record in reader.records:
                    if isinstance(record, Schema):
                        schemas[record.id] = record.name
                    elif isinstance(record, Channel):
                        channels[record.id] = (record.topic, schemas.get(record.schema_id, ""))
                        if headers_only:
                            yield (*channels[record.id], 0, b"")
                    elif isinstance(record, Message) and not headers_only:
                        topic, msgtype = channels[record.channel_id]
                        yield topic, msgtype, record.log_time, record.data
            except (McapError, EOFError, KeyError, ValueError, OSError) as exc:
                raise self._damaged(f"mcap: {type(exc).__name__} {exc}".strip()) from exc

    def _sqlite_uri(self) -> str:
        """A read-only sqlite URI for a damaged ``.db3``.

        SQLite refuses a file shorter than the page count in its header ("malformed") before
        reading anything, although the pages that are there are intact. So a copy of the whole
        pages, with the header's page count set to what is there, is read instead; the user's
        file is never modified. Rows that point past the end still fail, where they are.
        """
        if self._sqlite_copy is None:
            page_size = _sqlite_page_size(self._storage_file)
            self._sqlite_tmp = tempfile.TemporaryDirectory(prefix="trackflow-salvage-")
            copy = Path(self._sqlite_tmp.name) / self._storage_file.name
            pages = self._storage_file.stat().st_size // page_size
            with self._storage_file.open("rb") as src, copy.open("wb") as dst:
                shutil.copyfileobj(_Limited(src, pages * page_size), dst)
            with copy.open("r+b") as dst:
                dst.seek(28)  # "in-header database size" in pages, big-endian
                dst.write(pages.to_bytes(4, "big"))
            self._sqlite_copy = copy
        return f"file:{self._sqlite_copy}?mode=ro"

    def _sqlite_records(self, topics: set[str]) -> Iterator[tuple[str, str, int, bytes]]:
        try:
            with closing(sqlite3.connect(self._sqlite_uri(), uri=True)) as db:
                names = {i: (n, t) for i, n, t in db.execute("SELECT id, name, type FROM topics")}
                cursor = db.execute("SELECT topic_id, timestamp, data FROM messages ORDER BY id")
                for topic_id, timestamp, data in cursor:
                    name, msgtype = names[topic_id]
                    if name in topics:
                        yield name, msgtype, timestamp, data
        except sqlite3.Error as exc:
            raise self._damaged(f"sqlite: {exc}") from exc

    def messages(self, topics: list[str]) -> Iterator[tuple[str, str, int, bytes]]:
        """``(topic, msgtype, bag timestamp ns, CDR bytes)`` of ``topics``, in bag order.

        Damage found while reading raises ``BagError`` after every message before it."""
        wanted = set(topics)
        if self.sequential_reason is None:
            count = 0
            try:
                with Reader(self.path) as reader:
                    conns = [c for c in reader.connections if c.topic in wanted]
                    for conn, timestamp, data in reader.messages(connections=conns):
                        count += 1
                        yield conn.topic, conn.msgtype, timestamp, data
            except (ReaderError, sqlite3.Error, OSError, ValueError) as exc:
                raise BagError(
                    f"{self.path}: bag is corrupt after {count} messages: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        elif self._storage == "sqlite3":
            yield from self._sqlite_records(wanted)
        else:
            for record in self._mcap_records():
                if record[0] in wanted:
                    yield record

    def describe_topics(self) -> str:
        return ", ".join(f"{t.name} ({t.msgtype})" for t in self.topics.values()) or "none"

    def require_topic(self, topic: str, msgtypes: tuple[str, ...]) -> TopicInfo:
        info = self.topics.get(topic)
        if info is None:
            raise BagError(
                f"{self.path}: topic {topic!r} is not in the bag; it has: {self.describe_topics()}"
            )
        if info.msgtype not in msgtypes:
            raise BagError(
                f"{self.path}: topic {topic!r} carries {info.msgtype}, "
                f"expected {' or '.join(msgtypes)}"
            )
        return info

    def find_camera_info_topic(self) -> str | None:
        """The bag's one CameraInfo topic, if there is exactly one."""
        found = [t.name for t in self.topics.values() if t.msgtype == CAMERA_INFO]
        return found[0] if len(found) == 1 else None

    def frames(self, image_topic: str, camera_info_topic: str | None) -> Iterator[BagFrame]:
        """Decoded images of ``image_topic`` with the latest valid CameraInfo before them (the
        first valid one for images that precede every CameraInfo, as recorders interleave).

        An image that cannot be decoded (unsupported encoding, short data) raises ``BagError``
        naming the file, topic and message: a replay that skipped frames would score wrong.
        """
        self.require_topic(image_topic, (IMAGE, COMPRESSED_IMAGE))
        topics = [image_topic]
        camera: CameraIntrinsics | None = None
        if camera_info_topic is not None:
            self.require_topic(camera_info_topic, (CAMERA_INFO,))
            topics.append(camera_info_topic)
            camera = self._first_camera(camera_info_topic)
            if camera is None:
                _log.warning(
                    "%s: no valid CameraInfo on %s; distances and 3D positions will be NaN",
                    self.path,
                    camera_info_topic,
                )
        index = 0
        for topic, msgtype, _, data in self.messages(topics):
            try:
                msg = self.typestore.deserialize_cdr(data, msgtype)
            except Exception as exc:  # rosbags raises whatever a broken buffer triggers
                which = f"{topic} message after {index} images"
                raise BagError(
                    f"{self.path}: corrupt {msgtype} ({which}): cannot deserialise it: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if topic == camera_info_topic:
                camera = _intrinsics_or_none(msg) or camera
                continue
            try:
                image = _decode_image(msg, msgtype)
            except ImageEncodingError as exc:
                raise BagError(
                    f"{self.path}: {image_topic} message {index} (stamp "
                    f"{_stamp_ns(msg.header)} ns): {exc}"
                ) from exc
            yield BagFrame(index, _stamp_ns(msg.header), msg.header.frame_id, image, camera)
            index += 1

    def _first_camera(self, topic: str) -> CameraIntrinsics | None:
        try:
            for _, msgtype, _, data in self.messages([topic]):
                camera = _intrinsics_or_none(self.typestore.deserialize_cdr(data, msgtype))
                if camera is not None:
                    return camera
        except BagError:
            return None  # reported again when the frames are read
        return None


def _sqlite_page_size(path: Path) -> int:
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise BagError(f"{path}: not an sqlite3 file (header missing or damaged)")
    size = int.from_bytes(header[16:18], "big")
    return 65536 if size == 1 else size


class _Limited:
    """A file-like object reading at most ``size`` bytes of ``stream`` (for copyfileobj)."""

    def __init__(self, stream, size: int) -> None:
        self.stream, self.left = stream, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.stream.read(n)
        self.left -= len(data)
        return data


_warned_bad_camera = False


def _intrinsics_or_none(msg) -> CameraIntrinsics | None:
    global _warned_bad_camera
    try:
        return CameraIntrinsics.from_k(np.asarray(msg.k), int(msg.width), int(msg.height))
    except CameraInfoError as exc:
        if not _warned_bad_camera:
            _log.warning("ignoring a CameraInfo that cannot give distances: %s", exc)
            _warned_bad_camera = True
        return None


def _stamp_ns(header) -> int:
    return int(header.stamp.sec) * 10**9 + int(header.stamp.nanosec)


def _decode_image(msg, msgtype: str) -> np.ndarray:
    if msgtype == COMPRESSED_IMAGE:
        import cv2

        image = cv2.imdecode(np.asarray(msg.data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ImageEncodingError(f"compressed image ({msg.format!r}) cannot be decoded")
        return image
    return image_to_bgr(int(msg.height), int(msg.width), msg.encoding, int(msg.step), msg.data)
