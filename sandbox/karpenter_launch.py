"""Karpenter's launch decisions in the simulator (pure): which NodePool a pending pod goes to, and which instance
type a new node gets within the pool's `limits.cpu`. The simulator (ClusterSim._provision) acts on them."""
from __future__ import annotations

from sandbox.objects import DAEMONSET_PODS
from sandbox.pod_fit import admits, cpu_m
from sandbox.seed import LAUNCH_SHAPES, SHAPES


def pool_for(pod: dict, pools: list[dict]) -> dict | None:
    """The first NodePool (by weight, then name) whose nodes would admit the pod."""
    for pool in sorted(pools, key=lambda p: (-p["spec"].get("weight", 0), p["metadata"]["name"])):
        template = pool["spec"]["template"]
        labels = {**template.get("metadata", {}).get("labels", {}), "karpenter.sh/nodepool": pool["metadata"]["name"]}
        for requirement in template["spec"].get("requirements", []):
            if requirement["operator"] == "In" and requirement.get("values"):
                labels[requirement["key"]] = requirement["values"][0]
        if admits(pod["spec"], labels, template["spec"].get("taints", [])):
            return pool
    return None


def choose_shape(pool: dict, pending_cpu: list[int], used_cpu: int) -> str | None:
    """The smallest launchable type that fits all pending pods, else the largest; None past `limits.cpu`.
    Karpenter drops every instance type whose capacity exceeds what is left of the pool's limits
    (kubernetes-sigs/karpenter pkg/controllers/provisioning/scheduling/scheduler.go filterByRemainingResources),
    so a pool parked at `cpu: "0"` launches nothing and its pods stay Pending."""
    capacity_type = next((r["values"][0] for r in pool["spec"]["template"]["spec"].get("requirements", [])
                          if r["key"] == "karpenter.sh/capacity-type"), "on-demand")
    limit = pool["spec"].get("limits", {}).get("cpu")
    allowed = [SHAPES[name] for name in LAUNCH_SHAPES[capacity_type]
               if limit is None or used_cpu + SHAPES[name].vcpus * 1000 <= cpu_m(limit)]
    if not allowed:
        return None
    for shape in allowed:
        if shape.allocatable_cpu_m >= sum(pending_cpu) and shape.max_pods - DAEMONSET_PODS >= len(pending_cpu):
            return shape.name
    largest = allowed[-1]
    return largest.name if largest.allocatable_cpu_m >= min(pending_cpu) else None

