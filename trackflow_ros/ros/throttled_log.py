"""Warnings about bad input, at most one per kind per period, each saying how many it stands for.

rclpy's ``throttle_duration_sec`` keeps the first message of a period and silently drops the
rest; a robot operator then cannot tell one bad frame from a broken driver. Here every kind
of problem (e.g. "image", "camera_info") keeps a count, and the line that is logged says how
many occurred since the previous one, with the latest reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ThrottledWarnings:
    def __init__(self, log: Callable[[str], None], period_s: float = 5.0) -> None:
        self._log = log
        self.period_s = float(period_s)
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._pending: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def warn(self, kind: str, text: str, now: float | None = None) -> bool:
        """Count one ``kind`` problem; log it unless one was logged within the period."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self.total[kind] = self.total.get(kind, 0) + 1
            self._pending[kind] = self._pending.get(kind, 0) + 1
            last = self._last.get(kind)
            if last is not None and now - last < self.period_s:
                return False
            count = self._pending.pop(kind)
            self._last[kind] = now
        suffix = "" if count == 1 else f" ({count} such since the last warning of this kind)"
        self._log(f"{text}{suffix}")
        return True
