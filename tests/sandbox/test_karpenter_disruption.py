"""Karpenter v1's disruption in the sandbox, end to end over the fake API, moto's EC2 and EventBridge → SQS."""
import json
from datetime import timedelta

import pytest

from chalice_app import naming
from chalice_app.provisioning import ensure_stage
from sandbox import CLUSTER_NAME, Sandbox
from sandbox.disruption_rules import DO_NOT_DISRUPT, condition
from sandbox.instance_loss import instance_of
from sandbox.k8s_events import events_for
from sandbox.karpenter_scheduling import launch_for

SPOT_POOL_ANNOTATION = "karpenter.sh/nodepool"


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=20, nodes=6) as sandbox:
        ensure_stage(sandbox.session(), sandbox.stage, cluster_name=CLUSTER_NAME)
        # The seeded nodes stay out of it (node-level control), so each test watches only the node it makes.
        for node in sandbox.kube.store.list("v1", "Node"):
            node["metadata"].setdefault("annotations", {})[DO_NOT_DISRUPT] = "true"
            sandbox.kube.store.put(node)
        yield sandbox


@pytest.fixture(autouse=True)
def each_test(sb):
    queue_messages(sb)  # whatever a previous test left
    yield
    # Back to the seeded cluster: one `sleep` replica, the nodes a test made consolidated away.
    sb.sim.settle()
    scale_sleep_back(sb)
    sb.sim.consolidate()


def queue_messages(sb) -> list[dict]:
    sqs = sb.session().client("sqs")
    url = sqs.get_queue_url(QueueName=naming.interruption_queue(sb.stage))["QueueUrl"]
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def store(sb):
    return sb.kube.store


def claim_of(sb, node_name):
    return next((c for c in store(sb).list("karpenter.sh/v1", "NodeClaim") if c["status"]["nodeName"] == node_name),
                None)


def new_spot_node(sb, replicas=5) -> str:
    """Scale `sleep` up until it needs a new spot node; that node's name."""
    sb.sim.scale_function("sleep", replicas)
    added = sb.sim.settle().nodes_added
    assert len(added) == 1
    return added[0]


def scale_sleep_back(sb):
    sb.sim.scale_function("sleep", 1)
    sb.sim.settle()


def test_an_empty_node_goes_in_karpenters_order_and_ec2_reports_it(sb):
    node = new_spot_node(sb)
    instance = instance_of(store(sb).get("v1", "Node", None, node))
    scale_sleep_back(sb)
    start = sb.sim.now()
    assert node not in sb.sim.disrupt(start + timedelta(seconds=30)).disrupted  # consolidateAfter: 1m

    report = sb.sim.disrupt(start + timedelta(minutes=2))
    assert report.disrupted == {node: "Empty"} and report.shutting_down == [instance]
    deleting = store(sb).get("v1", "Node", None, node)
    assert {"key": "karpenter.sh/disrupted", "effect": "NoSchedule"} in deleting["spec"]["taints"]
    assert deleting["metadata"]["deletionTimestamp"] and deleting["metadata"]["finalizers"] == [
        "karpenter.sh/termination"]
    claim = claim_of(sb, node)
    assert claim["metadata"]["deletionTimestamp"] and "karpenter.sh/termination" in claim["metadata"]["finalizers"]
    reason = condition(claim, "DisruptionReason")
    assert (reason["status"], reason["reason"]) == ("True", "Empty")
    assert condition(claim, "InstanceTerminating")["status"] == "True"
    assert [e["message"] for e in events_for(store(sb), "Node", node)] == ["Disrupting Node: Empty"]
    ec2 = sb.aws.client("ec2")
    state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")

    shutting = queue_messages(sb)
    assert [(m["detail-type"], m["detail"]) for m in shutting] == [
        ("EC2 Instance State-change Notification", {"instance-id": instance, "state": "shutting-down"})]
    # (moto's EventBridge leaves `account` out of what it delivers to SQS; AWS sends it.)
    assert shutting[0]["source"] == "aws.ec2"
    assert shutting[0]["resources"] == [f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"]
    assert shutting[0]["region"] == "us-east-1" and shutting[0]["version"] == "0" and shutting[0]["id"]
    assert shutting[0]["time"] == (start + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # simulated time

    finished = sb.sim.disrupt(start + timedelta(minutes=3))
    assert finished.terminated == [instance]
    assert store(sb).get("v1", "Node", None, node) is None and claim_of(sb, node) is None
    assert [m["detail"]["state"] for m in queue_messages(sb)] == ["terminated"]


def test_launches_are_reported_pending_and_running_but_the_stage_rule_drops_them(sb):
    node = new_spot_node(sb)
    instance = instance_of(store(sb).get("v1", "Node", None, node))
    states = [detail["state"] for kind, detail in sb.sim.karpenter.publisher.of(instance)]
    assert states == ["pending", "running"] and queue_messages(sb) == []
    scale_sleep_back(sb)
    assert sb.sim.consolidate() == [node]


def test_do_not_disrupt_on_a_pod_or_the_node_and_a_zero_budget_keep_a_node(sb):
    node = new_spot_node(sb, replicas=3)
    pods = [p for p in store(sb).list("v1", "Pod", "openfaas-fn") if p["spec"].get("nodeName") == node]
    protected = pods[0]
    protected["metadata"].setdefault("annotations", {})[DO_NOT_DISRUPT] = "true"
    store(sb).put(protected)
    later = sb.sim.now() + timedelta(minutes=5)
    report = sb.sim.disrupt(later)
    assert node not in report.disrupted and DO_NOT_DISRUPT in report.blocked[node]

    protected["metadata"]["annotations"].pop(DO_NOT_DISRUPT)
    store(sb).put(protected)
    annotated = store(sb).get("v1", "Node", None, node)
    annotated["metadata"].setdefault("annotations", {})[DO_NOT_DISRUPT] = "true"
    store(sb).put(annotated)
    assert "node has" in sb.sim.disrupt(later).blocked[node]

    annotated = store(sb).get("v1", "Node", None, node)
    annotated["metadata"]["annotations"].pop(DO_NOT_DISRUPT)
    store(sb).put(annotated)
    assert "fit on no other node" in sb.sim.disrupt(later).blocked[node]  # the seeded spot nodes are full
    spare = launch_for(sb.sim, pods[:1])[0]  # room for them elsewhere, kept out of consolidation itself
    spare_node = store(sb).get("v1", "Node", None, spare)
    spare_node["metadata"].setdefault("annotations", {})[DO_NOT_DISRUPT] = "true"
    store(sb).put(spare_node)
    spot = store(sb).get("karpenter.sh/v1", "NodePool", None, "spot")
    spot["spec"]["disruption"]["budgets"] = [{"nodes": "0", "reasons": ["Underutilized"]}, {"nodes": "10%"}]
    store(sb).put(spot)
    try:
        report = sb.sim.disrupt(later)
        assert node not in report.disrupted and "budget for Underutilized" in report.blocked.get(node, "")
    finally:
        spot["spec"]["disruption"]["budgets"] = [{"nodes": "10%"}]
        store(sb).put(spot)
    # Its 2 pods fit on the spare node: single-node consolidation deletes it, the pods come back there.
    report = sb.sim.disrupt(later)
    assert report.disrupted == {node: "Underutilized"}
    assert condition(claim_of(sb, node), "DisruptionReason")["reason"] == "Underutilized"
    # Evicted, then recreated by the ReplicaSet and bound by the scheduler within the same pass: on the spare node.
    placed = [p["spec"].get("nodeName") for p in store(sb).list("v1", "Pod", "openfaas-fn")
              if p["metadata"]["labels"]["faas_function"] == "sleep"]
    assert node not in placed and placed.count(spare) == 2 and None not in placed and len(placed) == 3
    sb.sim.disrupt(later + timedelta(minutes=1))
    assert store(sb).get("v1", "Node", None, node) is None
    spare_node = store(sb).get("v1", "Node", None, spare)
    spare_node["metadata"]["annotations"].pop(DO_NOT_DISRUPT)
    store(sb).put(spare_node)


def test_a_pdb_holds_the_drain_and_the_instance_until_it_allows_the_eviction(sb):
    node = new_spot_node(sb)
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "sleep", "namespace": "openfaas-fn"},
           "spec": {"minAvailable": 5, "selector": {"matchLabels": {"faas_function": "sleep"}}}}
    store(sb).put(pdb)
    sb.sim.drift(node)
    later = sb.sim.now() + timedelta(minutes=1)
    report = sb.sim.disrupt(later)
    assert report.disrupted == {node: "Drifted"} and "disruption budget" in report.blocked[node]
    assert report.shutting_down == [] and store(sb).get("v1", "Node", None, node)["metadata"]["deletionTimestamp"]
    store(sb).delete("policy/v1", "PodDisruptionBudget", "openfaas-fn", "sleep")
    report = sb.sim.disrupt(later + timedelta(seconds=10))
    assert len(report.shutting_down) == 1 and node not in report.blocked
    sb.sim.disrupt(later + timedelta(minutes=1))
    assert store(sb).get("v1", "Node", None, node) is None
    assert sb.sim.settle().pods_pending == []


def test_expiry_deletes_without_a_disruption_reason_and_ignores_budgets(sb):
    node = new_spot_node(sb)
    claim = claim_of(sb, node)
    claim["spec"]["expireAfter"] = "1h"
    store(sb).put(claim)
    spot = store(sb).get("karpenter.sh/v1", "NodePool", None, "spot")
    spot["spec"]["disruption"]["budgets"] = [{"nodes": "0"}]
    store(sb).put(spot)
    try:
        report = sb.sim.disrupt(sb.sim.now() + timedelta(hours=2))
    finally:
        spot["spec"]["disruption"]["budgets"] = [{"nodes": "10%"}]
        store(sb).put(spot)
    assert report.expired == [node] and len(report.shutting_down) == 1
    expired = claim_of(sb, node)
    assert expired["metadata"]["deletionTimestamp"] and condition(expired, "DisruptionReason") is None
    assert any(t["key"] == "karpenter.sh/disrupted" for t in store(sb).get("v1", "Node", None, node)["spec"]["taints"])
    sb.sim.disrupt(sb.sim.now() + timedelta(hours=3))


def test_a_spot_reclaim_is_ec2s_doing_two_minutes_after_the_warning(sb):
    node = new_spot_node(sb)
    now = sb.sim.now()
    instance = sb.sim.reclaim(node, now, rebalance_first=True)
    assert [m["detail-type"] for m in queue_messages(sb)] == ["EC2 Instance Rebalance Recommendation",
                                                               "EC2 Spot Instance Interruption Warning"]
    early = sb.sim.disrupt(now + timedelta(seconds=60))
    assert instance not in early.shutting_down and store(sb).get("v1", "Node", None, node) is not None
    claim = claim_of(sb, node)
    assert condition(claim, "DisruptionReason") is None and not claim["metadata"].get("deletionTimestamp")

    due = sb.sim.disrupt(now + timedelta(minutes=2))
    assert due.shutting_down == [instance] and store(sb).get("v1", "Node", None, node) is not None
    gone = sb.sim.disrupt(now + timedelta(minutes=2, seconds=30))
    assert gone.terminated == [instance] and condition(store(sb).get("v1", "Node", None, node), "Ready")[
        "status"] == "Unknown"
    assert [m["detail"]["state"] for m in queue_messages(sb)] == ["shutting-down", "terminated"]
    assert condition(claim_of(sb, node), "DisruptionReason") is None
    collected = sb.sim.disrupt(now + timedelta(minutes=4, seconds=30))  # NodeClaim garbage collection
    assert collected.collected == [node] and store(sb).get("v1", "Node", None, node) is None
    assert sb.sim.settle().pods_pending == []


def test_karpenters_own_interruption_handling_deletes_without_a_disruption_reason(sb):
    node = new_spot_node(sb)
    now = sb.sim.now()
    instance = sb.sim.reclaim(node, now, karpenter_handles_interruption=True)
    claim = claim_of(sb, node)
    assert claim["metadata"]["deletionTimestamp"] and condition(claim, "DisruptionReason") is None
    assert {e["reason"] for e in events_for(store(sb), "Node", node)} == {"SpotInterrupted",
                                                                         "TerminatingOnInterruption"}
    report = sb.sim.disrupt(now + timedelta(seconds=5))
    assert report.shutting_down == [instance]  # Karpenter drained and terminated it ahead of EC2
    sb.sim.disrupt(now + timedelta(minutes=3))
    states = [d.get("state") for kind, d in sb.sim.karpenter.publisher.of(instance)
              if kind == "EC2 Instance State-change Notification"]
    assert states == ["pending", "running", "shutting-down", "terminated"]  # once each, whoever came first


def test_a_human_termination_leaves_no_karpenter_trace(sb):
    node = new_spot_node(sb)
    now = sb.sim.now()
    instance = sb.sim.terminate_by_hand(node, now)
    report = sb.sim.disrupt(now)
    assert report.shutting_down == [instance] and report.disrupted == {}
    assert [m["detail"]["state"] for m in queue_messages(sb)] == ["shutting-down"]
    still = store(sb).get("v1", "Node", None, node)
    assert not still["metadata"].get("deletionTimestamp")
    assert "karpenter.sh/disrupted" not in {t["key"] for t in still["spec"].get("taints", [])}
    assert sb.sim.disrupt(now + timedelta(seconds=30)).terminated == [instance]
    assert [m["detail"]["state"] for m in queue_messages(sb)] == ["terminated"]
    sb.sim.disrupt(now + timedelta(minutes=3))
    assert events_for(store(sb), "Node", node) == [] and store(sb).get("v1", "Node", None, node) is None


def test_unknown_nodes_are_refused_by_name(sb):
    for command in (sb.sim.drift, sb.sim.reclaim, sb.sim.terminate_by_hand):
        with pytest.raises(KeyError, match="ip-0-0-0-0"):
            command("ip-0-0-0-0.ec2.internal")



def test_kubectl_delete_node_is_terminated_by_karpenter_without_a_disruption_reason(sb):
    from kubernetes import client as k8s

    node = new_spot_node(sb)
    k8s.CoreV1Api(sb.admin_kube_client()).delete_node(node)
    assert store(sb).get("v1", "Node", None, node)["metadata"]["deletionTimestamp"]  # finalizer holds it
    now = sb.sim.now()
    report = sb.sim.disrupt(now)
    claim = claim_of(sb, node)
    assert len(report.shutting_down) == 1 and claim["metadata"]["deletionTimestamp"]
    assert condition(claim, "DisruptionReason") is None
    sb.sim.disrupt(now + timedelta(minutes=1))
    assert store(sb).get("v1", "Node", None, node) is None and claim_of(sb, node) is None


def test_kubectl_delete_nodeclaim_deletes_its_node_which_karpenter_drains_and_terminates(sb):
    """karpenter.sh docs concepts/disruption "Manual Methods"; pkg/controllers/nodeclaim/lifecycle/termination.go."""
    from kubernetes import client as k8s

    node = new_spot_node(sb)
    scale_sleep_back(sb)
    sb.sim.settle()
    name = claim_of(sb, node)["metadata"]["name"]
    k8s.CustomObjectsApi(sb.admin_kube_client()).delete_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", name)
    assert claim_of(sb, node)["metadata"]["deletionTimestamp"]  # the finalizer holds it
    assert not store(sb).get("v1", "Node", None, node)["metadata"].get("deletionTimestamp")
    now = sb.sim.now()
    report = sb.sim.disrupt(now)
    assert store(sb).get("v1", "Node", None, node)["metadata"]["deletionTimestamp"]
    assert len(report.shutting_down) == 1 and condition(claim_of(sb, node), "DisruptionReason") is None
    sb.sim.disrupt(now + timedelta(minutes=1))
    assert store(sb).get("v1", "Node", None, node) is None and claim_of(sb, node) is None


def test_a_hibernating_spot_instance_stops_at_once_and_keeps_its_node(sb):
    node = new_spot_node(sb)
    now = sb.sim.now()
    instance = sb.sim.reclaim(node, now, action="hibernate")
    report = sb.sim.disrupt(now)  # no two minutes for hibernation
    assert report.stopped == [instance] and report.terminated == []
    assert [(m["detail-type"], m["detail"].get("instance-action") or m["detail"].get("state"))
            for m in queue_messages(sb)] == [("EC2 Spot Instance Interruption Warning", "hibernate"),
                                             ("EC2 Instance State-change Notification", "stopping"),
                                             ("EC2 Instance State-change Notification", "stopped")]
    kept = store(sb).get("v1", "Node", None, node)
    assert condition(kept, "Ready")["status"] == "Unknown" and claim_of(sb, node) is not None
    with pytest.raises(ValueError, match="'reboot'"):
        sb.sim.reclaim(node, now, action="reboot")
    k8s_delete_node(sb, node)
    sb.sim.disrupt(now + timedelta(minutes=1))
    sb.sim.disrupt(now + timedelta(minutes=2))


def k8s_delete_node(sb, node):
    from kubernetes import client as k8s

    k8s.CoreV1Api(sb.admin_kube_client()).delete_node(node)
