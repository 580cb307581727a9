"""The patch window (reconcile._in_window): results in the actions' order whatever order the threads finish in,
at most `workers` threads, and an exception is raised in the caller's thread, not lost in a worker."""
import threading
import time

import pytest

from chalice_app.offhours.reconcile import _in_window


def test_results_keep_the_order_of_the_actions_on_at_most_workers_threads():
    seen: set[str] = set()

    def apply(number: int) -> int:
        seen.add(threading.current_thread().name)
        time.sleep(0.001 * (number % 3))  # later actions often finish first
        return number * 10

    assert _in_window(apply, list(range(50)), 4) == [number * 10 for number in range(50)]
    assert 1 <= len(seen) <= 4 and threading.current_thread().name not in seen
    assert _in_window(apply, [], 4) == []


def test_an_exception_reaches_the_caller_and_stops_taking_new_actions():
    started: list[int] = []

    def apply(number: int) -> int:
        started.append(number)
        if number == 3:
            raise RuntimeError("boom")
        time.sleep(0.002)
        return number

    with pytest.raises(RuntimeError, match="boom"):
        _in_window(apply, list(range(1000)), 2)
    assert len(started) < 1000
