"""Read what correlation needs, once per batch: all Nodes, all NodeClaims, the function pods. Raw dicts.

Lists are paged (`limit` / `continue`) and read without the client's model deserialization: the plain JSON
dicts are what the pure core takes, and building V1Node objects for thousands of nodes costs more than the
request. Requests per batch are ceil(n / PAGE_SIZE) per kind, whatever the number of messages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Sequence

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.interruptions.correlation import FUNCTION_LABEL

PAGE_SIZE = 5000


@dataclass(frozen=True)
class ClusterSnapshot:
    nodes: list[dict]
    claims: list[dict]
    pods: list[dict]
    requests: int


def list_pages(call: Callable, **kwargs) -> tuple[list[dict], int]:
    """Every item of a list call, following `continue` tokens; also the number of requests it took."""
    items: list[dict] = []
    token = None
    requests = 0
    while True:
        response = call(limit=PAGE_SIZE, _continue=token, _preload_content=False, **kwargs)
        requests += 1
        body = json.loads(response.data)
        items.extend(body.get("items") or [])
        token = (body.get("metadata") or {}).get("continue")
        if not token:
            return items, requests


def read_snapshot(api: k8s.ApiClient, namespaces: Sequence[str]) -> ClusterSnapshot:
    core = k8s.CoreV1Api(api)
    nodes, requests = list_pages(core.list_node)
    try:
        claims, count = list_pages(k8s.CustomObjectsApi(api).list_cluster_custom_object,
                                   group="karpenter.sh", version="v1", plural="nodeclaims")
        requests += count
    except ApiException as error:
        if error.status != 404:  # 404: no Karpenter in this cluster, only static node groups
            raise
        claims, requests = [], requests + 1
    pods: list[dict] = []
    for namespace in namespaces:
        found, count = list_pages(core.list_namespaced_pod, namespace=namespace, label_selector=FUNCTION_LABEL)
        pods.extend(found)
        requests += count
    return ClusterSnapshot(nodes, claims, pods, requests)


def pods_on_node(api: k8s.ApiClient, node_name: str) -> list[dict]:
    """Every pod on one node (all namespaces), for a drain: a field selector, one request per drained node."""
    items, _ = list_pages(k8s.CoreV1Api(api).list_pod_for_all_namespaces, field_selector=f"spec.nodeName={node_name}")
    return items
