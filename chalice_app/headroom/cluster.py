"""Thin Kubernetes adapter for headroom: list NodePools and the placeholder Deployments, create or merge-patch them."""
from __future__ import annotations

from kubernetes import client as k8s

from chalice_app.kube.lists import list_items
from chalice_app.kube.names import APPS, HEADROOM_NAMESPACE, HEADROOM_POOL_LABEL, KARPENTER_GROUP, KARPENTER_VERSION, NODEPOOLS
from chalice_app.kube.rest import MergePatcher, call, resource_path


class HeadroomCluster:
    def __init__(self, api: k8s.ApiClient):
        self._api = api
        self._patcher = MergePatcher(api)

    def nodepools(self) -> list[dict]:
        return list_items(self._api, resource_path(NODEPOOLS, (KARPENTER_GROUP, KARPENTER_VERSION)))

    def placeholders(self) -> list[dict]:
        return list_items(self._api, resource_path("deployments", APPS, HEADROOM_NAMESPACE),
                          label_selector=HEADROOM_POOL_LABEL)

    def create(self, body: dict) -> None:
        call(self._api, "POST", resource_path("deployments", APPS, HEADROOM_NAMESPACE), body=body,
             content_type="application/json")

    def patch(self, name: str, patch: dict) -> None:
        self._patcher.patch(resource_path("deployments", APPS, HEADROOM_NAMESPACE, name), patch)
