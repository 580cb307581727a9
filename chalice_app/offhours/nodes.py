"""Why nodes of a parked NodePool are still there, and what they cost (pure).

A zero limit stops launches; it is Karpenter's consolidation that removes nodes, and it does not when
(karpenter.sh docs concepts/disruption): a pod or the node carries `karpenter.sh/do-not-disrupt: "true"`; the
NodePool's disruption budgets allow 0 nodes (`spec.disruption.budgets[].nodes: "0"`); `consolidateAfter: Never`;
or pods that are not DaemonSet pods keep the node from being empty (with `consolidationPolicy: WhenEmpty`, or when
they cannot move). Each staying node is reported with its reasons and hourly price (the budget feature's prices).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from chalice_app.kube.names import (CAPACITY_TYPE_LABEL, DO_NOT_DISRUPT, FUNCTION_LABEL, INSTANCE_TYPE_LABEL,
                                    MIRROR_POD, NODEPOOL_LABEL, ZONE_LABEL)
from chalice_app.offhours.placement import cpu_millis

SHOWN_PODS = 3


@dataclass(frozen=True)
class NodeStay:
    node: str
    pool: str
    instance_type: str
    capacity_type: str
    zone: str
    reasons: tuple[str, ...]
    cost_per_hour: float | None = None

    def line(self) -> str:
        cost = "price unknown" if self.cost_per_hour is None else f"${self.cost_per_hour:.4f}/h"
        return f"{self.node} ({self.pool}, {self.instance_type} {self.capacity_type}, {cost}): {'; '.join(self.reasons)}"


def _labels(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("labels") or {}


def _annotations(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _pod_name(pod: dict) -> str:
    metadata = pod.get("metadata") or {}
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"


def marked_do_not_disrupt(obj: dict) -> bool:
    """A node, NodeClaim or pod annotated `karpenter.sh/do-not-disrupt: "true"`."""
    return str(_annotations(obj).get(DO_NOT_DISRUPT, "")).strip().lower() == "true"


def _owned_by(pod: dict, kind: str) -> bool:
    owners = (pod.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(owner, dict) and owner.get("kind") == kind for owner in owners)


def reschedulable(pod: dict) -> bool:
    """Karpenter's emptiness rule (kubernetes-sigs/karpenter pkg/utils/pod/scheduling.go `IsReschedulable`): a pod
    counts unless it is terminal (Succeeded/Failed), terminating (a StatefulSet's terminating pod still counts), owned
    by a DaemonSet, or a mirror pod (owned by its Node)."""
    terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
    terminating = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    active = not terminal and not terminating
    mirror = _owned_by(pod, "Node") or MIRROR_POD in _annotations(pod)
    return (active or (_owned_by(pod, "StatefulSet") and terminating)) and not _owned_by(pod, "DaemonSet") \
        and not mirror


def _listed(pods: list[dict]) -> str:
    names = [_pod_name(pod) for pod in pods]
    more = len(names) - SHOWN_PODS
    return ", ".join(names[:SHOWN_PODS]) + (f" and {more} more" if more > 0 else "")


def pool_blockers(pool: dict) -> list[str]:
    """What in a NodePool's disruption settings keeps every one of its nodes."""
    disruption = (pool.get("spec") or {}).get("disruption") or {}
    found = []
    if str(disruption.get("consolidateAfter", "")).strip() == "Never":
        found.append("NodePool consolidateAfter: Never")
    for budget in disruption.get("budgets") or []:
        if isinstance(budget, dict) and str(budget.get("nodes", "")).strip() in ("0", "0%"):
            when = (f" during schedule {budget['schedule']!r} for {budget.get('duration', '?')}"
                    if budget.get("schedule") else "")
            why = f" for reasons {', '.join(budget['reasons'])}" if budget.get("reasons") else ""
            found.append(f"NodePool disruption budget nodes: {budget.get('nodes')}{why}{when}")
    return found


def why_node_stays(node: dict, pods: list[dict], pool: dict) -> tuple[str, ...]:
    """The reasons one node of a parked pool is still there; a last resort reason when none is found."""
    reasons = []
    if marked_do_not_disrupt(node):
        reasons.append(f"node annotated {DO_NOT_DISRUPT}")
    live = [pod for pod in pods if reschedulable(pod)]
    pinned = [pod for pod in live if marked_do_not_disrupt(pod)]
    if pinned:
        reasons.append(f"pod {_listed(pinned)} annotated {DO_NOT_DISRUPT}")
    reasons += pool_blockers(pool)
    others = [pod for pod in live if FUNCTION_LABEL not in _labels(pod) and pod not in pinned]
    if others:
        reasons.append(f"non-function pods keep it busy: {_listed(others)}")
    functions = [pod for pod in live if FUNCTION_LABEL in _labels(pod) and pod not in pinned]
    if functions:
        reasons.append(f"function pods still running (awake, held or excluded): {_listed(functions)}")
    if not reasons:
        after = ((pool.get("spec") or {}).get("disruption") or {}).get("consolidateAfter", "0s")
        reasons.append(f"nothing blocks it: empty, waiting for consolidation (consolidateAfter {after})")
    return tuple(reasons)


def nodes_staying(parked_pools: dict[str, dict | None], nodes: list[dict], pods_by_node: dict[str, list[dict]]) -> list[NodeStay]:
    """Every node of a parked pool, with why it stays (prices are added by `priced`)."""
    stays = []
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        labels = _labels(node)
        pool = parked_pools.get(labels.get(NODEPOOL_LABEL, ""))
        if pool is None:
            continue
        name = node["metadata"]["name"]
        stays.append(NodeStay(name, labels[NODEPOOL_LABEL], labels.get(INSTANCE_TYPE_LABEL, "?"),
                              labels.get(CAPACITY_TYPE_LABEL, "on-demand"),
                              labels.get(ZONE_LABEL, ""),
                              why_node_stays(node, pods_by_node.get(name, []), pool)))
    return stays


def priced(stays: list[NodeStay], book) -> list[NodeStay]:
    """The same stays with their hourly price from a budget PriceBook (None where it has none)."""
    return [replace(stay, cost_per_hour=book.hourly(stay.instance_type, stay.capacity_type, stay.zone or None))
            for stay in stays]


def node_cpu_millis(node: dict) -> int:
    return cpu_millis(((node.get("status") or {}).get("capacity") or {}).get("cpu", 0))
