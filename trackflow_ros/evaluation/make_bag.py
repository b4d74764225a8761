"""trackflow-make-bag: a video file -> a rosbag2 camera recording (Image + CameraInfo).

    trackflow-make-bag VIDEO --fps F --out BAG [--camera-info YAML | --fov DEG]
                       [--storage mcap|sqlite3] [--max-frames N] [--topic-prefix /camera]

The bag holds ``<prefix>/image_raw`` (sensor_msgs/Image, bgr8) and, with a calibration,
``<prefix>/camera_info`` (sensor_msgs/CameraInfo) stamped i / F seconds after a fixed start, so
a video with a known frame rate becomes the recording a robot would have made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trackflow_ros.distance.pinhole import CameraInfoError
from trackflow_ros.evaluation.bag_io import (
    DEFAULT_FRAME_ID,
    DEFAULT_START_NS,
    STORAGES,
    BagError,
    camera_info_from_yaml,
    make_bag,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trackflow-make-bag", description=__doc__.strip().splitlines()[0]
    )
    parser.add_argument("video", type=Path, help="any video OpenCV can decode")
    parser.add_argument("--fps", type=float, required=True, help="the camera's real frame rate")
    parser.add_argument("--out", type=Path, required=True, help="bag folder to create")
    calib = parser.add_mutually_exclusive_group()
    calib.add_argument("--camera-info", type=Path, help="ROS camera_info YAML of the camera")
    calib.add_argument("--fov", type=float, help="horizontal field of view in degrees instead")
    parser.add_argument("--storage", choices=sorted(STORAGES), default="mcap")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames")
    parser.add_argument(
        "--topic-prefix", default="/camera", help="topics are PREFIX/image_raw, PREFIX/camera_info"
    )
    parser.add_argument("--frame-id", default=DEFAULT_FRAME_ID, help="header.frame_id")
    parser.add_argument(
        "--start-ns", type=int, default=DEFAULT_START_NS, help="stamp of the first frame (ns)"
    )
    args = parser.parse_args(argv)
    try:
        camera = camera_info_from_yaml(args.camera_info) if args.camera_info else args.fov
        info = make_bag(
            args.video,
            args.out,
            args.fps,
            camera=camera,
            storage=args.storage,
            max_frames=args.max_frames,
            topic_prefix=args.topic_prefix,
            frame_id=args.frame_id,
            start_ns=args.start_ns,
            progress=True,
        )
    except (BagError, CameraInfoError) as err:
        print(f"trackflow-make-bag: error: {err}", file=sys.stderr)
        return 2
    topics = info["image_topic"] + (
        f" and {info['camera_info_topic']}" if info["camera_info_topic"] else " (no CameraInfo)"
    )
    print(f"wrote {info['frames']} frames on {topics} to {info['path']} ({info['storage']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
