"""Thin Kubernetes adapter for Slack actions: read a function or a namespace, merge-patch their annotations.

Reuses the off-hours adapter's reads (one `get` each, raw JSON) and adds the one write the route needs on a
Namespace (RBAC: `namespaces` `patch`). Deployment patches carry `metadata.resourceVersion` (409 if it moved).
"""
from __future__ import annotations

from chalice_app.kube.names import APPS, FUNCTION_LABEL
from chalice_app.kube.rest import get_json_or_none, resource_path
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.model import FunctionDeployment, function_from_object


class NotAFunction(LookupError):
    """No OpenFaaS function Deployment of that name in that namespace."""


class ActionsCluster(OffhoursCluster):
    def openfaas_function(self, namespace: str, name: str) -> FunctionDeployment:
        """The function's Deployment; NotAFunction when absent or not labelled as an OpenFaaS function."""
        obj = get_json_or_none(self._api, resource_path("deployments", APPS, namespace, name))
        if obj is None or FUNCTION_LABEL not in ((obj.get("metadata") or {}).get("labels") or {}):
            raise NotAFunction(name)
        return function_from_object(obj)

    def patch_namespace(self, name: str, patch: dict) -> None:
        self._patcher.patch(resource_path("namespaces", name=name), patch)
