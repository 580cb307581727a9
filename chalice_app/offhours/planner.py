"""The pure off-hours plan: function Deployments + their table records + namespaces' annotations + now + policy
→ one action each.

Level-triggered: the plan depends only on what the cluster and the stage table say now, so a missed tick converges
at the next one. The replicas to restore live in the stage table (parked.py), written before the patch that parks;
the Deployment's `costguard.openfaas.com/original-replicas` is a visible mirror, and a fallback for functions
parked before the table held them (or by kube-downscaler: `downscaler/original-replicas`, taken over). At uptime the
function gets max(current, original): a human's higher count is kept, while a scale-from-zero wake-up or a lowered
count is brought back to the original.

During downtime, a parked function found above its downtime replicas is, in this order:
- redeployed (its annotations were replaced, so the mirror is gone; or deleted and recreated under the same name:
  another uid): parked again at once, the evening count kept - identity is namespace/name, as for faas-cli;
- woken by a call (OpenFaaS Standard scales from zero to `com.openfaas.scale.min`): parked again once it has had
  no invocations for the idle time (`activity`, from the gateway's metrics), never mid-burst;
- scaled by a human (above scale.min, mirror intact): left alone until uptime.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from datetime import datetime, timedelta
from enum import Enum

from chalice_app.counts import CountError, parse_count, shown
from chalice_app.offhours.editions import Capabilities
from chalice_app.offhours.model import MAX_REPLICAS, FunctionDeployment
from chalice_app.kube.names import LEGACY_ORIGINAL_REPLICAS, ORIGINAL_REPLICAS, SCALE_MAX_LABEL
from chalice_app.offhours.parked import ParkedFunction
from chalice_app.slack.text import clip
from chalice_app.offhours.policy import MAX_REASON, Defaults, Policy, PolicyError, layers_for, resolve_policy

DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_HOLD = timedelta(minutes=60)
# No restore goes above this (COSTGUARD_OFFHOURS_RESTORE_CAP) nor above the function's com.openfaas.scale.max:
# the count to restore is bookkeeping an owner may have touched, and costguard scales with its own rights.
DEFAULT_RESTORE_CAP = 1000


class Kind(str, Enum):
    SCALE_DOWN = "scale-down"  # write: record the original, then replicas → downtime replicas
    REPARK = "repark"  # write: replicas → downtime replicas again / mirror re-written; the record is kept
    RESTORE = "restore"  # write: replicas → original, then forget it
    RELEASE = "release"  # write: forget the original only (a human scaled it above the original during downtime)
    KEEP = "keep"  # nothing to do, already where it should be
    AWAKE = "awake"  # woken by a call at night: left up until it has been idle long enough
    HOLD = "hold"  # zero cannot hold on this OpenFaaS (CE, maintainMinimumReplicas): not patched, reported
    SKIP = "skip"  # not ours to change (excluded, grace period, human-scaled during downtime)
    DEFERRED = "deferred"  # a change held back by the per-run cap
    ERROR = "error"  # bad annotation: untouched, reported

    @property
    def writes(self) -> bool:
        return self in (Kind.SCALE_DOWN, Kind.REPARK, Kind.RESTORE, Kind.RELEASE)


@dataclass(frozen=True, slots=True)
class Activity:
    """A woken function's invocations: when its counter last changed (or the wake-up was first seen)."""

    quiet_since: datetime
    from_metrics: bool  # False: the gateway's metrics could not be read, a fixed hold applies


@dataclass(frozen=True, slots=True)
class FunctionAction:
    kind: Kind
    namespace: str
    name: str
    current: int
    desired: int  # replicas after the action (== current when it does not scale)
    reason: str
    resource_version: str = ""
    original: int | None = None  # the replicas stored for the restore (scale-down) or restored
    record: ParkedFunction | None = None  # the table record to write before the patch (new or updated)
    record_is_new: bool = False  # written only if absent (the evening count is never overwritten)
    forget: bool = False  # delete the table record after the patch
    mirror: str | None = None  # the Deployment's original-replicas annotation as read
    legacy: bool = False  # the Deployment carries kube-downscaler's original-replicas (taken over, removed)
    gitops: str | None = None
    capped_from: int | None = None  # the stored count, when the restore was cut to the cap
    cap_source: str = ""  # what capped it: the function's com.openfaas.scale.max label or the stage cap
    unrecorded: bool = False  # restored from the owner's annotation: the stage table held no record

    def patch(self) -> dict | None:
        """The merge patch for a writing action (None: only the table changes); resourceVersion makes it
        conditional (409 if the object moved)."""
        annotations: dict = {}
        if self.legacy:
            annotations[LEGACY_ORIGINAL_REPLICAS] = None
        spec = {"replicas": self.desired} if self.desired != self.current or self.kind is Kind.SCALE_DOWN else None
        if self.kind in (Kind.SCALE_DOWN, Kind.REPARK):
            if self.mirror != str(self.original) or self.legacy:
                annotations[ORIGINAL_REPLICAS] = str(self.original)
        elif self.kind in (Kind.RESTORE, Kind.RELEASE):
            if self.mirror is not None:
                annotations[ORIGINAL_REPLICAS] = None
            if self.kind is Kind.RELEASE:
                spec = None
        else:
            raise ValueError(f"{self.kind.value} does not write")
        if not annotations and spec is None:
            return None
        patch: dict = {"metadata": {"resourceVersion": self.resource_version}}
        if annotations:
            patch["metadata"]["annotations"] = annotations
        if spec is not None:
            patch["spec"] = spec
        return patch


@dataclass(frozen=True)
class FunctionPlan:
    actions: tuple[FunctionAction, ...]
    cap: int
    capped: bool = False  # more changes were wanted than the cap allows

    def of(self, *kinds: Kind) -> list[FunctionAction]:
        return [action for action in self.actions if action.kind in kinds]

    @property
    def changes(self) -> list[FunctionAction]:
        return [action for action in self.actions if action.kind.writes]


@dataclass(frozen=True)
class Decision:
    """Why a function is where it is: the action plus the policy (None when the policy was invalid)."""

    action: FunctionAction
    policy: Policy | None
    in_downtime: bool | None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NightRules:
    """What the run knows beyond the objects: the edition's limits and the wake-up rules."""

    capabilities: Capabilities = Capabilities()
    idle: timedelta = DEFAULT_IDLE  # no invocations for this long → a woken function is parked again
    hold: timedelta = DEFAULT_HOLD  # the same when the gateway's metrics cannot be read
    restore_cap: int = DEFAULT_RESTORE_CAP  # no restore above this, whatever was stored


UNRECORDED = "restored from the annotation, no record"


def _count(text: str, source: str) -> int:
    try:
        return parse_count(text, MAX_REPLICAS, f"annotation {source}")
    except CountError as error:
        raise PolicyError(f"{error}; fix or remove it by hand") from None


def _original(function: FunctionDeployment, record: ParkedFunction | None) -> tuple[int | None, str]:
    """The count to restore and where it came from; PolicyError for a bad annotation with no record behind it."""
    if record is not None:
        return record.replicas, "stage table"
    if function.mirror is not None:
        return _count(function.mirror, ORIGINAL_REPLICAS), "annotation"
    if function.legacy_original is not None:
        return _count(function.legacy_original, LEGACY_ORIGINAL_REPLICAS), "kube-downscaler annotation"
    return None, ""


def restore_cap(function: FunctionDeployment, rules: NightRules) -> tuple[int, str]:
    """The most replicas a restore may set, and why: the function's own scale.max when it is lower."""
    if function.scale_max is not None and function.scale_max < rules.restore_cap:
        return function.scale_max, f"label {SCALE_MAX_LABEL}={function.scale_max}"
    return rules.restore_cap, f"stage cap COSTGUARD_OFFHOURS_RESTORE_CAP={rules.restore_cap}"


def decide(function: FunctionDeployment, namespace_annotations: dict[str, str] | None, now: datetime,
           defaults: Defaults, grace: timedelta, record: ParkedFunction | None = None,
           rules: NightRules = NightRules(), activity: Activity | None = None) -> Decision:
    """One function's action at `now`; never raises: bad input, or any failure deciding this one function, becomes
    its ERROR action (isolation per object: one owner's annotation can never stop the run for the others)."""
    try:
        return _decide(function, namespace_annotations, now, defaults, grace, record, rules, activity)
    except Exception as error:  # noqa: BLE001 - reported as this function's error, the run goes on
        current = function.replicas if isinstance(function.replicas, int) else 0
        action = FunctionAction(Kind.ERROR, str(function.namespace), str(function.name), current, current,
                                f"could not be decided ({type(error).__name__}: {shown(str(error), 160)}); "
                                f"left untouched", str(function.resource_version))
        return Decision(action, None, None)


def _decide(function: FunctionDeployment, namespace_annotations: dict[str, str] | None, now: datetime,
            defaults: Defaults, grace: timedelta, record: ParkedFunction | None,
            rules: NightRules, activity: Activity | None) -> Decision:
    legacy = function.legacy_original is not None

    def act(kind: Kind, reason: str, desired: int | None = None, original: int | None = None,
            **extra) -> FunctionAction:
        return FunctionAction(kind, function.namespace, function.name, function.replicas,
                              function.replicas if desired is None else desired, reason, function.resource_version,
                              original, mirror=function.mirror, legacy=legacy, gitops=function.gitops, **extra)

    try:
        layers = layers_for("function", function.annotations, function.namespace, namespace_annotations,
                            function.kept_until)
        policy = resolve_policy(layers, defaults)
        original, source = _original(function, record)
    except PolicyError as error:  # the message quotes the owner's value: bounded, so a huge one cannot flood reports
        return Decision(act(Kind.ERROR, clip(str(error), MAX_REASON)), None, None)
    cap, cap_source = restore_cap(function, rules)
    capped: dict = {}
    if original is not None and original > cap:
        capped = dict(capped_from=original, cap_source=cap_source)
        source = f"{source}, {original} capped at {cap} by the {cap_source}"
        original = cap
    recreated = bool(record and record.uid and function.uid and record.uid != function.uid)
    # Parked before the table held it (or by kube-downscaler): take the count over into the table.
    adopt = record is None and original is not None
    forget = record is not None

    down = policy.in_downtime(now)
    if (function.scale_zero or "").strip().lower() == "false" or policy.excluded(now):
        why = ("labelled com.openfaas.scale.zero=false" if (function.scale_zero or "").strip().lower() == "false"
               else f"excluded by {policy.exclude_source}")
        if original is not None and function.replicas <= original:
            # We scaled it down before it was excluded: give back what we took (as at uptime, a wake-up to fewer
            # replicas than the original does not count), then leave it alone.
            return Decision(act(Kind.RESTORE, f"{why}; restoring what costguard scaled down"
                                + (f" ({source})" if capped else ""), original,
                                original, forget=forget, **capped), policy, down)
        if original is not None:
            return Decision(act(Kind.RELEASE, f"{why}; scaled by someone meanwhile, keeping {function.replicas}",
                                forget=forget), policy, down)
        return Decision(act(Kind.SKIP, why), policy, down)

    if down:
        floor, why_floor = rules.capabilities.floor(function.scale_zero, function.scale_min)
        target = max(policy.downtime_replicas, floor)
        at = f"downtime ({policy.schedule_source})"
        if original is not None:
            keep_record = ParkedFunction(original, function.uid, record.parked_at if record else now.isoformat())
            bookkeeping: dict[str, Any] = dict(original=original, record=keep_record if (adopt or recreated) else None,
                                               record_is_new=adopt)
            note = f"; restores to {original} ({source})"
            if function.replicas <= target:
                if recreated or function.mirror != str(original) or legacy:
                    what = ("recreated under the same name, parked again" if recreated else
                            "kube-downscaler's count taken over" if legacy else
                            "annotation mirror lost (a redeploy replaces annotations) and written again"
                            if function.mirror is None else "annotation mirror corrected from the stage table")
                    return Decision(act(Kind.REPARK, f"{at}; {what}{note}", **bookkeeping), policy, down)
                # KEEP; with `record` when the count is only on the annotation: the run takes it into the table
                return Decision(act(Kind.KEEP, f"{at}{note}", **bookkeeping), policy, down)
            if function.mirror is None or recreated:
                what = ("deleted and recreated under the same name" if recreated
                        else "redeployed during downtime (annotations replaced, replicas reset)")
                return Decision(act(Kind.REPARK, f"{at}; {what}: parked again{note}", target, **bookkeeping),
                                policy, down)
            awake_at_most = max(function.scale_min or 1, 1, target + 1)
            if rules.capabilities.scales_from_zero and function.replicas <= awake_at_most:
                return Decision(_woken(act, function, target, original, rules, activity, now, note), policy, down)
            return Decision(act(Kind.SKIP, f"scaled to {function.replicas} by someone during downtime; left alone "
                                           f"until uptime{note}", original=original), policy, down)
        if function.created is not None and now - function.created < grace:
            until = (function.created + grace).isoformat()
            return Decision(act(Kind.SKIP, f"new function: grace period until {until}"), policy, down)
        if function.replicas <= target:
            if why_floor and policy.downtime_replicas < floor:
                return Decision(act(Kind.HOLD, f"{at}; stays at {function.replicas}: {why_floor}"), policy, down)
            return Decision(act(Kind.KEEP, f"{at}; already at {function.replicas}"), policy, down)
        record_new = ParkedFunction(function.replicas, function.uid, now.isoformat())
        reason = at if not (why_floor and policy.downtime_replicas < floor) else f"{at}; to {target}, not 0: {why_floor}"
        return Decision(act(Kind.SCALE_DOWN, reason, target, function.replicas, record=record_new,
                            record_is_new=True), policy, down)

    if original is None:
        return Decision(act(Kind.KEEP, f"uptime ({policy.schedule_source})"), policy, down)
    if function.replicas > original:
        # A human's higher count wins: keep it, forget the original.
        return Decision(act(Kind.RELEASE, f"uptime; scaled to {function.replicas} by someone during downtime, "
                                          f"above the original {original}, keeping it", forget=forget), policy, down)
    # Anything at or below the original is brought back to it: a scale-from-zero wake-up (OpenFaaS Standard
    # starts 1 replica on a request) or a downtime-replicas changed overnight must not cost the function its count.
    unrecorded = record is None  # the owner's annotation, capped: said in the summary and explain
    return Decision(act(Kind.RESTORE, f"uptime ({policy.schedule_source}); from the {source}"
                        + (f"; {UNRECORDED}" if unrecorded else ""), original, original,
                        forget=forget, unrecorded=unrecorded, **capped), policy, down)


def _woken(act, function: FunctionDeployment, target: int, original: int, rules: NightRules,
           activity: Activity | None, now: datetime, note: str) -> FunctionAction:
    """A parked function a call woke: parked again once quiet for the idle time (the fixed hold without metrics)."""
    if activity is None:
        return act(Kind.AWAKE, f"woken by a call during downtime; parked again after {_minutes(rules.idle)} "
                               f"without invocations{note}", original=original)
    wait = rules.idle if activity.from_metrics else rules.hold
    judged = "no invocations" if activity.from_metrics else "gateway metrics unreadable: fixed hold"
    quiet = now - activity.quiet_since
    if quiet >= wait:
        return act(Kind.REPARK, f"woken during downtime; {judged} for {_minutes(quiet)}: parked again{note}",
                   target, original=original)
    return act(Kind.AWAKE, f"woken during downtime; {judged} since {activity.quiet_since.isoformat()}, parked again "
                           f"at {(activity.quiet_since + wait).isoformat()} if still quiet{note}", original=original)


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"


# Restores first: when the cap bites, bringing functions back matters more than saving a little more.
_CAP_ORDER = {Kind.RESTORE: 0, Kind.RELEASE: 1, Kind.REPARK: 2, Kind.SCALE_DOWN: 3}


def plan_functions(functions: list[FunctionDeployment], namespaces: dict[str, dict[str, str]], now: datetime,
                   defaults: Defaults, grace: timedelta, max_changes: int,
                   records: dict[tuple[str, str], ParkedFunction] | None = None, rules: NightRules = NightRules(),
                   activity: dict[tuple[str, str], Activity] | None = None) -> FunctionPlan:
    """Decide every function, then hold back changes beyond `max_changes` (restores first) as DEFERRED."""
    records, activity = records or {}, activity or {}
    actions = [decide(function, namespaces.get(function.namespace), now, defaults, grace, records.get(function.key),
                      rules, activity.get(function.key)).action
               for function in sorted(functions, key=lambda item: item.key)]
    writes = sorted((index for index, action in enumerate(actions) if action.kind.writes),
                    key=lambda index: _CAP_ORDER[actions[index].kind])
    for index in writes[max_changes:]:
        held = actions[index]
        actions[index] = replace(held, kind=Kind.DEFERRED, desired=held.current,
                                 reason=f"{held.kind.value} held back: more than {max_changes} changes this run")
    return FunctionPlan(tuple(actions), max_changes, capped=len(writes) > max_changes)
