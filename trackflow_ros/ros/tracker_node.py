"""tracker_node: camera images in, tracked persons out.

Not built yet: the detection -> distance -> TrackFlow pipeline it wraps comes first (see the
issues on the tracking core, TrackFlow and the node). Until then the executable exists, so that
packaging and ``ros2 run trackflow_ros tracker_node`` can be checked, and it refuses to start
with a message that says so rather than pretending to track.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print(
        "tracker_node: not implemented yet in this version of trackflow_ros; "
        "`make demo` shows what works today (a TrackedPersonArray round trip over DDS).",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
