"""Requests through the `kubernetes` client's own plumbing (ApiClient: auth, TLS, retries, connection pool) with
plain dicts in and out, and the one merge-patch writer.

Why not the generated methods: their model objects cost seconds and tens of megabytes for 10,000 Deployments
(fields we throw away), CoreV1Api/AppsV1Api add ~25 MB of imports to a 128 MB Lambda, and their per-call
validation was most of the client CPU per patch. Every response is read whole and its connection handed back to
the pool: an unreleased connection is never reused, and every request would then pay a new TCP (and TLS) handshake.
Every write names the field manager `costguard`, so `kubectl get --show-managed-fields` and GitOps tools see who
changed what.
"""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

import orjson
import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.client.rest import RESTResponse

from chalice_app.errors import CostguardError

MERGE_PATCH = "application/merge-patch+json"
FIELD_MANAGER = "costguard"
HEADERS_SECONDS = 60.0  # write headers (bearer token included) are re-made this often; EKS tokens live 15 min
# (connect, read) seconds for every request: the client has no default, and an API server that accepts the
# connection but never answers would hold the Lambda until its own timeout, with nothing reported. A 500-item list
# page takes well under a second on EKS; urllib3's retries (kube.client.retry_policy) apply after a timeout.
REQUEST_TIMEOUT = (5.0, 30.0)


def resource_path(plural: str, group_version: tuple[str, str] = ("", "v1"), namespace: str | None = None,
                  name: str | None = None, subresource: str | None = None) -> str:
    """The REST path of a collection or object: core (`("", "v1")`) under /api, named groups under /apis.
    Names come from the cluster or from settings (untrusted), so each segment is escaped."""
    for what, value in (("namespace", namespace), ("name", name)):
        if value is not None and not value:  # "" would address the collection (a list where an object is meant)
            raise CostguardError(f"empty {what} for {plural}: a Kubernetes {what} is never empty")
    group, version = group_version
    parts = ["api", version] if not group else ["apis", group, version]
    if namespace is not None:
        parts += ["namespaces", quote(namespace, safe="")]
    parts.append(plural)
    if name is not None:
        parts.append(quote(name, safe=""))
    if subresource:
        parts.append(subresource)
    return "/" + "/".join(parts)


def _finish(response):
    """Read the whole body, give the connection back to the pool, raise ApiException on a non-2xx answer."""
    try:
        response.read()
    finally:
        response.response.release_conn()
    if not 200 <= response.status <= 299:
        raise ApiException(http_resp=response)
    return response


def call(api: k8s.ApiClient, method: str, path: str, query: list | None = None, body: dict | None = None,
         content_type: str | None = None):
    """One request; the (read, released) RESTResponse, or ApiException. `path` is already escaped."""
    headers = {"Accept": "application/json", **({"Content-Type": content_type} if content_type else {})}
    request = api.param_serialize(method, path, query_params=query, header_params=headers,
                                  auth_settings=["BearerToken"])
    return _finish(api.call_api(request[0], request[1], request[2], body, _request_timeout=REQUEST_TIMEOUT))


def get_json(api: k8s.ApiClient, path: str, query: list | None = None) -> dict:
    # orjson: a 500-Deployment list page decodes in half json's CPU (~17 vs ~34 ms here), 20 pages per 10,000
    return orjson.loads(call(api, "GET", path, query).data)


def get_json_or_none(api: k8s.ApiClient, path: str) -> dict | None:
    """The object as a dict, None when it does not exist (404)."""
    try:
        return get_json(api, path)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


class MergePatcher:
    """JSON merge patches (RFC 7386) as plain dicts, field manager `costguard`. The headers (Accept, Content-Type and
    the client's own auth header) are made by the client once a minute rather than on each of 10,000 patches."""

    def __init__(self, api: k8s.ApiClient):
        self._api = api
        self._headers: tuple[float, dict] | None = None
        self._lock = threading.Lock()
        self._timeout = urllib3.Timeout(connect=REQUEST_TIMEOUT[0], read=REQUEST_TIMEOUT[1])  # once, not per patch

    def _write_headers(self) -> dict:
        with self._lock:
            if self._headers is None or time.monotonic() - self._headers[0] > HEADERS_SECONDS:
                _, _, headers, _, _ = self._api.param_serialize(
                    "PATCH", "/", header_params={"Accept": "application/json", "Content-Type": MERGE_PATCH},
                    auth_settings=["BearerToken"])
                self._headers = (time.monotonic(), headers)
            return self._headers[1]

    def patch(self, path: str, patch: dict):
        """Merge-patch the object at `path` (already escaped); the read response, or ApiException (409 when the
        patch carries a metadata.resourceVersion that moved).

        Sent on the client's own urllib3 pool (its TLS, CA, retries and connection limit) with the body encoded
        here, not through RESTClientObject.request: that re-derives the content type with three regular
        expressions and re-serialises on every call, ~0.1 ms of CPU per patch over a bare urllib3 loop."""
        url = f"{self._api.configuration.host}{path}?fieldManager={FIELD_MANAGER}"
        body = json.dumps(patch, separators=(",", ":")).encode()
        response = self._api.rest_client.pool_manager.request("PATCH", url, body=body, headers=self._write_headers(),
                                                              preload_content=False, timeout=self._timeout)
        return _finish(RESTResponse(response))

    def patch_json(self, path: str, patch: dict) -> dict:
        """As patch, and the object as the API server answered it."""
        return orjson.loads(self.patch(path, patch).data)
