from collections import Counter
from datetime import datetime, timezone

import pytest

from sandbox import crd_dir
from sandbox.pod_fit import cpu_m, pod_cpu_m
from sandbox.seed import build_objects, fake_machines, plan_cluster

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def cluster():
    plan = plan_cluster(functions=20, nodes=6, now=NOW)
    return build_objects(plan, fake_machines(plan))


def of_kind(cluster, kind):
    return [obj for obj in cluster.objects if obj["kind"] == kind]


def test_same_seed_same_cluster_other_seed_other_cluster():
    first = build_objects(plan_cluster(30, 8, now=NOW), fake_machines(plan_cluster(30, 8, now=NOW)))
    again = build_objects(plan_cluster(30, 8, now=NOW), fake_machines(plan_cluster(30, 8, now=NOW)))
    other_plan = plan_cluster(30, 8, seed=1, now=NOW)
    other = build_objects(other_plan, fake_machines(other_plan))
    assert first.objects == again.objects
    assert first.objects != other.objects


def test_the_guides_cluster_shape(cluster):
    kinds = Counter(obj["kind"] for obj in cluster.objects)
    assert kinds["Node"] == 6 and kinds["NodeClaim"] == 5 and kinds["NodePool"] == 2
    assert kinds["EC2NodeClass"] == 1 and kinds["Profile"] == 1 and kinds["Function"] == 20
    assert kinds["Deployment"] == 24  # 20 functions + gateway, queue-worker, nats, prometheus
    assert cluster.functions[:4] == ["sleep", "figlet", "nodeinfo", "env"]
    pools = {pool["metadata"]["name"]: pool["spec"] for pool in of_kind(cluster, "NodePool")}
    spot = pools["spot"]["template"]["spec"]
    assert spot["taints"] == [{"key": "karpenter.sh/capacity-type", "value": "spot", "effect": "NoSchedule"}]
    assert {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]} in spot["requirements"]
    default = pools["default"]
    assert default["limits"] == {"cpu": 100}
    assert default["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert default["disruption"]["consolidateAfter"] == "1m"
    assert {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]} in \
        default["template"]["spec"]["requirements"]


def test_nodes_carry_karpenter_labels_and_provider_ids(cluster):
    claims = {claim["status"]["nodeName"]: claim for claim in of_kind(cluster, "NodeClaim")}
    for node in of_kind(cluster, "Node"):
        labels, name = node["metadata"]["labels"], node["metadata"]["name"]
        instance_id = cluster.nodes[name].instance_id
        assert node["spec"]["providerID"] == f"aws:///{labels['topology.kubernetes.io/zone']}/{instance_id}"
        if name in cluster.nodegroup_nodes:
            assert labels["eks.amazonaws.com/nodegroup"] == "openfaas-core"
            assert "karpenter.sh/nodepool" not in labels and name not in claims
            continue
        claim = claims[name]
        assert claim["status"]["providerID"] == node["spec"]["providerID"]
        assert cluster.nodeclaims[claim["metadata"]["name"]] == name
        for key in ("karpenter.sh/nodepool", "karpenter.sh/capacity-type", "node.kubernetes.io/instance-type",
                    "karpenter.k8s.aws/instance-category", "karpenter.k8s.aws/instance-family"):
            assert labels[key] == claim["metadata"]["labels"][key]
        assert labels["karpenter.k8s.aws/instance-category"] in ("c", "m", "r")
        assert (labels["karpenter.sh/capacity-type"] == "spot") == (labels["karpenter.sh/nodepool"] == "spot")
        assert ("taints" in node["spec"]) == (labels["karpenter.sh/nodepool"] == "spot")


def test_pods_run_where_their_profile_says_and_fit_their_nodes(cluster):
    nodes = {node["metadata"]["name"]: node for node in of_kind(cluster, "Node")}
    used: Counter = Counter()
    for pod in of_kind(cluster, "Pod"):
        node = nodes[pod["spec"]["nodeName"]]
        labels = node["metadata"]["labels"]
        used[node["metadata"]["name"]] += pod_cpu_m(pod)
        assert pod["status"]["phase"] == "Running"
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        if pod["metadata"]["namespace"] == "openfaas":
            assert node["metadata"]["name"] in cluster.nodegroup_nodes
            continue
        function = pod["metadata"]["labels"]["faas_function"]
        deployment = next(d for d in of_kind(cluster, "Deployment") if d["metadata"]["name"] == function)
        wants_spot = deployment["metadata"]["annotations"].get("com.openfaas.profile") == "spot"
        assert labels["karpenter.sh/capacity-type"] == ("spot" if wants_spot else "on-demand")
    for name, millicores in used.items():
        assert millicores <= cpu_m(nodes[name]["status"]["allocatable"]["cpu"])


def test_function_deployments_look_like_faas_netes_made_them(cluster):
    sleep = next(d for d in of_kind(cluster, "Deployment") if d["metadata"]["name"] == "sleep")
    assert sleep["metadata"]["namespace"] == "openfaas-fn"
    # faas-netes pkg/handlers/deploy.go makeDeploymentSpec: only faas_function on the Deployment's own labels; the
    # function's labels on the pod template; its annotations on both. (This test pinned the function labels on the
    # Deployment's metadata before issue 9, the opposite of what faas-netes writes.)
    assert sleep["metadata"]["labels"] == {"faas_function": "sleep"}
    template = sleep["spec"]["template"]["metadata"]
    assert template["labels"]["faas_function"] == "sleep"
    assert {"com.openfaas.scale.min", "com.openfaas.scale.max"} <= set(template["labels"])
    assert sleep["metadata"]["annotations"]["com.openfaas.profile"] == "spot"
    assert template["annotations"] == sleep["metadata"]["annotations"]
    assert sleep["spec"]["selector"]["matchLabels"] == {"faas_function": "sleep"}
    pods = [p for p in of_kind(cluster, "Pod") if p["metadata"]["labels"].get("faas_function") == "sleep"]
    assert sleep["status"]["readyReplicas"] == sleep["spec"]["replicas"] == len(pods)


def test_bad_sizes_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="nodes=2"):
        plan_cluster(functions=5, nodes=2)
    with pytest.raises(ValueError, match="ask for more nodes"):
        plan_cluster(functions=2000, nodes=3)
    plan = plan_cluster(functions=5, nodes=4)
    with pytest.raises(ValueError, match="3 machines for 4"):
        build_objects(plan, fake_machines(plan)[:3])


def test_bulk_sizes_build():
    plan = plan_cluster(functions=2000, nodes=1000, now=NOW)
    cluster = build_objects(plan, fake_machines(plan))
    assert len(cluster.nodes) == 1000 and len(cluster.functions) == 2000
    assert len({obj["metadata"].get("uid") for obj in cluster.objects}) == len(cluster.objects)


@pytest.mark.skipif(crd_dir() is None, reason="../shared/crds is absent")
def test_custom_objects_pass_the_real_crds_without_unknown_fields(cluster):
    from sandbox.kubeapi import FakeKubeApi
    from sandbox.kubeapi.resources import by_kind

    api = FakeKubeApi(crd_dir=crd_dir())
    custom = [obj for obj in cluster.objects if obj["kind"] in
              ("NodePool", "NodeClaim", "EC2NodeClass", "Function", "Profile")]
    assert {obj["kind"] for obj in custom} == {"NodePool", "NodeClaim", "EC2NodeClass", "Function", "Profile"}
    for obj in custom:
        api.schemas.admit(by_kind(obj["apiVersion"], obj["kind"]), obj, strict=True)
    broken = {**of_kind(cluster, "NodePool")[0], "spec": {"limits": {"cpu": 10}}}  # no template
    with pytest.raises(Exception, match="template"):
        api.schemas.admit(by_kind("karpenter.sh/v1", "NodePool"), broken, strict=True)
