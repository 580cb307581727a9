"""Parked pools that must still serve a woken function (night allowance), and nodes that stay and why."""
from datetime import timedelta

from chalice_app.budget.prices import PriceBook
from chalice_app.offhours.nodes import NodeStay, nodes_staying, priced, why_node_stays
from chalice_app.offhours.parked import MemoryParkedStore
from chalice_app.offhours.placement import PoolTemplate, allowance, fits, pools_needed
from tests.offhours.factories import deployment, nodepool_object
from tests.memory_cluster import MemoryCluster
from tests.offhours.test_offhours_night import EVENING, MORNING, NIGHT, NS, reconciler

SPOT_TAINT = {"key": "karpenter.sh/capacity-type", "value": "spot", "effect": "NoSchedule"}
SPOT_POD = {"tolerations": [{"key": "karpenter.sh/capacity-type", "operator": "Equal", "value": "spot",
                             "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]}]}}}}


def pool_object(name, limits, taints=(), requirements=(), **spec):
    obj = nodepool_object(name, limits, {"costguard.openfaas.com/offhours": "true"})
    obj["spec"]["template"] = {"spec": {"taints": list(taints), "requirements": list(requirements)}}
    obj["spec"].update(spec)
    return obj


SPOT = pool_object("spot", {"cpu": "100"}, [SPOT_TAINT],
                   [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}])
DEFAULT = pool_object("default", {"cpu": "100"}, [],
                      [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}])


def node(name, pool, annotations=None, cpu="2"):
    return {"metadata": {"name": name, "annotations": annotations or {},
                         "labels": {"karpenter.sh/nodepool": pool, "node.kubernetes.io/instance-type": "c6a.large",
                                    "karpenter.sh/capacity-type": "spot", "topology.kubernetes.io/zone": "us-east-1a"}},
            "status": {"capacity": {"cpu": cpu}}}


def pod(name, node_name=None, namespace=NS, labels=None, annotations=None, spec=None, owner=None, phase="Running"):
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels or {},
                         "annotations": annotations or {}, "ownerReferences": [{"kind": owner}] if owner else []},
            "spec": {**(spec or {}), **({"nodeName": node_name} if node_name else {})}, "status": {"phase": phase}}


def test_a_spot_pinned_pod_fits_only_the_spot_pool():
    spot, default = PoolTemplate.from_object(SPOT), PoolTemplate.from_object(DEFAULT)
    assert fits(SPOT_POD, spot) and not fits(SPOT_POD, default)
    assert fits({}, default) and not fits({}, spot)  # the untolerated taint
    assert fits({"nodeSelector": {"karpenter.sh/nodepool": "spot"}, "tolerations": SPOT_POD["tolerations"]}, spot)
    assert pools_needed([SPOT_POD], [spot], [default]) == {"spot"}
    assert pools_needed([{}], [spot], [default]) == set()  # fits an open pool: Karpenter launches there


def test_the_allowance_is_the_remaining_nodes_plus_the_setting():
    assert allowance({"cpu": "100", "memory": "400Gi"}, 2000, "2") == {"cpu": "4000m", "memory": "32Gi"}
    assert allowance({}, 0, "500m") == {"cpu": "500m"}


def test_a_woken_function_pending_on_a_parked_pool_gets_an_allowance_then_the_pool_is_parked_again():
    cluster = MemoryCluster([deployment("sleep", 1)], nodepools=[SPOT, DEFAULT])
    store = MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    assert cluster.pools["spot"]["spec"]["limits"] == {"cpu": "0"}
    # 23:10: a call woke `sleep`; its pod, pinned to spot by its Profile, is Pending: no spot node can launch
    cluster.human_scale(NS, "sleep", 1)
    cluster.pods = [pod("sleep-1", labels={"faas_function": "sleep"}, spec=SPOT_POD, phase="Pending")]
    night = reconciler(cluster, store).run(NIGHT)
    assert [(a.name, a.kind) for a, _ in night.nodepools if a.kind == "allow"] == [("spot", "allow")]
    assert cluster.pools["spot"]["spec"]["limits"] == {"cpu": "2000m"}
    assert cluster.pools["default"]["spec"]["limits"] == {"cpu": "0"}
    # the pod runs on a new spot node; once no woken function needs the pool, it is parked again
    cluster.nodes = [node("spot-a", "spot")]
    cluster.pods = [pod("sleep-1", "spot-a", labels={"faas_function": "sleep"}, spec=SPOT_POD)]
    reconciler(cluster, store).run(NIGHT + timedelta(minutes=5))  # sleep is awake: the allowance stays
    assert cluster.pools["spot"]["spec"]["limits"] == {"cpu": "4000m"}  # the node's 2 CPU + the allowance
    cluster.human_scale(NS, "sleep", 0)
    cluster.pods = []
    reconciler(cluster, store).run(NIGHT + timedelta(minutes=10))
    assert cluster.pools["spot"]["spec"]["limits"] == {"cpu": "0"}
    assert "costguard.openfaas.com/night-allowance" not in cluster.pools["spot"]["metadata"]["annotations"]
    reconciler(cluster, store).run(MORNING)
    assert cluster.pools["spot"]["spec"]["limits"] == {"cpu": "100"}


def test_restore_at_uptime_lifts_nodepools_before_functions():
    order = []

    class Recording(MemoryCluster):
        def patch_function(self, namespace, name, patch):
            order.append("function")
            super().patch_function(namespace, name, patch)

        def patch_nodepool(self, name, patch):
            order.append("nodepool")
            super().patch_nodepool(name, patch)

    cluster, store = Recording([deployment("a", 2)], nodepools=[DEFAULT]), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    assert order == ["function", "nodepool"]
    order.clear()
    reconciler(cluster, store).run(MORNING)
    assert order == ["nodepool", "function"]


def test_each_reason_a_node_stays():
    blocked_pool = pool_object("default", {"cpu": "0"}, disruption={
        "consolidateAfter": "Never", "budgets": [{"nodes": "0", "reasons": ["Empty"]}]})
    reasons = why_node_stays(node("n1", "default", {"karpenter.sh/do-not-disrupt": "true"}), [
        pod("batch", "n1", namespace="jobs", annotations={"karpenter.sh/do-not-disrupt": "true"}),
        pod("aws-node-x", "n1", namespace="kube-system", owner="DaemonSet"),
        pod("cache", "n1", namespace="default"), pod("sleep-1", "n1", labels={"faas_function": "sleep"})],
        blocked_pool)
    assert reasons == ("node annotated karpenter.sh/do-not-disrupt",
                       "pod jobs/batch annotated karpenter.sh/do-not-disrupt",
                       "NodePool consolidateAfter: Never",
                       "NodePool disruption budget nodes: 0 for reasons Empty",
                       "non-function pods keep it busy: default/cache",
                       f"function pods still running (awake, held or excluded): {NS}/sleep-1")
    assert why_node_stays(node("n2", "default"), [pod("ds", "n2", owner="DaemonSet")], DEFAULT) == (
        "nothing blocks it: empty, waiting for consolidation (consolidateAfter 0s)",)


def test_staying_nodes_are_priced_and_reported_after_the_pool_settled():
    cluster = MemoryCluster([], nodepools=[DEFAULT])
    cluster.nodes = [node("kept", "default")]
    cluster.pods = [pod("batch", "kept", namespace="jobs", annotations={"karpenter.sh/do-not-disrupt": "true"})]
    store = MemoryParkedStore()
    assert reconciler(cluster, store).run(EVENING).nodes == []  # just parked: consolidation needs time
    later = reconciler(cluster, store).run(EVENING + timedelta(minutes=35))
    assert [(s.node, s.reasons) for s in later.nodes] == [
        ("kept", ("pod jobs/batch annotated karpenter.sh/do-not-disrupt",))]
    book = PriceBook(spot={("c6a.large", "us-east-1a"): 0.0312})
    assert priced(later.nodes, book)[0].cost_per_hour == 0.0312
    assert "$0.0312/h" in priced(later.nodes, book)[0].line()
    assert nodes_staying({}, cluster.nodes, {}) == []
    assert isinstance(later.nodes[0], NodeStay)
