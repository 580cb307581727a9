"""Karpenter v1's disruption decisions as small pure functions (objects + clock → answer), for the sandbox's Karpenter.

Each rule names its upstream home; the imperative side (taint, delete, drain, terminate) is `sandbox.karpenter`.
Kept free of I/O and of the simulator so another eligibility module (off-hours) can share or replace them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from croniter import croniter

# kubernetes-sigs/karpenter pkg/apis/v1/labels.go, taints.go, nodeclaim_status.go, nodepool.go
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
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


# --- pods ----------------------------------------------------------------------------------------------------------
def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_do_not_disrupt(pod: dict, now: datetime) -> bool:
    """The pod's `karpenter.sh/do-not-disrupt` is active: "true", or a Go duration not yet elapsed since the pod
    started; an invalid duration is ignored; terminal pods never block (docs: concepts/disruption.md, Pod-Level
    Controls; kubernetes-sigs/karpenter pkg/utils/pod/scheduling.go HasDoNotDisrupt)."""
    value = (pod.get("metadata", {}).get("annotations") or {}).get(DO_NOT_DISRUPT)
    if value is None or is_terminal(pod):
        return False
    if value == "true":
        return True
    try:
        window = parse_duration(value)
    except ValueError:
        return False
    started = parse_time((pod.get("status") or {}).get("startTime")) or parse_time(
        pod.get("metadata", {}).get("creationTimestamp"))
    return window is not None and started is not None and now < started + window


def tolerates_disrupted_taint(pod: dict) -> bool:
    for toleration in (pod.get("spec") or {}).get("tolerations", []):
        if toleration.get("operator") == "Exists" and toleration.get("key") in (None, "", DISRUPTED_TAINT["key"]) \
                and toleration.get("effect") in (None, "", "NoSchedule"):
            return True
        if toleration.get("key") == DISRUPTED_TAINT["key"] and toleration.get("effect") in (None, "", "NoSchedule"):
            return True
    return False


def drainable(pod: dict) -> bool:
    """Pods the termination controller evicts: not terminal, not static (owned by the Node), not tolerating the
    disrupted taint (kubernetes-sigs/karpenter pkg/controllers/node/termination/terminator/terminator.go; docs:
    Termination Controller step 2)."""
    owners = pod.get("metadata", {}).get("ownerReferences") or []
    if is_terminal(pod) or any(o.get("kind") == "Node" for o in owners):
        return False
    return not tolerates_disrupted_taint(pod)


def drain_groups(pods: list[dict]) -> list[list[dict]]:
    """Eviction waves, each waiting for the previous to be gone: non-critical non-DaemonSet, non-critical DaemonSet,
    critical non-DaemonSet, critical DaemonSet (terminator.go groupPodsByPriority)."""
    groups: list[list[dict]] = [[], [], [], []]
    for pod in pods:
        critical = (pod.get("spec") or {}).get("priorityClassName") in CRITICAL_PRIORITY_CLASSES
        daemon = any(o.get("kind") == "DaemonSet" for o in pod.get("metadata", {}).get("ownerReferences") or [])
        groups[2 * critical + daemon].append(pod)
    return [group for group in groups if group]


# --- nodes and NodeClaims --------------------------------------------------------------------------------------------
def node_do_not_disrupt(node: dict) -> bool:
    """Node-level control: `karpenter.sh/do-not-disrupt: "true"` on the Node (docs: Node-Level Controls)."""
    return (node.get("metadata", {}).get("annotations") or {}).get(DO_NOT_DISRUPT) == "true"


def is_deleting(obj: dict) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def node_ready(node: dict) -> bool:
    return condition_true(node, "Ready")


def consolidatable_at(claim: dict, pool: dict) -> datetime | None:
    """When the NodeClaim becomes Consolidatable: `consolidateAfter` after its last pod event, or after it
    initialized when no pod event was recorded; None for `consolidateAfter: Never`
    (kubernetes-sigs/karpenter pkg/controllers/nodeclaim/disruption/consolidation.go)."""
    after = parse_duration(((pool.get("spec") or {}).get("disruption") or {}).get("consolidateAfter", "0s"))
    if after is None:
        return None
    initialized = condition(claim, "Initialized")
    since = parse_time((claim.get("status") or {}).get("lastPodEventTime")) or parse_time(
        (initialized or {}).get("lastTransitionTime")) or parse_time(claim["metadata"].get("creationTimestamp"))
    return since + after if since else None


def expires_at(claim: dict) -> datetime | None:
    """creationTimestamp + the NodeClaim's own `spec.expireAfter` (pkg/controllers/nodeclaim/expiration)."""
    lifetime = parse_duration((claim.get("spec") or {}).get("expireAfter", "720h"))
    created = parse_time(claim["metadata"].get("creationTimestamp"))
    return created + lifetime if lifetime is not None and created else None


# --- budgets -------------------------------------------------------------------------------------------------------
def budget_active(budget: dict, now: datetime) -> bool:
    """Always, without schedule; else within `duration` after the last hit of the UTC cron `schedule`
    (pkg/apis/v1/nodepool.go Budget.IsActive: the next hit after now - duration is not after now)."""
    schedule, duration = budget.get("schedule"), budget.get("duration")
    if not schedule:
        return True
    window = parse_duration(duration) or timedelta(0)
    start = (now - window).astimezone(timezone.utc)
    next_hit = croniter(schedule, start).get_next(datetime)
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


def allowed_disruptions(pool: dict, reason: str, total: int, disrupting: int, now: datetime) -> int:
    """The minimum over the active budgets that name `reason` or no reason, less the nodes already deleting or
    NotReady, never below 0 (pkg/controllers/disruption/helpers.go BuildDisruptionBudgetMapping)."""
    budgets = ((pool.get("spec") or {}).get("disruption") or {}).get("budgets") or list(DEFAULT_BUDGETS)
    limits = [budget_nodes(b, total) for b in budgets
              if (not b.get("reasons") or reason in b["reasons"]) and budget_active(b, now)]
    return max(0, (min(limits) if limits else total) - disrupting)


@dataclass(frozen=True)
class PoolCount:
    total: int
    disrupting: int


def pool_counts(nodes: list[dict]) -> dict[str, PoolCount]:
    """Per NodePool: its initialized Karpenter nodes, and how many of them are deleting or not Ready."""
    totals: dict[str, list[int]] = {}
    for node in nodes:
        labels = node.get("metadata", {}).get("labels") or {}
        pool = labels.get("karpenter.sh/nodepool")
        if pool is None or labels.get("karpenter.sh/initialized") != "true":
            continue
        entry = totals.setdefault(pool, [0, 0])
        entry[0] += 1
        entry[1] += is_deleting(node) or not node_ready(node) or has_disrupted_taint(node)
    return {pool: PoolCount(*counts) for pool, counts in totals.items()}


def has_disrupted_taint(node: dict) -> bool:
    return any(t.get("key") == DISRUPTED_TAINT["key"] for t in (node.get("spec") or {}).get("taints", []))


# --- candidates ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    node: str
    claim: str
    pool: str
    reason: str
    pods: int


def blocked_by(node: dict, pods: list[dict], now: datetime) -> str | None:
    """Why a node may not be disrupted gracefully (drift, consolidation), or None (disruption/helpers.go
    GetCandidates → ValidateDisruption: node annotation, do-not-disrupt pods)."""
    if node_do_not_disrupt(node):
        return f"node has {DO_NOT_DISRUPT}"
    blocking = next((p for p in pods if pod_do_not_disrupt(p, now)), None)
    if blocking is not None:
        return f"pod {blocking['metadata'].get('namespace', '')}/{blocking['metadata']['name']} has {DO_NOT_DISRUPT}"
    return None


def graceful_reason(claim: dict, pool: dict, reschedulable: list[dict], now: datetime) -> str | None:
    """Drifted first, then Empty, then Underutilized (the disruption controller's method order: drift, emptiness,
    multi-node then single-node consolidation — pkg/controllers/disruption/controller.go NewMethods).
    Underutilized only under `WhenEmptyOrUnderutilized`; consolidation only once Consolidatable."""
    if condition_true(claim, CONDITION_DRIFTED):
        return DRIFTED
    policy = ((pool.get("spec") or {}).get("disruption") or {}).get("consolidationPolicy", WHEN_EMPTY_OR_UNDERUTILIZED)
    ready_at = consolidatable_at(claim, pool)
    if ready_at is None or now < ready_at:
        return None
    if not reschedulable:
        return EMPTY
    return UNDERUTILIZED if policy == WHEN_EMPTY_OR_UNDERUTILIZED else None


def within_budgets(candidates: list[Candidate], pools: dict[str, dict], counts: dict[str, PoolCount],
                   now: datetime) -> list[Candidate]:
    """Candidates kept in order while their NodePool's budget for their reason allows one more."""
    used: dict[str, int] = {}
    kept = []
    for candidate in candidates:
        count = counts.get(candidate.pool, PoolCount(0, 0))
        allowed = allowed_disruptions(pools[candidate.pool], candidate.reason, count.total, count.disrupting, now)
        if used.get(candidate.pool, 0) < allowed:
            used[candidate.pool] = used.get(candidate.pool, 0) + 1
            kept.append(candidate)
    return kept
