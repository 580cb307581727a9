"""Night wake-ups, pure: the gateway's invocation counters → per-function activity → when a woken function may be
parked again.

The counters are `gateway_function_invocation_total` (OpenFaaS gateway metrics, docs.openfaas.com
architecture/metrics), summed over status codes per `function_name` ("<name>.<namespace>"), read from the
OpenFaaS Prometheus' HTTP API (prometheus.io docs querying/api: `/api/v1/query`, result type vector) through the
Kubernetes API service proxy. A counter that changed since the last run means invocations: the quiet time starts
again. Counters are never compared across a reset by their size, only for change, so a gateway restart counts as
activity (safe: never parks mid-burst).
"""
from __future__ import annotations

import json
import math
from datetime import datetime

from chalice_app.offhours.parked import WakeState
from chalice_app.offhours.planner import Activity

QUERY = "sum by (function_name) (gateway_function_invocation_total)"
MAX_SERIES = 100_000  # bound on untrusted input


class MetricsError(ValueError):
    """The metrics answer could not be understood."""


def parse_query_result(body: bytes | str) -> dict[str, float]:
    """Prometheus `/api/v1/query` JSON (a vector) → {function_name: value}; MetricsError when it is not one."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise MetricsError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("status") != "success":
        raise MetricsError(f"query failed: {str(document)[:200]}")
    data = document.get("data") or {}
    if data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
        raise MetricsError("expected a vector result")
    counters: dict[str, float] = {}
    for series in data["result"][:MAX_SERIES]:
        try:
            name = str(series["metric"]["function_name"])
            value = float(series["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # one odd series is skipped, not the run's error
        if math.isfinite(value):
            counters[name] = counters.get(name, 0.0) + value
    return counters


def counter_for(counters: dict[str, float], namespace: str, name: str) -> float:
    """A function's count; a function never called has no series yet, which reads as 0."""
    return counters.get(f"{name}.{namespace}", counters.get(name, 0.0))


def next_activity(previous: WakeState | None, counter: float | None, now: datetime) -> tuple[Activity, WakeState]:
    """This run's view of a woken function, and the state to keep for the next run. `counter` None: the metrics
    could not be read; the quiet time then runs from the last known change (a fixed hold applies)."""
    if counter is None:
        state = previous or WakeState(-1.0, now)
        return Activity(state.changed_at, from_metrics=False), state
    if previous is None or previous.counter != counter:
        state = WakeState(counter, now)
    else:
        state = previous
    return Activity(state.changed_at, from_metrics=True), state
