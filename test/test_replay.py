"""Rosbag tools on real data: a 50-frame bag made from the PETS09-S2L1 video with its real
calibration, replayed through the node's pipeline in both storage formats, scored against the
real ground truth (cut to those frames); damaged and mismatched inputs fail clearly and keep
what was processed.

The replays use a cheaper HOG setting (no upscaling, coarser pyramid) than the shipped config,
so that the whole file runs in well under a minute; the code path is the same.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader
from visualization_msgs.msg import MarkerArray

from trackflow_ros.evaluation.bag_io import (
    DEFAULT_START_NS,
    BagError,
    InputBag,
    OutputBag,
    camera_info_from_yaml,
    image_message,
    make_bag,
)
from trackflow_ros.evaluation.motchallenge import read_detections, read_results
from trackflow_ros.msg import TrackedPersonArray

FRAMES = 50
FPS = 7.0
IMAGE_TOPIC = "/camera/image_raw"
INFO_TOPIC = "/camera/camera_info"
CHEAP_HOG = ["--param", "hog_upscale=1.0", "--param", "hog_scale=1.2"]


def run(module: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", f"trackflow_ros.evaluation.{module}", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def pets(data_dir) -> dict[str, Path]:
    return {
        "video": data_dir / "PETS09-S2L1.avi",
        "camera": data_dir / "calibration" / "PETS09-S2L1.camera_info.yaml",
        "extrinsics": data_dir / "calibration" / "PETS09-S2L1.extrinsics.yaml",
        "gt": data_dir / "MOT15" / "train" / "PETS09-S2L1" / "gt" / "gt.txt",
    }


@pytest.fixture(scope="module")
def video_frames(pets) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(pets["video"]))
    frames = [capture.read()[1] for _ in range(FRAMES)]
    capture.release()
    return frames


@pytest.fixture(scope="module")
def bags(tmp_path_factory, pets) -> dict[str, Path]:
    """The same 50 frames as mcap (through the CLI) and sqlite3 (through the function)."""
    root = tmp_path_factory.mktemp("bags")
    result = run(
        "make_bag", pets["video"], "--fps", FPS, "--out", root / "mcap", "--camera-info",
        pets["camera"], "--max-frames", FRAMES, "--storage", "mcap",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"wrote {FRAMES} frames" in result.stdout
    info = make_bag(
        pets["video"], root / "sqlite3", FPS, camera=camera_info_from_yaml(pets["camera"]),
        storage="sqlite3", max_frames=FRAMES,
    )  # fmt: skip
    assert info["frames"] == FRAMES
    return {"mcap": root / "mcap", "sqlite3": root / "sqlite3"}


@pytest.fixture(scope="module")
def gt50(tmp_path_factory, pets) -> Path:
    """The real ground truth cut to the bag's frames (MOT frame = video index + 1)."""
    lines = [
        line for line in pets["gt"].read_text().splitlines() if int(line.split(",")[0]) <= FRAMES
    ]
    path = tmp_path_factory.mktemp("gt") / "gt.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def replays(tmp_path_factory, bags, gt50, pets) -> dict[str, tuple]:
    out = {}
    for storage, bag in bags.items():
        target = tmp_path_factory.mktemp(f"replay-{storage}") / "out"
        result = run(
            "replay", bag, "--image-topic", IMAGE_TOPIC, *CHEAP_HOG, "--gt", gt50,
            "--extrinsics", pets["extrinsics"], "--out", target,
        )  # fmt: skip
        out[storage] = (result, target)
    return out


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_make_bag_holds_the_video_frames_calibration_and_stamps(bags, video_frames, pets, storage):
    calibration = camera_info_from_yaml(pets["camera"])
    with Reader(bags[storage]) as reader:
        topics = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        assert topics == {
            IMAGE_TOPIC: ("sensor_msgs/msg/Image", FRAMES),
            INFO_TOPIC: ("sensor_msgs/msg/CameraInfo", FRAMES),
        }
        images, infos = [], []
        for conn, timestamp, data in reader.messages():
            (images if conn.topic == IMAGE_TOPIC else infos).append((timestamp, bytes(data)))
    expected_stamps = [DEFAULT_START_NS + round(i * 1e9 / FPS) for i in range(FRAMES)]
    assert [t for t, _ in images] == expected_stamps
    assert [t for t, _ in infos] == expected_stamps
    # rclpy reads what rosbags wrote: the pixels are the video's, bit for bit
    from sensor_msgs.msg import CameraInfo, Image

    for i in (0, 1, FRAMES - 1):
        msg = deserialize_message(images[i][1], Image)
        assert (msg.encoding, msg.width, msg.height, msg.step) == ("bgr8", 768, 576, 768 * 3)
        assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == expected_stamps[i]
        pixels = np.frombuffer(bytes(msg.data), np.uint8).reshape(576, 768, 3)
        np.testing.assert_array_equal(pixels, video_frames[i])
    info = deserialize_message(infos[0][1], CameraInfo)
    np.testing.assert_allclose(np.array(info.k), calibration.k)
    assert (info.width, info.height) == (768, 576)
    assert np.array(info.p).reshape(3, 4)[0, 0] == pytest.approx(calibration.k[0])


def test_make_bag_cli_names_a_missing_video(tmp_path):
    missing = tmp_path / "no_such_video.avi"
    result = run("make_bag", missing, "--fps", FPS, "--out", tmp_path / "bag")
    assert result.returncode == 2
    assert str(missing) in result.stderr and "not found" in result.stderr
    assert not (tmp_path / "bag").exists()


def test_make_bag_refuses_a_calibration_of_another_image_size(tmp_path, pets):
    other = tmp_path / "camera.yaml"
    other.write_text(pets["camera"].read_text().replace("image_width: 768", "image_width: 640"))
    result = run("make_bag", pets["video"], "--fps", FPS, "--out", tmp_path / "bag",
                 "--camera-info", other, "--max-frames", 2)  # fmt: skip
    assert result.returncode == 2
    assert "768x576" in result.stderr and "640x576" in result.stderr


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_replay_writes_tracks_bag_results_metrics_and_pictures(replays, bags, storage):
    result, out = replays[storage]
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["frames"] == FRAMES
    assert summary["frame_rate"] == pytest.approx(FPS, rel=1e-3)  # measured from the stamps
    assert summary["config"]["hog_upscale"] == 1.0  # --param reached the pipeline
    metrics = summary["metrics"]
    configured, iou = metrics["configured"], metrics["iou_same_detections"]
    assert configured["cost"] == "trackflow" and iou["cost"] == "iou"
    for m in (configured, iou):
        assert 20.0 < m["HOTA"] <= 100.0 and 0.0 < m["IDF1"] <= 100.0
    assert "HOTA" in result.stdout and "iou" in result.stdout
    # pinhole distances from the real calibration vs the ground plane: right order of metres
    dist = summary["distance_error"]
    assert dist["with_distance"] > 50
    assert 0.0 < dist["median_abs_error"] < 8.0
    assert dist["bins"] and sum(b["count"] for b in dist["bins"]) == dist["with_distance"]

    results = read_results(out / "results.txt")
    detections = read_detections(out / "det.txt")
    assert set(detections) <= set(range(1, FRAMES + 1)) and len(detections) > FRAMES // 2

    # the output bag: one TrackedPersonArray and one MarkerArray per image, stamped like it
    with Reader(bags[storage]) as reader:
        image_stamps = [t for c, t, _ in reader.messages() if c.topic == IMAGE_TOPIC]
    tracks, markers = [], []
    with Reader(out / "tracks") as reader:
        for conn, timestamp, data in reader.messages():
            (tracks if conn.topic == "/tracks" else markers).append((timestamp, bytes(data)))
    assert [t for t, _ in tracks] == image_stamps
    assert len(markers) == FRAMES
    rows_from_bag = []
    for frame, (timestamp, data) in enumerate(tracks, start=1):
        msg = deserialize_message(data, TrackedPersonArray)  # rclpy reads what rosbags wrote
        assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == timestamp
        assert msg.header.frame_id == "camera_optical_frame"
        for p in msg.persons:
            assert 10.0 < p.distance < 60.0  # PETS09 people stand 14-39 m away
            rows_from_bag.append(
                [frame, p.id, p.bbox_x, p.bbox_y, p.bbox_x + p.bbox_width, p.bbox_y + p.bbox_height]
            )
    np.testing.assert_allclose(np.array(rows_from_bag), results[:, :6], atol=2e-3)
    last_ids = set()
    for _, data in markers:
        array = deserialize_message(data, MarkerArray)
        added = {m.id for m in array.markers if m.ns == "person" and m.action == 0}
        deleted = {m.id for m in array.markers if m.action == 2}
        assert deleted <= last_ids  # only what was shown before is deleted
        last_ids = (last_ids - deleted) | added
    assert last_ids

    video = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    video.release()
    assert (out / "birdseye.png").stat().st_size > 5000


def test_both_storage_formats_give_the_same_tracks(replays):
    texts = {s: (out / "results.txt").read_text() for s, (_, out) in replays.items()}
    assert texts["mcap"] and texts["mcap"] == texts["sqlite3"]


def test_truncated_bag_is_an_error_naming_the_file_and_keeps_partial_outputs(bags, tmp_path):
    bag = tmp_path / "cut"
    shutil.copytree(bags["mcap"], bag)
    storage_file = next(bag.glob("*.mcap"))
    with storage_file.open("r+b") as f:
        f.truncate(storage_file.stat().st_size // 2)
    out = tmp_path / "out"
    result = run("replay", bag, "--image-topic", IMAGE_TOPIC, *CHEAP_HOG, "--out", out)
    assert result.returncode == 2
    assert str(storage_file) in result.stderr and "truncated or corrupt" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "error" and "truncated" in summary["error"]
    assert 10 < summary["frames"] < FRAMES  # the first half was replayed
    results = read_results(out / "results.txt")
    assert results[:, 0].max() <= summary["frames"]
    with Reader(out / "tracks") as reader:  # a complete, readable bag of what was done
        assert reader.topics["/tracks"].msgcount == summary["frames"]


def test_truncated_sqlite3_bag_yields_the_frames_before_the_cut(bags, tmp_path):
    bag = tmp_path / "cut"
    shutil.copytree(bags["sqlite3"], bag)
    db = next(bag.glob("*.db3"))
    original = db.stat().st_size
    with db.open("r+b") as f:
        f.truncate(original // 2)
    source = InputBag(bag)
    assert source.sequential_reason  # rosbags itself refuses the file
    seen = []
    with pytest.raises(BagError, match="truncated or corrupt"):
        for frame in source.frames(IMAGE_TOPIC, INFO_TOPIC):
            seen.append(frame.index)
    assert 10 < len(seen) < FRAMES and seen == list(range(len(seen)))
    assert db.stat().st_size == original // 2  # the user's file was only read


def test_missing_topic_names_the_bag_and_lists_its_topics(bags, tmp_path):
    result = run("replay", bags["mcap"], "--image-topic", "/front/image", "--out", tmp_path)
    assert result.returncode == 2
    assert "'/front/image' is not in the bag" in result.stderr
    assert str(bags["mcap"]) in result.stderr and IMAGE_TOPIC in result.stderr


def test_ground_truth_of_another_length_is_refused(bags, pets, tmp_path):
    result = run(
        "replay", bags["mcap"], "--image-topic", IMAGE_TOPIC, "--gt", pets["gt"], "--out", tmp_path
    )
    assert result.returncode == 2
    assert str(pets["gt"]) in result.stderr
    assert "795 frames" in result.stderr and f"{FRAMES} images" in result.stderr


def test_unsupported_encoding_stops_with_a_clear_error_after_the_good_frames(
    tmp_path, video_frames
):
    bag = tmp_path / "yuv"
    with OutputBag(bag, "mcap") as writer:
        for i in range(3):
            stamp = DEFAULT_START_NS + i * 10**8
            msg = image_message(writer.typestore, video_frames[i], stamp, "cam")
            if i == 2:
                msg.encoding = "yuv422"
            writer.write(IMAGE_TOPIC, msg, stamp)
    out = tmp_path / "out"
    result = run("replay", bag, "--image-topic", IMAGE_TOPIC, *CHEAP_HOG, "--out", out)
    assert result.returncode == 2
    assert "unsupported image encoding 'yuv422'" in result.stderr
    assert str(bag) in result.stderr and "message 2" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "error" and summary["frames"] == 2
    with Reader(out / "tracks") as reader:
        assert reader.topics["/tracks"].msgcount == 2


def test_a_message_that_cannot_be_deserialised_is_a_bag_error_after_the_good_frames(
    tmp_path, video_frames
):
    bag = tmp_path / "broken"
    with OutputBag(bag, "sqlite3") as writer:
        for i in range(2):
            msg = image_message(writer.typestore, video_frames[i], DEFAULT_START_NS + i, "cam")
            raw = bytes(writer.typestore.serialize_cdr(msg, msg.__msgtype__))
            writer.write_raw(IMAGE_TOPIC, msg.__msgtype__, raw if i == 0 else raw[:40], i + 1)
    seen = []
    with pytest.raises(BagError, match=r"corrupt sensor_msgs/msg/Image .*cannot deserialise") as e:
        for frame in InputBag(bag).frames(IMAGE_TOPIC, None):
            seen.append(frame.index)
    assert seen == [0] and str(bag) in str(e.value)
