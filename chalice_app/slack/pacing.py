"""Pacing: Slack allows about one message per second per webhook or channel, so posts to the same destination are
spaced at least `PACE_SECONDS` apart within a container (shared across notifier instances)."""
from __future__ import annotations

import threading
import time
from typing import Callable

PACE_SECONDS = 1.0


def pause_before_next(last_finished: float | None, now: float, interval: float) -> float:
    """Seconds to wait so that a post starts at least `interval` after the previous one to the same place."""
    if last_finished is None:
        return 0.0
    return max(0.0, interval - (now - last_finished))


class Pacer:
    """Spaces posts per destination; measured from when the previous post finished, as Slack counts arrivals."""

    def __init__(self, interval: float = PACE_SECONDS, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._finished: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def wait(self, key: str) -> None:
        pause = pause_before_next(self._finished.get(key), self._clock(), self.interval)
        if pause:
            self._sleep(pause)

    def finished(self, key: str) -> None:
        self._finished[key] = self._clock()


SHARED_PACER = Pacer()
