"""Karpenter v1's disruption rules as small pure functions (objects + clock → answer): the one home of every rule the
sandbox's Karpenter applies — emptiness, do-not-disrupt on pods, nodes and NodeClaims, consolidateAfter (incl.
`Never`), disruption budgets (reasons, schedule, duration, percentages), static NodePools, drain order, expiry.

Each rule names its upstream home in kubernetes-sigs/karpenter (or its docs page). The imperative side (taint,
delete, drain, terminate) is `sandbox.karpenter`; `plan_consolidation` and `node_blockers` are the same rules seen
from off-hours: which empty nodes one pass removes, and why every other node stays.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from croniter import croniter

from sandbox.pod_fit import tolerates

# kubernetes-sigs/karpenter pkg/apis/v1/labels.go, taints.go, nodeclaim_status.go, nodepool.go
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
TERMINATION_FINALIZER = "karpenter.sh/termination"
DISRUPTED_TAINT = {"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}
CONDITION_DISRUPTION_REASON = "DisruptionReason"
CONDITION_CONSOLIDATABLE = "Consolidatable"
CONDITION_DRIFTED = "Drifted"
CONDITION_INSTANCE_TERMINATING = "InstanceTerminating"
EMPTY, UNDERUTILIZED, DRIFTED, EXPIRED = "Empty", "Underutilized", "Drifted", "Expired"
WHEN_EMPTY, WHEN_EMPTY_OR_UNDERUTILIZED = "WhenEmpty", "WhenEmptyOrUnderutilized"
DEFAULT_BUDGETS = ({"nodes": "10%"},)  # nodepool.go: `+kubebuilder:default:={{nodes: "10%"}}`
CRITICAL_PRIORITY_CLASSES = ("system-cluster-critical", "system-node-critical")

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


def parse_duration(text: str | None) -> timedelta | None:
    """A Go duration ("1m", "720h", "10h5m"); None for "Never" or nothing (pkg/apis/v1/duration.go NillableDuration).
    Raises ValueError naming the value otherwise."""
    if text is None or text == "Never":
        return None
    if not isinstance(text, str) or not text or _GO_DURATION.sub("", text) != "":
        raise ValueError(f"not a Go duration: {text!r}")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in _GO_DURATION.findall(text)))


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions", []) if c.get("type") == kind), None)


def condition_true(obj: dict, kind: str) -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == "True"


def _annotations(obj: dict | None) -> dict:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def _owned_by(pod: dict, *kinds: str) -> bool:
    return any(o.get("kind") in kinds for o in (pod.get("metadata") or {}).get("ownerReferences") or [])


def _pod_name(pod: dict) -> str:
    return f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"


# --- pods ----------------------------------------------------------------------------------------------------------
def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_active(pod: dict) -> bool:
    """Neither finished nor terminating (pkg/utils/pod/scheduling.go IsActive)."""
    return not is_terminal(pod) and not (pod.get("metadata") or {}).get("deletionTimestamp")


def is_reschedulable(pod: dict) -> bool:
    """Counts against emptiness and must fit elsewhere: active (or a terminating StatefulSet pod), not a DaemonSet's,
    not a mirror pod — a static pod, owned by its Node (pkg/utils/pod/scheduling.go IsReschedulable; the disruption
    candidate's `reschedulablePods`, pkg/controllers/disruption/types.go NewCandidate)."""
    terminating_stateful = bool((pod.get("metadata") or {}).get("deletionTimestamp")) and _owned_by(pod, "StatefulSet")
    return (is_active(pod) or terminating_stateful) and not _owned_by(pod, "DaemonSet", "Node")


def pod_do_not_disrupt(pod: dict, now: datetime | None) -> bool:
    """The pod's `karpenter.sh/do-not-disrupt` is active: "true", or a Go duration not yet elapsed since the pod
    started (docs: karpenter.sh/preview/reference/annotations — "On a Pod, the value may also be a duration (e.g. 5m)
    after the Pod's start time at which the protection ends"); an invalid duration is ignored; only active pods
    block (pkg/utils/pod/scheduling.go IsDisruptable: `!IsActive(pod) || !HasDoNotDisrupt(pod)`). `now` None means
    "eventually": only "true" still blocks."""
    value = _annotations(pod).get(DO_NOT_DISRUPT)
    if value is None or not is_active(pod):
        return False
    if value == "true":
        return True
    try:
        window = parse_duration(value)
    except ValueError:
        return False
    started = parse_time((pod.get("status") or {}).get("startTime")) or parse_time(
        pod.get("metadata", {}).get("creationTimestamp"))
    return now is not None and window is not None and started is not None and now < started + window


def tolerates_disrupted_taint(pod: dict) -> bool:
    """pkg/utils/pod/scheduling.go ToleratesDisruptedNoScheduleTaint, with core/v1's toleration matching."""
    return tolerates((pod.get("spec") or {}).get("tolerations") or [], DISRUPTED_TAINT)


def drainable(pod: dict) -> bool:
    """Pods the termination controller waits for: not terminal, not static (owned by the Node), not tolerating the
    disrupted taint (pkg/utils/pod/scheduling.go IsWaitingEviction / IsDrainable; docs: Termination Controller
    step 2). Emptiness counts `is_reschedulable` pods instead."""
    if is_terminal(pod) or _owned_by(pod, "Node"):
        return False
    return not tolerates_disrupted_taint(pod)


def drain_groups(pods: list[dict]) -> list[list[dict]]:
    """Eviction waves, each waiting for the previous to be gone: non-critical non-DaemonSet, non-critical DaemonSet,
    critical non-DaemonSet, critical DaemonSet (terminator.go groupPodsByPriority)."""
    groups: list[list[dict]] = [[], [], [], []]
    for pod in pods:
        critical = (pod.get("spec") or {}).get("priorityClassName") in CRITICAL_PRIORITY_CLASSES
        groups[2 * critical + _owned_by(pod, "DaemonSet")].append(pod)
    return [group for group in groups if group]


# --- nodes and NodeClaims --------------------------------------------------------------------------------------------
def node_do_not_disrupt(node: dict, claim: dict | None = None) -> bool:
    """`karpenter.sh/do-not-disrupt: "true"` on the Node or its NodeClaim (docs: Node-Level Controls; the annotations
    reference: "On a Node or NodeClaim, it blocks consolidation and drift")."""
    return _annotations(node).get(DO_NOT_DISRUPT) == "true" or _annotations(claim).get(DO_NOT_DISRUPT) == "true"


def is_static(pool: dict) -> bool:
    """`spec.replicas` set: neither emptiness nor consolidation disrupt its nodes (pkg/controllers/disruption
    emptiness.go / consolidation.go ShouldDisrupt: `OwnedByStaticNodePool()` → false)."""
    return (pool.get("spec") or {}).get("replicas") is not None


def is_deleting(obj: dict) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def node_ready(node: dict) -> bool:
    return condition_true(node, "Ready")


def has_disrupted_taint(node: dict) -> bool:
    return any(t.get("key") == DISRUPTED_TAINT["key"] for t in (node.get("spec") or {}).get("taints", []))


def consolidate_after(pool: dict) -> timedelta | None:
    """The pool's `consolidateAfter`; None for `Never` (consolidation off) or a value Karpenter could not read."""
    try:
        return parse_duration(((pool.get("spec") or {}).get("disruption") or {}).get("consolidateAfter", "0s"))
    except ValueError:
        return None


def consolidatable_at(claim: dict | None, pool: dict) -> datetime | None:
    """When the NodeClaim becomes Consolidatable: `consolidateAfter` after its last pod event, or after it initialized
    when no pod event was recorded; None for `consolidateAfter: Never` and for a NodeClaim not yet Initialized
    (kubernetes-sigs/karpenter pkg/controllers/nodeclaim/disruption/consolidation.go)."""
    after = consolidate_after(pool)
    initialized = condition(claim, "Initialized") if claim is not None else None
    if after is None or initialized is None or initialized.get("status") != "True":
        return None
    since = parse_time((claim.get("status") or {}).get("lastPodEventTime")) or parse_time(
        initialized.get("lastTransitionTime"))
    return since + after if since else None


def expires_at(claim: dict) -> datetime | None:
    """creationTimestamp + the NodeClaim's own `spec.expireAfter` (pkg/controllers/nodeclaim/expiration)."""
    lifetime = parse_duration((claim.get("spec") or {}).get("expireAfter", "720h"))
    created = parse_time(claim["metadata"].get("creationTimestamp"))
    return created + lifetime if lifetime is not None and created else None


# --- budgets -------------------------------------------------------------------------------------------------------
def budget_active(budget: dict, now: datetime | None) -> bool:
    """Always, without schedule; else within `duration` after the last hit of the UTC cron `schedule`
    (pkg/apis/v1/nodepool.go Budget.IsActive: the next hit after now - duration is not after now). Raises ValueError
    when the schedule or duration is unreadable. `now` None (no moment given): a scheduled budget counts as active,
    the most restrictive reading."""
    schedule = budget.get("schedule")
    if not schedule:
        return True
    if not croniter.is_valid(schedule):
        raise ValueError(f"budget schedule {schedule!r} is not a cron schedule")
    window = parse_duration(budget.get("duration")) or timedelta(0)
    if now is None:
        return True
    next_hit = croniter(schedule, (now - window).astimezone(timezone.utc)).get_next(datetime)
    return next_hit <= now


def budget_nodes(budget: dict, total: int) -> int:
    """`nodes` as a count, or a percentage of the NodePool's nodes rounded up (nodepool.go GetAllowedDisruptions:
    intstr.GetScaledValueFromIntOrPercent(..., roundUp=true))."""
    value = str(budget.get("nodes", "10%"))
    if value.endswith("%") and value[:-1].isdigit():
        return math.ceil(int(value[:-1]) * total / 100)
    if value.isdigit():
        return int(value)
    raise ValueError(f"budget nodes {value!r}: expected a count or a percentage")


def _budget_limits(pool: dict, reason: str, total: int, now: datetime | None) -> list[tuple[int, dict]] | None:
    """(allowed, budget) of the active budgets for `reason`; None when any budget is misconfigured. A pool without
    `budgets` gets the CRD's default; an explicit empty list has none (nodepool.go GetAllowedDisruptionsByReason)."""
    disruption = (pool.get("spec") or {}).get("disruption") or {}
    budgets = disruption["budgets"] if disruption.get("budgets") is not None else list(DEFAULT_BUDGETS)
    limits = []
    try:
        for budget in budgets:
            active, allowed = budget_active(budget, now), budget_nodes(budget, total)
            if active and (not budget.get("reasons") or reason in budget["reasons"]):
                limits.append((allowed, budget))
    except ValueError:
        return None
    return limits


def allowed_disruptions(pool: dict, reason: str, total: int, disrupting: int, now: datetime | None) -> int:
    """The minimum over the active budgets that name `reason` or no reason (no budget: no limit), less the nodes
    already disrupting, never below 0; a misconfigured budget fails closed at 0 (nodepool.go
    MustGetAllowedDisruptions; pkg/controllers/disruption/helpers.go BuildDisruptionBudgetMapping)."""
    limits = _budget_limits(pool, reason, total, now)
    if limits is None:
        return 0
    return max(0, min((allowed for allowed, _ in limits), default=total) - disrupting)


def deciding_budget(pool: dict, reason: str, total: int, now: datetime | None) -> str:
    """The budget `allowed_disruptions` took its limit from, as a person reads it."""
    limits = _budget_limits(pool, reason, total, now)
    if limits is None:
        return "a misconfigured budget (fails closed)"
    if not limits:
        return "no budget"
    _, budget = min(limits, key=lambda limit: limit[0])
    window = f' (schedule "{budget["schedule"]}", duration {budget.get("duration")})' if budget.get("schedule") else ""
    return f'nodes: "{budget.get("nodes")}"{window}'


@dataclass(frozen=True)
class PoolCount:
    total: int
    disrupting: int


def pool_counts(nodes: list[dict], claims: list[dict] | None = None) -> dict[str, PoolCount]:
    """Per NodePool: its initialized Karpenter nodes whose instance is not already terminating, and how many of them
    are NotReady or marked for deletion (helpers.go BuildDisruptionBudgetMapping; the disrupted taint marks them)."""
    terminating = {(c.get("status") or {}).get("nodeName") for c in claims or []
                   if condition_true(c, CONDITION_INSTANCE_TERMINATING)}
    totals: dict[str, list[int]] = {}
    for node in nodes:
        labels = node.get("metadata", {}).get("labels") or {}
        pool = labels.get(NODEPOOL_LABEL)
        if pool is None or labels.get("karpenter.sh/initialized") != "true" or node["metadata"]["name"] in terminating:
            continue
        entry = totals.setdefault(pool, [0, 0])
        entry[0] += 1
        entry[1] += is_deleting(node) or not node_ready(node) or has_disrupted_taint(node)
    return {pool: PoolCount(*counts) for pool, counts in totals.items()}
