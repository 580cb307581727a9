"""Which off-hours policy applies to an object: its own annotations, then its namespace's, then the stage defaults.

Each setting is looked up on its own, first found wins, in this order: the object's `costguard.openfaas.com/<key>`,
its `downscaler/<key>` (py-kube-downscaler's, so its users can switch), the namespace's `costguard.openfaas.com/<key>`,
the namespace's `downscaler/<key>`, the stage default. `uptime` and `downtime` are one setting (the schedule): the
first place that sets either provides both, so a namespace's downtime never mixes with a function's uptime.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from chalice_app.counts import CountError, parse_count, shown
from chalice_app.errors import CostguardError
from chalice_app.kube.names import ANNOTATION_PREFIX, LEGACY_PREFIX
from chalice_app.offhours.model import MAX_REPLICAS
from chalice_app.offhours.schedule import Schedule, ScheduleError, parse_schedule

DEFAULTS_SOURCE = "stage defaults"
MAX_REASON = 400  # characters of an error reason shown in plans and reports (it quotes untrusted values)
MAX_STEPS = 64  # boundaries walked by next_change before giving up


class PolicyError(CostguardError):
    """An off-hours annotation that cannot be understood; the message names the annotation and where it was set."""


@dataclass(frozen=True)
class Defaults:
    uptime: str = "always"
    downtime: str = "never"
    timezone: str = "UTC"
    holidays: str | None = None

    @classmethod
    def from_settings(cls, settings) -> "Defaults":
        return cls(settings.default_uptime, settings.default_downtime, settings.default_timezone,
                   settings.default_holidays)


@dataclass(frozen=True)
class Policy:
    uptime: Schedule
    downtime: Schedule
    schedule_source: str
    exclude: bool = False
    exclude_until: datetime | None = None
    exclude_source: str = DEFAULTS_SOURCE
    downtime_replicas: int = 0

    def in_downtime(self, now: datetime) -> bool:
        """Down when outside the uptime or inside the downtime; a public holiday is down for both kinds of spec."""
        return not self.uptime.contains(now) or self.downtime.contains(now, holidays_inside=True)

    def excluded(self, now: datetime) -> bool:
        return self.exclude or (self.exclude_until is not None and now < self.exclude_until)

    def next_change(self, now: datetime) -> datetime | None:
        """The next instant when `in_downtime` flips (checked among both schedules' boundaries)."""
        state, moment = self.in_downtime(now), now
        for _ in range(MAX_STEPS):
            steps = [step for step in (self.uptime.next_change(moment),
                                       self.downtime.next_change(moment, holidays_inside=True)) if step]
            if not steps:
                return None
            moment = min(steps)
            if self.in_downtime(moment) != state:
                return moment
        return None


@dataclass(frozen=True)
class Layer:
    source: str  # e.g. "function annotation", "namespace openfaas-fn annotation"
    annotations: dict[str, str]


def layers_for(object_kind: str, annotations: dict[str, str], namespace: str | None,
               namespace_annotations: dict[str, str] | None, kept_until: str | None = None) -> list[Layer]:
    """Most specific first: the object's annotations, a Slack keep the stage table still holds (offhours.keeps: its
    annotation was removed, e.g. by a redeploy), then the namespace's annotations."""
    layers = [Layer(f"{object_kind} annotation", annotations)]
    if kept_until is not None:
        layers.append(Layer("a Slack keep in the stage table (its annotation is gone):",
                            {ANNOTATION_PREFIX + "exclude-until": kept_until}))
    if namespace is not None:
        layers.append(Layer(f"namespace {namespace} annotation", namespace_annotations or {}))
    return layers


def _find(layers: list[Layer], key: str) -> tuple[str, str] | None:
    for layer in layers:
        for prefix in (ANNOTATION_PREFIX, LEGACY_PREFIX):
            name = prefix + key
            if name in layer.annotations:
                return layer.annotations[name], f"{layer.source} {name}"
    return None


def _bool(value: str, source: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise PolicyError(f"{source}: expected true or false, got {shown(value)}")
    return lowered == "true"


def _until(value: str, source: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PolicyError(f"{source}: expected an ISO 8601 date or time like 2026-12-01T08:00:00Z, "
                          f"got {shown(value)}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # as kube-downscaler: naive means UTC


def _replicas(value: str, source: str) -> int:
    try:
        return parse_count(value, MAX_REPLICAS, source)
    except CountError:
        raise PolicyError(f"{source}: expected a whole number of replicas from 0 to {MAX_REPLICAS}, "
                          f"got {shown(value)}") from None


def _schedules(layers: list[Layer], defaults: Defaults, holidays: str | None) -> tuple[Schedule, Schedule, str]:
    for layer in layers:
        for prefix in (ANNOTATION_PREFIX, LEGACY_PREFIX):
            uptime, downtime = layer.annotations.get(prefix + "uptime"), layer.annotations.get(prefix + "downtime")
            if uptime is not None or downtime is not None:
                source = f"{layer.source} {prefix}{'uptime' if uptime is not None else 'downtime'}"
                # `is None`, not `or`: a present but empty spec is an error to report, not a silent `always`
                return (_schedule("always" if uptime is None else uptime, source, holidays, defaults),
                        _schedule("never" if downtime is None else downtime, source, holidays, defaults), source)
    return (_schedule(defaults.uptime, "default uptime", holidays, defaults),
            _schedule(defaults.downtime, "default downtime", holidays, defaults), DEFAULTS_SOURCE)


def _schedule(spec: str, source: str, holidays: str | None, defaults: Defaults) -> Schedule:
    try:
        return parse_schedule(spec, holidays, defaults.timezone)
    except ScheduleError as error:
        raise PolicyError(f"{source}: {error}") from None


def resolve_policy(layers: list[Layer], defaults: Defaults) -> Policy:
    """The policy from annotation layers (most specific first) and the stage defaults; PolicyError if any is bad."""
    found_holidays = _find(layers, "holidays")
    holidays = found_holidays[0] if found_holidays else defaults.holidays
    uptime, downtime, schedule_source = _schedules(layers, defaults, holidays)
    exclude, exclude_until, exclude_source = False, None, DEFAULTS_SOURCE
    if found := _find(layers, "exclude"):
        exclude, exclude_source = _bool(*found), found[1]
    if found := _find(layers, "exclude-until"):
        exclude_until = _until(*found)
        if not exclude:
            exclude_source = found[1]
    replicas = _replicas(*found) if (found := _find(layers, "downtime-replicas")) else 0
    return Policy(uptime, downtime, schedule_source, exclude, exclude_until, exclude_source, replicas)
