"""Label and field selectors, per-namespace and cluster-wide lists, and limit/continue paging."""
import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi.selectors import label_selector
from tests.kubeapi.conftest import deployment, namespace, node, pod


def names(result) -> list[str]:
    return [item.metadata.name for item in result.items]


@pytest.fixture
def nodes(api, app_client):
    api.store.put_many([
        node("a", {"karpenter.sh/capacity-type": "spot", "karpenter.sh/nodepool": "default", "zone": "1a"}),
        node("b", {"karpenter.sh/capacity-type": "on-demand", "karpenter.sh/nodepool": "default"}),
        node("c", {"karpenter.sh/capacity-type": "spot", "zone": "1b"}),
    ])
    return k8s.CoreV1Api(app_client)


@pytest.mark.parametrize("selector, expected", [
    ("karpenter.sh/capacity-type=spot", ["a", "c"]),
    ("karpenter.sh/capacity-type==spot", ["a", "c"]),
    ("karpenter.sh/capacity-type!=spot", ["b"]),
    ("karpenter.sh/capacity-type in (spot,on-demand),zone", ["a", "c"]),
    ("zone notin (1a)", ["b", "c"]),
    ("karpenter.sh/nodepool", ["a", "b"]),
    ("!karpenter.sh/nodepool", ["c"]),
    ("karpenter.sh/capacity-type=spot, !zone", []),
])
def test_label_selectors(nodes, selector, expected):
    assert names(nodes.list_node(label_selector=selector)) == expected


def test_bad_label_selector_is_bad_request(nodes):
    with pytest.raises(ApiException) as raised:
        nodes.list_node(label_selector="a in b")
    assert raised.value.status == 400


def test_pod_field_selectors(api, app_client):
    api.store.put_many([namespace("fn"), namespace("other"), pod("p1", "fn", node_name="a"),
                        pod("p2", "fn", node_name="b"), pod("p3", "other", node_name="a")])
    core = k8s.CoreV1Api(app_client)
    assert names(core.list_pod_for_all_namespaces(field_selector="spec.nodeName=a")) == ["p1", "p3"]
    assert names(core.list_namespaced_pod("fn", field_selector="spec.nodeName!=a")) == ["p2"]
    assert names(core.list_pod_for_all_namespaces(field_selector="metadata.namespace=other")) == ["p3"]
    assert names(core.list_pod_for_all_namespaces(field_selector="metadata.name=p2,spec.nodeName=b")) == ["p2"]
    with pytest.raises(ApiException) as raised:
        core.list_pod_for_all_namespaces(field_selector="spec.schedulerName=x")
    assert raised.value.status == 400 and "field label not supported" in raised.value.body


def test_lists_are_ordered_by_namespace_then_name(api, admin_client):
    api.store.put_many([namespace("b"), namespace("a"), deployment("z", "a"), deployment("y", "b"),
                        deployment("x", "a")])
    apps = k8s.AppsV1Api(admin_client)
    assert [(d.metadata.namespace, d.metadata.name) for d in apps.list_deployment_for_all_namespaces().items] == [
        ("a", "x"), ("a", "z"), ("b", "y")]
    assert names(apps.list_namespaced_deployment("b")) == ["y"]


def test_paging_across_pages(api, admin_client):  # admin: paging, not RBAC (the app may list only function namespaces)
    api.store.put_many([namespace("fn")] + [deployment(f"fn-{i:03d}", "fn") for i in range(25)]
                       + [namespace("zz"), deployment("last", "zz")])
    apps = k8s.AppsV1Api(admin_client)
    seen, token, remaining = [], None, []
    while True:
        page = apps.list_namespaced_deployment("fn", limit=10, _continue=token)
        seen += names(page)
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"fn-{i:03d}" for i in range(25)]
    assert remaining == [15, 5, None]


def test_paging_with_a_selector_and_writes_between_pages(api, admin_client):  # admin: as above
    api.store.put_many([namespace("fn")] + [deployment(f"d{i:02d}", "fn", labels={"odd": str(i % 2)})
                                            for i in range(20)])
    apps = k8s.AppsV1Api(admin_client)
    first = apps.list_deployment_for_all_namespaces(limit=4, label_selector="odd=1")
    assert names(first) == ["d01", "d03", "d05", "d07"] and first.metadata.remaining_item_count is None
    api.store.delete("apps/v1", "Deployment", "fn", "d09")
    second = apps.list_deployment_for_all_namespaces(limit=4, label_selector="odd=1",
                                                     _continue=first.metadata._continue)
    assert names(second) == ["d11", "d13", "d15", "d17"]
    third = apps.list_deployment_for_all_namespaces(limit=4, label_selector="odd=1",
                                                    _continue=second.metadata._continue)
    assert names(third) == ["d19"] and not third.metadata._continue


def test_bad_continue_token_is_bad_request(nodes):
    with pytest.raises(ApiException) as raised:
        nodes.list_node(limit=1, _continue="not-a-token")
    assert raised.value.status == 400


def test_list_metadata_carries_resource_version(nodes, api):
    listed = nodes.list_node()
    assert listed.metadata.resource_version == api.store.resource_version
    assert listed.kind == "NodeList" and listed.api_version == "v1"


def test_custom_object_lists(api, app_client):
    api.store.put_many([{"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
                         "metadata": {"name": f"default-{i}", "labels": {"karpenter.sh/nodepool": "default"}},
                         "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                                   "name": "default"},
                                  "requirements": []}} for i in range(3)])
    custom = k8s.CustomObjectsApi(app_client)
    listed = custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", limit=2)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["default-0", "default-1"]
    assert listed["metadata"]["remainingItemCount"] == 1
    rest = custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", limit=2,
                                             _continue=listed["metadata"]["continue"])
    assert [i["metadata"]["name"] for i in rest["items"]] == ["default-2"]


def test_label_selector_predicate_directly():
    matches = label_selector("app in (web, api), tier!=db, !legacy")
    assert matches({"metadata": {"labels": {"app": "web", "tier": "fe"}}})
    assert not matches({"metadata": {"labels": {"app": "web", "tier": "db"}}})
    assert not matches({"metadata": {"labels": {"app": "api", "legacy": "1"}}})
    assert not matches({"metadata": {}})
