"""What to do to each affected node, per NodePool: alert only, cordon, or cordon and drain. Pure planning.

Default is `alert` because Karpenter cordons and drains its own nodes when its interruption queue is set; the
other actions are for clusters without that (or static node groups). Nodes that are already stopping or gone are
never acted on; rebalance recommendations only for the NodePools listed in `rebalance_pools` (none by default).

A drain follows Karpenter's termination order (kubernetes-sigs/karpenter
pkg/controllers/node/termination/terminator/terminator.go, `Evict`): pods that are not system-cluster-critical /
system-node-critical first, the critical ones after; DaemonSet pods are never evicted (they would come straight
back), and pods annotated `karpenter.sh/do-not-disrupt: "true"` are left alone and reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Collection, Iterable, Mapping

from chalice_app.interruptions.correlation import FINISHED_PHASES, NodeImpact
from chalice_app.interruptions.notice import NoticeKind
from chalice_app.kube.names import DO_NOT_DISRUPT, MIRROR_POD, STATIC_POOL

CRITICAL_PRIORITY_CLASSES = frozenset({"system-cluster-critical", "system-node-critical"})
ACTIONABLE_KINDS = frozenset({NoticeKind.SPOT_INTERRUPTION, NoticeKind.CAPACITY_RESERVATION_INTERRUPTION,
                              NoticeKind.SCHEDULED_CHANGE})


class Action(str, Enum):
    ALERT = "alert"
    CORDON = "cordon"
    CORDON_AND_DRAIN = "cordon-and-drain"


@dataclass(frozen=True)
class NodeAction:
    node: str
    instance_id: str
    nodepool: str | None
    action: Action
    already_cordoned: bool
    resource_version: str | None


@dataclass(frozen=True)
class ActionOutcome:
    node: str
    action: Action
    dry_run: bool
    cordoned: bool = False
    evicted: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()  # refused by a PodDisruptionBudget after retries
    failed: tuple[str, ...] = field(default_factory=tuple)  # "what: why"
    skipped: tuple[str, ...] = ()  # pods marked karpenter.sh/do-not-disrupt, left alone


def action_for(nodepool: str | None, per_pool: Mapping[str, str], default: str) -> Action:
    return Action(per_pool.get(nodepool or STATIC_POOL, default))


def plan_actions(impacts: Iterable[NodeImpact], per_pool: Mapping[str, str], default: str,
                 rebalance_pools: Collection[str] = ()) -> tuple[NodeAction, ...]:
    """One action per affected node (first actionable notice wins); `alert` nodes and remembered ones (Kubernetes
    no longer has them) are left out."""
    planned: dict[str, NodeAction] = {}
    for impact in impacts:
        node = impact.node
        actionable = impact.notice.kind in ACTIONABLE_KINDS or (
            impact.notice.kind is NoticeKind.REBALANCE_RECOMMENDATION and (node.nodepool or STATIC_POOL) in rebalance_pools)
        if not actionable or node.remembered or node.name in planned:
            continue
        action = action_for(node.nodepool, per_pool, default)
        if action is Action.ALERT:
            continue
        planned[node.name] = NodeAction(node.name, node.instance_id, node.nodepool, action, node.unschedulable,
                                        node.resource_version)
    return tuple(planned.values())


def evictable(pod: dict) -> bool:
    """Pods a drain evicts: not DaemonSet-owned (they'd come straight back), not mirror pods, not finished."""
    meta = pod.get("metadata", {})
    if MIRROR_POD in (meta.get("annotations") or {}):
        return False
    if any(owner.get("kind") == "DaemonSet" for owner in meta.get("ownerReferences") or []):
        return False
    return (pod.get("status") or {}).get("phase") not in FINISHED_PHASES


def do_not_disrupt(pod: dict) -> bool:
    return ((pod.get("metadata") or {}).get("annotations") or {}).get(DO_NOT_DISRUPT) == "true"


def _key(pod: dict) -> tuple[str, str]:
    return pod["metadata"]["namespace"], pod["metadata"]["name"]


@dataclass(frozen=True)
class DrainPlan:
    waves: tuple[tuple[tuple[str, str], ...], ...]  # (namespace, name) per wave, evicted one wave after the other
    skipped: tuple[tuple[str, str], ...]  # do-not-disrupt

    @property
    def pods(self) -> tuple[tuple[str, str], ...]:
        return tuple(pod for wave in self.waves for pod in wave)


def plan_drain(pods: Iterable[dict]) -> DrainPlan:
    """Non-critical pods first, then system-*-critical ones (Karpenter's order); do-not-disrupt pods skipped."""
    regular, critical, skipped = [], [], []
    for pod in pods:
        if not evictable(pod):
            continue
        if do_not_disrupt(pod):
            skipped.append(_key(pod))
        elif (pod.get("spec") or {}).get("priorityClassName") in CRITICAL_PRIORITY_CLASSES:
            critical.append(_key(pod))
        else:
            regular.append(_key(pod))
    waves = tuple(tuple(sorted(wave)) for wave in (regular, critical) if wave)
    return DrainPlan(waves, tuple(sorted(skipped)))


def pods_to_evict(pods: Iterable[dict]) -> tuple[tuple[str, str], ...]:
    """(namespace, name) of the node's pods a drain evicts, in eviction order."""
    return plan_drain(pods).pods


def dry_run_outcome(action: NodeAction, pods: Iterable[dict] = ()) -> ActionOutcome:
    """What the action would do, for logs and Slack, without touching the cluster."""
    plan = plan_drain(pods) if action.action is Action.CORDON_AND_DRAIN else DrainPlan((), ())
    return ActionOutcome(action.node, action.action, dry_run=True, cordoned=not action.already_cordoned,
                         evicted=tuple(f"{ns}/{name}" for ns, name in plan.pods),
                         skipped=tuple(f"{ns}/{name}" for ns, name in plan.skipped))
