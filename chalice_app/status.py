"""A read-only snapshot of what costguard has done to the cluster: the stage table's records of what off-hours parked
(the truth: a redeploy or a GitOps sync can remove the annotations) and, where the table holds nothing, the
annotations costguard leaves as their mirrors. One unreadable value is that object's row, never the command's."""
from __future__ import annotations

import json
from dataclasses import dataclass

from kubernetes import client as k8s

from chalice_app.kube.lists import list_items
from chalice_app.kube.names import (APPS, BUDGET_STATUS, KARPENTER_GROUP, KARPENTER_VERSION, NODEPOOLS, ORIGINAL_LIMITS,
                                    ORIGINAL_REPLICAS)
from chalice_app.counts import count_or_none, shown
from chalice_app.kube.rest import resource_path
from chalice_app.offhours.model import MAX_REPLICAS
from chalice_app.offhours.parked import ParkedPool
from chalice_app.table_keys import function_id, nodepool_id


@dataclass(frozen=True)
class NodePoolStatus:
    name: str
    limits: dict
    stored_limits: dict | None  # what off-hours puts back at uptime (limits, or {"replicas": n} for a static pool)
    budget_summary: str
    stored_from: str = ""  # "stage table", "annotation", or why neither could be read


@dataclass(frozen=True)
class FunctionDown:
    name: str
    namespace: str
    replicas: int
    restore_to: int | None  # None: the stored count could not be read (`source` says why)
    source: str = "annotation"  # "stage table" (the mirror annotation may be gone), "annotation", or a problem


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


def nodepool_status(nodepool: dict, record: dict | None = None) -> NodePoolStatus:
    annotations = (nodepool.get("metadata") or {}).get("annotations") or {}
    limits = (nodepool.get("spec") or {}).get("limits")
    stored, source = None, ""
    if record is not None:
        try:
            parked = ParkedPool.from_item(record)
            stored = parked.limits if parked.limits is not None else {"replicas": parked.replicas}
            source = "stage table"
        except (ValueError, TypeError, KeyError) as error:
            source = f"unreadable stage table record ({type(error).__name__})"
    elif ORIGINAL_LIMITS in annotations:
        try:
            value = json.loads(annotations[ORIGINAL_LIMITS])
        except (ValueError, TypeError):
            value = None
        stored, source = (value, "annotation") if isinstance(value, dict) else \
            (None, f"unreadable annotation {shown(annotations[ORIGINAL_LIMITS])}")
    return NodePoolStatus(
        name=str((nodepool.get("metadata") or {}).get("name", "")),
        limits=limits if isinstance(limits, dict) else {},
        stored_limits=stored,
        budget_summary=summarize_budget(annotations.get(BUDGET_STATUS)),
        stored_from=source,
    )


def function_down(deployment: dict, record: dict | None = None) -> FunctionDown | None:
    """The function as parked by off-hours (its table record, else its mirror annotation); None when it is not."""
    metadata = deployment.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    replicas = (deployment.get("spec") or {}).get("replicas")
    now = replicas if isinstance(replicas, int) else 0
    name, namespace = str(metadata.get("name", "")), str(metadata.get("namespace", ""))
    mirror = annotations.get(ORIGINAL_REPLICAS)
    if record is not None:
        stored = record.get("replicas")
        count = count_or_none(str(stored) if isinstance(stored, int) else stored, MAX_REPLICAS)
        source = "stage table" if mirror is not None else "stage table (the annotation is gone: a redeploy?)"
        return FunctionDown(name, namespace, now, count, source if count is not None else
                            "unreadable stage table record")
    if mirror is None:
        return None
    count = count_or_none(mirror, MAX_REPLICAS)
    return FunctionDown(name, namespace, now, count, "annotation" if count is not None else
                        f"unreadable annotation {shown(mirror)}")


def cluster_status(api: k8s.ApiClient, namespaces: list[str], store=None) -> ClusterStatus:
    """`store`: the stage's off-hours records (offhours.parked.DynamoParkedStore); None: the annotations only."""
    pools = list_items(api, resource_path(NODEPOOLS, (KARPENTER_GROUP, KARPENTER_VERSION)))
    deployments = [item for namespace in namespaces
                   for item in list_items(api, resource_path("deployments", APPS, namespace))]
    function_keys = [function_id(str(item["metadata"].get("namespace", "")), str(item["metadata"].get("name", "")))
                     for item in deployments]
    pool_keys = [nodepool_id(str(pool["metadata"].get("name", ""))) for pool in pools]
    found = store.get_many([*function_keys, *pool_keys]) if store is not None else {}
    down = [entry for item, key in zip(deployments, function_keys) if (entry := function_down(item, found.get(key)))]
    return ClusterStatus([nodepool_status(pool, found.get(key)) for pool, key in zip(pools, pool_keys)],
                         sorted(down, key=lambda f: (f.namespace, f.name)))
