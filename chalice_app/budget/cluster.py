"""Thin Kubernetes adapter for the budget: list NodePools, NodeClaims, Nodes and function Pods as plain dicts, and
merge-patch a NodePool (the patch carries metadata.resourceVersion, so a concurrent change answers 409)."""
from __future__ import annotations

from kubernetes import client as k8s

KARPENTER_GROUP = "karpenter.sh"
KARPENTER_VERSION = "v1"
AWS_GROUP = "karpenter.k8s.aws"  # EC2NodeClass: volumes and capacity reservations
PAGE = 500


class BudgetCluster:
    def __init__(self, api: k8s.ApiClient):
        self._api = api
        self._custom = k8s.CustomObjectsApi(api)
        self._core = k8s.CoreV1Api(api)

    def _custom_list(self, plural: str, group: str = KARPENTER_GROUP) -> list[dict]:
        items, token = [], None
        while True:
            page = self._custom.list_cluster_custom_object(group, KARPENTER_VERSION, plural, limit=PAGE,
                                                           **({"_continue": token} if token else {}))
            items.extend(page.get("items", []))
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def _core_list(self, call, *args) -> list[dict]:
        items, token = [], None
        while True:
            page = call(*args, limit=PAGE, **({"_continue": token} if token else {}))
            items.extend(self._api.sanitize_for_serialization(item) for item in page.items)
            token = page.metadata._continue
            if not token:
                return items

    def nodepools(self) -> list[dict]:
        return self._custom_list("nodepools")

    def nodeclaims(self) -> list[dict]:
        return self._custom_list("nodeclaims")

    def nodeclasses(self) -> list[dict]:
        return self._custom_list("ec2nodeclasses", AWS_GROUP)

    def nodes(self) -> list[dict]:
        return self._core_list(self._core.list_node)

    def pods(self, namespaces: list[str]) -> list[dict]:
        return [pod for namespace in namespaces for pod in self._core_list(self._core.list_namespaced_pod, namespace)]

    def patch_nodepool(self, name: str, patch: dict) -> dict:
        return self._custom.patch_cluster_custom_object(KARPENTER_GROUP, KARPENTER_VERSION, "nodepools", name, patch,
                                                        _content_type="application/merge-patch+json")
