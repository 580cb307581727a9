"""A FakeKubeApi per test, and real `kubernetes` clients authenticated with EKS tokens for the app and the admin."""
from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest
from kubernetes import client as k8s

from chalice_app.kube.auth import make_token
from sandbox.kubeapi import FakeKubeApi

ROOT = Path(__file__).resolve().parents[2]
RBAC_FILE = ROOT / "policies" / "kubernetes-rbac.yaml"
CRD_DIR = ROOT.parent / "shared" / "crds"
CLUSTER = "openfaas"
REGION = "us-east-1"


_tokens: dict[tuple[str, str, str], tuple[float, str]] = {}


def token(access_key: str = "costguard-app", secret: str = "sandbox-secret", cluster: str = CLUSTER,
          fresh: bool = False) -> str:
    """An EKS token as the app makes it, reused for five minutes (minting one costs a boto3 session); `fresh` mints
    a new one, for tests about a token's age."""
    key = (access_key, secret, cluster)
    entry = _tokens.get(key)
    # "Never minted" is its own state: a fake epoch of 0.0 looks fresh while time.monotonic() (seconds since
    # boot) is under 300, which reused an empty token on machines up for less than five minutes.
    if fresh or entry is None or time.monotonic() - entry[0] > 300:
        session = boto3.Session(aws_access_key_id=access_key, aws_secret_access_key=secret, region_name=REGION)
        entry = (time.monotonic(), make_token(cluster, session, REGION))
        _tokens[key] = entry
    return entry[1]


def api_client(server: FakeKubeApi, bearer: str, retries=None) -> k8s.ApiClient:
    """A client of `server` that verifies its certificate against the server's own CA, as kubectl would."""
    configuration = k8s.Configuration()
    configuration.host = server.url
    configuration.ssl_ca_cert = server.ca_file
    configuration.api_key_prefix["authorization"] = "Bearer"
    configuration.api_key["authorization"] = bearer
    configuration.retries = retries if retries is not None else 0
    return k8s.ApiClient(configuration)


@pytest.fixture
def api():
    with FakeKubeApi(cluster_name=CLUSTER, region=REGION, rbac_file=RBAC_FILE,
                     crd_dir=CRD_DIR if CRD_DIR.is_dir() else None) as server:
        yield server


@pytest.fixture
def app_client(api):
    with api_client(api, token()) as client:
        yield client


@pytest.fixture
def admin_client(api):
    with api_client(api, token("sandbox-admin")) as client:
        yield client


requires_crds = pytest.mark.skipif(not CRD_DIR.is_dir(), reason=f"CRDs not found at {CRD_DIR} (../shared/crds)")


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def node(name: str, labels: dict | None = None, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
            "spec": spec, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, ns: str = "openfaas-fn", labels: dict | None = None, node_name: str = "node-a",
        ready: bool = True) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"nodeName": node_name, "containers": [{"name": "main", "image": "ghcr.io/openfaas/sleep"}]},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def deployment(name: str, ns: str = "openfaas-fn", replicas: int = 1, labels: dict | None = None) -> dict:
    selector = {"faas_function": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {**selector, **(labels or {})}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                     "template": {"metadata": {"labels": selector},
                                  "spec": {"containers": [{"name": name, "image": f"ghcr.io/openfaas/{name}",
                                                           "env": [{"name": "mode", "value": "a"}]}]}}},
            "status": {"replicas": replicas, "readyReplicas": replicas}}
