"""The Deployment scale subresource and pod eviction against PodDisruptionBudgets."""
import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi.eviction import budget
from tests.kubeapi.conftest import deployment, namespace, pod

NS = "openfaas-fn"


@pytest.fixture
def apps(api, admin_client):
    # the subresource is the server's to serve; costguard's role does not need it (one merge patch per change)
    api.store.put_many([namespace(NS), deployment("sleep", replicas=3)])
    return k8s.AppsV1Api(admin_client)


def test_read_scale(apps):
    scale = apps.read_namespaced_deployment_scale("sleep", NS)
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert scale.spec.replicas == 3 and scale.status.replicas == 3
    assert scale.status.selector == "faas_function=sleep"


def test_patch_scale_to_zero_and_back(api, apps):
    before = api.store.get("apps/v1", "Deployment", NS, "sleep")
    assert apps.patch_namespaced_deployment_scale("sleep", NS, {"spec": {"replicas": 0}}).spec.replicas == 0
    after = api.store.get("apps/v1", "Deployment", NS, "sleep")
    assert after["spec"]["replicas"] == 0 and after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert apps.patch_namespaced_deployment_scale("sleep", NS, [
        {"op": "replace", "path": "/spec/replicas", "value": 3}]).spec.replicas == 3


def test_replace_scale_with_resource_version(api, apps):
    scale = apps.read_namespaced_deployment_scale("sleep", NS)
    scale.spec.replicas = 1
    assert apps.replace_namespaced_deployment_scale("sleep", NS, scale).spec.replicas == 1
    scale.spec.replicas = 5  # still carries the old resourceVersion
    with pytest.raises(ApiException) as raised:
        apps.replace_namespaced_deployment_scale("sleep", NS, scale)
    assert raised.value.status == 409
    assert api.store.get("apps/v1", "Deployment", NS, "sleep")["spec"]["replicas"] == 1


def test_patch_scale_with_stale_resource_version_is_conflict(apps):
    stale = apps.read_namespaced_deployment_scale("sleep", NS).metadata.resource_version
    apps.patch_namespaced_deployment_scale("sleep", NS, {"spec": {"replicas": 2}})
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment_scale("sleep", NS, {"metadata": {"resourceVersion": stale},
                                                             "spec": {"replicas": 0}})
    assert raised.value.status == 409


def test_negative_scale_is_invalid(apps):
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment_scale("sleep", NS, {"spec": {"replicas": -1}})
    assert raised.value.status == 422


def test_scale_of_missing_deployment_is_not_found(apps):
    with pytest.raises(ApiException) as raised:
        apps.read_namespaced_deployment_scale("nope", NS)
    assert raised.value.status == 404


def eviction(name: str) -> dict:
    return {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": NS}}


def pdb(name: str, **spec) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


def test_eviction_without_pdb_deletes_the_pod(api, app_client):
    api.store.put_many([namespace(NS), pod("p1", NS, {"app": "web"})])
    answer = k8s.CoreV1Api(app_client).create_namespaced_pod_eviction("p1", NS, eviction("p1"))
    assert answer.kind == "Status"
    assert api.store.get("v1", "Pod", NS, "p1") is None


def test_eviction_blocked_by_min_available(api, app_client):
    api.store.put_many([namespace(NS), pdb("web", minAvailable=2),
                        pod("p1", NS, {"app": "web"}), pod("p2", NS, {"app": "web"}), pod("p3", NS, {"app": "web"})])
    core = k8s.CoreV1Api(app_client)
    core.create_namespaced_pod_eviction("p1", NS, eviction("p1"))
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_pod_eviction("p2", NS, eviction("p2"))
    status = json.loads(raised.value.body)
    assert raised.value.status == 429 and status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"][0]["message"] == \
        "The disruption budget web needs 2 healthy pods and has 2 currently"
    assert "Retry-After" not in raised.value.headers
    assert api.store.get("v1", "Pod", NS, "p2") is not None


def web_deployment(replicas: int) -> dict:
    web = deployment("web", NS, replicas=replicas)
    web["spec"]["template"]["metadata"]["labels"] = {"app": "web"}
    return web


def test_percent_max_unavailable_counts_the_deployment_replicas(api, app_client):
    api.store.put_many([namespace(NS), pdb("web", maxUnavailable="50%"), web_deployment(4)]
                       + [pod(f"p{i}", NS, {"app": "web"}) for i in range(4)]
                       + [pod("other", NS, {"app": "db"})])
    core = k8s.CoreV1Api(app_client)
    core.create_namespaced_pod_eviction("p0", NS, eviction("p0"))  # 4 wanted, 2 may be unavailable
    core.create_namespaced_pod_eviction("p1", NS, eviction("p1"))
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_pod_eviction("p2", NS, eviction("p2"))  # 2 healthy of 4 wanted: budget spent
    assert raised.value.status == 429
    assert api.store.get("v1", "Pod", NS, "p2") is not None
    core.create_namespaced_pod_eviction("other", NS, eviction("other"))  # not selected by the budget


def test_unready_pod_may_go_while_the_budget_is_met(api, app_client):
    api.store.put_many([namespace(NS), pdb("web", minAvailable=1), pod("ok", NS, {"app": "web"}),
                        pod("sick", NS, {"app": "web"}, ready=False)])
    core = k8s.CoreV1Api(app_client)
    core.create_namespaced_pod_eviction("sick", NS, eviction("sick"))
    with pytest.raises(ApiException):
        core.create_namespaced_pod_eviction("ok", NS, eviction("ok"))


def test_eviction_of_missing_pod_is_not_found(api, app_client):
    api.store.put(namespace(NS))
    with pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(app_client).create_namespaced_pod_eviction("ghost", NS, eviction("ghost"))
    assert raised.value.status == 404


@pytest.mark.parametrize("spec, expected, allowed", [
    ({"minAvailable": 2}, 2, 1),
    ({"minAvailable": "50%"}, 2, 1),   # 50 % of 3 rounds up to 2
    ({"maxUnavailable": 1}, 2, 1),
    ({"maxUnavailable": "34%"}, 1, 2),  # 34 % of 3 = 1.02 rounds up to 2 unavailable
    ({"maxUnavailable": 0}, 3, 0),
])
def test_budget_arithmetic(spec, expected, allowed):
    pods = [pod(f"p{i}", NS, {"app": "web"}) for i in range(3)]
    result = budget(pdb("web", **spec), pods)
    assert (result.desired_healthy, result.disruptions_allowed) == (expected, allowed)


def test_budget_counts_wanted_replicas_for_percentages_only():
    pods = [pod(f"p{i}", NS, {"app": "web"}) for i in range(2)]
    assert budget(pdb("web", minAvailable="50%"), pods, [web_deployment(4)]).desired_healthy == 2
    assert budget(pdb("web", minAvailable=1), pods, [web_deployment(4)]).disruptions_allowed == 1
    assert budget(pdb("web", maxUnavailable=1), pods, [web_deployment(4)]).disruptions_allowed == 0


def test_pdb_status_is_served_as_the_controller_would_report_it(api, admin_client):
    api.store.put_many([namespace(NS), pdb("web", minAvailable=2), pod("p1", NS, {"app": "web"}),
                        pod("p2", NS, {"app": "web"}), pod("p3", NS, {"app": "web"}, ready=False)])
    policy = k8s.PolicyV1Api(admin_client)
    status = policy.read_namespaced_pod_disruption_budget("web", NS).status
    assert (status.current_healthy, status.desired_healthy, status.disruptions_allowed, status.expected_pods) == \
        (2, 2, 0, 3)
    api.store.put(pod("p4", NS, {"app": "web"}))
    listed = policy.list_namespaced_pod_disruption_budget(NS).items
    assert [b.status.disruptions_allowed for b in listed] == [1]
