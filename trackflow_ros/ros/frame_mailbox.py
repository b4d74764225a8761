"""A one-slot mailbox between the subscription callback and the processing thread.

A camera that outruns the tracker must not build a queue: a queued frame is stale by the time
it is processed, and the queue grows without bound. The callback ``put``s the newest frame,
replacing (and counting) one the worker has not taken yet; the worker ``take``s whatever is
newest. The executor thread therefore never waits on the pipeline, so parameter and lifecycle
services answer while a slow detector runs.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class FrameMailbox(Generic[T]):
    """Holds at most one item; ``put`` overwrites, ``take`` blocks until an item or ``close``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.dropped = 0  # items overwritten before the worker took them
        self.received = 0

    def put(self, item: T) -> bool:
        """Store ``item``; True if it replaced one that was never taken (a dropped frame)."""
        with self._cond:
            replaced = self._item is not None
            if replaced:
                self.dropped += 1
            self._item = item
            self.received += 1
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item (removing it), or None on timeout or once closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._item is not None or self._closed, timeout)
            if self._closed:
                return None
            item, self._item = self._item, None
            return item

    def clear(self) -> None:
        with self._cond:
            self._item = None

    def close(self) -> None:
        """Wake the worker for good (shutdown); later ``take``s return None at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
