"""The simulator's Karpenter steps over the store that are not scheduling: static NodePools, the NodeClaims' pod event
times, and pods placed by hand. Decisions come from karpenter_static.py / disruption_rules.py (pure); these
functions apply them for ClusterSim (`sim`), which owns launching and removing nodes."""
from __future__ import annotations

from datetime import datetime

from sandbox import objects
from sandbox.disruption_rules import DO_NOT_DISRUPT, is_static
from sandbox.karpenter_static import static_changes
from sandbox.objects import Workload
from sandbox.seed import LAUNCH_SHAPES, random_suffix


def reconcile_static_pools(sim, pods: dict[str, dict], report) -> None:
    """Static NodePools run exactly `replicas` nodes; a removed node's pods go (their Deployments recreate them)."""
    store = sim.store
    pools = {pool["metadata"]["name"]: pool for pool in store.list("karpenter.sh/v1", "NodePool")}
    if not any(is_static(pool) for pool in pools.values()):
        return
    nodes = store.list("v1", "Node")
    for change in static_changes(list(pools.values()), nodes, store.list("v1", "Pod")):
        pool = pools[change.pool]
        capacity_type = next((r["values"][0] for r in pool["spec"]["template"]["spec"].get("requirements", [])
                              if r["key"] == "karpenter.sh/capacity-type"), "on-demand")
        for number in range(change.launch):
            report.nodes_added.append(sim._launch_node(pool, LAUNCH_SHAPES[capacity_type][0], len(nodes) + number))
        for name in change.remove:
            for pod in [p for p in pods.values() if p["spec"].get("nodeName") == name]:
                store.delete("v1", "Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
                del pods[pod["metadata"]["name"]]
                report.pods_deleted.append(pod["metadata"]["name"])
            sim._remove_node(next(n for n in nodes if n["metadata"]["name"] == name))


def stamp_pod_events(store, node_names: set[str], now: datetime) -> None:
    """NodeClaim `status.lastPodEventTime` of nodes whose pods were bound or removed (Karpenter's podevents
    controller, kubernetes-sigs/karpenter pkg/controllers/nodeclaim/podevents/controller.go; consolidateAfter counts
    from it). Never backwards: a command at the clock after a pass at a later simulated moment keeps the later one."""
    if not node_names:
        return
    stamp = objects.stamp(now)
    for claim in store.list("karpenter.sh/v1", "NodeClaim"):
        if claim.get("status", {}).get("nodeName") in node_names and \
                claim["status"].get("lastPodEventTime", "") < stamp:
            claim["status"]["lastPodEventTime"] = stamp
            store.put(claim)
    node_names.clear()


def place_pod(sim, node_name: str, name: str, namespace: str, do_not_disrupt: bool, cpu_m: int) -> dict:
    node = sim.store.get("v1", "Node", None, node_name)
    if node is None:
        raise KeyError(f"no Node {node_name}")
    work = Workload(name, namespace, "public.ecr.aws/docker/library/busybox:stable", cpu_m, 64, 1,
                    {"app": name}, {DO_NOT_DISRUPT: "true"} if do_not_disrupt else {})
    ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    pod = objects.pod(work, random_suffix(sim._rng), sim.now(), node_name, ip, "100.66.0.2")
    stamp_pod_events(sim.store, {node_name}, sim.now())
    return sim.store.put(pod)
