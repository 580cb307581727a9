from datetime import datetime, timezone

import pytest

from sandbox import Sandbox
from sandbox.karpenter_launch import choose_shape, pool_for
from sandbox.objects import node_pool, spot_profile
from sandbox.pod_fit import admits
from sandbox.replicaset_sim import deletion_order

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
SPOT_LABELS = {"karpenter.sh/capacity-type": "spot", "karpenter.sh/nodepool": "spot"}
SPOT_TAINTS = [{"key": "karpenter.sh/capacity-type", "value": "spot", "effect": "NoSchedule"}]


def spot_pod_spec():
    return {"containers": [], **spot_profile(EPOCH)["spec"]}


def test_admits_needs_tolerated_taints_and_matching_affinity():
    assert admits(spot_pod_spec(), SPOT_LABELS, SPOT_TAINTS)
    assert not admits({"containers": []}, SPOT_LABELS, SPOT_TAINTS)  # taint not tolerated
    assert not admits(spot_pod_spec(), {"karpenter.sh/capacity-type": "on-demand"}, [])  # affinity unmet
    assert admits({"containers": []}, {"karpenter.sh/capacity-type": "on-demand"}, [])
    assert not admits({"nodeSelector": {"disk": "ssd"}}, {"disk": "hdd"}, [])


def test_pool_for_picks_the_pool_whose_nodes_would_admit_the_pod():
    pools = [node_pool("default", "on-demand", EPOCH), node_pool("spot", "spot", EPOCH)]
    assert pool_for({"spec": spot_pod_spec()}, pools)["metadata"]["name"] == "spot"
    assert pool_for({"spec": {"containers": []}}, pools)["metadata"]["name"] == "default"
    assert pool_for({"spec": spot_pod_spec()}, pools[:1]) is None


def test_choose_shape_fits_pending_pods_within_the_pool_limit():
    spot = node_pool("spot", "spot", EPOCH, cpu_limit=100)
    assert choose_shape(spot, [500] * 3, used_cpu=0) == "c6a.large"
    assert choose_shape(spot, [500] * 4, used_cpu=0) == "c5.xlarge"
    assert choose_shape(spot, [500] * 40, used_cpu=0) == "c6a.4xlarge"  # none fits all: the largest
    small = node_pool("spot", "spot", EPOCH, cpu_limit=10)
    assert choose_shape(small, [500] * 4, used_cpu=6000) == "c5.xlarge"  # 6 + 4 vCPU = the limit
    assert choose_shape(small, [500] * 4, used_cpu=9000) is None


def test_deletion_order_unscheduled_first_then_newest():
    def pod(name, created, node):
        return {"metadata": {"name": name, "creationTimestamp": created}, "spec": {"nodeName": node} if node else {}}

    pods = [pod("old", "2026-01-01T00:00:00Z", "n1"), pod("new", "2026-01-02T00:00:00Z", "n1"),
            pod("pending", "2026-01-01T00:00:00Z", None)]
    assert [p["metadata"]["name"] for p in deletion_order(pods)] == ["pending", "new", "old"]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=20, nodes=6) as running:
        yield running


def sleep_pods(sb):
    return [p for p in sb.kube.store.list("v1", "Pod", "openfaas-fn")
            if p["metadata"]["labels"]["faas_function"] == "sleep"]


def test_load_scales_sleep_onto_a_new_spot_node_then_consolidation_removes_it(sb):
    ec2 = sb.aws.client("ec2")
    sb.sim.scale_function("sleep", 5)
    report = sb.sim.settle()
    assert len(report.pods_created) == 4 and len(report.nodes_added) == 1 and report.pods_pending == []
    new_node = sb.kube.store.get("v1", "Node", None, report.nodes_added[0])
    labels = new_node["metadata"]["labels"]
    assert labels["karpenter.sh/nodepool"] == "spot" and labels["karpenter.sh/capacity-type"] == "spot"
    pods = sleep_pods(sb)
    assert len(pods) == 5 and all(p["status"]["phase"] == "Running" for p in pods)
    assert sum(p["spec"]["nodeName"] == new_node["metadata"]["name"] for p in pods) == 4
    status = sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")["status"]
    assert status["readyReplicas"] == status["availableReplicas"] == 5
    instance_id = new_node["spec"]["providerID"].rsplit("/", 1)[1]
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    tags = {tag["Key"]: tag["Value"] for tag in instance["Tags"]}
    claim = next(c for c in sb.kube.store.list("karpenter.sh/v1", "NodeClaim")
                 if c["status"]["nodeName"] == new_node["metadata"]["name"])
    assert tags["karpenter.sh/nodepool"] == "spot" and tags["karpenter.sh/nodeclaim"] == claim["metadata"]["name"]

    sb.sim.scale_function("sleep", 1)
    assert len(sb.sim.settle().pods_deleted) == 4
    assert sb.sim.consolidate() == [new_node["metadata"]["name"]]
    assert sb.kube.store.get("v1", "Node", None, new_node["metadata"]["name"]) is None
    assert sb.kube.store.get("karpenter.sh/v1", "NodeClaim", None, claim["metadata"]["name"]) is None
    state = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")


def test_pool_limit_leaves_pods_pending_until_raised(sb):
    pool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "spot")
    pool["spec"]["limits"] = {"cpu": 0}
    sb.kube.store.put(pool)
    sb.sim.scale_function("sleep", 6)
    report = sb.sim.settle()
    assert report.nodes_added == [] and len(report.pods_pending) == 5
    assert sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")["status"]["readyReplicas"] == 1
    pool["spec"]["limits"] = {"cpu": 100}
    sb.kube.store.put(pool)
    report = sb.sim.settle()
    assert report.pods_pending == [] and len(report.nodes_added) == 1
    sb.sim.scale_function("sleep", 1)
    sb.sim.settle()
    assert len(sb.sim.consolidate()) == 1


def test_terminated_node_pods_come_back_elsewhere(sb):
    victim = next(p["spec"]["nodeName"] for p in sleep_pods(sb))
    evicted = sb.sim.terminate_node(victim)
    assert evicted and sb.kube.store.get("v1", "Node", None, victim) is None
    report = sb.sim.settle()
    assert len(report.pods_created) == len(evicted)
    assert all(p["spec"]["nodeName"] != victim and p["spec"]["nodeName"] for p in
               sb.kube.store.list("v1", "Pod", "openfaas-fn"))


def test_commands_refuse_unknown_targets(sb):
    with pytest.raises(KeyError, match="openfaas-fn/nope"):
        sb.sim.scale_function("nope", 2)
    with pytest.raises(ValueError, match="replicas=-1"):
        sb.sim.scale_function("sleep", -1)
    with pytest.raises(KeyError, match="no Node"):
        sb.sim.terminate_node("ip-0-0-0-0.ec2.internal")


def test_a_sandbox_without_ec2_instances_still_provisions_and_consolidates():
    with Sandbox(functions=6, nodes=3, ec2_instances=False) as offline:
        reservations = offline.aws.client("ec2").describe_instances()["Reservations"]
        assert reservations == []
        offline.sim.scale_function("sleep", 6)
        added = offline.sim.settle().nodes_added
        assert len(added) == 1 and added[0] not in offline.cluster.nodes
        offline.sim.scale_function("sleep", 0)
        offline.sim.settle()
        assert added[0] in offline.sim.consolidate()
