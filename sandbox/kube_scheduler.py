"""kube-scheduler's queue order and preemption, as pure decisions over plain pod dicts and node rooms.

- Queue: higher `spec.priority` first, then the earlier pod (kubernetes/kubernetes
  pkg/scheduler/framework/plugins/queuesort/priority_sort.go Less; the sandbox uses creationTimestamp, then name,
  for the time the pod entered the queue).
- Preemption (DefaultPreemption PostFilter, kubernetes/kubernetes
  pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go, and
  pkg/scheduler/framework/preemption/preemption.go; Kubernetes docs "Pod Priority and Preemption",
  kubernetes/website content/en/docs/concepts/scheduling-eviction/pod-priority-preemption.md):
  * a pod with `preemptionPolicy: Never`, or whose nominated node still has lower-priority pods terminating by
    preemption, does not preempt (PodEligibleToPreemptOthers);
  * only nodes where removing pods could help are tried: nodes whose taints or node affinity reject the pod are
    skipped (nodesWherePreemptionMightHelp);
  * on a node, every pod of lower priority is removed; if the pod then fits, victims are reprieved one by one, most
    important first (higher priority, then the longer running), PDB-violating ones before the others, and those
    whose return would make the pod not fit stay victims (SelectVictimsOnNode);
  * among candidate nodes: fewest PDB violations, then the lowest highest-priority victim, then the smallest sum of
    priorities, then the fewest victims, then the latest start of the highest-priority victims
    (pickOneNodeForPreemption); the last tie goes to the first node by name (upstream: map order).
  The scheduler examines at least 100 nodes or 10 % of them (minCandidateNodesAbsolute/-Percentage); the sandbox's
  clusters are smaller, so every node is examined.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from sandbox.kubeapi.priority import PREEMPT_NEVER, pod_priority
from sandbox.kubeapi.selectors import label_selector_string, selector_from_label_selector

_PREEMPTION_REASON = "PreemptionByScheduler"


@dataclass(frozen=True)
class Preemption:
    node: str
    victims: tuple[dict, ...]  # most important first
    pdb_violations: int = 0


@dataclass
class _Candidate:
    node: str
    victims: list[dict] = field(default_factory=list)
    pdb_violations: int = 0


def queue_order(pods: Iterable[dict]) -> list[dict]:
    return sorted(pods, key=lambda p: (-pod_priority(p), p["metadata"].get("creationTimestamp") or "",
                                       p["metadata"]["name"]))


def is_terminating_by_preemption(pod: dict) -> bool:
    if not pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "DisruptionTarget" and c.get("status") == "True"
               and c.get("reason") == _PREEMPTION_REASON for c in (pod.get("status") or {}).get("conditions") or [])


def disruption_target(at: str) -> dict:
    """The condition the scheduler adds to a victim before deleting it (v1.PodReasonPreemptionByScheduler)."""
    return {"type": "DisruptionTarget", "status": "True", "reason": _PREEMPTION_REASON,
            "message": "default-scheduler: preempting to accommodate a higher priority pod",
            "lastTransitionTime": at}


def eligible_to_preempt(pod: dict, pods_by_node: dict[str, list[dict]]) -> bool:
    if (pod.get("spec") or {}).get("preemptionPolicy") == PREEMPT_NEVER:
        return False
    nominated = (pod.get("status") or {}).get("nominatedNodeName")
    if nominated:
        priority = pod_priority(pod)
        return not any(pod_priority(p) < priority and is_terminating_by_preemption(p)
                       for p in pods_by_node.get(nominated, []))
    return True


def more_important_first(pods: list[dict]) -> list[dict]:
    """util.MoreImportantPod: higher priority, then the earlier start (the longer running) first."""
    return sorted(pods, key=lambda p: (-pod_priority(p), _start_time(p), p["metadata"]["name"]))


def pdb_split(victims: list[dict], pdbs: list[dict]) -> tuple[list[dict], list[dict]]:
    """filterPodsWithPDBViolation: (violating, non-violating), order kept; `pdbs` carry `status.disruptionsAllowed`."""
    allowed = [int((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs]
    violating, fine = [], []
    for pod in victims:
        labels = pod["metadata"].get("labels") or {}
        violated = False
        for index, pdb in enumerate(pdbs):
            selector = (pdb.get("spec") or {}).get("selector")
            if (not labels or pdb["metadata"].get("namespace") != pod["metadata"].get("namespace")
                    or not label_selector_string(selector) or not selector_from_label_selector(selector)(pod)
                    or pod["metadata"]["name"] in ((pdb.get("status") or {}).get("disruptedPods") or {})):
                continue
            allowed[index] -= 1
            violated = violated or allowed[index] < 0
        (violating if violated else fine).append(pod)
    return violating, fine


def plan_preemption(pod: dict, rooms: dict, pods_by_node: dict[str, list[dict]],
                    admits: Callable[[dict, str], bool], cpu_of: Callable[[dict], int],
                    pdbs: list[dict] = ()) -> Preemption | None:
    """Where `pod` (which fits no node as they are) could run once lower-priority pods go, and which go; None when
    no node would do or the pod may not preempt. `rooms`: node name -> what it has left (`free_cpu_m`, `free_pods`,
    as sandbox.pod_fit.NodeRoom); `admits(pod, node)`: the non-resource filters."""
    if not eligible_to_preempt(pod, pods_by_node):
        return None
    priority, request = pod_priority(pod), cpu_of(pod)
    candidates = []
    for name in sorted(rooms):
        room = rooms[name]
        if not admits(pod, name):
            continue
        potential = [p for p in pods_by_node.get(name, []) if pod_priority(p) < priority]
        if not potential:
            continue
        free_cpu = room.free_cpu_m + sum(cpu_of(p) for p in potential)
        free_pods = room.free_pods + len(potential)
        if free_cpu < request or free_pods < 1:
            continue
        candidate = _Candidate(name)
        violating, fine = pdb_split(more_important_first(potential), list(pdbs))
        for group, counts in ((violating, True), (fine, False)):
            for victim in group:
                if free_cpu - cpu_of(victim) >= request and free_pods - 1 >= 1:
                    free_cpu -= cpu_of(victim)  # reprieved: it stays and still leaves room
                    free_pods -= 1
                else:
                    candidate.victims.append(victim)
                    candidate.pdb_violations += counts
        candidate.victims = more_important_first(candidate.victims)
        candidates.append(candidate)
    if not candidates:
        return None
    chosen = pick_node(candidates)
    return Preemption(chosen.node, tuple(chosen.victims), chosen.pdb_violations)


def pick_node(candidates: list[_Candidate]) -> _Candidate:
    offset = 2 ** 31  # MaxInt32 + 1, so negative priorities still add up as upstream does
    for candidate in candidates:
        if not candidate.victims:
            return candidate

    def rank(candidate: _Candidate) -> tuple:
        highest = pod_priority(candidate.victims[0])
        latest_start = min(_start_time(p) for p in candidate.victims if pod_priority(p) == highest)
        return (candidate.pdb_violations, highest, sum(pod_priority(p) + offset for p in candidate.victims),
                len(candidate.victims), _negated(latest_start))

    return min(candidates, key=rank)  # min() keeps the first of equals: the first node by name


def _start_time(pod: dict) -> str:
    status = pod.get("status") or {}
    return status.get("startTime") or pod["metadata"].get("creationTimestamp") or ""


def _negated(stamp: str) -> tuple:
    return tuple(-ord(ch) for ch in stamp)
