"""What to do to each affected node, per NodePool: alert only, cordon, or cordon and drain. Pure planning.

Default is `alert` because Karpenter cordons and drains its own nodes when its interruption queue is set; the
other actions are for clusters without that (or static node groups). Nodes that are already stopping or gone,
and mere rebalance recommendations, are never acted on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Mapping

from chalice_app.interruptions.correlation import FINISHED_PHASES, NodeImpact
from chalice_app.interruptions.notice import NoticeKind

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
ACTIONABLE_KINDS = frozenset({NoticeKind.SPOT_INTERRUPTION, NoticeKind.CAPACITY_RESERVATION_INTERRUPTION,
                              NoticeKind.SCHEDULED_CHANGE})
STATIC_POOL = "(node group)"  # how settings name nodes without a NodePool


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


def action_for(nodepool: str | None, per_pool: Mapping[str, str], default: str) -> Action:
    return Action(per_pool.get(nodepool or STATIC_POOL, default))


def plan_actions(impacts: Iterable[NodeImpact], per_pool: Mapping[str, str], default: str) -> tuple[NodeAction, ...]:
    """One action per affected node (first actionable notice wins); `alert` nodes are left out."""
    planned: dict[str, NodeAction] = {}
    for impact in impacts:
        node = impact.node
        if impact.notice.kind not in ACTIONABLE_KINDS or node.name in planned:
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
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return False
    if any(owner.get("kind") == "DaemonSet" for owner in meta.get("ownerReferences") or []):
        return False
    return (pod.get("status") or {}).get("phase") not in FINISHED_PHASES


def pods_to_evict(pods: Iterable[dict]) -> tuple[tuple[str, str], ...]:
    """(namespace, name) of the node's pods a drain evicts, in a stable order."""
    return tuple(sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods if evictable(p)))


def dry_run_outcome(action: NodeAction, pods: Iterable[dict] = ()) -> ActionOutcome:
    """What the action would do, for logs and Slack, without touching the cluster."""
    evict = pods_to_evict(pods) if action.action is Action.CORDON_AND_DRAIN else ()
    return ActionOutcome(action.node, action.action, dry_run=True, cordoned=not action.already_cordoned,
                         evicted=tuple(f"{ns}/{name}" for ns, name in evict))
