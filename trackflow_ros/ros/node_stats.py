"""Rates and per-stage latencies of the node, for /diagnostics and the periodic log line.

Kept apart from the node so it is plain Python: the node feeds events in (frame received,
rejected, dropped, processed with its stage timings) and asks for a summary over the recent
window. Latencies are kept for the last ``window`` processed frames, rates over the last
``window`` events' time span; both threads (executor and worker) write, so a lock guards it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping

import numpy as np

STAGES = ("convert", "detect", "distance", "associate", "publish", "total")


class NodeStats:
    def __init__(self, window: int = 100) -> None:
        self._lock = threading.Lock()
        self._received: deque[float] = deque(maxlen=window)
        self._processed: deque[float] = deque(maxlen=window)
        self._latency: dict[str, deque[float]] = {s: deque(maxlen=window) for s in STAGES}
        self._age: deque[float] = deque(maxlen=window)
        self.received = 0
        self.processed = 0
        self.dropped = 0
        self.rejected = 0
        self.failed = 0
        self.last_error = ""

    def on_received(self, now: float | None = None) -> None:
        with self._lock:
            self.received += 1
            self._received.append(time.monotonic() if now is None else now)

    def on_rejected(self) -> None:
        with self._lock:
            self.rejected += 1

    def on_dropped(self) -> None:
        with self._lock:
            self.dropped += 1

    def on_failed(self, error: str) -> None:
        with self._lock:
            self.failed += 1
            self.last_error = error

    def on_processed(
        self, timings: Mapping[str, float], age_s: float | None = None, now: float | None = None
    ) -> None:
        """``timings`` in seconds per stage; ``age_s``: image stamp -> tracks published."""
        with self._lock:
            self.processed += 1
            self._processed.append(time.monotonic() if now is None else now)
            for stage, seconds in timings.items():
                if stage in self._latency:
                    self._latency[stage].append(float(seconds))
            if age_s is not None:
                self._age.append(float(age_s))

    @staticmethod
    def _rate(stamps: deque[float], now: float) -> float:
        if len(stamps) < 2:
            return 0.0
        span = max(now, stamps[-1]) - stamps[0]
        return (len(stamps) - 1) / span if span > 0 else 0.0

    def summary(self, now: float | None = None) -> dict[str, float]:
        """Counters, rates (Hz) and latency medians/maxima (ms) over the recent window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            out: dict[str, float] = {
                "frames_received": self.received,
                "frames_processed": self.processed,
                "frames_dropped": self.dropped,
                "inputs_rejected": self.rejected,
                "frames_failed": self.failed,
                "input_rate_hz": self._rate(self._received, now),
                "processed_rate_hz": self._rate(self._processed, now),
            }
            for stage, values in self._latency.items():
                if values:
                    arr = np.fromiter(values, dtype=float)
                    out[f"{stage}_ms_median"] = 1000.0 * float(np.median(arr))
                    out[f"{stage}_ms_max"] = 1000.0 * float(arr.max())
            if self._age:
                arr = np.fromiter(self._age, dtype=float)
                out["stamp_to_publish_ms_median"] = 1000.0 * float(np.median(arr))
                out["stamp_to_publish_ms_max"] = 1000.0 * float(arr.max())
        return out

    def log_line(self, now: float | None = None) -> str:
        s = self.summary(now)

        def ms(stage: str) -> str:
            key = f"{stage}_ms_median"
            return f"{s[key]:.1f}" if key in s else "-"

        return (
            f"in {s['input_rate_hz']:.1f} Hz, processed {s['processed_rate_hz']:.1f} Hz, "
            f"dropped {s['frames_dropped']:.0f}, rejected {s['inputs_rejected']:.0f}, "
            f"failed {s['frames_failed']:.0f}; median ms: detect {ms('detect')}, "
            f"distance {ms('distance')}, associate {ms('associate')}, publish {ms('publish')}, "
            f"total {ms('total')}"
        )
