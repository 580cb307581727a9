"""A read-only snapshot of what costguard has done to the cluster, from the annotations it leaves."""
from __future__ import annotations

import json
from dataclasses import dataclass

from kubernetes import client as k8s

from chalice_app.kube.lists import list_items
from chalice_app.kube.names import (APPS, BUDGET_STATUS, KARPENTER_GROUP, KARPENTER_VERSION, NODEPOOLS, ORIGINAL_LIMITS,
                                    ORIGINAL_REPLICAS)
from chalice_app.kube.rest import resource_path


@dataclass(frozen=True)
class NodePoolStatus:
    name: str
    limits: dict
    stored_limits: dict | None
    budget_summary: str


@dataclass(frozen=True)
class FunctionDown:
    name: str
    namespace: str
    replicas: int
    restore_to: int


@dataclass(frozen=True)
class ClusterStatus:
    nodepools: list[NodePoolStatus]
    functions_down: list[FunctionDown]


def compact_summary(summary: dict) -> str:
    """A run summary on one line: numbers and flags as they are, lists by length, nested detail left out."""
    parts = []
    for key, value in sorted(summary.items()):
        if isinstance(value, bool) or isinstance(value, (int, float, str)):
            parts.append(f"{key}={value}")
        elif isinstance(value, (list, tuple)) and value:
            parts.append(f"{key}={len(value)}")
    return " ".join(parts)


def summarize_budget(annotation: str | None) -> str:
    if not annotation:
        return ""
    try:
        status = json.loads(annotation)
    except ValueError:
        return "unreadable budget-status annotation"
    parts = [f"{key}={status[key]}" for key in ("spent", "remaining", "limit", "at") if key in status]
    return " ".join(parts)


def nodepool_status(nodepool: dict) -> NodePoolStatus:
    annotations = nodepool.get("metadata", {}).get("annotations") or {}
    stored = annotations.get(ORIGINAL_LIMITS)
    return NodePoolStatus(
        name=nodepool["metadata"]["name"],
        limits=nodepool.get("spec", {}).get("limits") or {},
        stored_limits=json.loads(stored) if stored else None,
        budget_summary=summarize_budget(annotations.get(BUDGET_STATUS)),
    )


def function_down(deployment: dict) -> FunctionDown | None:
    metadata = deployment.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    if not str(annotations.get(ORIGINAL_REPLICAS, "")).strip().isdigit():
        return None  # absent, or not ours to read (untrusted): off-hours reports bad annotations itself
    return FunctionDown(metadata.get("name", ""), metadata.get("namespace", ""),
                        (deployment.get("spec") or {}).get("replicas") or 0, int(annotations[ORIGINAL_REPLICAS]))


def cluster_status(api: k8s.ApiClient, namespaces: list[str]) -> ClusterStatus:
    pools = list_items(api, resource_path(NODEPOOLS, (KARPENTER_GROUP, KARPENTER_VERSION)))
    down = [entry for namespace in namespaces
            for entry in map(function_down, list_items(api, resource_path("deployments", APPS, namespace))) if entry]
    return ClusterStatus([nodepool_status(pool) for pool in pools], sorted(down, key=lambda f: (f.namespace, f.name)))
