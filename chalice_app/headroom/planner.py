"""Warm headroom per NodePool as a pure plan: NodePools + placeholder Deployments + clock + policy → HeadroomPlan.

Karpenter keeps no spare capacity (kubernetes-sigs/karpenter#749), so costguard keeps, per pool and only inside its
headroom schedule, a Deployment of pause pods whose requests sum to the headroom. They carry a negative-priority
PriorityClass with `preemptionPolicy: Never` (policies/headroom.yaml): Karpenter provisions nodes for them like for any
pending pod, and a function pod that does not fit preempts them at once (kubernetes/website
content/en/docs/concepts/scheduling-eviction/pod-priority-preemption.md); their replacements go Pending and Karpenter
launches room again. They are steered to the pool as an OpenFaaS Profile steers functions (openfaas/docs
docs/reference/profiles.md: `tolerations` and `affinity` copied into the pod spec): a required node affinity on
`karpenter.sh/nodepool` and a toleration for each of the pool template's taints.

Zero outside the schedule, while off-hours has the pool parked (so a parked pool still reaches zero nodes), and when
the budget cut it (the budget-status annotation says `headroom_cut`). One bad request is that pool's error only.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime

from chalice_app.headroom.policy import Policy  # noqa: F401 - planner's callers import it here
from chalice_app.headroom.spec import HeadroomError, HeadroomSpec, parse_headroom
from chalice_app.kube.names import (BUDGET_STATUS, HEADROOM, HEADROOM_NAMESPACE, HEADROOM_POOL_LABEL,
                                    HEADROOM_PRIORITY_CLASS, NODEPOOL_LABEL, ORIGINAL_LIMITS, ORIGINAL_REPLICAS)

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
POD_CPU_MILLIS = 1000  # one placeholder per vCPU: a function pod preempts only as much as it needs
MAX_PLACEHOLDERS = 256
MANAGED_BY = {"app.kubernetes.io/managed-by": "costguard"}


@dataclass(frozen=True)
class PoolHeadroom:
    pool: str
    source: str  # where the request came from
    spec: HeadroomSpec | None
    replicas: int  # placeholders wanted now
    pod_cpu_millis: int
    pod_memory_bytes: int
    reason: str
    next_change: datetime | None = None
    error: str | None = None
    current: int | None = None  # replicas of the existing Deployment; None: none exists
    action: str = "keep"  # "create", "scale", "update", "keep", "error"
    body: dict | None = None  # the whole Deployment (create) or a merge patch (scale/update)

    @property
    def cpu_millis(self) -> int:
        return self.replicas * self.pod_cpu_millis

    @property
    def memory_bytes(self) -> int:
        return self.replicas * self.pod_memory_bytes


@dataclass(frozen=True)
class HeadroomPlan:
    now: datetime
    pools: tuple[PoolHeadroom, ...]

    def changes(self) -> list[PoolHeadroom]:
        return [pool for pool in self.pools if pool.action in ("create", "scale", "update")]


def deployment_name(pool: str) -> str:
    return f"headroom-{pool}"


def _split(spec: HeadroomSpec) -> tuple[int, int, int]:
    replicas = min(MAX_PLACEHOLDERS, max(1, math.ceil(spec.cpu_millis / POD_CPU_MILLIS)))
    return replicas, math.ceil(spec.cpu_millis / replicas), math.ceil(spec.memory_bytes / replicas)


def tolerations_for(nodepool: dict) -> list[dict]:
    """A toleration for each taint of the pool's template: its pods may then land on the pool's nodes."""
    taints = (((nodepool.get("spec") or {}).get("template") or {}).get("spec") or {}).get("taints") or []
    tolerations = []
    for taint in taints:
        if not isinstance(taint, dict) or not isinstance(taint.get("key"), str):
            continue
        toleration = {"key": taint["key"], "effect": taint.get("effect", "NoSchedule")}
        toleration.update({"operator": "Equal", "value": taint["value"]} if taint.get("value") else
                          {"operator": "Exists"})
        tolerations.append(toleration)
    return tolerations


def pod_template(pool: str, nodepool: dict, cpu_millis: int, memory_bytes: int) -> dict:
    requests = {"cpu": f"{cpu_millis}m", **({"memory": str(memory_bytes)} if memory_bytes else {})}
    return {
        "metadata": {"labels": {HEADROOM_POOL_LABEL: pool, **MANAGED_BY}},
        "spec": {
            "priorityClassName": HEADROOM_PRIORITY_CLASS,
            "terminationGracePeriodSeconds": 0,  # a preempted placeholder frees its room at once
            "automountServiceAccountToken": False,
            "tolerations": tolerations_for(nodepool),
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": NODEPOOL_LABEL, "operator": "In", "values": [pool]}]}]}}},
            "containers": [{"name": "pause", "image": PAUSE_IMAGE, "resources": {"requests": requests}}],
        },
    }


def deployment(pool: str, nodepool: dict, replicas: int, cpu_millis: int, memory_bytes: int) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": deployment_name(pool), "namespace": HEADROOM_NAMESPACE,
                     "labels": {HEADROOM_POOL_LABEL: pool, **MANAGED_BY}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {HEADROOM_POOL_LABEL: pool}},
                 "template": pod_template(pool, nodepool, cpu_millis, memory_bytes)},
    }


def _request(nodepool: dict, policy: Policy) -> tuple[str, str] | None:
    name = nodepool["metadata"]["name"]
    annotations = nodepool["metadata"].get("annotations") or {}
    if isinstance(annotations.get(HEADROOM), str):
        return annotations[HEADROOM], f"NodePool {name} annotation {HEADROOM}"
    if name in policy.configured:
        return policy.configured[name], f"setting COSTGUARD_HEADROOM[{name}]"
    return None


def budget_cut(nodepool: dict) -> bool:
    """Did the budget's last run cut this pool's headroom? (its status annotation, written by the budget)"""
    text = (nodepool["metadata"].get("annotations") or {}).get(BUDGET_STATUS)
    try:
        return bool(json.loads(text).get("headroom_cut")) if isinstance(text, str) else False
    except (ValueError, AttributeError):
        return False


def parked(nodepool: dict) -> bool:
    annotations = nodepool["metadata"].get("annotations") or {}
    return ORIGINAL_LIMITS in annotations or ORIGINAL_REPLICAS in annotations


def wanted(nodepool: dict, policy: Policy, now: datetime) -> PoolHeadroom | None:
    """What one pool should keep now, and why; None when it asks for no headroom."""
    name = nodepool["metadata"]["name"]
    found = _request(nodepool, policy)
    if found is None:
        return None
    text, source = found
    try:
        spec = parse_headroom(text, source, policy.holidays, policy.timezone)
    except HeadroomError as error:
        return PoolHeadroom(name, source, None, 0, 0, 0, "request not understood", error=str(error), action="error")
    replicas, cpu, memory = _split(spec)
    inside = spec.schedule.contains(now)
    after = spec.schedule.next_change(now)
    if not inside:
        return PoolHeadroom(name, source, spec, 0, cpu, memory, f"outside {spec.schedule.spec!r}", after)
    if parked(nodepool):
        return PoolHeadroom(name, source, spec, 0, cpu, memory, "off-hours has the pool parked", after)
    if budget_cut(nodepool):
        return PoolHeadroom(name, source, spec, 0, cpu, memory, "cut by the budget (remaining budget cannot pay "
                                                                "for it)", after)
    return PoolHeadroom(name, source, spec, replicas, cpu, memory, f"inside {spec.schedule.spec!r}: "
                                                                     f"{spec.amount()}", after)


def _with_action(want: PoolHeadroom, nodepool: dict | None, existing: dict | None) -> PoolHeadroom:
    if want.action == "error":
        return want
    if existing is None:
        if want.replicas == 0 or nodepool is None:
            return want
        return replace(want, action="create", body=deployment(want.pool, nodepool, want.replicas,
                                                              want.pod_cpu_millis, want.pod_memory_bytes))
    spec = existing.get("spec") or {}
    current = spec.get("replicas") if isinstance(spec.get("replicas"), int) else 1
    want = replace(want, current=current)
    patch: dict = {"spec": {}}
    if current != want.replicas:
        patch["spec"]["replicas"] = want.replicas
    if nodepool is not None and want.replicas:
        template = pod_template(want.pool, nodepool, want.pod_cpu_millis, want.pod_memory_bytes)
        if _steering(spec.get("template") or {}) != _steering(template):
            patch["spec"]["template"] = template
    if not patch["spec"]:
        return want
    patch["metadata"] = {"resourceVersion": (existing.get("metadata") or {}).get("resourceVersion", "")}
    return replace(want, action="update" if "template" in patch["spec"] else "scale", body=patch)


def _steering(template: dict) -> tuple:
    spec = template.get("spec") or {}
    containers = spec.get("containers") or [{}]
    return (json.dumps(spec.get("tolerations") or [], sort_keys=True),
            json.dumps(spec.get("affinity") or {}, sort_keys=True), spec.get("priorityClassName"),
            json.dumps((containers[0] or {}).get("resources") or {}, sort_keys=True))


def plan_headroom(nodepools: list[dict], placeholders: list[dict], policy: Policy, now: datetime) -> HeadroomPlan:
    """Every pool that asks for headroom, and every placeholder Deployment whose pool no longer does (to zero)."""
    existing = {(item["metadata"].get("labels") or {}).get(HEADROOM_POOL_LABEL): item for item in placeholders}
    pools: list[PoolHeadroom] = []
    seen = set()
    for nodepool in sorted(nodepools, key=lambda pool: pool["metadata"]["name"]):
        want = wanted(nodepool, policy, now)
        if want is None:
            continue
        seen.add(want.pool)
        pools.append(_with_action(want, nodepool, existing.get(want.pool)))
    for pool, item in sorted((key, value) for key, value in existing.items() if key and key not in seen):
        orphan = PoolHeadroom(pool, "placeholder Deployment", None, 0, 0, 0, "the pool no longer asks for headroom")
        pools.append(_with_action(orphan, None, item))
    return HeadroomPlan(now, tuple(pools))
