"""What Karpenter's disruption asks of the scheduler and the provisioner: do these pods fit elsewhere, launch a
replacement for them, forget a node whose instance is gone. Thin wrappers over sandbox.cluster_sim and sandbox.pod_fit."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.disruption_rules import is_deleting
from sandbox.pod_fit import best_node, node_rooms, pod_cpu_m

if TYPE_CHECKING:
    from sandbox.cluster_sim import ClusterSim


def fits_elsewhere(sim: "ClusterSim", pods: list[dict], exclude: set[str]) -> bool:
    """Whether the scheduler could place all `pods` on Ready nodes other than `exclude` and other than nodes being
    deleted or tainted disrupted (Karpenter's scheduling simulation, deletion-only)."""
    nodes = [n for n in sim.store.list("v1", "Node") if n["metadata"]["name"] not in exclude
             and not is_deleting(n)]
    bound = [p for p in sim.store.list("v1", "Pod") if p["spec"].get("nodeName")
             and p["spec"]["nodeName"] not in exclude]
    rooms = node_rooms(nodes, bound)
    for pod in sorted(pods, key=pod_cpu_m, reverse=True):
        room = best_node(pod, rooms)
        if room is None:
            return False
        room.free_cpu_m -= pod_cpu_m(pod)
        room.free_pods -= 1
    return True


def launch_for(sim: "ClusterSim", pods: list[dict]) -> list[str]:
    """A pre-spun replacement: nodes for `pods` as if they were pending; the new nodes' names."""
    from sandbox.cluster_sim import SettleReport

    report = SettleReport()
    sim._provision(pods, report)
    return report.nodes_added


def forget_node(store, node: dict) -> None:
    """The instance is gone: its pods, NodeClaim and Node leave the API (garbage collection)."""
    name = node["metadata"]["name"]
    for pod in store.list("v1", "Pod"):
        if pod["spec"].get("nodeName") == name:
            store.delete("v1", "Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
    for claim in store.list("karpenter.sh/v1", "NodeClaim"):
        if (claim.get("status") or {}).get("nodeName") == name:
            store.delete("karpenter.sh/v1", "NodeClaim", None, claim["metadata"]["name"])
    store.delete("v1", "Node", None, name)
