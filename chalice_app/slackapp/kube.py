"""Thin Kubernetes adapter for Slack actions: read a function or a namespace, merge-patch their annotations.

Reuses the off-hours adapter's reads (one `get` each, raw JSON) and adds the one write the route needs on a
Namespace (RBAC: `namespaces` `patch`). Deployment patches carry `metadata.resourceVersion` (409 if it moved).
"""
from __future__ import annotations

import json

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.offhours.cluster import DEPLOYMENTS, MERGE_PATCH, OffhoursCluster, _body
from chalice_app.offhours.model import FunctionDeployment, function_from_object
from chalice_app.kube.names import FUNCTION_LABEL


class NotAFunction(LookupError):
    """No OpenFaaS function Deployment of that name in that namespace."""


class ActionsCluster(OffhoursCluster):
    def __init__(self, api: k8s.ApiClient):
        super().__init__(api)
        self._client = api

    def openfaas_function(self, namespace: str, name: str) -> FunctionDeployment:
        """The function's Deployment; NotAFunction when absent or not labelled as an OpenFaaS function."""
        try:
            response = self._custom.get_namespaced_custom_object(*DEPLOYMENTS, namespace, "deployments", name,
                                                                 _preload_content=False)
        except ApiException as error:
            if error.status == 404:
                raise NotAFunction(name) from None
            raise
        obj = json.loads(_body(response))
        if FUNCTION_LABEL not in ((obj.get("metadata") or {}).get("labels") or {}):
            raise NotAFunction(name)
        return function_from_object(obj)

    def patch_namespace(self, name: str, patch: dict) -> None:
        request = self._client.param_serialize("PATCH", "/api/v1/namespaces/{name}", path_params={"name": name},
                                               header_params={"Accept": "application/json",
                                                              "Content-Type": MERGE_PATCH},
                                               body=patch, auth_settings=["BearerToken"])
        response = self._client.call_api(*request)
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response)
