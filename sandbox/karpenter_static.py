"""Karpenter's static NodePools (`spec.replicas` set), as a pure decision: how many nodes to launch or which to remove so
the pool runs exactly `replicas` nodes, never more than `limits.nodes`
(https://karpenter.sh/docs/concepts/nodepools/#specreplicas and the NodePool CRD's field description: "When specified,
the NodePool will maintain this fixed number of replicas rather than scaling based on pod demand"; consolidation does
not apply). When scaling down the sandbox removes the nodes running the fewest pods first, newest first among equals
(an assumption: the order is not documented)."""
from __future__ import annotations

from dataclasses import dataclass

from sandbox.disruption_rules import NODEPOOL_LABEL, is_static


@dataclass(frozen=True)
class StaticChange:
    pool: str
    launch: int
    remove: tuple[str, ...]


def static_changes(pools: list[dict], nodes: list[dict], pods: list[dict]) -> list[StaticChange]:
    count: dict[str, int] = {}
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            count[node_name] = count.get(node_name, 0) + 1
    changes = []
    for pool in sorted(filter(is_static, pools), key=lambda p: p["metadata"]["name"]):
        name = pool["metadata"]["name"]
        wanted = int(pool["spec"]["replicas"])
        limit = ((pool["spec"].get("limits") or {}).get("nodes"))
        if limit is not None:
            wanted = min(wanted, int(limit))
        members = [n for n in nodes if (n["metadata"].get("labels") or {}).get(NODEPOOL_LABEL) == name]
        if len(members) < wanted:
            changes.append(StaticChange(name, wanted - len(members), ()))
        elif len(members) > wanted:
            order = sorted(members, key=lambda n: (count.get(n["metadata"]["name"], 0),
                                                   _newest_first(n["metadata"].get("creationTimestamp", ""))))
            changes.append(StaticChange(name, 0, tuple(n["metadata"]["name"] for n in order[:len(members) - wanted])))
    return changes


def _newest_first(stamp: str) -> tuple:
    return tuple(-ord(ch) for ch in stamp)
