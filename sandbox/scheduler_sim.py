"""The simulator's kube-scheduler step over the store: pending pods in queue order (sandbox/kube_scheduler.py), each
bound to the node it fits best, else preempting lower-priority pods, else left for Karpenter.

- A pod nominated to a node (`status.nominatedNodeName`) holds room there against pods of its priority or lower,
  and is tried on that node first (kube-scheduler's nominator and evaluateNominatedNode, pkg/scheduler/
  schedule_one.go; RunFilterPluginsWithNominatedPods).
- Preempting: each victim gets the DisruptionTarget condition and a `Preempted` Event and is deleted gracefully,
  the preemptor gets `status.nominatedNodeName` and `PodScheduled=False` (pkg/scheduler/framework/preemption/
  executor.go prepareCandidate; the pod binds once the victims are gone). Deletion is the timeline's when one runs (victims
  stay for their grace period, sandbox/cluster_timing.py), else at once.
- Karpenter ignores a nominated pod (kubernetes-sigs/karpenter pkg/utils/pod/scheduling.go IsProvisionable:
  `!IsPreempting(pod)`), so only pods that fit nowhere and cannot preempt are returned to it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox import kube_scheduler, objects
from sandbox.k8s_events import record_event
from sandbox.kubeapi.priority import pod_priority
from sandbox.pod_fit import admits, best_node, node_rooms, pod_cpu_m

if TYPE_CHECKING:
    from sandbox.cluster_sim import ClusterSim


def schedule(sim: "ClusterSim", pods: dict[str, dict]) -> tuple[list[dict], bool]:
    """Bind, nominate or leave each pending pod of `pods` (name -> pod, kept current); (the pods left for
    Karpenter, whether any pod preempted)."""
    nodes = {node["metadata"]["name"]: node for node in sim.store.list("v1", "Node")}
    bound = _bound_pods(sim, pods)
    rooms = node_rooms(list(nodes.values()), bound)
    pods_by_node: dict[str, list[dict]] = {}
    for pod in bound:
        pods_by_node.setdefault(pod["spec"]["nodeName"], []).append(pod)
    pending = kube_scheduler.queue_order(
        p for p in pods.values() if not p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp"))
    for pod in pending:  # nominated pods hold their room
        _hold(rooms, pod, pod_cpu_m(pod), -1)
    unplaced, preempted = [], False
    pdbs: list[dict] | None = None  # read once, and only when some pod could preempt
    for pod in pending:
        name, request = pod["metadata"]["name"], pod_cpu_m(pod)
        _hold(rooms, pod, request, +1)
        nominated = rooms.get(_nominated(pod) or "")
        if nominated is not None and nominated.free_pods > 0 and nominated.free_cpu_m >= request:
            room = nominated
        else:
            room = best_node(pod, rooms)
        if room is not None:
            room.free_cpu_m -= request
            room.free_pods -= 1
            pods[name] = sim._bind(pod, nodes[room.name])
            pods_by_node.setdefault(room.name, []).append(pods[name])
            continue
        plan = None
        eligible = kube_scheduler.eligible_to_preempt(pod, pods_by_node)
        if eligible and any(pod_priority(other) < pod_priority(pod) for other in bound):
            pdbs = _pdbs(sim) if pdbs is None else pdbs
            plan = kube_scheduler.plan_preemption(
                pod, rooms, pods_by_node, lambda p, node: admits(p["spec"], rooms[node].labels, rooms[node].taints),
                pod_cpu_m, pdbs)
        if plan is not None:
            pods[name] = _preempt(sim, pod, plan, pods)
            preempted = True
        elif eligible and _nominated(pod):  # preemption found no node: the nomination is cleared (PostFilter
            pod["status"].pop("nominatedNodeName")  # result with an empty nominated node name)
            pods[name] = sim.store.put(pod)
        if _nominated(pods[name]):
            _hold(rooms, pods[name], request, -1)
        else:
            unplaced.append(pods[name])
    return unplaced, preempted


def _bound_pods(sim: "ClusterSim", pods: dict[str, dict]) -> list[dict]:
    """Every pod on a node (the simulator's namespaces from `pods`, which are current; the others from the store)."""
    covered = {pod["metadata"].get("namespace") for pod in pods.values()}
    others = [pod for ns in sim.store.list("v1", "Namespace") if ns["metadata"]["name"] not in covered
              for pod in sim.store.list("v1", "Pod", ns["metadata"]["name"])]
    return [p for p in [*pods.values(), *others] if p["spec"].get("nodeName")]


def _nominated(pod: dict) -> str | None:
    return (pod.get("status") or {}).get("nominatedNodeName")


def _hold(rooms: dict, pod: dict, request: int, sign: int) -> None:
    room = rooms.get(_nominated(pod) or "")
    if room is not None:
        room.free_cpu_m += sign * request
        room.free_pods += sign


def _pdbs(sim: "ClusterSim") -> list[dict]:
    """PodDisruptionBudgets with the status the disruption controller would report now."""
    from sandbox.kubeapi.eviction import pdb_status

    pdbs = sim.store.list("policy/v1", "PodDisruptionBudget")
    for pdb in pdbs:
        namespace = pdb["metadata"]["namespace"]
        pdb["status"] = {**(pdb.get("status") or {}), **pdb_status(
            pdb, sim.store.list("v1", "Pod", namespace), sim.store.list("apps/v1", "Deployment", namespace))}
    return pdbs


def _preempt(sim: "ClusterSim", pod: dict, plan: kube_scheduler.Preemption, pods: dict[str, dict]) -> dict:
    at = objects.stamp(sim.now())
    for victim in plan.victims:
        key = victim["metadata"]["name"]
        # executor.go: Eventf(victim, preemptor, Normal, "Preempted", "Preempting", "Preempted by pod %v on node %v")
        record_event(sim.store, victim, "Preempted", f"Preempted by pod {pod['metadata'].get('uid', '')} on node "
                     f"{plan.node}", sim.now(), component="default-scheduler")
        if sim.timeline is not None:
            updated = sim.timeline.terminate(victim, kube_scheduler.disruption_target(at))
            if key in pods:
                pods[key] = updated
        else:
            sim.store.delete("v1", "Pod", victim["metadata"]["namespace"], key)
            pods.pop(key, None)
        sim.pod_event(plan.node)
    for other in pods.values():  # lower-priority pods nominated to that node lose their nomination
        if (other is not pod and _nominated(other) == plan.node and not other["spec"].get("nodeName")
                and pod_priority(other) < pod_priority(pod)):
            other["status"].pop("nominatedNodeName", None)
            sim.store.put(other)
    pod["status"] = {**objects.pending_status(at), "nominatedNodeName": plan.node}
    pod["status"]["conditions"][0]["message"] = (f"preempting {len(plan.victims)} pod(s) of lower priority on "
                                                 f"{plan.node}")
    return sim.store.put(pod)
