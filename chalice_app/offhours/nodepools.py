"""Pure off-hours plan for Karpenter NodePools: parked during downtime so Karpenter launches nothing.

Opt-in per NodePool: annotation `costguard.openfaas.com/offhours: "true"` or its name in COSTGUARD_OFFHOURS_NODEPOOLS.
The schedule comes from the NodePool's own annotations (same keys as functions), else the stage defaults.

- Dynamic pools: `spec.limits` to zero (every key it has, else cpu). The previous limits are recorded in the stage
  table before the patch (parked.py) and mirrored as JSON in `costguard.openfaas.com/original-limits`; put back
  exactly (keys we added are removed) at uptime, or at once when the pool is excluded or loses its opt-in.
- Static pools (`spec.replicas` set): the NodePool CRD's CEL rule allows only `limits.nodes` on them ("only
  'limits.nodes' is supported on static NodePools"), so they are parked through the scale subresource:
  `spec.replicas` to 0, restored to the recorded count; their limits are never touched. Mirror annotation:
  `costguard.openfaas.com/original-replicas`.

Existing nodes of a dynamic pool are left to Karpenter's consolidation (a zero limit stops new nodes, it does not
drain old ones): nodes.py reports the ones that stay and why.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from chalice_app.counts import CountError, parse_count, shown
from chalice_app.slack.text import clip
from chalice_app.offhours.model import MAX_REPLICAS, NodePoolLimits
from chalice_app.kube.names import NIGHT_ALLOWANCE, NODEPOOL_OPT_IN, ORIGINAL_LIMITS, ORIGINAL_REPLICAS
from chalice_app.offhours.parked import ParkedPool
from chalice_app.offhours.policy import MAX_REASON, Defaults, PolicyError, layers_for, resolve_policy

ZERO = "0"
DEFAULT_ZEROED = ("cpu",)  # what to zero when a NodePool has no limits at all (cpu bounds every node)


@dataclass(frozen=True)
class NodePoolAction:
    kind: str  # "limit", "restore", "release", "keep", "skip", "error", "allow" (night allowance)
    name: str
    limits: dict  # now
    desired: dict  # after
    reason: str
    patch: dict | None = None  # merge patch of the NodePool itself
    scale: dict | None = None  # merge patch of its scale subresource (static pools)
    record: ParkedPool | None = None  # written to the stage table before the patches
    record_is_new: bool = False
    forget: bool = False  # the table record is deleted after the patches
    static: bool = False
    gitops: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return self.patch is not None or self.scale is not None or self.forget or self.record is not None


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


def _stored_limits(pool: NodePoolLimits, record: ParkedPool | None) -> dict | None:
    if record is not None and record.limits is not None:
        return record.limits
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


def _stored_replicas(pool: NodePoolLimits, record: ParkedPool | None) -> int | None:
    if record is not None and record.replicas is not None:
        return record.replicas
    text = pool.annotations.get(ORIGINAL_REPLICAS)
    if text is None:
        return None
    try:
        return parse_count(text, MAX_REPLICAS, f"NodePool {pool.name}: annotation {ORIGINAL_REPLICAS}")
    except CountError as error:
        raise PolicyError(f"{error}; fix or remove it by hand") from None


def _allowance_is_ours(pool: NodePoolLimits) -> bool:
    text = pool.annotations.get(NIGHT_ALLOWANCE)
    try:
        return text is not None and json.loads(text) == pool.limits
    except ValueError:
        return False


def decide_nodepool(pool: NodePoolLimits, now: datetime, defaults: Defaults,
                    configured: list[str] | tuple[str, ...], record: ParkedPool | None = None,
                    allowance: dict | None = None) -> NodePoolAction:
    """`allowance`: the limits a woken function on this (parked, dynamic) pool needs now; None when none does.
    Never raises: any failure deciding this pool is its "error" action, the other pools go on."""
    try:
        return _decide_nodepool(pool, now, defaults, configured, record, allowance)
    except Exception as error:  # noqa: BLE001 - reported as this pool's error
        return NodePoolAction("error", str(pool.name), pool.limits, pool.limits,
                              f"could not be decided ({type(error).__name__}: {shown(str(error), 160)}); "
                              f"left untouched", static=pool.static, gitops=pool.gitops)


def _decide_nodepool(pool: NodePoolLimits, now: datetime, defaults: Defaults,
                     configured: list[str] | tuple[str, ...], record: ParkedPool | None,
                     allowance: dict | None) -> NodePoolAction:
    mirror_key = ORIGINAL_REPLICAS if pool.static else ORIGINAL_LIMITS

    def act(kind: str, reason: str, desired: dict | None = None, **extra) -> NodePoolAction:
        return NodePoolAction(kind, pool.name, pool.limits, pool.limits if desired is None else desired, reason,
                              static=pool.static, gitops=pool.gitops, **extra)

    opted = opted_in(pool, configured)
    if not opted and mirror_key not in pool.annotations and record is None:
        return act("skip", "not opted in")
    # Only parking needs the opt-in: a pool we parked that lost it must still get its limits back.
    try:
        policy = resolve_policy(layers_for("NodePool", pool.annotations, None, None), defaults)
        # A static pool's stored replica count, a dynamic pool's stored limits: the type says which below.
        stored: int | dict | None = _stored_replicas(pool, record) if pool.static else _stored_limits(pool, record)
    except PolicyError as error:
        return act("error", clip(str(error), MAX_REASON))
    # Static pools get two writes (scale, then the mirror), so theirs cannot both be conditional on one version.
    version = {} if pool.static else {"resourceVersion": pool.resource_version}
    forget = record is not None
    unmirror: dict | None = ({"metadata": {**version, "annotations": {mirror_key: None}}}
                             if mirror_key in pool.annotations else None)
    ours = not pool.static and _allowance_is_ours(pool)
    parked_now = pool.replicas == 0 if pool.static else (_is_zeroed(pool.limits) or ours)
    if unmirror is not None and NIGHT_ALLOWANCE in pool.annotations:
        unmirror["metadata"]["annotations"][NIGHT_ALLOWANCE] = None
    if not opted or policy.excluded(now) or not policy.in_downtime(now):
        why = ("no longer opted in" if not opted else f"excluded by {policy.exclude_source}" if policy.excluded(now)
               else f"uptime ({policy.schedule_source})")
        if stored is None:
            return act("keep", why)
        if not parked_now:
            return act("release", f"{why}; changed by someone during downtime, keeping it", patch=unmirror,
                       forget=forget)
        if isinstance(stored, int):  # a static pool
            return act("restore", f"{why}; replicas 0 → {stored}", scale={"spec": {"replicas": stored}},
                       patch=unmirror, forget=forget, extra={"replicas": stored})
        # Merge patch: keys we added are removed with null, the rest set back to their stored values.
        limits_patch = {**{key: None for key in pool.limits if key not in stored}, **stored} or None
        annotations = {mirror_key: None, **({NIGHT_ALLOWANCE: None} if NIGHT_ALLOWANCE in pool.annotations else {})}
        return act("restore", why, stored, patch={"metadata": {**version, "annotations": annotations},
                                                   "spec": {"limits": limits_patch}}, forget=forget)
    at = f"downtime ({policy.schedule_source})"
    if isinstance(stored, dict) and parked_now:  # a parked dynamic pool
        if allowance is not None and pool.limits != allowance:
            limits = {**{key: None for key in pool.limits if key not in allowance}, **allowance}
            return act("allow", f"{at}; a woken function needs it: night allowance {allowance}", allowance,
                       patch={"metadata": {**version, "annotations": {NIGHT_ALLOWANCE: json.dumps(allowance,
                                                                                              sort_keys=True)}},
                              "spec": {"limits": limits}})
        if allowance is None and ours:
            zeroed = _zeroed(stored)
            limits = {**{key: None for key in pool.limits if key not in zeroed}, **zeroed}
            return act("limit", f"{at}; no woken function needs it any more: parked again", zeroed,
                       patch={"metadata": {**version, "annotations": {NIGHT_ALLOWANCE: None}}, "spec": {"limits": limits}})
    if stored is not None:
        if parked_now:
            adopt = record is None  # parked before the table held it: take the count into the table
            return act("keep", f"{at}; restores to {stored}",
                       record=(ParkedPool(replicas=stored) if isinstance(stored, int) else ParkedPool(limits=stored))
                       if adopt else None, record_is_new=adopt)
        return act("skip", "changed by someone during downtime; left alone until uptime")
    if parked_now:
        return act("keep", f"{at}; already parked")
    if pool.static:
        return act("limit", f"{at}; static pool: replicas {pool.replicas} → 0 (its limits are left alone)",
                   scale={"spec": {"replicas": 0}}, record=ParkedPool(replicas=pool.replicas, parked_at=now.isoformat()),
                   record_is_new=True,
                   patch={"metadata": {**version, "annotations": {mirror_key: str(pool.replicas)}}},
                   extra={"replicas": 0})
    zeroed = _zeroed(pool.limits)
    return act("limit", at, zeroed,
               patch={"metadata": {**version, "annotations": {mirror_key: json.dumps(pool.limits, sort_keys=True)}},
                      "spec": {"limits": zeroed}}, record=ParkedPool(limits=dict(pool.limits), parked_at=now.isoformat()),
               record_is_new=True)


def plan_nodepools(pools: list[NodePoolLimits], now: datetime, defaults: Defaults,
                   configured: list[str] | tuple[str, ...], records: dict[str, ParkedPool] | None = None,
                   allowances: dict[str, dict] | None = None) -> list[NodePoolAction]:
    records, allowances = records or {}, allowances or {}
    return [decide_nodepool(pool, now, defaults, configured, records.get(pool.name), allowances.get(pool.name))
            for pool in sorted(pools, key=lambda pool: pool.name)]


def parked_during_downtime(pool: NodePoolLimits, action: NodePoolAction) -> bool:
    """The pool is parked (or being parked) by this run's plan."""
    return action.kind in ("limit", "allow") or (action.kind == "keep" and "downtime" in action.reason)
