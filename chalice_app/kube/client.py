"""A `kubernetes.client.ApiClient` for the configured cluster, cached per Lambda container.

Retries (429 with Retry-After, 5xx) are urllib3's, configured on the client, so every API call gets them.
"""
from __future__ import annotations

import base64
import binascii
import threading

import boto3
import urllib3
from kubernetes import client as k8s

from chalice_app.config import Settings
from chalice_app.errors import CostguardError
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


def ca_pem(ca_data: str) -> str:
    """eks:DescribeCluster's certificateAuthority.data (base64 PEM) as the PEM text urllib3 verifies against."""
    try:
        pem = base64.b64decode(ca_data, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CostguardError("the cluster's certificate authority data is not base64 PEM") from None
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise CostguardError("the cluster's certificate authority data holds no PEM certificate")
    return pem


def build_api_client(endpoint: ClusterEndpoint, tokens: TokenCache, retries: urllib3.Retry | None = None,
                     pool_size: int = 8) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    configuration.host = endpoint.url.rstrip("/")
    configuration.api_key_prefix["authorization"] = "Bearer"
    configuration.api_key["authorization"] = tokens.get()

    def refresh_token(cfg: k8s.Configuration) -> None:
        cfg.api_key["authorization"] = tokens.get()

    # The generated Configuration declares the hook as `None`; the client calls it before each request.
    configuration.refresh_api_key_hook = refresh_token  # type: ignore[assignment]
    configuration.retries = retries if retries is not None else retry_policy()
    configuration.connection_pool_maxsize = pool_size
    if endpoint.ca_data:
        # Verified against the cluster's own CA, held in memory (no file per client left in /tmp).
        configuration.ca_cert_data = ca_pem(endpoint.ca_data)
    configuration.verify_ssl = True
    return k8s.ApiClient(configuration)


def api_client(settings: Settings, session: boto3.session.Session | None = None) -> k8s.ApiClient:
    """The container-wide client for `settings`' cluster, found as in AWS: eks:DescribeCluster gives the endpoint
    and the CA the server's certificate is verified against. `kube_endpoint` (with `kube_ca_data`) overrides it for
    clusters reached another way (a tunnel, a local API server)."""
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
