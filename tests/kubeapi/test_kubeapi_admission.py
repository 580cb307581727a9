"""ValidatingAdmissionPolicies: the sandbox API server enforces them as kube-apiserver does (sandbox/kubeapi/admission.py),
and costguard's own policies (policies/kubernetes-admission.yaml) hold costguard's identity to replicas, limits and
its annotations, driven through the real `kubernetes` client."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi.admission import load_policy_file
from sandbox.kubeapi.auth import lambda_access_key
from sandbox.kubeapi.rbac import load_policy
from tests.kubeapi.conftest import api_client, deployment, namespace, requires_crds, token
from tests.kubeapi.test_kubeapi_crds import GUIDE_NODEPOOL

ADMISSION_FILE = Path(__file__).resolve().parents[2] / "policies" / "kubernetes-admission.yaml"
DEPLOYMENT_DENIAL = ("ValidatingAdmissionPolicy 'costguard-function-deployments' with binding "
                     "'costguard-function-deployments' denied request: ")
OWN_ANNOTATIONS = "costguard may change only its own annotations (costguard.openfaas.com/*)"
NODEPOOL_DENIAL = "ValidatingAdmissionPolicy 'costguard-nodepools' with binding 'costguard-nodepools' denied request: "


def gateway() -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gateway", "namespace": "openfaas", "labels": {"app": "gateway"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "gateway"}},
                     "template": {"metadata": {"labels": {"app": "gateway"}},
                                  "spec": {"containers": [{"name": "gateway", "image": "ghcr.io/openfaas/gateway"}]}}}}


@pytest.fixture
def seeded(api):
    fn = deployment("sleep")
    fn["metadata"]["annotations"] = {"downscaler/original-replicas": "2", "team": "a"}
    api.store.put_many([namespace("openfaas-fn"), namespace("openfaas"), fn, gateway(),
                        *load_policy_file(ADMISSION_FILE)])
    return api


def failure(call) -> tuple[int, dict]:
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def patch_deployment(client, body: dict, name: str = "sleep", ns: str = "openfaas-fn"):
    return k8s.AppsV1Api(client).patch_namespaced_deployment(name, ns, body)


# --- costguard's policies -----------------------------------------------------------------------------------------
def test_costguard_cannot_change_a_function_image_and_is_told_as_kube_apiserver_words_it(seeded, app_client):
    body = {"spec": {"template": {"spec": {"containers": [{"name": "sleep", "image": "evil/miner"}]}}}}
    status, answer = failure(lambda: patch_deployment(app_client, body))
    message = DEPLOYMENT_DENIAL + "costguard may change only spec.replicas of a function Deployment"
    assert status == 403
    assert answer["reason"] == "Forbidden" and answer["code"] == 403
    assert answer["message"] == f'deployments.apps "sleep" is forbidden: {message}'
    assert answer["details"] == {"name": "sleep", "group": "apps", "kind": "deployments",
                                 "causes": [{"message": message}]}
    stored = seeded.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/openfaas/sleep"


def test_a_person_can_change_the_image(seeded, admin_client):
    body = {"spec": {"template": {"spec": {"containers": [{"name": "sleep", "image": "ghcr.io/openfaas/sleep:2"}]}}}}
    patched = patch_deployment(admin_client, body)
    assert patched.spec.template.spec.containers[0].image == "ghcr.io/openfaas/sleep:2"


def test_costguard_writes_as_the_product_does_pass(seeded, app_client):
    """Off-hours' conditional merge patch: replicas, its original-replicas mirror, kube-downscaler's taken over."""
    version = seeded.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")["metadata"]["resourceVersion"]
    patched = patch_deployment(app_client, {
        "metadata": {"resourceVersion": version,
                     "annotations": {"costguard.openfaas.com/original-replicas": "1",
                                     "downscaler/original-replicas": None}},
        "spec": {"replicas": 0}})
    assert patched.spec.replicas == 0
    assert patched.metadata.annotations == {"costguard.openfaas.com/original-replicas": "1", "team": "a"}
    patch_deployment(app_client, {"metadata": {"annotations": {"costguard.openfaas.com/original-replicas": None}},
                                  "spec": {"replicas": 1}})


@pytest.mark.parametrize("body, message", [
    ({"metadata": {"annotations": {"team": "b"}}}, OWN_ANNOTATIONS),
    ({"metadata": {"annotations": {"downscaler/original-replicas": "9"}}},
     OWN_ANNOTATIONS),
    ({"metadata": {"annotations": {"team": None}}}, OWN_ANNOTATIONS),
    ({"metadata": {"labels": {"faas_function": "sleep", "extra": "x"}}},
     "costguard may not change a Deployment's labels, finalizers or owners"),
    ({"spec": {"paused": True}}, "costguard may change only spec.replicas of a function Deployment"),
])
def test_costguard_changes_beyond_replicas_and_its_annotations_are_refused(seeded, app_client, body, message):
    status, answer = failure(lambda: patch_deployment(app_client, body))
    assert (status, answer["message"]) == (403, f'deployments.apps "sleep" is forbidden: {DEPLOYMENT_DENIAL}{message}')


def test_costguard_cannot_scale_a_deployment_that_is_not_a_function(seeded, app_client, admin_client):
    # Where RBAC lets costguard patch Deployments (a function namespace), the policy still refuses one without the
    # faas_function label (outside those namespaces RBAC refuses first: tests/cli/test_least_privilege.py).
    helper = dict(gateway(), metadata={"name": "helper", "namespace": "openfaas-fn", "labels": {"app": "helper"}})
    seeded.store.put(helper)
    status, answer = failure(lambda: patch_deployment(app_client, {"spec": {"replicas": 0}}, "helper", "openfaas-fn"))
    assert status == 403
    assert answer["message"].endswith("costguard may change only OpenFaaS function Deployments (label faas_function)")
    assert patch_deployment(admin_client, {"spec": {"replicas": 2}}, "helper", "openfaas-fn").spec.replicas == 2


@requires_crds
def test_costguard_may_change_nodepool_limits_and_annotations_but_not_requirements(seeded, app_client, admin_client):
    seeded.store.put_many([GUIDE_NODEPOOL])
    custom = k8s.CustomObjectsApi(app_client)
    patched = custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", {
        "metadata": {"annotations": {"costguard.openfaas.com/budget-status": "{}"}}, "spec": {"limits": {"cpu": 8}}})
    assert patched["spec"]["limits"] == {"cpu": 8}
    requirements = copy.deepcopy(GUIDE_NODEPOOL["spec"]["template"]["spec"]["requirements"])
    requirements[2]["values"] = ["on-demand"]
    body = {"spec": {"template": {"spec": {"requirements": requirements}}}}
    status, answer = failure(lambda: custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default",
                                                                       body))
    assert status == 403 and answer["reason"] == "Forbidden"
    assert answer["message"] == ('nodepools.karpenter.sh "default" is forbidden: ' + NODEPOOL_DENIAL
                                 + "costguard may change only spec.limits and spec.replicas of a NodePool")
    admin = k8s.CustomObjectsApi(admin_client)
    changed = admin.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", body)
    assert changed["spec"]["template"]["spec"]["requirements"][2]["values"] == ["on-demand"]


def test_costguard_cannot_create_or_delete_under_the_policy_even_where_rbac_would_allow(api, admin_client):
    """The policy alone (RBAC here grants costguard nothing it lacks): a create by off-hours' group is refused."""
    api.store.put_many([namespace("openfaas-fn"), *load_policy_file(ADMISSION_FILE)])
    api.bindings = api.bindings + _grant_create_deployments()
    with api_client(api, token()) as client:
        status, answer = failure(lambda: k8s.AppsV1Api(client).create_namespaced_deployment(
            "openfaas-fn", deployment("new")))
    assert status == 403 and answer["message"].endswith("costguard may not create or delete Deployments")


def _grant_create_deployments():
    return load_policy([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "extra"},
         "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "extra"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "extra"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "costguard:offhours"}]}])


# --- each Lambda's own group ------------------------------------------------------------------------------------
@pytest.mark.parametrize("function", ["offhours", "api_handler"])
def test_every_lambda_group_that_may_patch_function_deployments_is_held_to_replicas(seeded, function):
    # RBAC lets off-hours and the Slack route patch function Deployments; the policy names both groups
    body = {"spec": {"template": {"spec": {"containers": [{"name": "sleep", "image": "evil/miner"}]}}}}
    with api_client(seeded, token(lambda_access_key(function))) as client:
        status, answer = failure(lambda: patch_deployment(client, body))
    assert status == 403
    assert answer["message"].endswith("costguard may change only spec.replicas of a function Deployment")


@requires_crds
@pytest.mark.parametrize("function", ["offhours", "budget"])
def test_every_lambda_group_that_may_patch_nodepools_is_held_to_limits(api, function):
    api.store.put_many([copy.deepcopy(GUIDE_NODEPOOL), *load_policy_file(ADMISSION_FILE)])
    body = {"spec": {"template": {"spec": {"requirements": []}}}}
    with api_client(api, token(lambda_access_key(function))) as client:
        status, answer = failure(lambda: k8s.CustomObjectsApi(client).patch_cluster_custom_object(
            "karpenter.sh", "v1", "nodepools", "default", body))
    assert status == 403
    assert answer["message"].endswith("costguard may change only spec.limits and spec.replicas of a NodePool")


def _nodeclaim(name: str, annotations: dict | None = None) -> dict:
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
            "metadata": {"name": name, "labels": {"karpenter.sh/nodepool": "default"}, "uid": f"uid-{name}",
                         "annotations": annotations or {}, "finalizers": ["karpenter.sh/termination"]},
            "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                     "requirements": []}}


@requires_crds
def test_offhours_may_delete_a_nodeclaim_but_never_one_marked_do_not_disrupt(seeded):
    """Off-hours' opt-in deletion of empty NodeClaims (chalice_app/offhours/reaper.py), as the off-hours identity."""
    seeded.store.put_many([_nodeclaim("empty"), _nodeclaim("kept", {"karpenter.sh/do-not-disrupt": "true"})])
    with api_client(seeded, token(lambda_access_key("budget"))) as client:  # RBAC: only off-hours may delete
        status, _ = failure(lambda: k8s.CustomObjectsApi(client).delete_cluster_custom_object(
            "karpenter.sh", "v1", "nodeclaims", "empty"))
    assert status == 403
    with api_client(seeded, token(lambda_access_key("offhours"))) as client:
        _delete_nodeclaims_as(seeded, k8s.CustomObjectsApi(client))


def _delete_nodeclaims_as(seeded, custom) -> None:
    stale = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid="recreated"))
    status, _ = failure(lambda: custom.delete_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", "empty",
                                                                    body=stale))
    assert status == 409  # the uid precondition: a NodeClaim recreated under the name is not the one judged empty
    custom.delete_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", "empty",
                                        body=k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid="uid-empty")))
    # Karpenter's finalizer keeps it, marked deleting, until its termination has run
    assert seeded.store.get("karpenter.sh/v1", "NodeClaim", None, "empty")["metadata"]["deletionTimestamp"]
    status, answer = failure(lambda: custom.delete_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", "kept"))
    assert status == 403 and answer["message"].endswith("costguard may not delete a NodeClaim marked "
                                                         "karpenter.sh/do-not-disrupt")
    assert not seeded.store.get("karpenter.sh/v1", "NodeClaim", None, "kept")["metadata"].get("deletionTimestamp")
