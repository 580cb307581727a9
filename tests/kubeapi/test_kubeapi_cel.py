"""The CRDs' own `x-kubernetes-validations` rules (../shared/crds) are evaluated on create, update and patch, through
the real `kubernetes` client: 422 Invalid worded as kube-apiserver words it where it would reject, acceptance
otherwise; transition rules (oldSelf) on update only; unchanged values ratchet."""
import copy
import json
import re

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kubeapi import cel
from sandbox.kubeapi.schemas import load_crds
from tests.kubeapi.conftest import CRD_DIR, requires_crds
from tests.kubeapi.test_kubeapi_crds import GUIDE_NODEPOOL

pytestmark = requires_crds

STATIC_LIMITS = "only 'limits.nodes' is supported on static NodePools"
MODE_SWITCH = "Cannot transition NodePool between static (replicas set) and dynamic (replicas unset) provisioning modes"
MERGE = "application/merge-patch+json"


@pytest.fixture
def custom(admin_client):
    return k8s.CustomObjectsApi(admin_client)


def pool(name="default", **spec_changes) -> dict:
    body = copy.deepcopy(GUIDE_NODEPOOL)
    body["metadata"]["name"] = name
    body["spec"].update(spec_changes)
    return body


def static_pool(name="static", replicas=2, **changes) -> dict:
    body = pool(name, replicas=replicas)
    del body["spec"]["limits"]
    body["spec"].update(changes)
    return body


def create(custom, body):
    return custom.create_cluster_custom_object("karpenter.sh", "v1", "nodepools", body)


def patch(custom, name, body):
    return custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", name, body, _content_type=MERGE)


def rejection(raised) -> dict:
    assert raised.value.status == 422
    return json.loads(raised.value.body)


def test_every_rule_of_the_shared_crds_is_compiled():
    compiled = sum(len(site.rules) for crd in load_crds(CRD_DIR).values() for site in crd.rules)
    written = sum(len(re.findall(r"^\s*(?:- )?rule: ", path.read_text(), re.MULTILINE))
                  for path in CRD_DIR.glob("*.yaml"))
    assert compiled == written > 0


def test_static_nodepool_with_a_cpu_limit_is_rejected_on_create_with_the_crd_message(custom):
    with pytest.raises(ApiException) as raised:
        create(custom, static_pool(limits={"cpu": "0"}))
    status = rejection(raised)
    assert status["reason"] == "Invalid"
    assert status["message"] == (f'NodePool.karpenter.sh "static" is invalid: spec: Invalid value: "object": '
                                 f"{STATIC_LIMITS}")
    assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "spec",
                                            "message": f'Invalid value: "object": {STATIC_LIMITS}'}]


def test_static_nodepool_accepts_limits_nodes_and_rejects_a_cpu_limit_patch(custom):
    create(custom, static_pool(limits={"nodes": "5"}))
    with pytest.raises(ApiException) as raised:
        patch(custom, "static", {"spec": {"limits": {"cpu": "0"}}})
    assert STATIC_LIMITS in rejection(raised)["message"]
    # Parking a static pool through replicas is fine.
    assert patch(custom, "static", {"spec": {"replicas": 0}})["spec"]["replicas"] == 0


def test_dynamic_nodepool_may_be_parked_at_cpu_zero(custom):
    create(custom, pool())
    assert patch(custom, "default", {"spec": {"limits": {"cpu": "0"}}})["spec"]["limits"] == {"cpu": "0"}


def test_transition_rule_oldself_rejects_switching_a_dynamic_pool_to_static_on_update_only(custom):
    create(custom, pool())
    with pytest.raises(ApiException) as raised:
        patch(custom, "default", {"spec": {"replicas": 1, "limits": None}})
    assert MODE_SWITCH in rejection(raised)["message"]
    # The same object is fine when created: the transition rule has no oldSelf then.
    created = create(custom, pool("fresh", replicas=1, limits={"nodes": "1"}))
    assert created["spec"]["replicas"] == 1


def test_node_class_ref_kind_is_immutable_on_replace(custom):
    created = create(custom, pool())
    created["spec"]["template"]["spec"]["nodeClassRef"]["kind"] = "OtherNodeClass"
    with pytest.raises(ApiException) as raised:
        custom.replace_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", created)
    status = rejection(raised)
    assert status["details"]["causes"][0]["field"] == "spec.template.spec.nodeClassRef"
    assert "nodeClassRef.kind is immutable" in status["message"]


def test_requirement_rules_reject_in_without_values_and_restricted_label_domains(custom):
    body = pool()
    body["spec"]["template"]["spec"]["requirements"].append(
        {"key": "karpenter.sh/team", "operator": "In", "values": []})
    with pytest.raises(ApiException) as raised:
        create(custom, body)
    fields = {cause["field"]: cause["message"] for cause in rejection(raised)["details"]["causes"]}
    assert fields["spec.template.spec.requirements"] == (
        "Invalid value: \"array\": requirements with operator 'In' must have a value defined")
    assert fields["spec.template.spec.requirements[5].key"] == (
        'Invalid value: "string": label domain "karpenter.sh" is restricted')


def test_budget_schedule_needs_a_duration(custom):
    with pytest.raises(ApiException) as raised:
        create(custom, pool(disruption={"consolidateAfter": "1m", "budgets": [{"nodes": "0", "schedule": "@daily"}]}))
    assert "'schedule' must be set with 'duration'" in rejection(raised)["message"]
    accepted = create(custom, pool(disruption={"consolidateAfter": "Never",
                                               "budgets": [{"nodes": "0", "schedule": "0 19 * * *",
                                                            "duration": "12h"}]}))
    assert accepted["spec"]["disruption"]["budgets"][0]["nodes"] == "0"


def test_weight_is_not_supported_on_static_pools(custom):
    with pytest.raises(ApiException) as raised:
        create(custom, static_pool(weight=10))
    assert "'weight' is not supported on static NodePools" in rejection(raised)["message"]


def test_dry_run_is_validated_too(custom):
    with pytest.raises(ApiException) as raised:
        custom.create_cluster_custom_object("karpenter.sh", "v1", "nodepools", static_pool(limits={"cpu": "1"}),
                                            dry_run="All")
    assert STATIC_LIMITS in rejection(raised)["message"]


def test_seeded_sandbox_objects_pass_every_rule():
    """Seeding skips CEL for speed; this proves the seed's NodePools, NodeClaims and EC2NodeClass are valid."""
    from sandbox.seed import build_objects, fake_machines, plan_cluster
    crds = load_crds(CRD_DIR)
    plan = plan_cluster(functions=8, nodes=6)
    seeded = build_objects(plan, fake_machines(plan)).objects
    checked = 0
    for obj in seeded:
        group, version = obj["apiVersion"].split("/") if "/" in obj["apiVersion"] else ("", obj["apiVersion"])
        crd = crds.get((group, version, obj["kind"]))
        if crd is not None and crd.rules:
            assert cel.violations(crd.rules, obj, None) == [], obj["metadata"]["name"]
            checked += 1
    assert checked >= 6


def test_ec2nodeclass_alias_rules_use_the_kubernetes_string_extensions():
    """`split` (cel-go ext strings) and `find` (k8s regex library) are registered: the alias rules evaluate."""
    crd = load_crds(CRD_DIR)[("karpenter.k8s.aws", "v1", "EC2NodeClass")]
    base = {"spec": {"role": "KarpenterNodeRole", "amiSelectorTerms": [{"alias": "al2023@latest"}],
                     "subnetSelectorTerms": [{"tags": {"a": "b"}}],
                     "securityGroupSelectorTerms": [{"tags": {"a": "b"}}]}}
    assert cel.violations(crd.rules, base, None) == []
    windows = copy.deepcopy(base)
    windows["spec"]["amiSelectorTerms"] = [{"alias": "windows2022@v1"}]
    messages = [message for _, message, _ in cel.violations(crd.rules, windows, None)]
    assert 'Invalid value: "string": windows families may only specify version \'latest\'' in messages
    wrong_family = copy.deepcopy(base)
    wrong_family["spec"]["amiFamily"] = "Bottlerocket"
    assert any("must be 'AL2023' or 'Custom'" in m for _, m, _ in cel.violations(crd.rules, wrong_family, None))


def test_nodeclaim_spec_is_immutable_but_status_writes_ratchet():
    crd = load_crds(CRD_DIR)[("karpenter.sh", "v1", "NodeClaim")]
    claim = {"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                      "requirements": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}}
    changed = copy.deepcopy(claim)
    changed["spec"]["requirements"][0]["values"] = ["arm64"]
    assert [(f, m) for f, m, _ in cel.violations(crd.rules, changed, claim)] == [
        ("spec", 'Invalid value: "object": spec is immutable')]
    assert cel.violations(crd.rules, claim, claim) == []


def test_a_rule_that_cannot_evaluate_rejects_with_the_rule_named():
    crd = load_crds(CRD_DIR)[("karpenter.sh", "v1", "NodePool")]
    body = pool()
    body["spec"]["template"]["spec"]["requirements"].append(
        {"key": "karpenter.k8s.aws/instance-cpu", "operator": "Gt", "values": ["many"]})
    broken = [(field, message) for field, message, _ in cel.violations(crd.rules, body, None)]
    assert len(broken) == 1 and broken[0][0] == "spec.template.spec.requirements"
    assert broken[0][1].startswith('Invalid value: "array": ') and broken[0][1].endswith(
        "evaluating rule: self.all(x, (x.operator == 'Gt' || x.operator == 'Lt' || x.operator == 'Gte' || "
        "x.operator == 'Lte') ? (x.values.size() == 1 && int(x.values[0]) >= 0) : true)")
