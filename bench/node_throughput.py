"""tracker_node over real DDS: throughput, end-to-end latency, per-stage time, and a memory soak.

1. PETS09-S2L1 frames (768x576) with the real CameraInfo are published into a running
   ``tracker_node`` process with its default configuration (HOG at 2x + pinhole + ByteTrack
   with TrackFlow), in two ways:
   - *live*: at the video's 7 fps regardless of the node, as a camera would; the node
     processes the newest frame and drops the rest. Reports processed fps, dropped frames and
     the end-to-end latency (image stamp = publish time -> TrackedPersonArray received).
   - *paced*: the next frame is published when the previous frame's tracks arrive (no drops):
     the node's maximum throughput, and its latency without waiting in the mailbox.
   Per-stage medians (detect, distance, associate, publish) come from the node's
   /diagnostics.
2. Soak: 10,000 small synthetic frames (240x160: a PETS09 background with two real PETS09
   people pasted at HOG size, walking across and wrapping around, so tracks are born and die
   all the time), default pipeline (HOG 1x, ByteTrack + TrackFlow), best-effort default QoS,
   each frame published when the previous one's tracks arrived (or after 0.5 s); the node's
   resident memory (psutil) is sampled along the way.

The 768x576 frames go over a reliable subscription (qos_reliability: reliable): with
best-effort, Fast DDS on this host loses most frames over ~1 MB (see the README).

    .venv/bin/python bench/node_throughput.py [--live-frames 60] [--paced-frames 15]
        [--soak-frames 10000] [--data ../shared/data]

Writes the ``node_throughput`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import psutil
from rcl_interfaces.srv import GetParameters

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.docs_section import write_section  # noqa: E402
from trackflow_ros.distance.pinhole import CameraIntrinsics  # noqa: E402
from trackflow_ros.ros.node_harness import (  # noqa: E402
    NodeClient,
    node_session,
    stamp_seconds,
)

STAGES = ("convert", "detect", "distance", "associate", "publish", "total")


def read_frames(video: Path, n: int, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            if not frames:
                raise SystemExit(f"{video}: cannot read frames")
            break
        frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if size else frame)
    cap.release()
    return frames


class WalkingPeople:
    """Frame i of a synthetic stream: two real PETS09 people (cut from frame 1 around their
    ground-truth boxes, scaled to ~145 px so that HOG at 1x finds them) walking 3 px per frame
    across a PETS09 background, wrapping around at the border."""

    SIZE = (240, 160)

    def __init__(self, first_frame: np.ndarray) -> None:
        self.background = cv2.resize(first_frame[300:500, 0:300], self.SIZE)
        self.people = []
        for x, y, w, h in ((258, 219, 33, 89), (633, 242, 42, 81)):  # gt ids 15 and 19
            m = 12
            crop = first_frame[y - m : y + h + m, x - m : x + w + m]
            scale = 145 / crop.shape[0]
            self.people.append(cv2.resize(crop, None, fx=scale, fy=scale))

    def __call__(self, i: int) -> np.ndarray:
        img = self.background.copy()
        width = self.SIZE[0]
        for k, person in enumerate(self.people):
            x = (3 * i + 120 * k) % (width - person.shape[1])
            y = 5 + 5 * k
            img[y : y + person.shape[0], x : x + person.shape[1]] = person
        return img


def latencies(client: NodeClient) -> np.ndarray:
    with client.lock:
        return np.array([arrival - stamp_seconds(m.header.stamp) for arrival, m in client.tracks])


def run_pets(args, camera: CameraIntrinsics, frames: list[np.ndarray], mode: str, ns: str):
    with node_session(
        ns,
        params_file=REPO / "config" / "tracker.yaml",
        params={"frame_rate": 7.0, "qos_reliability": "reliable"},
        log_path=args.log_dir / f"node_{mode}.log",
    ) as (proc, client):
        client.wait_for_node(timeout=90)
        client.send_camera_info_until_used(camera)
        # warm-up frame (first-call costs: torch, OpenCV), not counted
        client.publish_image(frames[0], time.time())
        client.wait_for(lambda: len(client.tracks) >= 1, 60.0, "the warm-up frame")
        with client.lock:
            client.tracks.clear()
        get_params = f"{ns}/tracker_node/get_parameters"
        client.call(GetParameters, get_params, GetParameters.Request(names=["detector"]), 30.0)
        service_ms = []
        start = time.time()
        sent = 0
        for i, frame in enumerate(frames):
            stamp = time.time()
            client.publish_camera_info(camera)
            client.publish_image(frame, stamp)
            sent += 1
            if mode == "paced":
                client.wait_for_tracks(stamp, timeout=60.0)
            else:
                if i % 5 == 2:  # while the worker runs HOG: does the executor still answer?
                    t = time.perf_counter()
                    request = GetParameters.Request(names=["detector_score_threshold"])
                    client.call(GetParameters, get_params, request, 30.0)
                    service_ms.append(1000 * (time.perf_counter() - t))
                time.sleep(max(0.0, start + (i + 1) / 7.0 - time.time()))
        if mode == "live":
            time.sleep(5.0)  # let the last frame in the mailbox finish
        elapsed = time.time() - start
        lat = latencies(client)
        time.sleep(1.5)
        diag = client.latest_diagnostics()
    if proc.returncode != 0:
        raise SystemExit(f"node exited with {proc.returncode}; log: {proc.log_path}")
    processed = len(lat)
    return {
        "mode": mode,
        "sent": sent,
        "processed": processed,
        "fps": processed / elapsed,
        "dropped": int(diag.get("frames_dropped", -1)),
        "lat_median": float(np.median(lat)) * 1000,
        "lat_p95": float(np.percentile(lat, 95)) * 1000,
        "stages": {s: float(diag.get(f"{s}_ms_median", "nan")) for s in STAGES},
        "service_ms": service_ms,
    }


def run_soak(args, camera_small: CameraIntrinsics, make_frame: WalkingPeople):
    samples: list[tuple[int, float]] = []
    lost = 0
    ids: set[int] = set()
    persons = 0
    with node_session(
        f"/soak_{os.getpid()}",
        params_file=REPO / "config" / "tracker.yaml",
        params={"frame_rate": 7.0, "hog_upscale": 1.0, "log_period": 30.0},
        log_path=args.log_dir / "node_soak.log",
    ) as (proc, client):
        client.wait_for_node(timeout=90)
        node_proc = psutil.Process(proc.proc.pid)
        client.send_camera_info_until_used(camera_small)
        samples.append((0, node_proc.memory_info().rss / 2**20))
        start = time.time()
        for i in range(args.soak_frames):
            stamp = start + i / 7.0  # video time: velocities stay meaningful
            client.publish_image(make_frame(i), stamp)
            try:
                msg = client.wait_for_tracks(stamp, timeout=0.5, poll=0.001)
                ids.update(p.id for p in msg.persons)
                persons += len(msg.persons)
            except TimeoutError:
                lost += 1
            if (i + 1) % 1000 == 0:
                samples.append((i + 1, node_proc.memory_info().rss / 2**20))
                with client.lock:  # keep this process' own memory flat
                    client.tracks.clear()
                    client.markers.clear()
                    client.diagnostics.clear()
                print(f"  soak {i + 1}/{args.soak_frames}: node RSS {samples[-1][1]:.1f} MiB")
        elapsed = time.time() - start
        if samples[-1][0] != args.soak_frames:
            samples.append((args.soak_frames, node_proc.memory_info().rss / 2**20))
        time.sleep(1.5)
        diag = client.latest_diagnostics()
    if proc.returncode != 0:
        raise SystemExit(f"soak node exited with {proc.returncode}; log: {proc.log_path}")
    return {
        "frames": args.soak_frames,
        "seconds": elapsed,
        "lost": lost,
        "samples": samples,
        "processed": int(diag.get("frames_processed", -1)),
        "rejected": int(diag.get("inputs_rejected", -1)),
        "failed": int(diag.get("frames_failed", -1)),
        "ids": len(ids),
        "persons_per_frame": persons / max(1, args.soak_frames - lost),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--live-frames", type=int, default=60)
    parser.add_argument("--paced-frames", type=int, default=15)
    parser.add_argument("--soak-frames", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", str(150 + os.getpid() % 50))

    video = args.data / "PETS09-S2L1.avi"
    camera = CameraIntrinsics.from_yaml(args.data / "calibration/PETS09-S2L1.camera_info.yaml")
    n = max(args.live_frames, args.paced_frames, 1)
    frames = read_frames(video, n)
    results = []
    for mode, count in (("paced", args.paced_frames), ("live", args.live_frames)):
        if count > 0:
            print(f"PETS09 {mode}: {count} frames ...")
            results.append(
                run_pets(args, camera, frames[:count], mode, f"/bench_{mode}_{os.getpid()}")
            )
            print(f"  {results[-1]}")
    soak = None
    if args.soak_frames > 0:
        walking = WalkingPeople(frames[0])
        cam_small = CameraIntrinsics(400.0, 400.0, 120.0, 80.0, *WalkingPeople.SIZE)
        print(f"soak: {args.soak_frames} synthetic frames at 240x160 ...")
        soak = run_soak(args, cam_small, walking)

    md = [
        "## tracker_node over DDS (bench/node_throughput.py)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores shared with other jobs "
        f"(load average at the end {os.getloadavg()[0]:.1f}); Fast DDS, node and publisher in "
        "two processes on one host. Node: config/tracker.yaml defaults (HOG at 2x, pinhole, "
        "ByteTrack + TrackFlow), frame_rate 7, PETS09-S2L1 768x576 with its CameraInfo, "
        "reliable input QoS (see the README on best-effort and large images).",
        "",
        "| mode | frames sent | processed | processed fps | dropped (node) | latency median ms "
        "| latency p95 ms | " + " | ".join(f"{s} ms" for s in STAGES) + " |",
        "|---" * (7 + len(STAGES)) + "|",
    ]
    for r in results:
        md.append(
            f"| {r['mode']} | {r['sent']} | {r['processed']} | {r['fps']:.2f} | {r['dropped']} "
            f"| {r['lat_median']:.0f} | {r['lat_p95']:.0f} | "
            + " | ".join(f"{r['stages'][s]:.1f}" for s in STAGES)
            + " |"
        )
    md += [
        "",
        "*live*: frames published at 7 fps whatever the node does (a camera); the node "
        "processes the newest and drops the rest, so latency stays about one processing time. "
        "*paced*: the next frame is sent when the previous one's tracks arrive (no drops). "
        "Latency: image stamp (publish time) -> TrackedPersonArray received by the other "
        "process. Stage columns: the node's medians over its last 100 frames (/diagnostics); "
        "total = image received -> tracks published.",
    ]
    for r in results:
        if r["service_ms"]:
            ms = np.array(r["service_ms"])
            md += [
                "",
                f"Parameter service while the node runs HOG ({r['mode']}): "
                f"{len(ms)} get_parameters calls answered in median {np.median(ms):.1f} ms, "
                f"max {ms.max():.1f} ms (processing runs off the executor thread).",
            ]
    if soak is not None:
        (_, first), (_, last) = soak["samples"][0], soak["samples"][-1]
        warm = soak["samples"][1][1] if len(soak["samples"]) > 1 else first
        md += [
            "",
            f"Soak: {soak['frames']} synthetic 240x160 frames (two real PETS09 people pasted "
            "at HOG size walking across a PETS09 background and wrapping around; HOG 1x, "
            f"ByteTrack + TrackFlow, best-effort QoS) in {soak['seconds']:.0f} s; node processed "
            f"{soak['processed']}, failed {soak['failed']}; {soak['lost']} frames got no "
            f"tracks within 0.5 s (lost on the wire or dropped); {soak['ids']} track ids were "
            f"born, {soak['persons_per_frame']:.2f} persons per frame on average.",
            "",
            "| frames | " + " | ".join(str(k) for k, _ in soak["samples"]) + " |",
            "|---" * (len(soak["samples"]) + 1) + "|",
            "| node RSS MiB | " + " | ".join(f"{v:.1f}" for _, v in soak["samples"]) + " |",
            "",
            f"Resident memory: {first:.1f} MiB at start, {warm:.1f} MiB after 1000 frames, "
            f"{last:.1f} MiB at the end: growth {last - first:+.1f} MiB over the run, "
            f"{last - warm:+.1f} MiB after warm-up.",
        ]
    text = "\n".join(md)
    print(text)
    write_section(args.out, "node_throughput", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
