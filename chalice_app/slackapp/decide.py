"""What a Slack action changes (pure): an ActionRequest + the object's annotations + now → one annotation patch.

Every action only sets costguard's own `costguard.openfaas.com/exclude-until` annotation, on the function's
Deployment ("keep up", "wake") or on its Namespace ("keep the namespace up tonight"). The off-hours reconcile then
does what it always does with an exclusion: an excluded function is left up, one it parked is restored, and when
the exclusion ends the schedule applies again at the next run. Nothing here writes replicas.
An exclusion is never shortened: a later `exclude-until` already set (by a person or an earlier click) is kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalice_app.offhours.model import FunctionDeployment
from chalice_app.kube.names import EXCLUDE_UNTIL
from chalice_app.offhours.policy import Defaults, Policy, PolicyError, layers_for, resolve_policy
from chalice_app.slack.text import code
from chalice_app.slackapp.commands import MAX_DURATION, ActionRequest, InvalidRequest

WALK_LIMIT = 16  # schedule boundaries walked back to find where the working day ended


@dataclass(frozen=True)
class Change:
    kind: str  # "function", "namespace" or "none"
    namespace: str
    name: str | None
    until: datetime | None
    text: str  # what to say in Slack (mrkdwn, escaped)
    patch: dict | None = None

    @property
    def writes(self) -> bool:
        return self.patch is not None


def function_policy(function: FunctionDeployment, namespace_annotations: dict[str, str] | None,
                    defaults: Defaults) -> Policy:
    return resolve_policy(layers_for("function", function.annotations, function.namespace, namespace_annotations,
                                     function.kept_until), defaults)


def namespace_policy(namespace_annotations: dict[str, str] | None, defaults: Defaults) -> Policy:
    return resolve_policy(layers_for("namespace", namespace_annotations or {}, None, None), defaults)


def next_uptime_start(policy: Policy, now: datetime) -> datetime | None:
    """When the object next comes up by its schedule: the end of this downtime, or of the next one."""
    moment = now if policy.in_downtime(now) else policy.next_change(now)
    return policy.next_change(moment) if moment else None


def end_of_working_day(policy: Policy, now: datetime) -> datetime | None:
    """When uptime ends today: the last switch to downtime within a day before now, else the next one."""
    if not policy.in_downtime(now):
        return policy.next_change(now)
    moment, last = now - timedelta(days=1), None
    for _ in range(WALK_LIMIT):
        step = policy.next_change(moment)
        if step is None or step > now:
            break
        if policy.in_downtime(step):
            last = step
        moment = step
    return last


def keep_until_default(policy: Policy, now: datetime, keep_hours: int) -> datetime | None:
    """The time on an evening "Keep up until" button: the end of the working day + N hours, if still ahead."""
    end = end_of_working_day(policy, now)
    until = end + timedelta(hours=keep_hours) if end else None
    return until if until and until > now else None


def current_until(annotations: dict[str, str]) -> datetime | None:
    text = annotations.get(EXCLUDE_UNTIL)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None  # a malformed value is replaced by ours (off-hours reports it as an error until then)
    return moment if moment.tzinfo else None


def _bounded(until: datetime, now: datetime) -> datetime:
    if until <= now:
        raise InvalidRequest("that time has passed; use /costguard keep &lt;function&gt; &lt;duration&gt;")
    if until > now + MAX_DURATION:
        raise InvalidRequest("at most 24 hours ahead")
    return until


def _patch(until: datetime, resource_version: str | None) -> dict:
    metadata: dict = {"annotations": {EXCLUDE_UNTIL: until.isoformat(timespec="seconds")}}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"metadata": metadata}


def _stamp(moment: datetime, zone) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %H:%M} {local.tzname()}"


def plan_function_change(request: ActionRequest, function: FunctionDeployment,
                         namespace_annotations: dict[str, str] | None, defaults: Defaults, now: datetime,
                         zone) -> Change:
    """Keep a function up until a time, or wake it until its next uptime (bounded to 24 hours)."""
    name = code(f"{function.namespace}/{function.name}")
    try:
        policy = function_policy(function, namespace_annotations, defaults)
    except PolicyError:
        policy = None  # a broken annotation: the exclusion still applies (off-hours reads it first)
    if request.verb == "wake":
        if policy is not None and not policy.in_downtime(now) and function.replicas > 0:
            return Change("none", function.namespace, function.name, None, f"{name} is up already; nothing to do")
        start = next_uptime_start(policy, now) if policy is not None else None
        until = min(start or now + MAX_DURATION, now + MAX_DURATION)
    elif request.duration is not None:
        until = now + request.duration
    elif request.until is not None:
        until = _bounded(request.until, now)
    else:
        raise InvalidRequest("keep needs a duration or a time")
    current = current_until(function.annotations)
    if current is not None and current >= until:
        return Change("none", function.namespace, function.name, current,
                      f"{name} is already kept up until {_stamp(current, zone)}")
    verb = "wakes up at the next off-hours run (within 5 minutes) and stays up" if request.verb == "wake" else \
        "stays up"
    return Change("function", function.namespace, function.name, until,
                  f"{name} {verb} until {_stamp(until, zone)}; then the schedule applies again",
                  _patch(until, function.resource_version))


def plan_namespace_change(request: ActionRequest, namespace_annotations: dict[str, str] | None,
                          defaults: Defaults, now: datetime, zone) -> Change:
    """Keep every function of a namespace up until its next uptime starts (tonight), at most 24 hours."""
    namespace = request.namespace
    assert namespace is not None  # commands.parse gives every namespace request its namespace
    name = code(namespace)
    try:
        start = next_uptime_start(namespace_policy(namespace_annotations, defaults), now)
    except PolicyError:
        start = None
    until = min(start or now + MAX_DURATION, now + MAX_DURATION)
    current = current_until(namespace_annotations or {})
    if current is not None and current >= until:
        return Change("none", namespace, None, current,
                      f"namespace {name} is already kept up until {_stamp(current, zone)}")
    return Change("namespace", namespace, None, until,
                  f"namespace {name} stays up until {_stamp(until, zone)} (functions with their own "
                  f"exclude-until follow theirs)", _patch(until, None))
