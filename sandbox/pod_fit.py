"""Where a pod fits, as kube-scheduler's filters decide it (pure): CPU requests, taints and tolerations, nodeSelector
and required node affinity, and the free room (CPU, pod slots) of the Karpenter nodes that accept new pods. Used by
the simulator's scheduler (sandbox/scheduler_sim.py), its Karpenter (launches, "do these pods fit elsewhere") and the
time-stepped timeline.

Modelled from kubernetes/kubernetes pkg/scheduler/framework/plugins (tainttoleration, nodeaffinity, noderesources)
and core/v1 Toleration semantics (an empty effect matches every effect, `Exists` with an empty key every taint).
"""
from __future__ import annotations

from dataclasses import dataclass

from kubernetes.utils.quantity import parse_quantity

from sandbox.objects import DAEMONSET_PODS


def cpu_m(value) -> int:
    return int(parse_quantity(value) * 1000)


def pod_cpu_m(pod: dict) -> int:
    return sum(cpu_m(c.get("resources", {}).get("requests", {}).get("cpu", 0)) for c in pod["spec"]["containers"])


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint["effect"]):
            continue
        if toleration.get("operator") == "Exists" and toleration.get("key") in (None, "", taint["key"]):
            return True
        if toleration.get("key") == taint["key"] and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _expression_holds(expression: dict, labels: dict) -> bool:
    value = labels.get(expression["key"])
    operator = expression["operator"]
    if operator == "In":
        return value in expression.get("values", [])
    if operator == "NotIn":
        return value not in expression.get("values", [])
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    raise ValueError(f"node affinity operator {operator!r} is not simulated")


def admits(pod_spec: dict, labels: dict, taints: list[dict]) -> bool:
    """Whether a node (or a NodePool's future node) with these labels and taints may run the pod."""
    tolerations = pod_spec.get("tolerations", [])
    if any(taint["effect"] in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint) for taint in taints):
        return False
    if any(labels.get(key) != value for key, value in pod_spec.get("nodeSelector", {}).items()):
        return False
    required = (pod_spec.get("affinity", {}).get("nodeAffinity", {})
                .get("requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms"))
    if not required:
        return True
    return any(all(_expression_holds(e, labels) for e in term.get("matchExpressions", [])) for term in required)


@dataclass
class NodeRoom:
    name: str
    labels: dict
    taints: list[dict]
    free_cpu_m: int
    free_pods: int


def node_rooms(nodes: list[dict], pods: list[dict]) -> dict[str, NodeRoom]:
    """Free CPU and pod slots of the Karpenter nodes that accept new pods (Ready, not cordoned)."""
    rooms = {}
    for node in nodes:
        labels = node["metadata"].get("labels", {})
        conditions = node.get("status", {}).get("conditions", [])
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        if "karpenter.sh/nodepool" not in labels or not ready or node["spec"].get("unschedulable"):
            continue
        allocatable = node["status"]["allocatable"]
        rooms[node["metadata"]["name"]] = NodeRoom(node["metadata"]["name"], labels, node["spec"].get("taints", []),
                                                   cpu_m(allocatable["cpu"]),
                                                   int(allocatable["pods"]) - DAEMONSET_PODS)
    for pod in pods:
        room = rooms.get(pod["spec"].get("nodeName", ""))
        if room is not None:
            room.free_cpu_m -= pod_cpu_m(pod)
            room.free_pods -= 1
    return rooms


def best_node(pod: dict, rooms: dict[str, NodeRoom]) -> NodeRoom | None:
    request = pod_cpu_m(pod)
    fitting = [room for room in rooms.values() if room.free_pods > 0 and room.free_cpu_m >= request
               and admits(pod["spec"], room.labels, room.taints)]
    return max(fitting, key=lambda room: (room.free_cpu_m, room.name), default=None)

