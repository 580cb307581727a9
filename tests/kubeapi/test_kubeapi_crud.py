"""Create, read, replace, delete through the real client, with the API server's status codes."""
import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.kubeapi.conftest import deployment, namespace, node, pod


@pytest.fixture
def apps(api, admin_client):
    api.store.put(namespace("openfaas-fn"))
    return k8s.AppsV1Api(admin_client)


def error_of(raised) -> dict:
    return json.loads(raised.value.body)


def test_create_get_replace_delete_deployment(api, apps):
    created = apps.create_namespaced_deployment("openfaas-fn", deployment("sleep", replicas=2))
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.generation == 1
    fetched = apps.read_namespaced_deployment("sleep", "openfaas-fn")
    assert fetched.spec.replicas == 2
    fetched.spec.replicas = 3
    replaced = apps.replace_namespaced_deployment("sleep", "openfaas-fn", fetched)
    assert replaced.spec.replicas == 3 and replaced.metadata.generation == 2
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.uid == created.metadata.uid
    status = apps.delete_namespaced_deployment("sleep", "openfaas-fn")
    assert status["status"] == "Success" and status["details"]["name"] == "sleep"
    with pytest.raises(ApiException) as raised:
        apps.read_namespaced_deployment("sleep", "openfaas-fn")
    assert raised.value.status == 404
    assert error_of(raised)["message"] == 'deployments.apps "sleep" not found'


def test_create_twice_is_already_exists(apps):
    apps.create_namespaced_deployment("openfaas-fn", deployment("sleep"))
    with pytest.raises(ApiException) as raised:
        apps.create_namespaced_deployment("openfaas-fn", deployment("sleep"))
    assert raised.value.status == 409 and error_of(raised)["reason"] == "AlreadyExists"


def test_create_in_missing_namespace_is_not_found(apps):
    with pytest.raises(ApiException) as raised:
        apps.create_namespaced_deployment("nowhere", deployment("sleep", ns="nowhere"))
    assert raised.value.status == 404 and error_of(raised)["message"] == 'namespaces "nowhere" not found'


def test_generate_name(api, admin_client):
    api.store.put(namespace("openfaas-fn"))
    body = pod("ignored")
    body["metadata"] = {"generateName": "sleep-", "namespace": "openfaas-fn"}
    created = k8s.CoreV1Api(admin_client).create_namespaced_pod("openfaas-fn", body)
    assert created.metadata.name.startswith("sleep-") and len(created.metadata.name) == len("sleep-") + 5
    assert api.store.get("v1", "Pod", "openfaas-fn", created.metadata.name) is not None


def test_stale_resource_version_on_replace_is_conflict(apps):
    created = apps.create_namespaced_deployment("openfaas-fn", deployment("sleep"))
    apps.patch_namespaced_deployment("sleep", "openfaas-fn", {"metadata": {"labels": {"touched": "yes"}}})
    created.spec.replicas = 5
    with pytest.raises(ApiException) as raised:
        apps.replace_namespaced_deployment("sleep", "openfaas-fn", created)
    assert raised.value.status == 409 and error_of(raised)["reason"] == "Conflict"
    assert "the object has been modified" in error_of(raised)["message"]
    assert apps.read_namespaced_deployment("sleep", "openfaas-fn").spec.replicas == 1


def test_stale_resource_version_on_patch_is_conflict(api, app_client):
    api.store.put(node("node-a"))
    stale = api.store.get("v1", "Node", None, "node-a")["metadata"]["resourceVersion"]
    core = k8s.CoreV1Api(app_client)
    fresh = core.patch_node("node-a", {"metadata": {"resourceVersion": stale}, "spec": {"unschedulable": True}})
    with pytest.raises(ApiException) as raised:
        core.patch_node("node-a", {"metadata": {"resourceVersion": stale}, "spec": {"unschedulable": False}})
    assert raised.value.status == 409
    assert core.read_node("node-a").spec.unschedulable is True
    assert fresh.metadata.resource_version != stale


def test_every_write_bumps_the_resource_version(api, admin_client):
    api.store.put(node("node-a"))
    core = k8s.CoreV1Api(admin_client)
    first = core.list_node().metadata.resource_version
    core.patch_node("node-a", {"metadata": {"labels": {"a": "1"}}})
    second = core.list_node().metadata.resource_version
    core.patch_node("node-a", {"metadata": {"labels": {"a": "1"}}})  # no change: no write
    assert int(second) > int(first)
    assert core.list_node().metadata.resource_version == second


def test_status_is_kept_on_main_resource_writes_and_written_through_status(api, admin_client):
    api.store.put_many([namespace("openfaas-fn"), deployment("sleep", replicas=2)])
    apps = k8s.AppsV1Api(admin_client)
    patched = apps.patch_namespaced_deployment("sleep", "openfaas-fn", {"status": {"replicas": 9}})
    assert patched.status.replicas == 2 and patched.metadata.generation == 1
    patched = apps.patch_namespaced_deployment_status("sleep", "openfaas-fn", {"status": {"replicas": 9}})
    assert patched.status.replicas == 9


def test_delete_pod_returns_the_pod_and_namespace_delete_cascades(api, admin_client):
    api.store.put_many([namespace("openfaas-fn"), pod("p1"), pod("p2"), deployment("sleep")])
    core = k8s.CoreV1Api(admin_client)
    assert core.delete_namespaced_pod("p1", "openfaas-fn").metadata.name == "p1"
    core.delete_namespace("openfaas-fn")
    assert api.store.list("v1", "Pod") == [] and api.store.list("apps/v1", "Deployment") == []


def test_delete_collection_by_label(api, admin_client):
    api.store.put_many([namespace("ns"), pod("a", "ns", {"tier": "x"}), pod("b", "ns", {"tier": "y"})])
    k8s.CoreV1Api(admin_client).delete_collection_namespaced_pod("ns", label_selector="tier=x")
    assert [p["metadata"]["name"] for p in api.store.list("v1", "Pod", "ns")] == ["b"]


def test_invalid_builtin_objects_are_rejected(apps):
    with pytest.raises(ApiException) as raised:
        apps.create_namespaced_deployment("openfaas-fn", deployment("Bad_Name"))
    assert raised.value.status == 422 and error_of(raised)["details"]["causes"][0]["field"] == "metadata.name"
    with pytest.raises(ApiException) as raised:
        apps.create_namespaced_deployment("openfaas-fn", deployment("neg", replicas=-1))
    assert raised.value.status == 422 and "spec.replicas" in error_of(raised)["message"]


def test_dry_run_changes_nothing(api, admin_client):
    api.store.put(node("node-a"))
    core = k8s.CoreV1Api(admin_client)
    answer = core.patch_node("node-a", {"spec": {"unschedulable": True}}, dry_run="All")
    assert answer.spec.unschedulable is True
    assert not api.store.get("v1", "Node", None, "node-a")["spec"].get("unschedulable")


def test_unknown_paths_are_not_found(api, admin_client):
    response = admin_client.call_api(*admin_client.param_serialize("GET", "/api/v1/widgets",
                                                                     auth_settings=["BearerToken"]))
    assert response.status == 404 and json.loads(response.read())["reason"] == "NotFound"


def test_store_seeding_interface(api):
    stored = api.store.put(node("node-a", {"zone": "a"}))
    assert stored["metadata"]["uid"] and stored["metadata"]["creationTimestamp"]
    stored["metadata"]["labels"]["zone"] = "mutated"  # a copy: the store is not affected
    assert api.store.get("v1", "Node", None, "node-a")["metadata"]["labels"]["zone"] == "a"
    replaced = api.store.put(node("node-a", {"zone": "b"}))  # replacing keeps uid and creationTimestamp
    assert replaced["metadata"]["uid"] == stored["metadata"]["uid"]
    assert int(replaced["metadata"]["resourceVersion"]) > int(stored["metadata"]["resourceVersion"])
    assert api.store.delete("v1", "Node", None, "node-a") is True
    assert api.store.get("v1", "Node", None, "node-a") is None
    assert api.store.delete("v1", "Node", None, "node-a") is False
    with pytest.raises(ValueError, match="does not serve"):
        api.store.put({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}})
