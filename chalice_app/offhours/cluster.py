"""Thin Kubernetes adapter for off-hours: paged lists reduced to slim records, and conditional merge patches.

Everything goes through kube.rest and kube.lists (plain dicts over the client's ApiClient, connections released,
field manager `costguard`): the client's model objects for 10,000 Deployments would cost seconds and tens of
megabytes for fields we throw away, and AppsV1Api/CoreV1Api ~25 MB of imports in a 128 MB Lambda.
"""
from __future__ import annotations

from typing import Callable
from urllib.parse import quote

from kubernetes import client as k8s

from chalice_app.errors import KubeAccessError
from chalice_app.kube.lists import list_items, pages
from chalice_app.kube.names import (APPS, FUNCTION_LABEL, KARPENTER_GROUP, KARPENTER_VERSION, NODECLAIMS, NODEPOOL_LABEL,
                                    NODEPOOLS)
from chalice_app.kube.rest import MergePatcher, call, get_json, get_json_or_none, resource_path
from chalice_app.offhours.model import (
    FunctionDeployment,
    NodePoolLimits,
    function_from_object,
    namespace_annotations,
    nodepool_from_object,
)

KARPENTER = (KARPENTER_GROUP, KARPENTER_VERSION)
GATEWAY, AUTOSCALER = "gateway", "autoscaler"  # the chart's Deployment names (faas-netes chart/openfaas/templates)


class OffhoursCluster:
    def __init__(self, api: k8s.ApiClient, on_listed: Callable[[dict], None] | None = None):
        """`on_listed`: called with each function Deployment as listed, so that what runs after the reconcile
        (the savings ledger) takes what it needs of the same list rather than listing 10,000 Deployments again."""
        self._api = api
        self._patcher = MergePatcher(api)
        self._on_listed = on_listed

    def functions(self, namespace: str) -> list[FunctionDeployment]:
        """Every OpenFaaS function Deployment (label faas_function) in `namespace`."""
        found = []
        for page in pages(self._api, resource_path("deployments", APPS, namespace), label_selector=FUNCTION_LABEL):
            for item in page:
                found.append(function_from_object(item))
                if self._on_listed is not None:
                    self._on_listed(item)
        return found

    def function(self, namespace: str, name: str) -> FunctionDeployment:
        return function_from_object(get_json(self._api, resource_path("deployments", APPS, namespace, name)))

    def deployment(self, namespace: str, name: str) -> dict | None:
        """A Deployment as a dict, None when it does not exist (the OpenFaaS gateway and autoscaler)."""
        return get_json_or_none(self._api, resource_path("deployments", APPS, namespace, name))

    def openfaas_deployments(self, namespace: str) -> tuple[dict | None, dict | None]:
        """The gateway and autoscaler Deployments, for telling CE from Standard (editions.detect)."""
        gateway = self.deployment(namespace, GATEWAY)
        return gateway, (self.deployment(namespace, AUTOSCALER) if gateway is not None else None)

    def namespace_annotations(self, names: list[str]) -> dict[str, dict[str, str]]:
        """Annotations of the configured namespaces (one get each: they are few)."""
        found = {}
        for name in names:
            try:
                namespace = get_json_or_none(self._api, resource_path("namespaces", name=name))
            except k8s.ApiException as error:
                if error.status != 403:
                    raise
                # costguard's rights on a function namespace come from a Role inside it: a namespace that does not
                # exist has no Role, so kube-apiserver answers 403 where a cluster-wide grant would have said 404
                namespace = None
            if namespace is None:
                raise KubeAccessError(f"namespace {name!r} from COSTGUARD_FUNCTION_NAMESPACES does not exist "
                                      "(or costguard has no Role in it: policies/kubernetes-rbac.yaml)")
            key, annotations = namespace_annotations(namespace)
            found[key] = annotations
        return found

    def service_proxy(self, namespace: str, service: str, path: str, query: list | None = None) -> bytes:
        """GET through the API server's service proxy (what CoreV1Api.connect_get_namespaced_service_proxy_with_path
        does), e.g. the OpenFaaS Prometheus' query API; RBAC: get services/proxy."""
        # `service` ("prometheus:9090") and `path` are ours (settings), joined as they are: escaped, the port's colon
        # and the path's slashes would no longer mean what they say.
        proxy = f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{service}/proxy/{path.lstrip('/')}"
        return call(self._api, "GET", proxy, query).data

    def patch_function(self, namespace: str, name: str, patch: dict) -> None:
        self._patcher.patch(resource_path("deployments", APPS, namespace, name), patch)

    def karpenter_nodes(self) -> list[dict]:
        """Nodes Karpenter launched (label karpenter.sh/nodepool)."""
        return list_items(self._api, resource_path("nodes"), label_selector=NODEPOOL_LABEL)

    def pods_on(self, node: str) -> list[dict]:
        return list_items(self._api, resource_path("pods"), field_selector=f"spec.nodeName={node}")

    def all_pods(self) -> list[dict]:
        return list_items(self._api, resource_path("pods"))

    def function_pods(self, namespace: str, name: str) -> list[dict]:
        return list_items(self._api, resource_path("pods", namespace=namespace),
                          label_selector=f"{FUNCTION_LABEL}={name}")

    def pending_function_pods(self, namespace: str) -> list[dict]:
        return list_items(self._api, resource_path("pods", namespace=namespace), label_selector=FUNCTION_LABEL,
                          field_selector="status.phase=Pending")

    def nodepools(self) -> list[NodePoolLimits]:
        return [nodepool_from_object(item) for item in list_items(self._api, resource_path(NODEPOOLS, KARPENTER))]

    def patch_nodepool(self, name: str, patch: dict) -> None:
        self._patcher.patch(resource_path(NODEPOOLS, KARPENTER, name=name), patch)

    def scale_nodepool(self, name: str, patch: dict) -> None:
        """A static NodePool's replicas through its scale subresource (the NodePool CRD declares
        subresources.scale with specReplicasPath .spec.replicas)."""
        self._patcher.patch(resource_path(NODEPOOLS, KARPENTER, name=name, subresource="scale"), patch)

    def list_nodeclaims(self) -> list[dict]:
        return list_items(self._api, resource_path(NODECLAIMS, KARPENTER))

    def delete_nodeclaim(self, name: str, uid: str) -> None:
        """`kubectl delete nodeclaim`: Karpenter's finalizer then drains and terminates; the uid as precondition."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", **({"preconditions": {"uid": uid}} if uid else {})}
        call(self._api, "DELETE", resource_path(NODECLAIMS, KARPENTER, name=name), body=body,
             content_type="application/json")
