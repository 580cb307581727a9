"""A `kubernetes.client.ApiClient` for the configured cluster, cached per Lambda container.

Retries (429 with Retry-After, 5xx) are urllib3's, configured on the client, so every API call gets them.
"""
from __future__ import annotations

import base64
import tempfile
import threading

import boto3
import urllib3
from kubernetes import client as k8s

from chalice_app.config import Settings
from chalice_app.kube.auth import ClusterEndpoint, TokenCache, describe_cluster, make_token

RETRYABLE_STATUS = (429, 500, 502, 503, 504)
_lock = threading.Lock()
_clients: dict[tuple, k8s.ApiClient] = {}


def retry_policy(total: int = 5) -> urllib3.Retry:
    # Every verb is retried: our writes carry resourceVersion, so a replayed write fails with 409, never twice.
    return urllib3.Retry(
        total=total,
        connect=total,
        read=2,
        status=total,
        backoff_factor=0.2,
        backoff_max=5,
        status_forcelist=RETRYABLE_STATUS,
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _write_ca_file(ca_data: str) -> str:
    handle = tempfile.NamedTemporaryFile(prefix="eks-ca-", suffix=".pem", delete=False)
    handle.write(base64.b64decode(ca_data))
    handle.close()
    return handle.name


def build_api_client(endpoint: ClusterEndpoint, tokens: TokenCache, retries: urllib3.Retry | None = None,
                     pool_size: int = 8) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    configuration.host = endpoint.url.rstrip("/")
    configuration.api_key_prefix["authorization"] = "Bearer"
    configuration.api_key["authorization"] = tokens.get()
    configuration.refresh_api_key_hook = lambda cfg: cfg.api_key.__setitem__("authorization", tokens.get())
    configuration.retries = retries if retries is not None else retry_policy()
    configuration.connection_pool_maxsize = pool_size
    if endpoint.ca_data:
        configuration.ssl_ca_cert = _write_ca_file(endpoint.ca_data)
    return k8s.ApiClient(configuration)


def api_client(settings: Settings, session: boto3.session.Session | None = None) -> k8s.ApiClient:
    """The container-wide client for `settings`' cluster; endpoint override skips eks:DescribeCluster."""
    key = (settings.cluster_name, settings.region, settings.kube_endpoint)
    with _lock:
        cached = _clients.get(key)
        if cached is not None:
            return cached
        session = session or boto3.session.Session()
        if settings.kube_endpoint:
            endpoint = ClusterEndpoint(settings.kube_endpoint, settings.kube_ca_data)
        else:
            endpoint = describe_cluster(settings.cluster_name, session, settings.region)
        tokens = TokenCache(lambda: make_token(settings.cluster_name, session, settings.region))
        _clients[key] = build_api_client(endpoint, tokens)
        return _clients[key]


def reset_cache() -> None:
    """Forget cached clients (tests switch sandboxes between runs)."""
    with _lock:
        _clients.clear()
