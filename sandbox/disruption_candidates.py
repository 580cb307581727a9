"""Which nodes Karpenter v1 may disrupt gracefully, and why the others stay: candidates, their reason, their order and
their budgets, from the rules in sandbox.disruption_rules (pure; no I/O).

`plan_consolidation` is one emptiness pass (what `sandbox.karpenter` acts on for the reason Empty); `node_blockers`
explains a node that stays, which is what off-hours reports about parked pools.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox import disruption_rules as rules


@dataclass(frozen=True)
class Candidate:
    node: str
    claim: str
    pool: str
    reason: str
    pods: int


@dataclass(frozen=True)
class Blocker:
    """Why a node stays: kind is one of static, do-not-disrupt-node, do-not-disrupt-pod, pods,
    consolidate-after-never, consolidate-after, budget; detail names what (pods, the budget, the time left)."""

    kind: str
    detail: str


def candidate_order(node: dict, reschedulable: int) -> tuple:
    """Cheapest to disrupt first: fewer pods to reschedule, then the older node (less lifetime left). Karpenter sorts
    candidates by DisruptionCost = ReschedulingCost(pods) × LifetimeRemaining (pkg/controllers/disruption/types.go
    NewCandidate; pkg/utils/disruption); the sandbox's pods all cost the same."""
    return reschedulable, node["metadata"].get("creationTimestamp", ""), node["metadata"]["name"]


def blocked_by(node: dict, pods: list[dict], now: datetime | None, claim: dict | None = None) -> str | None:
    """Why a node may not be disrupted gracefully (drift, consolidation), or None (disruption/types.go NewCandidate
    → statenode.go ValidateNodeDisruptable, ValidatePodsDisruptable)."""
    if rules.node_do_not_disrupt(node, claim):
        return f"node has {rules.DO_NOT_DISRUPT}"
    blocking = next((p for p in pods if rules.pod_do_not_disrupt(p, now)), None)
    if blocking is not None:
        return f"pod {rules._pod_name(blocking)} has {rules.DO_NOT_DISRUPT}"
    return None


def graceful_reason(claim: dict, pool: dict, reschedulable: list[dict], now: datetime) -> str | None:
    """Drifted first, then Empty, then Underutilized (the disruption controller's method order: drift, emptiness,
    multi-node then single-node consolidation — pkg/controllers/disruption/controller.go NewMethods).
    Consolidation (Empty, Underutilized) only once Consolidatable and never on a static NodePool; Underutilized only
    under `WhenEmptyOrUnderutilized`."""
    if rules.condition_true(claim, rules.CONDITION_DRIFTED):
        return rules.DRIFTED
    policy = ((pool.get("spec") or {}).get("disruption") or {}).get("consolidationPolicy", rules.WHEN_EMPTY_OR_UNDERUTILIZED)
    ready_at = rules.consolidatable_at(claim, pool)
    if rules.is_static(pool) or ready_at is None or now < ready_at:
        return None
    if not reschedulable:
        return rules.EMPTY
    return rules.UNDERUTILIZED if policy == rules.WHEN_EMPTY_OR_UNDERUTILIZED else None


def within_budgets(candidates: list[Candidate], pools: dict[str, dict], counts: dict[str, rules.PoolCount],
                   now: datetime | None) -> list[Candidate]:
    """Candidates kept in order while their NodePool's budget for their reason allows one more."""
    used: dict[str, int] = {}
    kept = []
    for candidate in candidates:
        count = counts.get(candidate.pool, rules.PoolCount(0, 0))
        allowed = rules.allowed_disruptions(pools[candidate.pool], candidate.reason, count.total, count.disrupting, now)
        if used.get(candidate.pool, 0) < allowed:
            used[candidate.pool] = used.get(candidate.pool, 0) + 1
            kept.append(candidate)
    return kept


def node_blockers(node: dict, pods: list[dict], pool: dict, claim: dict | None, now: datetime | None) -> list[Blocker]:
    """Every reason this node is not removed as empty now (empty list: it may go, budget permitting). `now` None
    means "once every consolidateAfter has passed"."""
    blockers = []
    if rules.is_static(pool):
        blockers.append(Blocker("static", f"static NodePool keeps {pool['spec']['replicas']} node(s)"))
    if rules.node_do_not_disrupt(node, claim):
        blockers.append(Blocker("do-not-disrupt-node", f'node annotated {rules.DO_NOT_DISRUPT}="true"'))
    protected = sorted(rules._pod_name(p) for p in pods if rules.pod_do_not_disrupt(p, now))
    if protected:
        blockers.append(Blocker("do-not-disrupt-pod", ", ".join(protected)))
    busy = sorted(rules._pod_name(p) for p in pods if rules.is_reschedulable(p))
    if busy:
        blockers.append(Blocker("pods", ", ".join(busy)))
    after = ((pool.get("spec") or {}).get("disruption") or {}).get("consolidateAfter", "0s")
    if after == "Never":
        blockers.append(Blocker("consolidate-after-never", "consolidateAfter: Never"))
    elif rules.consolidate_after(pool) is None:
        blockers.append(Blocker("consolidate-after", f"consolidateAfter {after!r} is not a duration"))
    elif now is not None and not busy:
        ready_at = rules.consolidatable_at(claim, pool)
        if ready_at is None or ready_at > now:
            blockers.append(Blocker("consolidate-after", f"consolidatable from {ready_at:%Y-%m-%dT%H:%M:%SZ}"
                                    if ready_at else "NodeClaim not initialized"))
    return blockers


@dataclass(frozen=True)
class ConsolidationPlan:
    remove: tuple[str, ...]                   # node names, within each pool's budget, in Karpenter's order
    kept: dict[str, tuple[Blocker, ...]]      # node name -> why it stays


def plan_consolidation(nodes: list[dict], pods: list[dict], pools: list[dict], claims: list[dict],
                       now: datetime | None, budget_time: datetime | None = None) -> ConsolidationPlan:
    """One emptiness pass (pkg/controllers/disruption/emptiness.go): the empty, unblocked nodes that are not being
    disrupted already, per pool at most what its budgets for Empty allow, cheapest first; every other Karpenter node
    with its reasons. `budget_time` (default `now`) is when budget schedules are read."""
    when = budget_time or now  # None: scheduled budgets count as active (disruption_rules.budget_active)
    by_node: dict[str, list[dict]] = {}
    for pod in pods:
        by_node.setdefault((pod.get("spec") or {}).get("nodeName", ""), []).append(pod)
    claim_of = {(c.get("status") or {}).get("nodeName"): c for c in claims}
    pools_by_name = {p["metadata"]["name"]: p for p in pools}
    kept: dict[str, tuple[Blocker, ...]] = {}
    found: list[tuple[tuple, Candidate]] = []
    for node in nodes:
        name = node["metadata"]["name"]
        pool = pools_by_name.get((node["metadata"].get("labels") or {}).get(rules.NODEPOOL_LABEL, ""))
        if pool is None or rules.is_deleting(node) or rules.has_disrupted_taint(node):
            continue  # not Karpenter's to consolidate (or an orphan for garbage collection), or already going
        blockers = node_blockers(node, by_node.get(name, []), pool, claim_of.get(name), now)
        if blockers:
            kept[name] = tuple(blockers)
            continue
        claim_name = (claim_of.get(name) or {}).get("metadata", {}).get("name", "")
        found.append((candidate_order(node, 0), Candidate(name, claim_name, pool["metadata"]["name"], rules.EMPTY, 0)))
    ordered = [candidate for _, candidate in sorted(found, key=lambda item: item[0])]
    counts = rules.pool_counts(nodes, claims)
    allowed = within_budgets(ordered, pools_by_name, counts, when)
    for candidate in ordered:
        if candidate not in allowed:
            count = counts.get(candidate.pool, rules.PoolCount(0, 0))
            pool = pools_by_name[candidate.pool]
            limit = rules.allowed_disruptions(pool, rules.EMPTY, count.total, count.disrupting, when)
            kept[candidate.node] = (Blocker("budget", f"disruption budget "
                                            f"{rules.deciding_budget(pool, rules.EMPTY, count.total, when)} allows "
                                            f"{limit} now"),)
    return ConsolidationPlan(tuple(c.node for c in allowed), kept)
