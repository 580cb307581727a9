"""Thin Kubernetes adapter for off-hours: paged lists reduced to slim records, and conditional merge patches.

Responses are read raw (`_preload_content=False`) and reduced page by page: the client's model objects for 10,000
Deployments would cost seconds and tens of megabytes for fields we throw away. For the same reason Deployments go
through the client's generic CustomObjectsApi (apps/v1 is a named API group, so its paths are the standard ones) and
the namespace read through ApiClient.call_api: AppsV1Api and CoreV1Api would add ~25 MB of imports to a 128 MB Lambda.
"""
from __future__ import annotations

import json

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.errors import KubeAccessError
from chalice_app.offhours.model import (
    FUNCTION_LABEL,
    FunctionDeployment,
    NodePoolLimits,
    function_from_object,
    namespace_annotations,
    nodepool_from_object,
)

PAGE = 500
MERGE_PATCH = "application/merge-patch+json"
KARPENTER = ("karpenter.sh", "v1", "nodepools")
DEPLOYMENTS = ("apps", "v1")


def _body(response) -> bytes:
    """Read a raw (urllib3) response and hand its connection back to the pool: an unreleased one is never reused,
    and every request would then pay a new TCP connection."""
    try:
        return response.data
    finally:
        response.release_conn()


def _pages(call, *args, **kwargs):
    token = None
    while True:
        response = call(*args, limit=PAGE, _preload_content=False, **kwargs, **({"_continue": token} if token else {}))
        page = json.loads(_body(response))
        yield page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


class OffhoursCluster:
    def __init__(self, api: k8s.ApiClient):
        self._api = api
        self._custom = k8s.CustomObjectsApi(api)

    def functions(self, namespace: str) -> list[FunctionDeployment]:
        """Every OpenFaaS function Deployment (label faas_function) in `namespace`."""
        return [function_from_object(item)
                for page in _pages(self._custom.list_namespaced_custom_object, *DEPLOYMENTS, namespace, "deployments",
                                   label_selector=FUNCTION_LABEL)
                for item in page]

    def function(self, namespace: str, name: str) -> FunctionDeployment:
        response = self._custom.get_namespaced_custom_object(*DEPLOYMENTS, namespace, "deployments", name,
                                                             _preload_content=False)
        return function_from_object(json.loads(_body(response)))

    def namespace_annotations(self, names: list[str]) -> dict[str, dict[str, str]]:
        """Annotations of the configured namespaces (one get each: they are few)."""
        found = {}
        for name in names:
            request = self._api.param_serialize("GET", "/api/v1/namespaces/{name}", path_params={"name": name},
                                                header_params={"Accept": "application/json"},
                                                auth_settings=["BearerToken"])
            response = self._api.call_api(*request)
            response.read()  # RESTResponse: reads the body and releases the connection
            if response.status == 404:
                raise KubeAccessError(f"namespace {name!r} from COSTGUARD_FUNCTION_NAMESPACES does not exist")
            if not 200 <= response.status <= 299:
                raise ApiException(http_resp=response)
            key, annotations = namespace_annotations(json.loads(response.data))
            found[key] = annotations
        return found

    def patch_function(self, namespace: str, name: str, patch: dict) -> None:
        _body(self._custom.patch_namespaced_custom_object(*DEPLOYMENTS, namespace, "deployments", name, patch,
                                                          _content_type=MERGE_PATCH, _preload_content=False))

    def nodepools(self) -> list[NodePoolLimits]:
        return [nodepool_from_object(item)
                for page in _pages(self._custom.list_cluster_custom_object, *KARPENTER) for item in page]

    def patch_nodepool(self, name: str, patch: dict) -> None:
        _body(self._custom.patch_cluster_custom_object(*KARPENTER, name, patch, _content_type=MERGE_PATCH,
                                                       _preload_content=False))
