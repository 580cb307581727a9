"""The pure off-hours plan: function Deployments + namespaces' annotations + now + defaults → one action each.

Level-triggered: the plan depends only on what the cluster says now, so a missed tick converges at the next one.
The replicas to restore live on the Deployment (`costguard.openfaas.com/original-replicas`), written in the same
request that scales it down, so a restore needs no other memory. At uptime the function gets max(current, original):
a human's higher count is kept, while a scale-from-zero wake-up or a lowered count is brought back to the original.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from chalice_app.offhours.model import ORIGINAL_REPLICAS, FunctionDeployment
from chalice_app.offhours.policy import Defaults, Policy, PolicyError, layers_for, resolve_policy


class Kind(str, Enum):
    SCALE_DOWN = "scale-down"  # write: replicas → downtime replicas, remember the original
    RESTORE = "restore"  # write: replicas → original, forget it
    RELEASE = "release"  # write: forget the original only (a human scaled it above the original during downtime)
    KEEP = "keep"  # nothing to do, already where it should be
    SKIP = "skip"  # not ours to change (excluded, grace period, human-scaled during downtime)
    DEFERRED = "deferred"  # a change held back by the per-run cap
    ERROR = "error"  # bad annotation: untouched, reported

    @property
    def writes(self) -> bool:
        return self in (Kind.SCALE_DOWN, Kind.RESTORE, Kind.RELEASE)


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

    def patch(self) -> dict:
        """The merge patch for a writing action; resourceVersion makes it conditional (409 if the object moved)."""
        metadata: dict = {"resourceVersion": self.resource_version}
        if self.kind is Kind.SCALE_DOWN:
            metadata["annotations"] = {ORIGINAL_REPLICAS: str(self.current)}
            return {"metadata": metadata, "spec": {"replicas": self.desired}}
        if self.kind is Kind.RESTORE:
            metadata["annotations"] = {ORIGINAL_REPLICAS: None}
            return {"metadata": metadata, "spec": {"replicas": self.desired}}
        if self.kind is Kind.RELEASE:
            metadata["annotations"] = {ORIGINAL_REPLICAS: None}
            return {"metadata": metadata}
        raise ValueError(f"{self.kind.value} does not write")


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


def _original(function: FunctionDeployment) -> int | None:
    text = function.annotations.get(ORIGINAL_REPLICAS)
    if text is None:
        return None
    if not text.strip().isdigit():
        raise PolicyError(f"annotation {ORIGINAL_REPLICAS}={text!r} is not a whole number; fix or remove it by hand")
    return int(text)


def decide(function: FunctionDeployment, namespace_annotations: dict[str, str] | None, now: datetime,
           defaults: Defaults, grace: timedelta) -> Decision:
    """One function's action at `now`; never raises for bad input (that becomes an ERROR action)."""
    def act(kind: Kind, reason: str, desired: int | None = None, original: int | None = None) -> FunctionAction:
        return FunctionAction(kind, function.namespace, function.name, function.replicas,
                              function.replicas if desired is None else desired, reason, function.resource_version,
                              original)

    try:
        layers = layers_for("function", function.annotations, function.namespace, namespace_annotations)
        policy = resolve_policy(layers, defaults)
        original = _original(function)
    except PolicyError as error:
        return Decision(act(Kind.ERROR, str(error)), None, None)

    down = policy.in_downtime(now)
    if function.scale_zero == "false" or policy.excluded(now):
        why = ("labelled com.openfaas.scale.zero=false" if function.scale_zero == "false"
               else f"excluded by {policy.exclude_source}")
        if original is not None and function.replicas <= original:
            # We scaled it down before it was excluded: give back what we took (as at uptime, a wake-up to fewer
            # replicas than the original does not count), then leave it alone.
            return Decision(act(Kind.RESTORE, f"{why}; restoring what costguard scaled down", original, original),
                            policy, down)
        if original is not None:
            return Decision(act(Kind.RELEASE, f"{why}; scaled by someone meanwhile, keeping {function.replicas}"),
                            policy, down)
        return Decision(act(Kind.SKIP, why), policy, down)

    if down:
        if original is not None:
            if function.replicas == policy.downtime_replicas:
                return Decision(act(Kind.KEEP, f"downtime ({policy.schedule_source}); restores to {original}",
                                    original=original), policy, down)
            return Decision(act(Kind.SKIP, f"scaled to {function.replicas} by someone during downtime; left alone "
                                           f"until uptime"), policy, down)
        if function.created is not None and now - function.created < grace:
            until = (function.created + grace).isoformat()
            return Decision(act(Kind.SKIP, f"new function: grace period until {until}"), policy, down)
        if function.replicas <= policy.downtime_replicas:
            return Decision(act(Kind.KEEP, f"downtime ({policy.schedule_source}); already at {function.replicas}"),
                            policy, down)
        return Decision(act(Kind.SCALE_DOWN, f"downtime ({policy.schedule_source})", policy.downtime_replicas,
                            function.replicas), policy, down)

    if original is None:
        return Decision(act(Kind.KEEP, f"uptime ({policy.schedule_source})"), policy, down)
    if function.replicas > original:
        # A human's higher count wins: keep it, forget the original.
        return Decision(act(Kind.RELEASE, f"uptime; scaled to {function.replicas} by someone during downtime, "
                                          f"above the original {original}, keeping it"), policy, down)
    # Anything at or below the original is brought back to it: a scale-from-zero wake-up (OpenFaaS Standard
    # starts 1 replica on a request) or a downtime-replicas changed overnight must not cost the function its count.
    return Decision(act(Kind.RESTORE, f"uptime ({policy.schedule_source})", original, original), policy, down)


# Restores first: when the cap bites, bringing functions back matters more than saving a little more.
_CAP_ORDER = {Kind.RESTORE: 0, Kind.RELEASE: 1, Kind.SCALE_DOWN: 2}


def plan_functions(functions: list[FunctionDeployment], namespaces: dict[str, dict[str, str]], now: datetime,
                   defaults: Defaults, grace: timedelta, max_changes: int) -> FunctionPlan:
    """Decide every function, then hold back changes beyond `max_changes` (restores first) as DEFERRED."""
    actions = [decide(function, namespaces.get(function.namespace), now, defaults, grace).action
               for function in sorted(functions, key=lambda item: item.key)]
    writes = sorted((index for index, action in enumerate(actions) if action.kind.writes),
                    key=lambda index: _CAP_ORDER[actions[index].kind])
    for index in writes[max_changes:]:
        held = actions[index]
        actions[index] = replace(held, kind=Kind.DEFERRED, desired=held.current,
                                 reason=f"{held.kind.value} held back: more than {max_changes} changes this run")
    return FunctionPlan(tuple(actions), max_changes, capped=len(writes) > max_changes)
