"""Discovery, unsupported requests, and the server's behaviour when something goes wrong inside it."""
import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi import AccessEntry, AccessKey, FakeKubeApi
from tests.kubeapi.conftest import RBAC_FILE, api_client, deployment, namespace, pod, token


def test_discovery_documents(admin_client):
    assert k8s.CoreApi(admin_client).get_api_versions().versions == ["v1"]
    groups = {g.name: g.preferred_version.version for g in k8s.ApisApi(admin_client).get_api_versions().groups}
    assert groups == {"apps": "v1", "policy": "v1", "karpenter.sh": "v1", "karpenter.k8s.aws": "v1",
                      "openfaas.com": "v1", "scheduling.k8s.io": "v1", "admissionregistration.k8s.io": "v1"}
    core = {r.name for r in k8s.CoreV1Api(admin_client).get_api_resources().resources}
    assert {"nodes", "pods", "pods/eviction", "namespaces"} <= core
    assert "deployments/scale" in {r.name for r in k8s.AppsV1Api(admin_client).get_api_resources().resources}
    assert k8s.VersionApi(admin_client).get_code().major == "1"


def test_watch_is_refused_clearly(api, admin_client):
    with pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(admin_client).list_node(watch=True)
    assert raised.value.status == 405 and "watch" in json.loads(raised.value.body)["message"]


def test_eviction_honours_delete_preconditions(api, app_client):
    api.store.put_many([namespace("fn"), pod("p1", "fn")])
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p1", "namespace": "fn"},
            "deleteOptions": {"preconditions": {"uid": "not-the-uid"}}}
    with pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(app_client).create_namespaced_pod_eviction("p1", "fn", body)
    assert raised.value.status == 409
    body["deleteOptions"]["preconditions"]["uid"] = api.store.get("v1", "Pod", "fn", "p1")["metadata"]["uid"]
    k8s.CoreV1Api(app_client).create_namespaced_pod_eviction("p1", "fn", body)
    assert api.store.get("v1", "Pod", "fn", "p1") is None


def test_internal_failure_answers_500_status(api, admin_client, monkeypatch):
    def broken(_request):
        raise KeyError("boom")
    monkeypatch.setattr(api.handlers, "handle", broken)
    with pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(admin_client).list_node()
    assert raised.value.status == 500 and json.loads(raised.value.body)["reason"] == "InternalError"
    assert api.requests[-1].status == 500


def test_custom_access_keys_and_no_policy_file():
    ci_role = "arn:aws:iam::123456789012:role/ci"
    keys = {"ci-key": AccessKey("ci-secret", ci_role)}
    entries = {ci_role: AccessEntry(ci_role, "ci", ("ci",))}
    with FakeKubeApi(cluster_name="openfaas", access_keys=keys, access_entries=entries) as api, \
            api_client(api, token("ci-key", "ci-secret")) as ci:
        with pytest.raises(ApiException) as raised:  # no policy file: only system:masters may do anything
            k8s.CoreV1Api(ci).list_node()
        assert raised.value.status == 403
    with FakeKubeApi(cluster_name="openfaas", rbac_file=RBAC_FILE) as api, \
            api_client(api, token("ci-key", "ci-secret")) as ci, pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(ci).list_node()  # default keys only: an unknown key is 401
    assert raised.value.status == 401


def test_stop_and_restart_keeps_the_store():
    api = FakeKubeApi(rbac_file=RBAC_FILE).start()
    api.store.put(namespace("kept"))
    api.stop()
    api.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = api.url
    with api:
        with api_client(api, token("sandbox-admin")) as admin:
            assert [n.metadata.name for n in k8s.CoreV1Api(admin).list_namespace().items] == ["kept"]


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/apis/apps/v1/namespaces/fn/deployments/sleep/status"),
    ("DELETE", "/apis/apps/v1/namespaces/fn/deployments/sleep/scale"),
    ("GET", "/api/v1/namespaces/fn/pods/p1/eviction"),
])
def test_subresources_allow_only_their_methods(api, admin_client, method, path):
    api.store.put_many([namespace("fn"), deployment("sleep", "fn"), pod("p1", "fn")])
    response = admin_client.call_api(*admin_client.param_serialize(method, path, auth_settings=["BearerToken"]))
    assert response.status == 405
    assert api.store.get("apps/v1", "Deployment", "fn", "sleep") and api.store.get("v1", "Pod", "fn", "p1")
