"""Pure off-hours plan for Karpenter NodePools: limits to zero during downtime so Karpenter launches nothing.

Opt-in per NodePool: annotation `costguard.openfaas.com/offhours: "true"` or its name in COSTGUARD_OFFHOURS_NODEPOOLS.
The schedule comes from the NodePool's own annotations (same keys as functions), else the stage defaults.
The previous `spec.limits` are stored as JSON in `costguard.openfaas.com/original-limits` in the same merge patch
that zeroes them, and put back exactly (keys we added are removed) at uptime, or at once when the pool is excluded or
loses its opt-in. Existing nodes are left to Karpenter's
consolidation: a zero limit stops new nodes, it does not drain old ones.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from chalice_app.offhours.model import NODEPOOL_OPT_IN, ORIGINAL_LIMITS, NodePoolLimits
from chalice_app.offhours.policy import Defaults, PolicyError, layers_for, resolve_policy

ZERO = "0"
DEFAULT_ZEROED = ("cpu",)  # what to zero when a NodePool has no limits at all (cpu bounds every node)


@dataclass(frozen=True)
class NodePoolAction:
    kind: str  # "limit", "restore", "release", "keep", "skip", "error"
    name: str
    limits: dict  # now
    desired: dict  # after
    reason: str
    patch: dict | None = None

    @property
    def writes(self) -> bool:
        return self.patch is not None


def opted_in(pool: NodePoolLimits, configured: list[str] | tuple[str, ...]) -> bool:
    return pool.name in configured or pool.annotations.get(NODEPOOL_OPT_IN, "").strip().lower() == "true"


def _zeroed(limits: dict) -> dict:
    return {key: ZERO for key in (limits or dict.fromkeys(DEFAULT_ZEROED))}


def _is_zeroed(limits: dict) -> bool:
    return bool(limits) and all(_quantity_is_zero(value) for value in limits.values())


def _quantity_is_zero(value) -> bool:
    digits = str(value).strip().rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    try:
        return float(digits) == 0
    except ValueError:
        return False


def _stored(pool: NodePoolLimits) -> dict | None:
    text = pool.annotations.get(ORIGINAL_LIMITS)
    if text is None:
        return None
    try:
        stored = json.loads(text)
    except ValueError:
        stored = None
    if not isinstance(stored, dict):
        raise PolicyError(f"NodePool {pool.name}: annotation {ORIGINAL_LIMITS}={text!r} is not a JSON object; "
                          f"fix or remove it by hand")
    return stored


def decide_nodepool(pool: NodePoolLimits, now: datetime, defaults: Defaults,
                    configured: list[str] | tuple[str, ...]) -> NodePoolAction:
    def act(kind: str, reason: str, desired: dict | None = None, patch: dict | None = None) -> NodePoolAction:
        return NodePoolAction(kind, pool.name, pool.limits, pool.limits if desired is None else desired, reason, patch)

    opted = opted_in(pool, configured)
    if not opted and ORIGINAL_LIMITS not in pool.annotations:
        return act("skip", "not opted in")
    # Only parking needs the opt-in: a pool we parked that lost it must still get its limits back.
    try:
        policy = resolve_policy(layers_for("NodePool", pool.annotations, None, None), defaults)
        stored = _stored(pool)
    except PolicyError as error:
        return act("error", str(error))
    version = {"resourceVersion": pool.resource_version}
    if not opted or policy.excluded(now) or not policy.in_downtime(now):
        why = ("no longer opted in" if not opted else f"excluded by {policy.exclude_source}" if policy.excluded(now)
               else f"uptime ({policy.schedule_source})")
        if stored is None:
            return act("keep", why)
        if not _is_zeroed(pool.limits):
            return act("release", f"{why}; limits changed by someone during downtime, keeping them",
                       patch={"metadata": {**version, "annotations": {ORIGINAL_LIMITS: None}}})
        # Merge patch: keys we added are removed with null, the rest set back to their stored values.
        limits_patch = {**{key: None for key in pool.limits if key not in stored}, **stored} or None
        return act("restore", why, stored, {"metadata": {**version, "annotations": {ORIGINAL_LIMITS: None}},
                                            "spec": {"limits": limits_patch}})
    if stored is not None:
        if _is_zeroed(pool.limits):
            return act("keep", f"downtime ({policy.schedule_source}); restores to {stored}")
        return act("skip", "limits changed by someone during downtime; left alone until uptime")
    if _is_zeroed(pool.limits):
        return act("keep", f"downtime ({policy.schedule_source}); limits already zero")
    zeroed = _zeroed(pool.limits)
    return act("limit", f"downtime ({policy.schedule_source})", zeroed,
               {"metadata": {**version, "annotations": {ORIGINAL_LIMITS: json.dumps(pool.limits, sort_keys=True)}},
                "spec": {"limits": zeroed}})


def plan_nodepools(pools: list[NodePoolLimits], now: datetime, defaults: Defaults,
                   configured: list[str] | tuple[str, ...]) -> list[NodePoolAction]:
    return [decide_nodepool(pool, now, defaults, configured) for pool in sorted(pools, key=lambda pool: pool.name)]
