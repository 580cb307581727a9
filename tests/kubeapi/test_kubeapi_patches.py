"""The three patch content types, as the real client picks them, and how each merges."""
import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi.patches import merge_patch, strategic_merge_patch
from tests.kubeapi.conftest import deployment, namespace, node


@pytest.fixture
def apps(api, admin_client):
    api.store.put_many([namespace("openfaas-fn"), deployment("sleep")])
    return k8s.AppsV1Api(admin_client)


def stored_deployment(api) -> dict:
    return api.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")


def test_dict_body_is_sent_as_strategic_merge_and_merges_containers_and_env_by_name(api, apps):
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "sleep", "env": [{"name": "extra", "value": "b"}]},
        {"name": "sidecar", "image": "busybox"}]}}}}
    apps.patch_namespaced_deployment("sleep", "openfaas-fn", patch)
    assert api.requests[-1].content_type == "application/strategic-merge-patch+json"
    containers = stored_deployment(api)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["sleep", "sidecar"]
    assert containers[0]["image"] == "ghcr.io/openfaas/sleep"
    assert containers[0]["env"] == [{"name": "mode", "value": "a"}, {"name": "extra", "value": "b"}]


def test_strategic_merge_delete_directive_and_null(api, apps):
    apps.patch_namespaced_deployment("sleep", "openfaas-fn", {
        "metadata": {"labels": {"faas_function": None}},
        "spec": {"template": {"spec": {"containers": [{"name": "sleep", "env": [{"name": "mode",
                                                                                  "$patch": "delete"}]}]}}}})
    stored = stored_deployment(api)
    assert "faas_function" not in stored["metadata"]["labels"]
    assert stored["spec"]["template"]["spec"]["containers"][0]["env"] == []


def test_strategic_merge_merges_node_taints_by_key(api, app_client):
    api.store.put(node("node-a", taints=[{"key": "spot", "value": "true", "effect": "NoSchedule"}]))
    patched = k8s.CoreV1Api(app_client).patch_node("node-a", {"spec": {"taints": [
        {"key": "costguard/draining", "value": "true", "effect": "NoSchedule"}]}})
    assert [t.key for t in patched.spec.taints] == ["spot", "costguard/draining"]


def test_list_body_is_sent_as_json_patch(api, apps):
    apps.patch_namespaced_deployment("sleep", "openfaas-fn", [
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/annotations", "value": {"costguard/replicas": "1"}}])
    assert api.requests[-1].content_type == "application/json-patch+json"
    stored = stored_deployment(api)
    assert stored["spec"]["replicas"] == 4 and stored["metadata"]["annotations"] == {"costguard/replicas": "1"}


def test_failed_json_patch_changes_nothing(api, apps):
    before = stored_deployment(api)
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment("sleep", "openfaas-fn", [
            {"op": "replace", "path": "/spec/replicas", "value": 7},
            {"op": "test", "path": "/metadata/labels/faas_function", "value": "other"}])
    assert raised.value.status == 422
    assert stored_deployment(api) == before


def test_json_patch_test_on_resource_version_guards_the_write(api, apps):
    version = stored_deployment(api)["metadata"]["resourceVersion"]
    ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": version},
           {"op": "replace", "path": "/spec/replicas", "value": 0}]
    apps.patch_namespaced_deployment("sleep", "openfaas-fn", ops)
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment("sleep", "openfaas-fn", ops)
    assert raised.value.status == 422


def test_merge_patch_replaces_lists(api, apps):
    apps.patch_namespaced_deployment("sleep", "openfaas-fn", {"spec": {"template": {"spec": {"containers": [
        {"name": "other", "image": "busybox"}]}}}}, _content_type="application/merge-patch+json")
    containers = stored_deployment(api)["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "other", "image": "busybox"}]


def test_custom_objects_get_merge_patch_and_reject_strategic(api, admin_client):
    api.store.put({"apiVersion": "openfaas.com/v1", "kind": "Profile",
                   "metadata": {"name": "spot", "namespace": "openfaas"},
                   "spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}})
    custom = k8s.CustomObjectsApi(admin_client)
    patched = custom.patch_namespaced_custom_object("openfaas.com", "v1", "openfaas", "profiles", "spot",
                                                    {"metadata": {"annotations": {"x": "y"}}})
    assert api.requests[-1].content_type == "application/merge-patch+json"
    assert patched["metadata"]["annotations"] == {"x": "y"}
    with pytest.raises(ApiException) as raised:
        custom.patch_namespaced_custom_object("openfaas.com", "v1", "openfaas", "profiles", "spot",
                                              {"metadata": {"labels": {"a": "b"}}},
                                              _content_type="application/strategic-merge-patch+json")
    assert raised.value.status == 415 and json.loads(raised.value.body)["reason"] == "UnsupportedMediaType"
    patched = custom.patch_namespaced_custom_object("openfaas.com", "v1", "openfaas", "profiles", "spot",
                                                    [{"op": "remove", "path": "/spec/tolerations/0"}],
                                                    _content_type="application/json-patch+json")
    assert patched["spec"]["tolerations"] == []
    with pytest.raises(ApiException) as raised:  # a list sent with the custom-object default (merge patch)
        custom.patch_namespaced_custom_object("openfaas.com", "v1", "openfaas", "profiles", "spot",
                                              [{"op": "remove", "path": "/spec/tolerations"}])
    assert raised.value.status == 400 and "json-patch+json" in json.loads(raised.value.body)["message"]


def test_patching_the_name_is_bad_request(apps):
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment("sleep", "openfaas-fn", {"metadata": {"name": "renamed"}})
    assert raised.value.status == 400


def test_merge_patch_rfc7386_examples():
    assert merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == \
        {"a": "z", "c": {"d": "e"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({"a": "foo"}, "bar") == "bar"


def test_strategic_merge_replace_directive_and_primitive_list_deletion():
    document = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"selector": {"x": "1", "y": "2"}}}
    patched = strategic_merge_patch(document, {"spec": {"selector": {"$patch": "replace", "z": "3"}},
                                               "metadata": {"finalizers": ["c"]}})
    assert patched["spec"]["selector"] == {"z": "3"}
    assert patched["metadata"]["finalizers"] == ["a", "b", "c"]
    removed = strategic_merge_patch({"finalizers": ["a", "b"]}, {"$deleteFromPrimitiveList/finalizers": ["a"]})
    assert removed == {"finalizers": ["b"]}
