"""Karpenter's empty-node consolidation, as pure functions: which nodes of a NodePool it may remove now, and why each
other node stays. Kept apart from the simulator so the disruption *sequence* (taint, NodeClaim/Node deletion,
events; issue 10) can call the same eligibility rules.

Modelled from kubernetes-sigs/karpenter (v1):
- a node is empty when it runs no reschedulable pod: DaemonSet pods, mirror (static) pods and pods that finished
  do not count (pkg/utils/pod/scheduling.go IsReschedulable);
- a node or any of its pods annotated `karpenter.sh/do-not-disrupt: "true"` blocks its disruption
  (pkg/controllers/state/statenode.go ValidateNodeDisruptable / ValidatePodsDisruptable: "disruption is blocked
  through the "karpenter.sh/do-not-disrupt" annotation");
- `consolidateAfter: Never` disables consolidation; otherwise a NodeClaim is consolidatable once
  consolidateAfter passed since `status.lastPodEventTime` (else since it became Initialized)
  (pkg/controllers/nodeclaim/disruption/consolidation.go);
- disruption budgets: the most restrictive active budget whose `reasons` are unset or include `Empty` caps how many
  nodes may be disrupted at once; a percentage is of the pool's nodes, rounded up; a budget with a schedule is active
  for `duration` after each cron hit (UTC); a misconfigured budget fails closed at 0
  (pkg/apis/v1/nodepool.go GetAllowedDisruptionsByReason, Budget.GetAllowedDisruptions, Budget.IsActive);
- a static NodePool (`spec.replicas` set) is not consolidated: it keeps `replicas` nodes
  (https://karpenter.sh/docs/concepts/nodepools/ — "When replicas is set ... consolidationPolicy and consolidateAfter
  are ignored", NodePool CRD field description).
Only empty-node consolidation is modelled; moving pods off under-utilised nodes is not.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from croniter import croniter

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
MIRROR_POD = "kubernetes.io/config.mirror"
EMPTY = "Empty"
_DURATION = re.compile(r"(\d+)(h|m|s)")
_UNITS = {"h": 3600, "m": 60, "s": 1}


@dataclass(frozen=True)
class Blocker:
    """Why a node stays: kind is one of do-not-disrupt-node, do-not-disrupt-pod, pods, consolidate-after-never,
    consolidate-after, budget, static; detail names what (pods, the budget, the time left)."""

    kind: str
    detail: str


def parse_duration(text: str) -> timedelta | None:
    """A Go duration of the CRD's pattern (`1h30m`, `90s`); None for `Never` or anything unreadable."""
    parts = _DURATION.findall(text or "")
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return timedelta(seconds=sum(int(number) * _UNITS[unit] for number, unit in parts))


def _stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def is_reschedulable(pod: dict) -> bool:
    """Counts against emptiness: not owned by a DaemonSet, not a mirror pod, not finished."""
    metadata = pod.get("metadata") or {}
    if any(owner.get("kind") == "DaemonSet" for owner in metadata.get("ownerReferences") or []):
        return False
    if MIRROR_POD in (metadata.get("annotations") or {}):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _do_not_disrupt(obj: dict) -> bool:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(DO_NOT_DISRUPT) == "true"


def budget_active(budget: dict, now: datetime) -> bool:
    """Always without a schedule; else within `duration` after the latest cron hit. Raises ValueError when
    misconfigured (the caller fails closed)."""
    if not budget.get("schedule"):
        return True
    duration = parse_duration(budget.get("duration", "").removesuffix("0s") or "")
    if duration is None or not croniter.is_valid(budget["schedule"]):
        raise ValueError(f"budget schedule {budget['schedule']!r} / duration {budget.get('duration')!r} invalid")
    next_hit = croniter(budget["schedule"], now - duration).get_next(datetime)
    return next_hit <= now


def allowed_disruptions(pool: dict, pool_nodes: int, now: datetime, reason: str = EMPTY) -> tuple[int, str]:
    """(how many of the pool's nodes may be disrupted at once for `reason`, the budget that decided)."""
    allowed, deciding = math.inf, "no budget"
    for budget in ((pool.get("spec") or {}).get("disruption") or {}).get("budgets") or [{"nodes": "10%"}]:
        if budget.get("reasons") and reason not in budget["reasons"]:
            continue
        try:
            if not budget_active(budget, now):
                continue
            nodes = str(budget.get("nodes", "10%"))
            value = math.ceil(int(nodes[:-1]) * pool_nodes / 100) if nodes.endswith("%") else int(nodes)
        except ValueError:
            value = 0  # fail closed
        if value < allowed:
            allowed, deciding = value, f'nodes: "{budget.get("nodes")}"' + (
                f' (schedule "{budget["schedule"]}", duration {budget.get("duration")})' if budget.get("schedule")
                else "")
    return (pool_nodes if allowed == math.inf else int(allowed)), deciding


def consolidatable_at(pool: dict, claim: dict | None) -> datetime | None:
    """When the NodeClaim becomes consolidatable; None when consolidation is off (`Never`) or it is not initialized."""
    after = parse_duration(((pool.get("spec") or {}).get("disruption") or {}).get("consolidateAfter", "0s"))
    if after is None or claim is None:
        return None
    status = claim.get("status") or {}
    initialized = next((c for c in status.get("conditions") or []
                        if c.get("type") == "Initialized" and c.get("status") == "True"), None)
    if initialized is None:
        return None
    since = _stamp(status.get("lastPodEventTime")) or _stamp(initialized.get("lastTransitionTime"))
    return since + after if since else None


def node_blockers(node: dict, pods: list[dict], pool: dict, claim: dict | None, now: datetime | None) -> list[Blocker]:
    """Every reason this node is not removed by empty-node consolidation now (empty list: it may go, budget
    permitting). `now` None means "once every consolidateAfter has passed"."""
    blockers = []
    if (pool.get("spec") or {}).get("replicas") is not None:
        blockers.append(Blocker("static", f"static NodePool keeps {pool['spec']['replicas']} node(s)"))
    if _do_not_disrupt(node):
        blockers.append(Blocker("do-not-disrupt-node", f'node annotated {DO_NOT_DISRUPT}="true"'))
    protected = sorted(f"{p['metadata'].get('namespace')}/{p['metadata']['name']}" for p in pods if _do_not_disrupt(p))
    if protected:
        blockers.append(Blocker("do-not-disrupt-pod", ", ".join(protected)))
    busy = sorted(f"{p['metadata'].get('namespace')}/{p['metadata']['name']}" for p in pods if is_reschedulable(p))
    if busy:
        blockers.append(Blocker("pods", ", ".join(busy)))
    after = ((pool.get("spec") or {}).get("disruption") or {}).get("consolidateAfter", "0s")
    if after == "Never":
        blockers.append(Blocker("consolidate-after-never", "consolidateAfter: Never"))
    elif now is not None and not busy:
        ready_at = consolidatable_at(pool, claim)
        if ready_at is None or ready_at > now:
            blockers.append(Blocker("consolidate-after", f"consolidatable from {ready_at:%Y-%m-%dT%H:%M:%SZ}"
                                    if ready_at else "NodeClaim not initialized"))
    return blockers


@dataclass(frozen=True)
class ConsolidationPlan:
    remove: tuple[str, ...]                   # node names, within each pool's budget
    kept: dict[str, tuple[Blocker, ...]]      # node name -> why it stays


def plan_consolidation(nodes: list[dict], pods: list[dict], pools: list[dict], claims: list[dict],
                       now: datetime | None, budget_time: datetime | None = None) -> ConsolidationPlan:
    """One disruption pass over the Karpenter nodes: the empty eligible nodes to remove, per pool at most what its
    budgets allow (oldest first), and every other node with its reasons."""
    by_node: dict[str, list[dict]] = {}
    for pod in pods:
        by_node.setdefault((pod.get("spec") or {}).get("nodeName", ""), []).append(pod)
    claim_of = {(c.get("status") or {}).get("nodeName"): c for c in claims}
    pools_by_name = {p["metadata"]["name"]: p for p in pools}
    remove: list[str] = []
    kept: dict[str, tuple[Blocker, ...]] = {}
    members: dict[str, list[dict]] = {}
    for node in nodes:
        pool_name = (node["metadata"].get("labels") or {}).get(NODEPOOL_LABEL)
        if pool_name is not None:
            members.setdefault(pool_name, []).append(node)
    when = budget_time or now or datetime.now(timezone.utc)
    for pool_name, pool_nodes in sorted(members.items()):
        pool = pools_by_name.get(pool_name)
        if pool is None:
            continue  # an orphaned node: Karpenter's NodeClaim garbage collection, not consolidation
        eligible = []
        for node in sorted(pool_nodes, key=lambda n: (n["metadata"].get("creationTimestamp", ""),
                                                       n["metadata"]["name"])):
            name = node["metadata"]["name"]
            blockers = node_blockers(node, by_node.get(name, []), pool, claim_of.get(name), now)
            if blockers:
                kept[name] = tuple(blockers)
            else:
                eligible.append(name)
        allowed, deciding = allowed_disruptions(pool, len(pool_nodes), when)
        remove.extend(eligible[:allowed])
        for name in eligible[allowed:]:
            kept[name] = (Blocker("budget", f"disruption budget {deciding} allows {allowed} now"),)
    return ConsolidationPlan(tuple(remove), kept)
