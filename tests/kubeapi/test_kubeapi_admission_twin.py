"""The sandbox's ValidatingAdmissionPolicy engine against kube-apiserver's behaviour (staging/src/k8s.io/apiserver/pkg/
admission/plugin/policy/validating/: dispatcher.go, validator.go; the "Validating Admission Policy" docs page):
served resources, matching, subresources, reasons and codes, messages, failurePolicy, matchConditions, actions."""
from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi.admission import AUTHENTICATED, Attributes
from sandbox.kubeapi.auth import Identity
from sandbox.kubeapi.resources import DEPLOYMENTS
from tests.kubeapi.conftest import deployment, namespace
from tests.kubeapi.test_kubeapi_tables import get_table


def policy(name: str, validations: list[dict], resources=("deployments",), operations=("CREATE", "UPDATE"),
           **spec) -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                             "operations": list(operations),
                                                             "resources": list(resources)}]},
                     "validations": validations, **spec}}


def binding(name: str, policy_name: str, actions=("Deny",), **spec) -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name}, "spec": {"policyName": policy_name, "validationActions": list(actions), **spec}}


REPLICAS_AT_MOST_5 = [{"expression": "object.spec.replicas <= 5"}]


@pytest.fixture
def seeded(api):
    api.store.put_many([namespace("openfaas-fn"), deployment("sleep")])
    return api


def install(api, *objects) -> None:
    api.store.put_many(list(objects))


def failure(call) -> tuple[int, dict]:
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def scale(client, replicas: int):
    return k8s.AppsV1Api(client).patch_namespaced_deployment(
        "sleep", "openfaas-fn", {"spec": {"replicas": replicas}})


def test_policies_are_served_and_discovered_and_apply_to_the_next_request(seeded, admin_client):
    admission = k8s.AdmissionregistrationV1Api(admin_client)
    admission.create_validating_admission_policy(policy("max-5", REPLICAS_AT_MOST_5))
    assert scale(admin_client, 9).spec.replicas == 9  # no binding yet: a policy alone does nothing
    admission.create_validating_admission_policy_binding(binding("max-5", "max-5"))
    status, answer = failure(lambda: scale(admin_client, 6))
    assert status == 422 and answer["reason"] == "Invalid"  # no reason: Invalid, 422
    assert answer["message"] == ('deployments.apps "sleep" is forbidden: ValidatingAdmissionPolicy \'max-5\' with '
                                 "binding 'max-5' denied request: failed expression: object.spec.replicas <= 5")
    assert [p.metadata.name for p in admission.list_validating_admission_policy().items] == ["max-5"]
    resources = {r.name: r for r in k8s.AdmissionregistrationV1Api(admin_client).get_api_resources().resources}
    assert resources["validatingadmissionpolicies"].categories == ["api-extensions"]
    assert not resources["validatingadmissionpolicies"].namespaced
    assert "validatingadmissionpolicybindings" in resources and "validatingadmissionpolicies/status" in resources
    admission.delete_validating_admission_policy_binding("max-5")
    assert scale(admin_client, 6).spec.replicas == 6


def test_costguard_may_not_touch_the_policies(seeded, app_client):
    status, answer = failure(lambda: k8s.AdmissionregistrationV1Api(app_client).delete_validating_admission_policy_binding("x"))
    assert status == 403 and "validatingadmissionpolicybindings" in answer["message"]


def test_a_policy_whose_expression_does_not_compile_is_refused(seeded, admin_client):
    broken = policy("broken", [{"expression": "object.spec.replicas <="}])
    status, answer = failure(lambda: k8s.AdmissionregistrationV1Api(admin_client).create_validating_admission_policy(
        broken))
    assert status == 422
    assert answer["details"]["causes"][0]["field"] == "spec.validations[0].expression"
    assert "compilation failed" in answer["message"]


def test_incomplete_policies_and_bindings_are_refused_with_the_fields_named(seeded, admin_client):
    def create(plural: str, body: dict) -> tuple[int, dict]:  # raw: the client's own models refuse these first
        response = admin_client.call_api(*admin_client.param_serialize(
            "POST", f"/apis/admissionregistration.k8s.io/v1/{plural}", body=body, auth_settings=["BearerToken"],
            header_params={"Content-Type": "application/json"}))
        response.read()
        return response.status, json.loads(response.data)

    status, answer = create("validatingadmissionpolicies", {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "empty"}, "spec": {"validations": [{"message": "no expression"}]}})
    assert status == 422
    assert [cause["field"] for cause in answer["details"]["causes"]] == [
        "spec.matchConstraints.resourceRules", "spec.validations[0].expression"]
    status, answer = create("validatingadmissionpolicybindings", {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "b"}, "spec": {"policyName": "p"}})
    assert status == 422 and answer["details"]["causes"][0]["field"] == "spec.validationActions"


@pytest.mark.parametrize("reason, code", [("Forbidden", 403), ("Unauthorized", 401),
                                          ("RequestEntityTooLarge", 413), ("Invalid", 422)])
def test_the_reason_gives_the_code(seeded, admin_client, reason, code):
    install(seeded, policy("p", [{"expression": "object.spec.replicas <= 5", "reason": reason}]), binding("b", "p"))
    status, answer = failure(lambda: scale(admin_client, 6))
    assert (status, answer["reason"], answer["code"]) == (code, reason, code)


def test_message_expression_wins_unless_it_is_empty_or_multi_line(seeded, admin_client):
    validations = [{"expression": "object.spec.replicas <= 5", "message": "at most 5",
                    "messageExpression": "'asked for ' + string(object.spec.replicas)"}]
    install(seeded, policy("p", validations), binding("b", "p"))
    assert failure(lambda: scale(admin_client, 6))[1]["message"].endswith("denied request: asked for 6")
    for bad in ("''", "'two\\nlines'", "object.spec.nope"):
        validations[0]["messageExpression"] = bad
        install(seeded, policy("p", validations))
        assert failure(lambda: scale(admin_client, 6))[1]["message"].endswith("denied request: at most 5"), bad


def test_runtime_errors_deny_under_fail_and_admit_under_ignore(seeded, admin_client):
    validations = [{"expression": "object.spec.nope == 1"}]
    install(seeded, policy("p", validations), binding("b", "p"))
    status, answer = failure(lambda: scale(admin_client, 2))
    assert status == 422
    assert "denied request: expression 'object.spec.nope == 1' resulted in error: " in answer["message"]
    install(seeded, policy("p", validations, failurePolicy="Ignore"))
    assert scale(admin_client, 2).spec.replicas == 2


def test_match_conditions_select_requests_by_identity(seeded, admin_client, app_client):
    conditions = [{"name": "costguard", "expression": "'costguard:offhours' in request.userInfo.groups"}]
    install(seeded, policy("p", [{"expression": "object.spec.replicas <= 5"}], matchConditions=conditions),
            binding("b", "p"))
    assert scale(admin_client, 9).spec.replicas == 9  # not an off-hours group member: the policy is skipped
    assert failure(lambda: scale(app_client, 7))[0] == 422


def test_warn_and_audit_bindings_do_not_refuse(seeded, admin_client):
    install(seeded, policy("p", REPLICAS_AT_MOST_5), binding("b", "p", actions=("Warn", "Audit")))
    assert scale(admin_client, 9).spec.replicas == 9


def test_binding_match_resources_narrow_the_policy(seeded, admin_client):
    selector = {"objectSelector": {"matchLabels": {"tier": "gold"}}}
    install(seeded, policy("p", REPLICAS_AT_MOST_5), binding("b", "p", matchResources=selector))
    assert scale(admin_client, 9).spec.replicas == 9  # not labelled tier=gold
    scale(admin_client, 1)  # (the label patch below is checked too: its object has to pass)
    k8s.AppsV1Api(admin_client).patch_namespaced_deployment("sleep", "openfaas-fn",
                                                            {"metadata": {"labels": {"tier": "gold"}}})
    assert failure(lambda: scale(admin_client, 8))[0] == 422


def test_scale_subresource_is_matched_only_when_named_and_its_object_is_the_scale(seeded, admin_client):
    apps = k8s.AppsV1Api(admin_client)
    install(seeded, policy("p", REPLICAS_AT_MOST_5), binding("b", "p"))  # "deployments": not its subresources
    assert apps.patch_namespaced_deployment_scale("sleep", "openfaas-fn", {"spec": {"replicas": 9}}).spec.replicas == 9
    scale_rule = [{"expression": "object.kind == 'Scale' && request.subResource == 'scale' "
                                 "&& object.spec.replicas <= oldObject.spec.replicas + 1"}]
    install(seeded, policy("p", scale_rule, resources=("deployments/scale",)))
    status, answer = failure(lambda: apps.patch_namespaced_deployment_scale("sleep", "openfaas-fn",
                                                                           {"spec": {"replicas": 11}}))
    assert status == 422 and answer["message"].startswith('deployments.apps "sleep" is forbidden: ')
    assert apps.patch_namespaced_deployment_scale("sleep", "openfaas-fn",
                                                  {"spec": {"replicas": 10}}).spec.replicas == 10


def test_create_and_delete_see_a_null_object_on_the_other_side(seeded, admin_client):
    rule = [{"expression": "request.operation == 'CREATE' ? oldObject == null && object != null "
                           ": object == null && oldObject.metadata.name == 'sleep'",
             "message": "only sleep may go"}]
    install(seeded, policy("p", rule, operations=("CREATE", "DELETE")), binding("b", "p"))
    apps = k8s.AppsV1Api(admin_client)
    apps.create_namespaced_deployment("openfaas-fn", deployment("other"))
    status, answer = failure(lambda: apps.delete_namespaced_deployment("other", "openfaas-fn"))
    assert status == 422 and answer["message"].startswith('deployments.apps "other" is forbidden: ')
    apps.delete_namespaced_deployment("sleep", "openfaas-fn")


def test_dry_run_is_admitted_too(seeded, admin_client):
    install(seeded, policy("p", REPLICAS_AT_MOST_5), binding("b", "p"))
    status, _ = failure(lambda: k8s.AppsV1Api(admin_client).patch_namespaced_deployment(
        "sleep", "openfaas-fn", {"spec": {"replicas": 6}}, dry_run="All"))
    assert status == 422


def test_the_request_variable_carries_what_admission_request_does():
    attributes = Attributes("UPDATE", DEPLOYMENTS, "scale", "sleep", "openfaas-fn", {}, {},
                            Identity("costguard", ("costguard",)), kind=("autoscaling", "v1", "Scale"))
    request = attributes.request()
    assert request["userInfo"] == {"username": "costguard", "groups": ["costguard", AUTHENTICATED]}
    assert request["kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert request["resource"] == {"group": "apps", "version": "v1", "resource": "deployments"}
    assert (request["subResource"], request["namespace"], request["operation"]) == ("scale", "openfaas-fn", "UPDATE")
    assert request["options"]["kind"] == "UpdateOptions"


def test_kubectl_get_prints_the_policy_columns(seeded, admin_client):
    install(seeded, policy("p", REPLICAS_AT_MOST_5), binding("b", "p"))
    policies = get_table(seeded, admin_client, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies")
    assert [c["name"] for c in policies["columnDefinitions"]] == ["Name", "Validations", "ParamKind", "Age"]
    assert policies["rows"][0]["cells"][:3] == ["p", 1, "<unset>"]
    bindings = get_table(seeded, admin_client,
                         "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings")
    assert bindings["rows"][0]["cells"][:3] == ["b", "p", "<unset>"]
