"""Thin Kubernetes adapter for the budget: list NodePools, NodeClaims, Nodes and function Pods as plain dicts, and
merge-patch a NodePool (the patch carries metadata.resourceVersion, so a concurrent change answers 409)."""
from __future__ import annotations

import boto3
from kubernetes import client as k8s

from chalice_app.config import Settings
from chalice_app.kube.lists import list_items
from chalice_app.kube.names import (KARPENTER_AWS_GROUP, KARPENTER_GROUP, KARPENTER_VERSION, NODECLAIMS, NODECLASSES,
                                    NODEPOOLS)
from chalice_app.kube.rest import MergePatcher, resource_path

KARPENTER = (KARPENTER_GROUP, KARPENTER_VERSION)


class BudgetCluster:
    def __init__(self, api: k8s.ApiClient):
        self._api = api
        self._patcher = MergePatcher(api)

    def nodepools(self) -> list[dict]:
        return list_items(self._api, resource_path(NODEPOOLS, KARPENTER))

    def nodeclaims(self) -> list[dict]:
        return list_items(self._api, resource_path(NODECLAIMS, KARPENTER))

    def nodeclasses(self) -> list[dict]:
        return list_items(self._api, resource_path(NODECLASSES, (KARPENTER_AWS_GROUP, KARPENTER_VERSION)))

    def nodes(self) -> list[dict]:
        return list_items(self._api, resource_path("nodes"))

    def pods(self, namespaces: list[str]) -> list[dict]:
        return [pod for namespace in namespaces
                for pod in list_items(self._api, resource_path("pods", namespace=namespace))]

    def patch_nodepool(self, name: str, patch: dict) -> dict:
        return self._patcher.patch_json(resource_path(NODEPOOLS, KARPENTER, name=name), patch)


class StageBudgetCluster:
    """BudgetCluster over the stage's cluster, opened at the first call: a bad budget document is reported without
    reaching the cluster, and a cluster that cannot be reached is the run's reported error."""

    def __init__(self, settings: Settings, session: boto3.session.Session):
        self._settings, self._session = settings, session
        self._cluster: BudgetCluster | None = None

    def _opened(self) -> BudgetCluster:
        if self._cluster is None:
            from chalice_app.kube.client import api_client

            self._cluster = BudgetCluster(api_client(self._settings, self._session))
        return self._cluster

    def nodepools(self) -> list[dict]:
        return self._opened().nodepools()

    def nodeclaims(self) -> list[dict]:
        return self._opened().nodeclaims()

    def nodeclasses(self) -> list[dict]:
        return self._opened().nodeclasses()

    def nodes(self) -> list[dict]:
        return self._opened().nodes()

    def pods(self, namespaces: list[str]) -> list[dict]:
        return self._opened().pods(namespaces)

    def patch_nodepool(self, name: str, patch: dict) -> dict:
        return self._opened().patch_nodepool(name, patch)
