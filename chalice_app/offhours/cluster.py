"""Thin Kubernetes adapter for off-hours: paged lists reduced to slim records, and conditional merge patches.

Responses are read raw (`_preload_content=False`) and reduced page by page: the client's model objects for 10,000
Deployments would cost seconds and tens of megabytes for fields we throw away. For the same reason Deployments go
through the client's generic CustomObjectsApi (apps/v1 is a named API group, so its paths are the standard ones) and
the namespace read through ApiClient.call_api: AppsV1Api and CoreV1Api would add ~25 MB of imports to a 128 MB Lambda.

Writes go through ApiClient.param_serialize + call_api with the patch as a plain dict: the same client, its auth,
retries and connection pool, without the generated method's per-call validation and (de)serialisation, which was
most of the client CPU per patch at 10,000 functions. Every write names the field manager `costguard`, so
`kubectl get --show-managed-fields` and GitOps tools see who changed what.
"""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.errors import KubeAccessError
from chalice_app.kube.names import FUNCTION_LABEL
from chalice_app.offhours.model import (
    FunctionDeployment,
    NodePoolLimits,
    function_from_object,
    namespace_annotations,
    nodepool_from_object,
)

PAGE = 500
MERGE_PATCH = "application/merge-patch+json"
FIELD_MANAGER = "costguard"
KARPENTER = ("karpenter.sh", "v1", "nodepools")
DEPLOYMENTS = ("apps", "v1")
GATEWAY, AUTOSCALER = "gateway", "autoscaler"
HEADERS_SECONDS = 60.0  # the write headers (bearer token included) are re-made this often; tokens live 15 min  # the chart's Deployment names (faas-netes chart/openfaas/templates)


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
        self._write_headers: tuple[float, dict] | None = None
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, path_params: dict, body: dict | None = None,
              query: list | None = None, content_type: str | None = None):
        """One request through the client's own plumbing; the response (read) or ApiException."""
        headers = {"Accept": "application/json", **({"Content-Type": content_type} if content_type else {})}
        request = self._api.param_serialize(method, path, path_params=path_params, query_params=query,
                                            header_params=headers, auth_settings=["BearerToken"])
        response = self._api.call_api(request[0], request[1], request[2], body)
        response.read()  # RESTResponse: reads the body and releases the connection
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response)
        return response

    def _headers_for_writes(self) -> dict:
        """Accept, Content-Type and the client's own auth header, made by the client once a minute rather than on
        every one of 10,000 patches (param_serialize sanitises and re-derives them each call)."""
        with self._lock:
            if self._write_headers is None or time.monotonic() - self._write_headers[0] > HEADERS_SECONDS:
                _, _, headers, _, _ = self._api.param_serialize(
                    "PATCH", "/", header_params={"Accept": "application/json", "Content-Type": MERGE_PATCH},
                    auth_settings=["BearerToken"])
                self._write_headers = (time.monotonic(), headers)
            return self._write_headers[1]

    def _patch(self, path: str, path_params: dict, patch: dict) -> None:
        """A merge patch through ApiClient.call_api (the client's pool, retries and TLS) with headers made once."""
        url = (self._api.configuration.host
               + path.format(**{key: quote(str(value), safe="") for key, value in path_params.items()})
               + f"?fieldManager={FIELD_MANAGER}")
        response = self._api.call_api("PATCH", url, dict(self._headers_for_writes()), patch)
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response)

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

    def deployment(self, namespace: str, name: str) -> dict | None:
        """A Deployment as a dict, None when it does not exist (the OpenFaaS gateway and autoscaler)."""
        try:
            response = self._call("GET", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
                                  {"namespace": namespace, "name": name})
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return json.loads(response.data)

    def openfaas_deployments(self, namespace: str) -> tuple[dict | None, dict | None]:
        """The gateway and autoscaler Deployments, for telling CE from Standard (editions.detect)."""
        gateway = self.deployment(namespace, GATEWAY)
        return gateway, (self.deployment(namespace, AUTOSCALER) if gateway is not None else None)

    def namespace_annotations(self, names: list[str]) -> dict[str, dict[str, str]]:
        """Annotations of the configured namespaces (one get each: they are few)."""
        found = {}
        for name in names:
            try:
                response = self._call("GET", "/api/v1/namespaces/{name}", {"name": name})
            except ApiException as error:
                if error.status == 404:
                    raise KubeAccessError(f"namespace {name!r} from COSTGUARD_FUNCTION_NAMESPACES does not exist")
                raise
            key, annotations = namespace_annotations(json.loads(response.data))
            found[key] = annotations
        return found

    def service_proxy(self, namespace: str, service: str, path: str, query: list | None = None) -> bytes:
        """GET through the API server's service proxy (what CoreV1Api.connect_get_namespaced_service_proxy_with_path
        does), e.g. the OpenFaaS Prometheus' query API; RBAC: get services/proxy."""
        # `service` ("prometheus:9090") and `path` are ours (settings), joined as they are: as path parameters the
        # client would escape the port's colon and the path's slashes.
        response = self._call("GET", f"/api/v1/namespaces/{{namespace}}/services/{service}/proxy/{path.lstrip('/')}",
                              {"namespace": namespace}, query=query)
        return response.data

    def patch_function(self, namespace: str, name: str, patch: dict) -> None:
        self._patch("/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
                    {"namespace": namespace, "name": name}, patch)

    def _core_list(self, path: str, path_params: dict, **selectors) -> list[dict]:
        """Every item of a core list, page by page (labelSelector / fieldSelector as given)."""
        items, token = [], None
        while True:
            query = [("limit", PAGE)] + [(key, value) for key, value in selectors.items() if value]
            if token:
                query.append(("continue", token))
            page = json.loads(self._call("GET", path, path_params, query=query).data)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def karpenter_nodes(self) -> list[dict]:
        """Nodes Karpenter launched (label karpenter.sh/nodepool)."""
        return self._core_list("/api/v1/nodes", {}, labelSelector="karpenter.sh/nodepool")

    def pods_on(self, node: str) -> list[dict]:
        return self._core_list("/api/v1/pods", {}, fieldSelector=f"spec.nodeName={node}")

    def all_pods(self) -> list[dict]:
        return self._core_list("/api/v1/pods", {})

    def function_pods(self, namespace: str, name: str) -> list[dict]:
        return self._core_list("/api/v1/namespaces/{namespace}/pods", {"namespace": namespace},
                               labelSelector=f"{FUNCTION_LABEL}={name}")

    def pending_function_pods(self, namespace: str) -> list[dict]:
        return self._core_list("/api/v1/namespaces/{namespace}/pods", {"namespace": namespace},
                               labelSelector=FUNCTION_LABEL, fieldSelector="status.phase=Pending")

    def nodepools(self) -> list[NodePoolLimits]:
        return [nodepool_from_object(item)
                for page in _pages(self._custom.list_cluster_custom_object, *KARPENTER) for item in page]

    def patch_nodepool(self, name: str, patch: dict) -> None:
        self._patch("/apis/karpenter.sh/v1/nodepools/{name}", {"name": name}, patch)

    def scale_nodepool(self, name: str, patch: dict) -> None:
        """A static NodePool's replicas through its scale subresource (the NodePool CRD declares
        subresources.scale with specReplicasPath .spec.replicas)."""
        self._patch("/apis/karpenter.sh/v1/nodepools/{name}/scale", {"name": name}, patch)
