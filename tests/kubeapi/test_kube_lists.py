"""chalice_app.kube.lists and kube.rest against the sandbox's fake API server, through the real `kubernetes` client."""
import copy

import pytest
from kubernetes.client.exceptions import ApiException

from chalice_app.kube.lists import PAGE_SIZE, list_items, pages
from chalice_app.kube.names import APPS, KARPENTER_GROUP, KARPENTER_VERSION, NODEPOOLS
from chalice_app.kube.rest import MergePatcher, get_json, get_json_or_none, resource_path
from tests.kubeapi.conftest import deployment, namespace, node, requires_crds
from tests.kubeapi.test_kubeapi_crds import GUIDE_NODEPOOL

KARPENTER = (KARPENTER_GROUP, KARPENTER_VERSION)


def _gets(api):
    return [record for record in api.requests if record.method == "GET"]


def test_a_list_of_several_pages_is_one_request_per_page_following_continue_tokens(api, app_client):
    count = 2 * PAGE_SIZE + 1
    api.store.put_many([node(f"node-{i:04d}") for i in range(count)])
    before = len(api.requests)
    listed = list_items(app_client, resource_path("nodes"))
    assert [item["metadata"]["name"] for item in listed] == [f"node-{i:04d}" for i in range(count)]
    assert all(isinstance(item, dict) for item in listed)
    requests = api.requests[before:]
    assert [(r.method, r.path, r.status) for r in requests] == [("GET", "/api/v1/nodes", 200)] * 3
    assert [r.query.get("limit") for r in requests] == [str(PAGE_SIZE)] * 3
    assert "continue" not in requests[0].query and requests[1].query["continue"] != requests[2].query["continue"]


def test_pages_are_yielded_as_they_come(api, app_client):
    api.store.put_many([node(f"node-{i:04d}") for i in range(PAGE_SIZE + 1)])
    sizes = [len(page) for page in pages(app_client, resource_path("nodes"))]
    assert sizes == [PAGE_SIZE, 1]


def test_every_page_hands_its_connection_back_to_the_pool(api, app_client):
    api.store.put_many([node(f"node-{i:04d}") for i in range(2 * PAGE_SIZE + 1)])
    list_items(app_client, resource_path("nodes"))
    list_items(app_client, resource_path("nodes"))
    pool = app_client.rest_client.pool_manager.connection_from_url(api.url)
    assert pool.num_requests == 6
    assert pool.num_connections == 1  # one TCP+TLS connection for all six pages: each went back to the pool


def test_selectors_and_named_groups(api, app_client):
    # openfaas-fn: a function namespace, where costguard's Role lets it list Deployments
    api.store.put_many([namespace("openfaas-fn"), namespace("other")]
                       + [deployment(f"d{i:02d}", "openfaas-fn", labels={"odd": str(i % 2)}) for i in range(6)]
                       + [deployment("elsewhere", "other", labels={"odd": "1"})])
    found = list_items(app_client, resource_path("deployments", APPS, "openfaas-fn"), label_selector="odd=1")
    assert [item["metadata"]["name"] for item in found] == ["d01", "d03", "d05"]
    api.store.put_many([node("a", {"pool": "x"}), node("b", {"pool": "y"})])
    assert [n["metadata"]["name"] for n in list_items(app_client, resource_path("nodes"),
                                                      field_selector="metadata.name=b")] == ["b"]
    assert _gets(api)[-2].query["labelSelector"] == "odd=1"


@requires_crds
def test_custom_objects_list_and_merge_patch(api, app_client):
    pool = copy.deepcopy(GUIDE_NODEPOOL)
    api.store.put(pool)
    path = resource_path(NODEPOOLS, KARPENTER)
    (listed,) = list_items(app_client, path)
    assert listed["metadata"]["name"] == "default" and path == "/apis/karpenter.sh/v1/nodepools"
    patched = MergePatcher(app_client).patch_json(resource_path(NODEPOOLS, KARPENTER, name="default"),
                                                  {"metadata": {"annotations": {"costguard.openfaas.com/x": "1"}}})
    assert patched["metadata"]["annotations"]["costguard.openfaas.com/x"] == "1"
    write = api.requests[-1]
    assert (write.method, write.query.get("fieldManager")) == ("PATCH", "costguard")
    assert write.content_type == "application/merge-patch+json"


def test_missing_objects_and_bad_tokens_are_api_errors(api, app_client):
    missing_path = resource_path("deployments", APPS, "openfaas-fn", "nope")  # readable by costguard's Role, absent
    assert get_json_or_none(app_client, missing_path) is None
    with pytest.raises(ApiException) as missing:
        get_json(app_client, missing_path)
    assert missing.value.status == 404
    with pytest.raises(ApiException) as bad:
        get_json(app_client, resource_path("nodes"), [("limit", 1), ("continue", "not-a-token")])
    assert bad.value.status == 400


def test_resource_paths_escape_names_from_the_cluster():
    assert resource_path("pods") == "/api/v1/pods"
    assert resource_path("deployments", APPS, "fn", "a/b") == "/apis/apps/v1/namespaces/fn/deployments/a%2Fb"
    assert resource_path(NODEPOOLS, KARPENTER, name="p", subresource="scale") == "/apis/karpenter.sh/v1/nodepools/p/scale"


@pytest.mark.parametrize("write", [False, True], ids=["read", "merge patch"])
def test_an_api_server_that_never_answers_times_out_instead_of_holding_the_lambda(api, app_client, monkeypatch, write):
    """The client has no default timeout: an API server that accepts the request and never answers would hold the
    Lambda until its own timeout, with nothing reported. Every request carries (connect, read) seconds."""
    import urllib3

    from chalice_app.kube import rest
    from sandbox.kubeapi import Fault

    api.store.put(deployment("slow"))
    path = resource_path("deployments", APPS, "openfaas-fn", "slow")
    monkeypatch.setattr(rest, "REQUEST_TIMEOUT", (1.0, 0.3))
    api.faults.inject(Fault(status=0, delay=2.0, times=10, path_contains="/deployments/slow"))
    # Without the timeout the first attempt is answered after 2 s and succeeds.
    with pytest.raises(urllib3.exceptions.HTTPError):  # ReadTimeoutError, or MaxRetryError after the retries
        if write:
            MergePatcher(app_client).patch(path, {"spec": {"replicas": 0}})
        else:
            get_json(app_client, path)
