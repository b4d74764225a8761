"""A running tracker_node fed hundreds of malformed messages between good PETS09 frames.

Hypothesis generates the malformed inputs (wrong step, unknown encoding, zero or huge size,
data shorter than height*step, CameraInfo with a zero/NaN/negative/infinite focal length).
The node must survive all of them, count each as rejected, warn in a throttled way that says
what was wrong, and publish for every good frame exactly the tracks that the same pipeline
computes in this process from the good frames alone.

(Detections with NaN boxes need vision_msgs/Detection2DArray, which is not installed here; the
pipeline drops such rows itself, see the pipeline tests.)
"""

from __future__ import annotations

import re
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from test_tracker_node_dds import FAST_HOG, PID, pets_camera, pets_frames

from trackflow_ros.pipeline import Pipeline, PipelineConfig
from trackflow_ros.ros.image_conversion import CHANNELS
from trackflow_ros.ros.node_harness import camera_info_msg, node_session

N_GOOD = 5


IMAGE_FAULTS = ("step", "encoding", "zero", "huge", "short")
PER_FAULT = 35  # 5 kinds of bad image x 35 + 8 kinds of bad CameraInfo x 6 = 223 inputs
BAD_FOCALS = (0.0, float("nan"), -1176.8, float("inf"))


@st.composite
def malformed_image(draw, kind: str) -> Image:
    encoding = draw(st.sampled_from(sorted(CHANNELS)))
    width, height = draw(st.integers(1, 64)), draw(st.integers(1, 48))
    row = width * CHANNELS[encoding]
    step = row + draw(st.integers(0, 8))
    size = height * step
    if kind == "step":
        step = draw(st.integers(0, row - 1)) if row > 1 else 0
    elif kind == "encoding":
        encoding = draw(st.sampled_from(["yuv422", "bayer_rggb8", "16UC1", "32FC1", "", "RGB8"]))
    elif kind == "zero":
        width, height = draw(st.sampled_from([(0, height), (width, 0), (0, 0)]))
    elif kind == "huge":
        width, height = draw(st.integers(10_000, 2**31 - 1)), draw(st.integers(10_000, 2**31 - 1))
        step = width * 3
    else:  # short
        size = draw(st.integers(0, max(0, height * step - 1)))
    header = Header(frame_id="pets_camera")
    return Image(
        header=header,
        height=height,
        width=width,
        encoding=encoding,
        step=step,
        data=bytes(min(size, 4096)) if kind == "huge" else bytes(size),
    )


@st.composite
def malformed_camera_info(draw, bad: float, which: int) -> CameraInfo:
    msg = CameraInfo(width=draw(st.integers(1, 4000)), height=draw(st.integers(1, 3000)))
    k = np.array([1176.8, 0, 384, 0, 1176.8, 288, 0, 0, 1], float)
    k[which] = bad
    msg.k = k
    return msg


def _key(msg: Image) -> tuple:
    """Distinct messages: Hypothesis' first example is its simplest, which for a plain list
    would be 35 copies of one message."""
    return (msg.width, msg.height, msg.step, msg.encoding, len(msg.data))


def _info_key(msg: CameraInfo) -> tuple:
    return (msg.width, msg.height)


@settings(
    max_examples=1,
    deadline=None,
    phases=[Phase.generate],
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    images=st.tuples(
        *[
            st.lists(malformed_image(k), min_size=PER_FAULT, max_size=PER_FAULT, unique_by=_key)
            for k in IMAGE_FAULTS
        ]
    ),
    infos=st.tuples(
        *[
            st.lists(malformed_camera_info(v, i), min_size=6, max_size=6, unique_by=_info_key)
            for v in BAD_FOCALS
            for i in (0, 4)  # fx, fy
        ]
    ),
    rng=st.randoms(use_true_random=False),
)
def test_node_survives_malformed_inputs_and_tracks_the_good_frames_exactly(
    images, infos, rng, data_dir, repo_root, tmp_path
):
    bad = [m for group in (*images, *infos) for m in group]
    rng.shuffle(bad)
    n_bad = len(bad)
    assert n_bad >= 200
    frames = pets_frames(data_dir, N_GOOD)
    camera = pets_camera(data_dir)
    log = tmp_path / "node.log"
    t0 = time.time()
    stamps = [t0 + i / 7.0 for i in range(N_GOOD)]
    got = []
    with node_session(
        f"/t3_{PID}",
        params_file=repo_root / "config" / "tracker.yaml",
        # reliable with a deep queue: every malformed message must reach the callback
        params={**FAST_HOG, "qos_reliability": "reliable", "qos_depth": 100},
        log_path=log,
        depth=100,
    ) as (proc, client):
        client.wait_for_node(timeout=60)
        client.send_camera_info_until_used(camera, "pets_camera")
        chunks = np.array_split(np.arange(n_bad), N_GOOD)
        for i, frame in enumerate(frames):
            client.info_pub.publish(camera_info_msg(camera, "pets_camera"))
            for j in chunks[i]:
                msg = bad[j]
                (client.image_pub if isinstance(msg, Image) else client.info_pub).publish(msg)
                time.sleep(0.002)
            client.publish_image(frame, stamps[i], frame_id="pets_camera")
            got.append(client.wait_for_tracks(stamps[i], timeout=30.0))
        client.wait_for(
            lambda: int(client.latest_diagnostics().get("frames_processed", 0)) == N_GOOD,
            10.0,
            "diagnostics of every good frame",
        )
        diag = client.latest_diagnostics()
        alive = proc.alive()
        with client.lock:
            levels = [(s.level, s.message) for _, arr in client.diagnostics for s in arr.status]
    text = log.read_text()
    assert alive and proc.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]

    # every malformed message was seen and rejected; nothing failed inside the pipeline
    assert int(diag["inputs_rejected"]) == n_bad, diag
    assert diag["frames_failed"] == "0" and diag["frames_processed"] == str(N_GOOD)
    assert (DiagnosticStatus.WARN, "inputs rejected (see the log for why)") in levels

    # throttled, clear warnings: at most one per kind per 5 s, each naming the problem
    image_warnings = re.findall(r"image rejected: (.*)", text)
    info_warnings = re.findall(r"camera_info ignored: (.*)", text)
    n_bad_images = sum(isinstance(m, Image) for m in bad)
    elapsed = time.time() - t0
    assert 1 <= len(image_warnings) <= elapsed / 5.0 + 1 < n_bad_images
    assert 1 <= len(info_warnings) <= elapsed / 5.0 + 1 < n_bad - n_bad_images
    assert all("focal length" in w for w in info_warnings)
    reasons = (  # the texts of trackflow_ros.image_encoding, shared with the rosbag tools
        r"unsupported image encoding '.*' \(supported: bgr8, rgb8, mono8, bgra8, rgba8\)",
        r"empty image: \d+x\d+ pixels",
        r"image too large: \d+x\d+ (has a side longer than 16384 pixels|is \d+ pixels, more than "
        r"67108864)",
        r"step \d+ is shorter than a row of \d+ \w+ pixels \(\d+ bytes\)",
        r"data has \d+ bytes, fewer than height\*step = \d+\*\d+ = \d+",
    )
    assert all(any(re.match(r, w) for r in reasons) for w in image_warnings), image_warnings

    # the good frames' tracks are exactly those of the same pipeline without the bad input
    config = PipelineConfig.from_dict(FAST_HOG)
    pipeline = Pipeline(config)
    for i, frame in enumerate(frames):
        expected = pipeline.process(
            frame, got[i].header.stamp.sec + 1e-9 * got[i].header.stamp.nanosec, camera
        )
        persons = got[i].persons
        assert [p.id for p in persons] == [p.id for p in expected.persons]
        for p, e in zip(persons, expected.persons, strict=True):
            box = [p.bbox_x, p.bbox_y, p.bbox_x + p.bbox_width, p.bbox_y + p.bbox_height]
            np.testing.assert_allclose(box, e.box, rtol=1e-5, atol=1e-3)
            np.testing.assert_allclose(p.distance, e.distance, rtol=1e-5)
    assert any(g.persons for g in got)
