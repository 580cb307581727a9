"""The app identity gets exactly what policies/kubernetes-rbac.yaml grants; the admin bypasses RBAC."""
import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi.auth import Identity
from sandbox.kubeapi.rbac import Attributes, forbidden, is_allowed, load_policy
from tests.kubeapi.conftest import deployment, namespace, node, pod


@pytest.fixture
def seeded(api):
    api.store.put_many([namespace("openfaas-fn"), node("node-a"), pod("p1"), deployment("sleep")])
    return api


def test_app_may_read_and_cordon_nodes(seeded, app_client):
    core = k8s.CoreV1Api(app_client)
    assert core.read_node("node-a").metadata.name == "node-a"
    assert core.patch_node("node-a", {"spec": {"unschedulable": True}}).spec.unschedulable


def test_app_may_not_delete_nodes(seeded, app_client):
    with pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(app_client).delete_node("node-a")
    status = json.loads(raised.value.body)
    assert raised.value.status == 403 and status["reason"] == "Forbidden"
    assert status["message"] == ('nodes "node-a" is forbidden: User "costguard" cannot delete resource "nodes" '
                                 'in API group "" at the cluster scope')
    assert seeded.store.get("v1", "Node", None, "node-a") is not None


def test_app_may_not_create_deployments(seeded, app_client):
    with pytest.raises(ApiException) as raised:
        k8s.AppsV1Api(app_client).create_namespaced_deployment("openfaas-fn", deployment("new"))
    assert raised.value.status == 403
    assert json.loads(raised.value.body)["message"] == (
        'deployments.apps is forbidden: User "costguard" cannot create resource "deployments" in API group "apps" '
        'in the namespace "openfaas-fn"')


def test_app_may_not_delete_pods_directly_but_may_evict(seeded, app_client):
    core = k8s.CoreV1Api(app_client)
    with pytest.raises(ApiException) as raised:
        core.delete_namespaced_pod("p1", "openfaas-fn")
    assert raised.value.status == 403
    core.create_namespaced_pod_eviction("p1", "openfaas-fn", {"apiVersion": "policy/v1", "kind": "Eviction",
                                                               "metadata": {"name": "p1", "namespace": "openfaas-fn"}})
    assert seeded.store.get("v1", "Pod", "openfaas-fn", "p1") is None


def test_app_may_not_patch_nodeclaims(seeded, app_client):
    with pytest.raises(ApiException) as raised:
        k8s.CustomObjectsApi(app_client).patch_cluster_custom_object(
            "karpenter.sh", "v1", "nodeclaims", "any", {"metadata": {"labels": {"a": "b"}}})
    assert raised.value.status == 403
    assert 'cannot patch resource "nodeclaims" in API group "karpenter.sh"' in json.loads(raised.value.body)["message"]


def test_admin_bypasses_rbac(seeded, admin_client):
    k8s.CoreV1Api(admin_client).delete_node("node-a")
    assert seeded.store.get("v1", "Node", None, "node-a") is None


POLICY = [
    {"kind": "ClusterRole", "metadata": {"name": "reader"},
     "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]},
               {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
               {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"], "resourceNames": ["settings"]}]},
    {"kind": "ClusterRoleBinding", "metadata": {"name": "reader"},
     "roleRef": {"kind": "ClusterRole", "name": "reader"}, "subjects": [{"kind": "User", "name": "ada"}]},
    {"kind": "Role", "metadata": {"name": "writer", "namespace": "team"},
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]}]},
    {"kind": "RoleBinding", "metadata": {"name": "writer", "namespace": "team"},
     "roleRef": {"kind": "Role", "name": "writer"}, "subjects": [{"kind": "Group", "name": "devs"}]},
]


@pytest.mark.parametrize("identity, attributes, allowed", [
    (Identity("ada", ()), Attributes("list", "karpenter.sh", "nodepools"), True),
    (Identity("ada", ()), Attributes("patch", "karpenter.sh", "nodepools", name="x"), False),
    (Identity("ada", ()), Attributes("update", "apps", "deployments", "scale", "web", "ns"), True),
    (Identity("ada", ()), Attributes("update", "apps", "deployments", "", "web", "ns"), False),
    (Identity("ada", ()), Attributes("delete", "", "configmaps", "", "settings", "ns"), True),
    (Identity("ada", ()), Attributes("delete", "", "configmaps", "", "other", "ns"), False),
    (Identity("bob", ("devs",)), Attributes("delete", "", "pods", "", "p", "team"), True),
    (Identity("bob", ("devs",)), Attributes("delete", "", "pods", "", "p", "elsewhere"), False),
    (Identity("eve", ()), Attributes("get", "", "pods", "", "p", "team"), False),
    (Identity("root", ("system:masters",)), Attributes("delete", "", "nodes", "", "n"), True),
])
def test_rule_matching(identity, attributes, allowed):
    assert is_allowed(load_policy(POLICY), identity, attributes) is allowed


def test_forbidden_message_for_subresources():
    error = forbidden(Identity("costguard", ("costguard",)),
                      Attributes("create", "", "pods", "eviction", "p1", "openfaas-fn"))
    assert error.message == ('pods/eviction "p1" is forbidden: User "costguard" cannot create resource '
                             '"pods/eviction" in API group "" in the namespace "openfaas-fn"')


def test_request_attributes_cover_resources_subresources_and_the_service_proxy():
    from sandbox.kubeapi.routing import request_attributes
    proxied = request_attributes("GET", "/api/v1/namespaces/openfaas/services/prometheus:9090/proxy/api/v1/query", {})
    assert (proxied.verb, proxied.group, proxied.resource, proxied.subresource, proxied.name, proxied.namespace) == (
        "get", "", "services", "proxy", "prometheus:9090", "openfaas")
    scale = request_attributes("PATCH", "/apis/karpenter.sh/v1/nodepools/static/scale", {})
    assert (scale.verb, scale.group, scale.resource, scale.subresource) == ("patch", "karpenter.sh", "nodepools", "scale")
    assert request_attributes("GET", "/healthz", {}) is None
    escaped = request_attributes("GET", "/api/v1/namespaces/openfaas/services/prometheus%3A9090/proxy/api/v1/query", {})
    assert escaped.name == "prometheus:9090"  # decoded as Go's net/http decodes URL.Path
