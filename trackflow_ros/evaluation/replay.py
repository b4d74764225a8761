"""trackflow-replay: run the node's pipeline over a recorded bag and score it.

    trackflow-replay BAG --image-topic T [--camera-info-topic T] [--config config/tracker.yaml]
                     [--param KEY=VALUE ...] [--gt gt.txt] [--extrinsics YAML] --out DIR

The pipeline object and the parameters file are the node's (``Pipeline``,
``PipelineConfig.from_yaml``), so a replay measures what runs on the robot. Written to DIR:

- ``tracks/``: a rosbag2 with ``/tracks`` (TrackedPersonArray) and ``/tracks/markers``
  (MarkerArray), each stamped with its input image's header stamp;
- ``results.txt`` (MOTChallenge results) and ``det.txt`` (the detections used, MOT format);
- ``annotated.mp4`` (ids, distances, trails) and ``birdseye.png`` (3D trajectories);
- ``summary.json``: run facts, per-stage times and, with ``--gt``, TrackEval metrics of the
  configured cost and of the IoU cost on the same detections; with ``--extrinsics`` and a
  ground truth carrying ground-plane positions, the distance error of matched tracks.

A damaged bag, a missing topic, an undecodable image or ground truth of another length stops
the run with one line on stderr naming the file and the cause, exit status 2; everything
processed until then is still written (summary ``status: "error"``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm import tqdm

from trackflow_ros.distance.pinhole import CameraInfoError
from trackflow_ros.evaluation.bag_io import IMAGE, BagError, InputBag, OutputBag
from trackflow_ros.evaluation.bag_messages import MarkerArrayBuilder, tracks_message
from trackflow_ros.evaluation.distance_error import (
    Extrinsics,
    ExtrinsicsError,
    distance_report,
    has_ground_plane,
)
from trackflow_ros.evaluation.metrics import MetricsError
from trackflow_ros.evaluation.motchallenge import MotFormatError, read_ground_truth
from trackflow_ros.evaluation.replay_outputs import ReplayOutputs, write_summary
from trackflow_ros.evaluation.replay_scoring import (
    GroundTruthMismatch,
    check_gt_frames,
    retrack,
    score_rows,
)
from trackflow_ros.pipeline import InputError, Pipeline, PipelineConfig, load_params_file

_log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "tracker.yaml"
TRACKS_TOPIC = "/tracks"
MARKERS_TOPIC = "/tracks/markers"
#: a frame rate measured from stamps that differs more than this from the configured one wins
RATE_TOLERANCE = 0.1


class ReplayError(RuntimeError):
    """A replay that could not run or finish; the message names the file and the cause."""


@dataclass
class ReplayOptions:
    bag: Path
    image_topic: str
    out: Path
    camera_info_topic: str | None = None  # None: the bag's only CameraInfo topic, if any
    config: Path = DEFAULT_CONFIG
    params: dict[str, Any] = field(default_factory=dict)  # override the config file's
    gt: Path | None = None
    extrinsics: Path | None = None
    frame_rate: float | None = None  # None: from the bag's stamps (else the config's)
    storage: str = "mcap"
    video: bool = True
    progress: bool = True


def load_config(path: Path, overrides: dict[str, Any]) -> PipelineConfig:
    """The node's pipeline configuration from its params file, with ``overrides`` on top.

    The file's pipeline parameters are taken and the node's own (topics, QoS, lifecycle...)
    left alone: the node validates those, and a replay must not break when the node gains
    one. Overrides must be pipeline parameters (a typo there is an error)."""
    path = Path(path)
    names = {f.name for f in dataclasses.fields(PipelineConfig)}
    params = {k: v for k, v in load_params_file(path).items() if k in names}
    try:
        config = PipelineConfig.from_dict(params)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not overrides:
        return config
    return PipelineConfig.from_dict({**config.to_dict(), **overrides})


def measured_frame_rate(bag: InputBag, image_topic: str, samples: int = 20) -> float | None:
    """Median image rate of the first ``samples`` header stamps (None if fewer than 2)."""
    stamps = []
    try:
        for _, msgtype, _, data in bag.messages([image_topic]):
            header = bag.typestore.deserialize_cdr(data, msgtype).header
            stamps.append(header.stamp.sec + header.stamp.nanosec * 1e-9)
            if len(stamps) >= samples:
                break
    except BagError:
        pass  # reported when the frames are read
    steps = np.diff(stamps)
    steps = steps[steps > 0]
    # 6 significant digits: stamps in ns make 7 fps come out as 7.0000033
    return float(f"{1.0 / np.median(steps):.6g}") if len(steps) else None


def replay(opts: ReplayOptions) -> dict[str, Any]:
    """Run the replay; returns the summary (also in ``out/summary.json``). Raises
    ``ReplayError``/``BagError``/``GroundTruthMismatch`` etc. after writing partial outputs."""
    out = Path(opts.out)
    tracks_bag_path = out / "tracks"
    if tracks_bag_path.exists():
        raise ReplayError(f"{tracks_bag_path}: exists already; choose a new --out folder")
    bag = InputBag(opts.bag)
    image_info = bag.require_topic(opts.image_topic, (IMAGE, "sensor_msgs/msg/CompressedImage"))
    info_topic = opts.camera_info_topic or bag.find_camera_info_topic()
    config = load_config(opts.config, opts.params)

    rate_source = "--frame-rate"
    frame_rate = opts.frame_rate
    if frame_rate is None:
        measured = measured_frame_rate(bag, opts.image_topic)
        if measured and abs(measured - config.frame_rate) > RATE_TOLERANCE * config.frame_rate:
            frame_rate, rate_source = measured, "bag stamps"
        else:
            frame_rate, rate_source = config.frame_rate, "config"
    if frame_rate != config.frame_rate:
        config = PipelineConfig.from_dict({**config.to_dict(), "frame_rate": frame_rate})

    gt = None
    if opts.gt is not None:
        gt = read_ground_truth(opts.gt)
        if image_info.count is not None:
            check_gt_frames(opts.gt, bag.path, image_info.count)
    extrinsics = Extrinsics.from_yaml(opts.extrinsics) if opts.extrinsics else None

    pipeline = Pipeline(config)
    out.mkdir(parents=True, exist_ok=True)
    outputs = ReplayOutputs(out, frame_rate, video=opts.video)
    summary: dict[str, Any] = {
        "status": "running",
        "bag": str(bag.path),
        "bag_read_sequentially": bag.sequential_reason,
        "image_topic": opts.image_topic,
        "camera_info_topic": info_topic,
        "config_file": str(opts.config),
        "config": config.to_dict(),
        "frame_rate": frame_rate,
        "frame_rate_source": rate_source,
    }
    stamps: dict[int, float] = {}
    cameras: dict[int, Any] = {}
    tracks_by_frame: dict[int, list[Any]] = {}
    timings: dict[str, float] = {}
    size = (0, 0)
    frames = 0
    started = time.perf_counter()
    error: BaseException | None = None
    writer = OutputBag(tracks_bag_path, opts.storage)
    markers = MarkerArrayBuilder(writer.typestore, person_height=config.person_height)
    try:
        with tqdm(
            total=image_info.count, unit="frame", desc="replay", disable=not opts.progress
        ) as bar:
            for frame in bag.frames(opts.image_topic, info_topic):
                number = frame.index + 1
                stamp = frame.stamp_ns * 1e-9
                try:
                    result = pipeline.process(frame.image, stamp, frame.camera)
                except InputError as exc:
                    raise ReplayError(
                        f"{bag.path}: {opts.image_topic} message {frame.index}: {exc}"
                    ) from exc
                for stage, seconds in result.timings.items():
                    timings[stage] = timings.get(stage, 0.0) + seconds
                msg = tracks_message(
                    writer.typestore,
                    result.persons,
                    frame.stamp_ns,
                    frame.frame_id,
                    result.scene_cluster,
                )
                writer.write(TRACKS_TOPIC, msg, frame.stamp_ns)
                writer.write(
                    MARKERS_TOPIC,
                    markers.build(result.persons, frame.stamp_ns, frame.frame_id),
                    frame.stamp_ns,
                )
                outputs.add(number, result.persons, result.detections, frame.image)
                stamps[number], cameras[number] = stamp, frame.camera
                tracks_by_frame[number] = result.persons
                size = (frame.image.shape[1], frame.image.shape[0])
                frames = number
                bar.update(1)
        if gt is not None and image_info.count is None:
            check_gt_frames(opts.gt, bag.path, frames)  # a bag read without its index
    except BaseException as exc:
        error = exc
        raise
    finally:
        writer.close()
        paths = outputs.close()
        summary.update(
            status="complete" if error is None else "error",
            error=None if error is None else f"{type(error).__name__}: {error}",
            frames=frames,
            seconds=time.perf_counter() - started,
            ms_per_frame={k: 1000.0 * v / max(frames, 1) for k, v in timings.items()},
            outputs={"tracks_bag": str(tracks_bag_path), **paths},
            messages_written=dict(writer.counts),
        )
        write_summary(out / "summary.json", summary)

    if gt is not None:
        summary["metrics"] = _metrics(
            config, outputs, opts.gt, frames, frame_rate, size, stamps, cameras, out
        )
        if extrinsics is not None:
            if has_ground_plane(gt):
                summary["distance_error"] = distance_report(tracks_by_frame, gt, extrinsics)
            else:
                summary["distance_error"] = f"{opts.gt} has no ground-plane x, y: not scored"
        write_summary(out / "summary.json", summary)
    return summary


def _metrics(config, outputs, gt_path, frames, frame_rate, size, stamps, cameras, out):
    """TrackEval metrics of the run, and of IoU on the same detections (re-tracked)."""
    rows = np.array(outputs.rows, dtype=float).reshape(-1, 7)
    metrics = {
        "configured": {
            "cost": config.cost,
            "tracker": config.tracker,
            **score_rows(rows, gt_path, frames, frame_rate, size, out / "eval", config.cost),
        }
    }
    for cost in ("iou", "trackflow"):
        if cost == config.cost:
            continue
        started = time.perf_counter()
        other = retrack(config, outputs.detections, stamps, cameras, frames, cost)
        metrics[f"{cost}_same_detections"] = {
            "cost": cost,
            "tracker": config.tracker,
            **score_rows(other, gt_path, frames, frame_rate, size, out / "eval", cost),
            "retrack_seconds": time.perf_counter() - started,
        }
    return metrics


def parse_params(items: list[str]) -> dict[str, Any]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {item!r}: expected KEY=VALUE")
        params[key.strip()] = yaml.safe_load(value)
    return params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trackflow-replay", description=__doc__.strip().splitlines()[0]
    )
    parser.add_argument("bag", type=Path, help="rosbag2 folder, .mcap or .db3")
    parser.add_argument("--image-topic", required=True)
    parser.add_argument(
        "--camera-info-topic", help="default: the bag's CameraInfo topic, if it has exactly one"
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="node params file")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one pipeline parameter of the config (repeatable), e.g. hog_upscale=1.5",
    )
    parser.add_argument("--gt", type=Path, help="MOTChallenge gt.txt of the recording")
    parser.add_argument(
        "--extrinsics", type=Path, help="world->camera YAML (distance error, with --gt)"
    )
    parser.add_argument(
        "--frame-rate", type=float, help="camera rate (default: measured from the bag's stamps)"
    )
    parser.add_argument(
        "--storage", choices=["mcap", "sqlite3"], default="mcap", help="storage of the output bag"
    )
    parser.add_argument("--no-video", action="store_true", help="skip the annotated MP4")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        opts = ReplayOptions(
            bag=args.bag,
            image_topic=args.image_topic,
            out=args.out,
            camera_info_topic=args.camera_info_topic,
            config=args.config,
            params=parse_params(args.param),
            gt=args.gt,
            extrinsics=args.extrinsics,
            frame_rate=args.frame_rate,
            storage=args.storage,
            video=not args.no_video,
        )
        summary = replay(opts)
    except (
        ReplayError,
        BagError,
        GroundTruthMismatch,
        MotFormatError,
        MetricsError,
        ExtrinsicsError,
        CameraInfoError,
        ValueError,
        FileNotFoundError,
    ) as err:
        print(f"trackflow-replay: error: {err}", file=sys.stderr)
        if (args.out / "summary.json").is_file():
            print(f"trackflow-replay: partial outputs in {args.out}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 0


def format_summary(summary: dict[str, Any]) -> str:
    """A few lines for the terminal: metrics, distance error, where the files are."""
    lines = [f"{summary['frames']} frames from {summary['bag']} ({summary['image_topic']})"]
    for name, m in summary.get("metrics", {}).items():
        lines.append(
            f"  {m['tracker']} + {m['cost']:<9} ({name}): HOTA {m['HOTA']:.1f}  "
            f"IDF1 {m['IDF1']:.1f}  MOTA {m['MOTA']:.1f}  AssA {m['AssA']:.1f}  IDSW {m['IDSW']}"
        )
    dist = summary.get("distance_error")
    if isinstance(dist, dict) and dist.get("median_abs_error") is not None:
        lines.append(
            f"  distance error of matched tracks: median {dist['median_abs_error']:.2f} m, "
            f"mean {dist['mean_abs_error']:.2f} m, bias {dist['bias']:+.2f} m "
            f"({dist['with_distance']} matches)"
        )
    for key, path in summary.get("outputs", {}).items():
        if path:
            lines.append(f"  {key:<11} {path}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
