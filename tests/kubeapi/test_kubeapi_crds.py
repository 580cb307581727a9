"""Custom objects are validated against the CRDs in ../shared/crds: defaults applied, bad fields named (422),
unknown fields pruned, on create, replace and patch alike."""
import copy
import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi import ApiError
from tests.kubeapi.conftest import requires_crds

pytestmark = requires_crds

# The NodePool of the OpenFaaS guide for EKS with Karpenter.
GUIDE_NODEPOOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "default"},
    "spec": {
        "template": {"spec": {
            "requirements": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
                {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
                {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
            ],
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            "expireAfter": "720h",
        }},
        "limits": {"cpu": 100},
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
    },
}

FUNCTION = {"apiVersion": "openfaas.com/v1", "kind": "Function",
            "metadata": {"name": "sleep", "namespace": "openfaas-fn"},
            "spec": {"name": "sleep", "image": "ghcr.io/openfaas/sleep:latest",
                     "labels": {"com.openfaas.scale.zero": "true"}}}


def causes(raised) -> list[str]:
    return [cause["field"] for cause in json.loads(raised.value.body)["details"]["causes"]]


@pytest.fixture
def custom(admin_client):
    return k8s.CustomObjectsApi(admin_client)


def create_pool(custom, body):
    return custom.create_cluster_custom_object("karpenter.sh", "v1", "nodepools", body)


def test_guide_nodepool_is_accepted_with_defaults(custom):
    created = create_pool(custom, copy.deepcopy(GUIDE_NODEPOOL))
    assert created["spec"]["limits"] == {"cpu": 100}
    assert created["spec"]["disruption"]["budgets"] == [{"nodes": "10%"}]  # schema default
    assert created["spec"]["disruption"]["consolidateAfter"] == "1m"


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p["spec"]["disruption"].update(consolidationPolicy="WhenIdle"), "spec.disruption.consolidationPolicy"),
    (lambda p: p["spec"]["limits"].update(cpu="lots"), "spec.limits.cpu"),
    (lambda p: p["spec"]["template"]["spec"]["requirements"][0].update(operator="Maybe"),
     "spec.template.spec.requirements[0].operator"),
    (lambda p: p["spec"]["template"]["spec"].pop("nodeClassRef"), "spec.template.spec.nodeClassRef"),
    (lambda p: p["spec"]["disruption"].update(consolidateAfter="soon"), "spec.disruption.consolidateAfter"),
])
def test_bad_nodepools_are_rejected_naming_the_field(api, custom, mutate, field):
    body = copy.deepcopy(GUIDE_NODEPOOL)
    mutate(body)
    with pytest.raises(ApiException) as raised:
        create_pool(custom, body)
    assert raised.value.status == 422
    status = json.loads(raised.value.body)
    assert status["reason"] == "Invalid" and field in causes(raised)
    assert status["message"].startswith('NodePool.karpenter.sh "default" is invalid: ')
    assert api.store.get("karpenter.sh/v1", "NodePool", None, "default") is None


def test_invalid_patch_changes_nothing(api, custom):
    create_pool(custom, copy.deepcopy(GUIDE_NODEPOOL))
    before = api.store.get("karpenter.sh/v1", "NodePool", None, "default")
    with pytest.raises(ApiException) as raised:
        custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default",
                                           {"spec": {"limits": {"cpu": "-x"}}})
    assert raised.value.status == 422 and causes(raised) == ["spec.limits.cpu"]
    assert api.store.get("karpenter.sh/v1", "NodePool", None, "default") == before
    patched = custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default",
                                                 {"spec": {"limits": {"cpu": "40", "memory": "160Gi"}}})
    assert patched["spec"]["limits"] == {"cpu": "40", "memory": "160Gi"}


def test_replace_is_validated_and_needs_a_resource_version(custom):
    created = create_pool(custom, copy.deepcopy(GUIDE_NODEPOOL))
    body = copy.deepcopy(created)
    body["spec"]["weight"] = 500  # maximum is 100
    with pytest.raises(ApiException) as raised:
        custom.replace_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", body)
    assert raised.value.status == 422 and causes(raised) == ["spec.weight"]
    body["spec"]["weight"] = 50
    del body["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as raised:
        custom.replace_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", body)
    assert raised.value.status == 422 and causes(raised) == ["metadata.resourceVersion"]
    body["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    assert custom.replace_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", body)["spec"][
        "weight"] == 50


def test_unknown_fields_are_pruned_or_rejected_when_strict(custom):
    body = copy.deepcopy(GUIDE_NODEPOOL)
    body["spec"]["costCentre"] = "faas"
    created = create_pool(custom, body)
    assert "costCentre" not in created["spec"]
    body["metadata"]["name"] = "strict"
    with pytest.raises(ApiException) as raised:
        custom.create_cluster_custom_object("karpenter.sh", "v1", "nodepools", body, field_validation="Strict")
    assert raised.value.status == 422 and causes(raised) == ["spec.costCentre"]


def test_status_of_a_custom_object_is_written_through_status_only(api, custom):
    create_pool(custom, copy.deepcopy(GUIDE_NODEPOOL))
    patched = custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default",
                                                 {"status": {"nodes": 3}})
    assert "status" not in patched
    patched = custom.patch_cluster_custom_object_status("karpenter.sh", "v1", "nodepools", "default",
                                                        {"status": {"nodes": 3}})
    assert patched["status"]["nodes"] == 3


def test_functions_and_profiles(api, custom):
    api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openfaas-fn"}})
    created = custom.create_namespaced_custom_object("openfaas.com", "v1", "openfaas-fn", "functions",
                                                     copy.deepcopy(FUNCTION))
    assert created["spec"]["image"] == "ghcr.io/openfaas/sleep:latest"
    bad = copy.deepcopy(FUNCTION)
    bad["metadata"]["name"] = "nameless"
    del bad["spec"]["image"]
    with pytest.raises(ApiException) as raised:
        custom.create_namespaced_custom_object("openfaas.com", "v1", "openfaas-fn", "functions", bad)
    assert raised.value.status == 422 and causes(raised) == ["spec.image"]


def test_seeding_validates_too(api):
    body = copy.deepcopy(GUIDE_NODEPOOL)
    stored = api.store.put(body)
    assert stored["spec"]["disruption"]["budgets"] == [{"nodes": "10%"}]
    body["spec"]["disruption"]["consolidationPolicy"] = "Never"
    with pytest.raises(ApiError) as raised:
        api.store.put(body)
    assert raised.value.code == 422 and "spec.disruption.consolidationPolicy" in raised.value.message
