"""PriorityClasses and the Priority admission plugin (sandbox/kubeapi/priority.py) through the real `kubernetes` client,
and kube-scheduler's queue order and preemption (sandbox/kube_scheduler.py) as pure decisions. Each test names the
upstream behaviour it pins (kubernetes/kubernetes; docs "Pod Priority and Preemption")."""
from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from sandbox.kube_scheduler import (
    disruption_target,
    eligible_to_preempt,
    pdb_split,
    plan_preemption,
    queue_order,
)
from sandbox.kubeapi import FakeKubeApi
from sandbox.kubeapi.priority import admit_pod
from sandbox.pod_fit import NodeRoom
from tests.kubeapi.conftest import api_client, token


@pytest.fixture(scope="module")
def admin():
    with FakeKubeApi() as server, api_client(server, token("sandbox-admin")) as client:
        k8s.CoreV1Api(client).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="kube-system")))
        yield client


def priority_class(name, value, **fields):
    return k8s.V1PriorityClass(metadata=k8s.V1ObjectMeta(name=name), value=value, **fields)


def status_of(call) -> tuple[int, str]:
    with pytest.raises(ApiException) as raised:
        call()
    return raised.value.status, raised.value.body


def pod_body(name, **spec):
    return k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=name),
                     spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="busybox")], **spec))


def test_system_classes_exist_and_user_classes_are_validated(admin):
    scheduling = k8s.SchedulingV1Api(admin)
    values = {c.metadata.name: c.value for c in scheduling.list_priority_class().items}
    assert values == {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}
    created = scheduling.create_priority_class(priority_class("headroom", -10))
    assert created.preemption_policy == "PreemptLowerPriority"  # the default (scheduling/v1 defaults.go)
    code, body = status_of(lambda: scheduling.create_priority_class(priority_class("too-high", 1_000_000_001)))
    assert code == 422 and "maximum allowed value of a user defined priority is 1000000000" in body
    code, body = status_of(lambda: scheduling.create_priority_class(priority_class("system-mine", 5)))
    assert code == 422 and "reserved for system use only" in body
    code, body = status_of(lambda: scheduling.patch_priority_class("headroom", {"value": -5}))
    assert code == 422 and "value: Forbidden: may not be changed in an update." in body


def test_only_one_global_default(admin):
    scheduling = k8s.SchedulingV1Api(admin)
    scheduling.create_priority_class(priority_class("default-low", 100, global_default=True))
    code, body = status_of(lambda: scheduling.create_priority_class(priority_class("other", 5, global_default=True)))
    assert code == 403 and "PriorityClass default-low is already marked as default. Only one default can exist" in body
    scheduling.delete_priority_class("default-low")


def test_pod_creation_resolves_priority_from_its_class(admin):
    core, scheduling = k8s.CoreV1Api(admin), k8s.SchedulingV1Api(admin)
    scheduling.create_priority_class(priority_class("never-preempts", 50, preemption_policy="Never"))
    pod = core.create_namespaced_pod("kube-system",
                                     pod_body("p1", priority_class_name="never-preempts"))
    assert (pod.spec.priority, pod.spec.preemption_policy) == (50, "Never")
    plain = core.create_namespaced_pod("kube-system", pod_body("p2"))
    assert (plain.spec.priority, plain.spec.preemption_policy) == (0, "PreemptLowerPriority")  # no default class
    code, body = status_of(lambda: core.create_namespaced_pod("kube-system",
                                                              pod_body("p3", priority_class_name="nope")))
    assert code == 403 and "no PriorityClass with name nope was found" in body
    code, body = status_of(lambda: core.create_namespaced_pod(
        "kube-system", pod_body("p4", priority_class_name="never-preempts", priority=7)))
    assert code == 403 and "must not be provided in pod spec" in body


def test_pods_without_a_class_get_the_global_default():
    classes = [{"metadata": {"name": "everyone"}, "value": 10, "globalDefault": True, "preemptionPolicy": "Never"}]
    spec = admit_pod({"metadata": {"name": "p"}, "spec": {}}, classes)["spec"]
    assert spec == {"priorityClassName": "everyone", "priority": 10, "preemptionPolicy": "Never"}


# ---- kube-scheduler ------------------------------------------------------------------------------------------------

def pod(name, priority=0, cpu=500, node=None, created="2026-03-02T08:00:00Z", policy=None, labels=None, **status):
    spec = {"priority": priority, "containers": [{"resources": {"requests": {"cpu": f"{cpu}m"}}}]}
    if node:
        spec["nodeName"] = node
    if policy:
        spec["preemptionPolicy"] = policy
    return {"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created, "labels": labels or {}},
            "spec": spec, "status": {"startTime": created, **status}}


def cpu(p):
    return int(p["spec"]["containers"][0]["resources"]["requests"]["cpu"][:-1])


def rooms(**free_cpu):
    return {name: NodeRoom(name, {}, [], free, 10) for name, free in free_cpu.items()}


def plan(preemptor, free, pods_by_node, admits=lambda p, n: True, pdbs=()):
    return plan_preemption(preemptor, rooms(**free), pods_by_node, admits, cpu, list(pdbs))


def test_queue_puts_higher_priority_first_then_the_older_pod():
    pods = [pod("low", -10), pod("late", 0, created="2026-03-02T08:00:05Z"), pod("early", 0), pod("high", 100)]
    assert [p["metadata"]["name"] for p in queue_order(pods)] == ["high", "early", "late", "low"]


def test_preemption_reprieves_what_it_can_and_prefers_the_smaller_sum_of_victim_priorities():
    on_a = [pod("a-1", -10, 500, "a"), pod("a-2", -10, 500, "a"), pod("a-function", 0, 500, "a")]
    on_b = [pod("b-placeholder", -10, 1000, "b"), pod("b-small", -10, 250, "b")]
    chosen = plan(pod("burst", 0, 1000), {"a": 0, "b": 0}, {"a": on_a, "b": on_b})
    # a: both placeholders go (a-function has equal priority: never a victim); b: b-placeholder goes, b-small is
    # reprieved (SelectVictimsOnNode); one victim of -10 sums lower than two (pickOneNodeForPreemption criterion 3).
    assert chosen.node == "b" and [v["metadata"]["name"] for v in chosen.victims] == ["b-placeholder"]


def test_lowest_highest_priority_victim_wins_over_fewer_victims():
    on_a = [pod("a-mid", 5, 1000, "a")]
    on_b = [pod("b-low-1", -10, 500, "b"), pod("b-low-2", -10, 500, "b")]
    chosen = plan(pod("burst", 10, 1000), {"a": 0, "b": 0}, {"a": on_a, "b": on_b})
    assert chosen.node == "b" and len(chosen.victims) == 2


def test_no_preemption_for_never_policy_equal_priority_or_rejecting_nodes():
    on_a = [pod("a-placeholder", -10, 1000, "a")]
    assert plan(pod("p", 0, 500, policy="Never"), {"a": 0}, {"a": on_a}) is None
    assert plan(pod("p", -10, 500), {"a": 0}, {"a": on_a}) is None  # only strictly lower priority is a victim
    assert plan(pod("p", 0, 500), {"a": 0}, {"a": on_a}, admits=lambda p, n: False) is None  # taints/affinity
    assert plan(pod("p", 0, 2000), {"a": 0}, {"a": on_a}) is None  # does not fit even with every victim gone


def test_a_pod_waits_while_its_victims_terminate():
    terminating = pod("victim", -10, 1000, "a", conditions=[disruption_target("2026-03-02T08:00:00Z")])
    terminating["metadata"]["deletionTimestamp"] = "2026-03-02T08:00:00Z"
    preemptor = pod("burst", 0, 500, nominatedNodeName="a")
    assert not eligible_to_preempt(preemptor, {"a": [terminating]})
    assert eligible_to_preempt(pod("burst", 0, 500, nominatedNodeName="b"), {"a": [terminating]})


def test_pdb_violating_victims_are_counted_and_avoided():
    pdb = {"metadata": {"name": "keep", "namespace": "ns"}, "spec": {"selector": {"matchLabels": {"app": "keep"}}},
           "status": {"disruptionsAllowed": 0}}
    protected = pod("a-protected", -10, 1000, "a", labels={"app": "keep"})
    violating, fine = pdb_split([protected, pod("x", -10, labels={"app": "other"})], [pdb])
    assert [p["metadata"]["name"] for p in violating] == ["a-protected"] and len(fine) == 1
    chosen = plan(pod("burst", 0, 1000), {"a": 0, "b": 0},
                  {"a": [protected], "b": [pod("b-1", -10, 500, "b"), pod("b-2", -10, 500, "b")]}, pdbs=[pdb])
    assert chosen.node == "b" and chosen.pdb_violations == 0


def test_kubectl_get_pc_columns(admin):
    """kube-apiserver's printer for PriorityClasses (pkg/printers/internalversion/printers.go): NAME, VALUE,
    GLOBAL-DEFAULT, AGE, PREEMPTIONPOLICY."""
    response = admin.call_api(*admin.param_serialize(
        "GET", "/apis/scheduling.k8s.io/v1/priorityclasses", auth_settings=["BearerToken"],
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}))
    response.read()
    table = json.loads(response.data)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Value", "Global-Default", "Age",
                                                                "PreemptionPolicy"]
    rows = {row["cells"][0]: row["cells"] for row in table["rows"]}
    assert rows["system-node-critical"][1:3] == [2_000_001_000, False]
    assert rows["system-node-critical"][4] == "PreemptLowerPriority"
