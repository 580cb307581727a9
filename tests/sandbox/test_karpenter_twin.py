"""Karpenter's side of parking (sandbox/disruption_rules.py, disruption_candidates.py, karpenter_static.py,
cluster_sim.py): what blocks
launches and empty-node consolidation, and static NodePools through the CRD's scale subresource."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from sandbox import Sandbox
from sandbox.cluster_sim import ClusterSim
from sandbox.disruption_candidates import node_blockers, plan_consolidation
from sandbox.disruption_rules import EMPTY, allowed_disruptions, budget_active, deciding_budget, is_reschedulable
from sandbox.karpenter_static import static_changes
from sandbox.kubeapi.store import Store
from sandbox.objects import node_pool
from sandbox.openfaas import OpenFaaS
from sandbox.openfaas_chart import chart_objects
from sandbox.seed import build_objects, fake_machines, plan_cluster
from tests.kubeapi.conftest import requires_crds

NOW = datetime(2026, 3, 10, 22, 0, tzinfo=timezone.utc)


def pool(**disruption) -> dict:
    body = node_pool("default", "on-demand", NOW - timedelta(days=3))
    body["spec"]["disruption"].update(disruption)
    return body


def node(name="n1", annotations=None, created="2026-03-10T10:00:00Z") -> dict:
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": annotations or {},
                         "labels": {"karpenter.sh/nodepool": "default"}}}


def claim(node_name="n1", last_pod_event=None) -> dict:
    status = {"nodeName": node_name, "conditions": [
        {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-03-10T10:00:00Z"}]}
    if last_pod_event:
        status["lastPodEventTime"] = last_pod_event
    return {"metadata": {"name": f"claim-{node_name}"}, "status": status}


def pod(name, node_name="n1", namespace="openfaas", annotations=None, owner="ReplicaSet", phase="Running") -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "annotations": annotations or {},
                         "ownerReferences": [{"kind": owner, "name": "x"}]},
            "spec": {"nodeName": node_name}, "status": {"phase": phase}}


def kinds(blockers) -> list[str]:
    return [blocker.kind for blocker in blockers]


def test_an_empty_node_may_go_and_daemonset_mirror_and_finished_pods_do_not_count():
    assert node_blockers(node(), [], pool(), claim(), None) == []
    # A mirror pod is owned by its Node (the kubelet sets it); Karpenter tells it by that owner, not by the
    # annotation (kubernetes-sigs/karpenter pkg/utils/pod/scheduling.go IsReschedulable → IsOwnedByNode).
    quiet = [pod("ds", owner="DaemonSet"), pod("done", phase="Succeeded"),
             pod("mirror", annotations={"kubernetes.io/config.mirror": "x"}, owner="Node")]
    assert not any(is_reschedulable(p) for p in quiet)
    assert node_blockers(node(), quiet, pool(), claim(), None) == []


def test_non_function_pods_and_do_not_disrupt_keep_a_node_and_are_named():
    blockers = node_blockers(node(), [pod("gateway-1"), pod("job", annotations={"karpenter.sh/do-not-disrupt": "true"})],
                             pool(), claim(), None)
    assert kinds(blockers) == ["do-not-disrupt-pod", "pods"]
    assert blockers[0].detail == "openfaas/job" and blockers[1].detail == "openfaas/gateway-1, openfaas/job"
    protected = node_blockers(node(annotations={"karpenter.sh/do-not-disrupt": "true"}), [], pool(), claim(), None)
    assert kinds(protected) == ["do-not-disrupt-node"]
    # only the value "true" blocks (statenode.go compares with "true")
    assert node_blockers(node(annotations={"karpenter.sh/do-not-disrupt": "false"}), [], pool(), claim(), None) == []


def test_consolidate_after_never_and_the_wait_since_the_last_pod_event():
    assert kinds(node_blockers(node(), [], pool(consolidateAfter="Never"), claim(), None)) == [
        "consolidate-after-never"]
    recent = claim(last_pod_event="2026-03-10T21:59:30Z")
    assert kinds(node_blockers(node(), [], pool(consolidateAfter="1m"), recent, NOW)) == ["consolidate-after"]
    assert node_blockers(node(), [], pool(consolidateAfter="1m"), recent, NOW + timedelta(seconds=30)) == []
    # without a pod event the wait counts from initialization
    assert node_blockers(node(), [], pool(consolidateAfter="1h"), claim(), NOW) == []


def test_budgets_most_restrictive_active_one_for_empty_rounding_up():
    assert allowed_disruptions(pool(budgets=[{"nodes": "10%"}]), EMPTY, 5, 0, NOW) == 1
    two = pool(budgets=[{"nodes": "50%"}, {"nodes": "0"}])
    assert (allowed_disruptions(two, EMPTY, 4, 0, NOW), deciding_budget(two, EMPTY, 4, NOW)) == (0, 'nodes: "0"')
    drift_only = pool(budgets=[{"nodes": "0", "reasons": ["Drifted"]}])
    assert allowed_disruptions(drift_only, EMPTY, 4, 0, NOW) == 4  # a budget for other reasons does not apply
    nightly = {"nodes": "0", "schedule": "0 19 * * *", "duration": "12h"}
    assert budget_active(nightly, NOW) and not budget_active(nightly, NOW.replace(hour=8))
    assert allowed_disruptions(pool(budgets=[{"nodes": "0", "schedule": "bad", "duration": "1h"}]), EMPTY, 3, 0,
                               NOW) == 0


def test_a_pass_removes_at_most_the_budget_and_says_why_the_rest_stay():
    nodes = [node(f"n{i}", created=f"2026-03-10T1{i}:00:00Z") for i in range(3)]
    plan = plan_consolidation(nodes, [], [pool(budgets=[{"nodes": "1"}])], [claim(f"n{i}") for i in range(3)], None)
    assert plan.remove == ("n0",)
    assert kinds(plan.kept["n1"]) == ["budget"] and 'nodes: "1"' in plan.kept["n1"][0].detail
    frozen = plan_consolidation(nodes, [], [pool(budgets=[{"nodes": "0"}])], [], None)
    assert frozen.remove == () and set(frozen.kept) == {"n0", "n1", "n2"}


def test_static_pool_keeps_exactly_its_replicas_within_limits_nodes():
    static = copy.deepcopy(pool())
    static["spec"]["replicas"], static["spec"]["limits"] = 1, {"nodes": "5"}
    two = [node("a", created="2026-03-10T10:00:00Z"), node("b", created="2026-03-10T11:00:00Z")]
    assert static_changes([static], two, [pod("busy", node_name="a")])[0].remove == ("b",)
    static["spec"]["replicas"] = 9
    assert static_changes([static], two, [])[0].launch == 3  # capped by limits.nodes
    assert kinds(node_blockers(node(), [], static, claim(), None)) == ["static"]


def small_cluster():
    plan = plan_cluster(8, 4, now=NOW - timedelta(days=1))
    store = Store()
    store.put_many(chart_objects(build_objects(plan, fake_machines(plan)).objects, "standard", False, plan.now))
    return store, ClusterSim(store, None, openfaas=OpenFaaS(store))


def parked_cluster():
    """Every function at zero, settled at NOW: the Karpenter nodes are empty."""
    store, sim = small_cluster()
    for deployment in store.list("apps/v1", "Deployment", "openfaas-fn"):
        sim.scale_function(deployment["metadata"]["name"], 0)
    sim.settle(NOW)
    return store, sim


def karpenter_nodes(store, name) -> list[str]:
    return [n["metadata"]["name"] for n in store.list("v1", "Node")
            if n["metadata"]["labels"].get("karpenter.sh/nodepool") == name]


def test_a_pool_parked_at_cpu_zero_launches_nothing_and_the_pod_stays_pending():
    store, sim = small_cluster()
    spot = store.get("karpenter.sh/v1", "NodePool", None, "spot")
    spot["spec"]["limits"] = {"cpu": "0"}
    store.put(spot)
    sim.scale_function("sleep", 30)
    report = sim.settle(NOW)
    assert report.nodes_added == [] and report.pods_pending


def test_parking_empties_nodes_and_consolidation_keeps_the_protected_one_with_its_reason():
    store, sim = parked_cluster()
    protected = karpenter_nodes(store, "default")[0]
    marked = store.get("v1", "Node", None, protected)
    marked["metadata"].setdefault("annotations", {})["karpenter.sh/do-not-disrupt"] = "true"
    store.put(marked)
    assert sim.consolidate(NOW) == []  # consolidateAfter (1m) since the pods left has not passed
    removed = sim.consolidate(NOW + timedelta(minutes=2))
    assert protected not in removed and karpenter_nodes(store, "default") == [protected]
    assert [b.kind for b in sim.last_consolidation.kept[protected]] == ["do-not-disrupt-node"]
    claims = [c for c in store.list("karpenter.sh/v1", "NodeClaim") if c["status"]["nodeName"] == protected]
    assert claims[0]["status"]["lastPodEventTime"] == "2026-03-10T22:00:00Z"


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=8, nodes=4, ec2_instances=False) as running:
        yield running


@requires_crds  # the NodePool CRD's scale subresource, printer columns and static mode come from ../shared/crds
def test_static_nodepool_is_scaled_through_the_scale_subresource_and_cel_guards_the_mode(sb):
    custom = k8s.CustomObjectsApi(sb.admin_kube_client())
    static = node_pool("static", "on-demand", NOW)
    static["metadata"] = {"name": "static"}
    static["spec"]["replicas"], static["spec"]["limits"] = 2, {"nodes": "4"}
    custom.create_cluster_custom_object("karpenter.sh", "v1", "nodepools", static)
    sb.sim.settle()
    assert len(karpenter_nodes(sb.kube.store, "static")) == 2
    scale = custom.get_cluster_custom_object_scale("karpenter.sh", "v1", "nodepools", "static")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    parked = custom.patch_cluster_custom_object_scale("karpenter.sh", "v1", "nodepools", "static",
                                                      {"spec": {"replicas": 0}})
    assert parked["spec"]["replicas"] == 0
    sb.sim.settle()
    assert karpenter_nodes(sb.kube.store, "static") == []
    with pytest.raises(ApiException) as refused:  # a dynamic pool has no replicas: scaling it switches modes
        custom.patch_cluster_custom_object_scale("karpenter.sh", "v1", "nodepools", "default",
                                                 {"spec": {"replicas": 1}})
    assert refused.value.status == 422
    assert "Cannot transition NodePool between static (replicas set) and dynamic" in refused.value.body
    with pytest.raises(ApiException) as unreadable:  # etcd.go ScaleREST.Get: InternalError without replicas
        custom.get_cluster_custom_object_scale("karpenter.sh", "v1", "nodepools", "default")
    assert unreadable.value.status == 500 and json.loads(unreadable.value.body)["message"] == (
        'Internal error occurred: the spec replicas field ".spec.replicas" does not exist')


def test_a_protected_job_keeps_its_node_after_parking_and_is_named():
    store, sim = parked_cluster()
    target = karpenter_nodes(store, "spot")[0]
    job = sim.place_pod(target, "backup", do_not_disrupt=True)
    sim.consolidate(NOW + timedelta(hours=1))
    assert karpenter_nodes(store, "spot") == [target]
    reasons = {b.kind: b.detail for b in sim.last_consolidation.kept[target]}
    assert reasons["do-not-disrupt-pod"] == f"kube-system/{job['metadata']['name']}"
    assert set(reasons) == {"do-not-disrupt-pod", "pods"}


def test_a_node_left_with_only_a_daemonset_pod_is_empty_and_goes_through_karpenters_sequence():
    store, sim = parked_cluster()
    target = karpenter_nodes(store, "spot")[0]
    agent = sim.place_pod(target, "log-agent")
    agent["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "log-agent"}]
    store.put(agent)
    removed = sim.consolidate(NOW + timedelta(minutes=2))
    assert target in removed and store.get("v1", "Node", None, target) is None
    # It went the v1 way: EC2 reported shutting-down and terminated for its instance (no instant removal).
    states = [detail.get("state") for entry in sim.published_events for detail in [json.loads(entry["Detail"])]
              if entry["DetailType"] == "EC2 Instance State-change Notification"]
    assert states.count("shutting-down") == states.count("terminated") == len(removed)
