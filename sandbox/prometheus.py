"""The gateway's invocation counter and the OpenFaaS chart's Prometheus that scrapes it, for the sandbox.

`gateway_function_invocation_total{function_name, code}` is a counter the gateway creates on a function's first call
(openfaas/faas gateway/metrics/metrics.go, exporter.go). The chart's Prometheus (service `prometheus`, port 9090 in
namespace `openfaas`: openfaas/faas-netes chart/openfaas/templates/prometheus-svc.yaml) scrapes it every 15 s
(chart/openfaas/templates/prometheus-cfg.yaml: scrape_interval 15s). Its HTTP API is served here for the query
shapes off-hours needs (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries), evaluated on the
scraped samples as Prometheus does:
    gateway_function_invocation_total{<label>="<value>" | <label>=~"<regex>", ...}
    increase(<that>[<duration>])          (prometheus/promql/functions.go extrapolatedRate)
    sum by (<labels>) (<either of the above>)
Any other query is answered 400 {"status": "error", "errorType": "bad_data"} naming what the sandbox supports.
"""
from __future__ import annotations

import bisect
import json
import math
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

METRIC = "gateway_function_invocation_total"
SCRAPE_INTERVAL = 15.0  # seconds
_SELECTOR = re.compile(r"^\s*" + METRIC + r"\s*(?:\{(?P<matchers>[^}]*)\})?\s*$")
_MATCHER = re.compile(r'^\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*$')
_INCREASE = re.compile(r"^\s*increase\s*\((?P<inner>.*)\[(?P<range>[0-9smhd]+)\]\s*\)\s*$")
_SUM_BY = re.compile(r"^\s*sum\s+by\s*\((?P<labels>[^)]*)\)\s*\((?P<inner>.*)\)\s*$")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class QueryError(Exception):
    """A query this Prometheus cannot evaluate (HTTP 400, errorType bad_data)."""


def _seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


@dataclass
class _Series:
    times: list[float]   # call times, ascending
    totals: list[float]  # counter value after each call

    def value_at(self, t: float) -> float | None:
        index = bisect.bisect_right(self.times, t)
        return self.totals[index - 1] if index else None


class InvocationLog:
    """Calls per (function_name, code) with their times: the gateway's counter at any moment."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], _Series] = {}
        self._lock = threading.Lock()

    def record(self, function_name: str, code: str, at: datetime, count: int = 1) -> None:
        if count < 1:
            raise ValueError(f"count={count}: a call is counted at least once")
        t = _seconds(at)
        with self._lock:
            series = self._series.setdefault((function_name, code), _Series([], []))
            index = bisect.bisect_right(series.times, t)
            series.times.insert(index, t)
            series.totals.insert(index, (series.totals[index - 1] if index else 0.0))
            for later in range(index, len(series.totals)):
                series.totals[later] += count

    def last_call(self, function_name: str, now: datetime) -> datetime | None:
        """The latest call to the function (any code) at or before `now`."""
        t = _seconds(now)
        with self._lock:
            latest = [series.times[bisect.bisect_right(series.times, t) - 1]
                      for (name, _), series in self._series.items()
                      if name == function_name and bisect.bisect_right(series.times, t)]
        return datetime.fromtimestamp(max(latest), timezone.utc) if latest else None

    def exposition(self, now: datetime) -> str:
        """The gateway's /metrics text for the counter at `now` (Prometheus text format 0.0.4)."""
        t = _seconds(now)
        lines = [f"# HELP {METRIC} Individual function metrics", f"# TYPE {METRIC} counter"]
        with self._lock:
            for (name, code), series in sorted(self._series.items()):
                value = series.value_at(t)
                if value is not None:
                    lines.append(f'{METRIC}{{code="{code}",function_name="{name}"}} {value:g}')
        return "\n".join(lines) + "\n"

    # --- Prometheus -----------------------------------------------------------------------------------------------
    def samples(self, labels: tuple[str, str], start: float, end: float) -> list[tuple[float, float]]:
        """Scrapes in (start, end] on the 15 s grid, from the first scrape that saw the series."""
        series = self._series[labels]
        first = math.floor(start / SCRAPE_INTERVAL) * SCRAPE_INTERVAL + SCRAPE_INTERVAL
        found = []
        scrape = first
        while scrape <= end:
            value = series.value_at(scrape)
            if value is not None:
                found.append((scrape, value))
            scrape += SCRAPE_INTERVAL
        return found

    def query(self, text: str, at: datetime) -> list[dict]:
        """An instant query's result vector: [{"metric": {...}, "value": [t, "v"]}]."""
        t = _seconds(at)
        group = _SUM_BY.match(text)
        inner = group.group("inner") if group else text
        increase = _INCREASE.match(inner)
        selector = increase.group("inner") if increase else inner
        predicate = _matchers(selector)
        with self._lock:
            chosen = [labels for labels in sorted(self._series) if predicate(_labels(labels))]
            if increase:
                window = _duration(increase.group("range"))
                values = [(labels, _extrapolated_increase(self.samples(labels, t - window, t), t - window, t))
                          for labels in chosen]
            else:
                lookback = 300.0  # Prometheus' default lookback delta: the latest scrape in the last 5 minutes
                values = [(labels, (self.samples(labels, t - lookback, t) or [(0, None)])[-1][1])
                          for labels in chosen]
        vector = [(_labels(labels), value) for labels, value in values if value is not None]
        if not increase:
            vector = [({"__name__": METRIC, **metric}, value) for metric, value in vector]
        if group:
            keep = [label.strip() for label in group.group("labels").split(",") if label.strip()]
            sums: dict[tuple, float] = {}
            for metric, value in vector:
                key = tuple((label, metric.get(label, "")) for label in keep)
                sums[key] = sums.get(key, 0.0) + value
            vector = [({label: value for label, value in key if value}, total) for key, total in sorted(sums.items())]
        return [{"metric": metric, "value": [t, _format(value)]} for metric, value in vector]


def _labels(key: tuple[str, str]) -> dict[str, str]:
    return {"code": key[1], "function_name": key[0]}


def _duration(text: str) -> float:
    parts = _DURATION.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != text:
        raise QueryError(f"bad duration {text!r}")
    return float(sum(int(number) * _UNITS[unit] for number, unit in parts))


def _matchers(selector: str):
    match = _SELECTOR.match(selector)
    if not match:
        raise QueryError(f"the sandbox's Prometheus evaluates only {METRIC}{{...}}, increase(...[d]) and "
                         f"sum by (...) (...) of them; got {selector.strip()!r}")
    tests = []
    for part in filter(str.strip, (match.group("matchers") or "").split(",")):
        matcher = _MATCHER.match(part)
        if not matcher:
            raise QueryError(f"bad label matcher {part.strip()!r}")
        label, op, value = matcher.group("label"), matcher.group("op"), matcher.group("value").replace('\\"', '"')
        if op in ("=~", "!~"):
            pattern = re.compile(f"^(?:{value})$")  # Prometheus anchors regex matchers
            tests.append((label, lambda actual, p=pattern, want=(op == "=~"): bool(p.match(actual)) == want))
        else:
            tests.append((label, lambda actual, v=value, want=(op == "="): (actual == v) == want))
    return lambda labels: all(test(labels.get(label, "")) for label, test in tests)


def _extrapolated_increase(samples: list[tuple[float, float]], start: float, end: float) -> float | None:
    """prometheus/promql/functions.go extrapolatedRate (isCounter, !isRate): None below two samples."""
    if len(samples) < 2:
        return None
    (first_t, first_v), (last_t, last_v) = samples[0], samples[-1]
    result = last_v - first_v  # the gateway's counter never resets in the sandbox
    sampled = last_t - first_t
    average_gap = sampled / (len(samples) - 1)
    to_start, to_end = first_t - start, end - last_t
    if result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = average_gap * 1.1
    interval = sampled + (to_start if to_start < threshold else average_gap / 2)
    interval += to_end if to_end < threshold else average_gap / 2
    return result * (interval / sampled)


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))

def _time_parameter(text: str | None, clock) -> datetime:
    """Prometheus' `time`: unix seconds or RFC 3339; the evaluation time defaults to now (the sandbox's clock)."""
    if not text:
        return clock()
    try:
        return datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))


def http_api(log: InvocationLog, clock):
    """The handler the fake API's service proxy calls for `prometheus:9090` (GET /api/v1/query only)."""
    def handle(method: str, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path.rstrip("/") != "/api/v1/query" or method not in ("GET", "POST"):
            return 404, "text/plain; charset=utf-8", b"404 page not found\n"
        try:
            if not query.get("query"):
                raise QueryError("parameter 'query' is required")
            at = _time_parameter(query.get("time"), clock)
            result = log.query(query["query"], at)
        except (QueryError, ValueError) as error:
            body = {"status": "error", "errorType": "bad_data", "error": str(error)}
            return 400, "application/json", json.dumps(body).encode()
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return 200, "application/json", json.dumps(body).encode()
    return handle
