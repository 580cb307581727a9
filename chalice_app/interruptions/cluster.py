"""Read what correlation needs, once per batch: all Nodes, all NodeClaims, the function pods. Raw dicts.

Lists go through kube.lists (paged, plain JSON dicts, connections released): the dicts are what the pure core
takes, and building V1Node objects for thousands of nodes costs more than the request. Requests per batch are
ceil(n / PAGE_SIZE) per kind, whatever the number of messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.kube.lists import list_items, pages
from chalice_app.kube.names import FUNCTION_LABEL, KARPENTER_GROUP, KARPENTER_VERSION, NODECLAIMS
from chalice_app.kube.rest import resource_path


@dataclass(frozen=True)
class ClusterSnapshot:
    nodes: list[dict]
    claims: list[dict]
    pods: list[dict]
    requests: int


def _counted(api: k8s.ApiClient, path: str, label_selector: str | None = None) -> tuple[list[dict], int]:
    """Every item of a list, and the number of requests (pages) it took."""
    items: list[dict] = []
    requests = 0
    for page in pages(api, path, label_selector):
        items.extend(page)
        requests += 1
    return items, requests


def read_snapshot(api: k8s.ApiClient, namespaces: Sequence[str]) -> ClusterSnapshot:
    nodes, requests = _counted(api, resource_path("nodes"))
    try:
        claims, count = _counted(api, resource_path(NODECLAIMS, (KARPENTER_GROUP, KARPENTER_VERSION)))
        requests += count
    except ApiException as error:
        if error.status != 404:  # 404: no Karpenter in this cluster, only static node groups
            raise
        claims, requests = [], requests + 1
    pods: list[dict] = []
    for namespace in namespaces:
        found, count = _counted(api, resource_path("pods", namespace=namespace), label_selector=FUNCTION_LABEL)
        pods.extend(found)
        requests += count
    return ClusterSnapshot(nodes, claims, pods, requests)


def pods_on_node(api: k8s.ApiClient, node_name: str) -> list[dict]:
    """Every pod on one node (all namespaces), for a drain: a field selector, one request per drained node."""
    return list_items(api, resource_path("pods"), field_selector=f"spec.nodeName={node_name}")
