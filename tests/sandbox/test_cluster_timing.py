"""The time-stepped simulator (sandbox/cluster_timing.py, sandbox/working_day.py) and preemption over the store
(sandbox/scheduler_sim.py): node start 45-70 s as the OpenFaaS EKS + Karpenter guide measured, pod start, Karpenter
provisioning for preempted placeholders but not for nominated pods (kubernetes-sigs/karpenter pkg/utils/pod
IsProvisionable), in-flight NodeClaims counted as capacity."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sandbox.cluster_sim import ClusterSim
from sandbox.cluster_timing import StartTimes, Timeline
from sandbox.k8s_events import events_for
from sandbox.kubeapi.store import Store
from sandbox.objects import SPOT_AFFINITY, SPOT_TOLERATION, namespace
from sandbox.openfaas import OpenFaaS
from sandbox.openfaas_chart import chart_objects
from sandbox.seed import build_objects, fake_machines, plan_cluster
from sandbox.working_day import Burst, WorkingDay

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
HEADROOM_NS = "costguard-headroom"


def cluster():
    plan = plan_cluster(8, 4, now=T0 - timedelta(days=1))
    store = Store()
    store.put_many(chart_objects(build_objects(plan, fake_machines(plan)).objects, "standard", False, plan.now))
    sim = ClusterSim(store, None, openfaas=OpenFaaS(store))
    sim.settle(T0)
    return store, sim


def add_placeholders(store, replicas=2, cpu="1", grace=None):
    """What the product's headroom feature makes: a negative class that never preempts, pause pods on spot."""
    store.put(namespace(HEADROOM_NS, T0))
    store.put({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "headroom"},
               "value": -10, "preemptionPolicy": "Never"})
    spec = {"priorityClassName": "headroom", "tolerations": [dict(SPOT_TOLERATION)], "affinity": SPOT_AFFINITY,
            "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    store.put({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "headroom-spot", "namespace": HEADROOM_NS},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "headroom-spot"}},
                        "template": {"metadata": {"labels": {"app": "headroom-spot"}}, "spec": spec}}})


def placeholders(store):
    return store.list("v1", "Pod", HEADROOM_NS)


def spot_nodes(store):
    return {n["metadata"]["name"] for n in store.list("v1", "Node")
            if n["metadata"]["labels"].get("karpenter.sh/nodepool") == "spot"}


def test_a_burst_waits_for_one_spot_node_about_70_s_and_karpenter_counts_it_while_it_starts():
    store, sim = cluster()
    before = spot_nodes(store)
    timeline = Timeline(sim)
    sim.scale_function("sleep", 5)
    timeline.settle(T0)
    claims = [c for c in store.list("karpenter.sh/v1", "NodeClaim") if c["metadata"]["creationTimestamp"] ==
              "2026-03-02T08:00:00Z"]
    assert len(claims) == 1 and spot_nodes(store) == before  # launched, not registered yet
    assert {c["type"]: c["status"] for c in claims[0]["status"]["conditions"]}["Launched"] == "True"
    assert {c["type"]: c["status"] for c in claims[0]["status"]["conditions"]}["Ready"] == "Unknown"
    claim_count = len(store.list("karpenter.sh/v1", "NodeClaim"))
    timeline.run_until(T0 + timedelta(seconds=60), step=timedelta(seconds=10))  # pods still pending meanwhile
    assert len(store.list("karpenter.sh/v1", "NodeClaim")) == claim_count  # the starting one covers them
    timeline.run_until(T0 + timedelta(minutes=3), step=timedelta(seconds=10))
    new_node = (spot_nodes(store) - before).pop()
    ready_at = store.get("v1", "Node", None, new_node)["status"]["conditions"][0]["lastTransitionTime"]
    assert "2026-03-02T08:01:08Z" <= ready_at <= "2026-03-02T08:01:12Z"  # spot: 68-72 s
    waited = sorted(p.seconds for p in timeline.ready if p.labels.get("faas_function") == "sleep")
    assert len(waited) == 4 and waited[-1] >= 68 + StartTimes().pod_start
    pods = [p for p in store.list("v1", "Pod", "openfaas-fn") if p["metadata"]["labels"]["faas_function"] == "sleep"]
    assert all(p["status"]["phase"] == "Running" for p in pods)


def test_on_demand_nodes_start_in_45_to_50_s():
    store, sim = cluster()
    before = {n["metadata"]["name"] for n in store.list("v1", "Node")}
    timeline = Timeline(sim)
    sim.scale_function("figlet", 30)  # the default (on-demand) pool
    timeline.run_until(T0 + timedelta(minutes=2), step=timedelta(seconds=15))
    new = [n for n in store.list("v1", "Node") if n["metadata"]["name"] not in before]
    assert new and all(n["metadata"]["labels"]["karpenter.sh/capacity-type"] == "on-demand" for n in new)
    for node in new:
        ready = node["status"]["conditions"][0]["lastTransitionTime"]
        assert "2026-03-02T08:00:45Z" <= ready <= "2026-03-02T08:00:50Z"


def test_a_burst_preempts_warm_placeholders_and_karpenter_relaunches_for_them():
    store, sim = cluster()
    timeline = Timeline(sim)
    add_placeholders(store)
    timeline.run_until(T0 + timedelta(minutes=3), step=timedelta(seconds=30))
    warm = {p["spec"]["nodeName"] for p in placeholders(store)}
    assert all(p["spec"]["priority"] == -10 and p["status"]["phase"] == "Running" for p in placeholders(store))
    burst_at = T0 + timedelta(minutes=3)
    sim.scale_function("sleep", 5)
    timeline.settle(burst_at)
    waiting = [p for p in store.list("v1", "Pod", "openfaas-fn") if p["status"].get("nominatedNodeName")]
    assert waiting and {p["status"]["nominatedNodeName"] for p in waiting} <= warm
    doomed = [p for p in placeholders(store) if p["metadata"].get("deletionTimestamp")]
    assert doomed and all(any(c["type"] == "DisruptionTarget" and c["reason"] == "PreemptionByScheduler"
                              for c in p["status"]["conditions"]) for p in doomed)
    event = events_for(store, "Pod", doomed[0]["metadata"]["name"])[-1]
    assert event["reason"] == "Preempted" and event["source"]["component"] == "default-scheduler"
    assert event["message"].endswith(f"on node {doomed[0]['spec']['nodeName']}")
    launched = [c for c in store.list("karpenter.sh/v1", "NodeClaim") if c["metadata"]["creationTimestamp"] ==
                "2026-03-02T08:03:00Z"]
    assert len(launched) == 1  # for the placeholders' replacements only: nominated pods are not provisionable
    timeline.run_until(burst_at + timedelta(minutes=2), step=timedelta(seconds=30))
    new_sleep = [p.seconds for p in timeline.ready if p.labels.get("faas_function") == "sleep"]
    times = StartTimes()
    assert len(new_sleep) == 4 and max(new_sleep) <= times.pause_stop + times.pod_start
    assert len(placeholders(store)) == 2 and all(p["status"]["phase"] == "Running" for p in placeholders(store))
    assert {p["spec"]["nodeName"] for p in placeholders(store)} - warm  # moved to the new node


def test_instant_settle_preempts_too():
    store, sim = cluster()
    add_placeholders(store, grace=0)
    sim.settle(T0)
    warm = {p["spec"]["nodeName"] for p in placeholders(store)}
    sim.scale_function("sleep", 5)
    report = sim.settle(T0 + timedelta(minutes=1))
    sleep = [p for p in store.list("v1", "Pod", "openfaas-fn") if p["metadata"]["labels"]["faas_function"] == "sleep"]
    assert all(p["status"]["phase"] == "Running" for p in sleep) and len(sleep) == 5
    assert {p["spec"]["nodeName"] for p in sleep} & warm
    assert len(report.nodes_added) == 1 and report.pods_pending == []
    moved = [p for p in placeholders(store) if p["spec"]["nodeName"] in report.nodes_added]
    assert moved and all(p["status"]["phase"] == "Running" for p in placeholders(store))


def test_placeholders_at_zero_let_the_pool_empty():
    store, sim = cluster()
    add_placeholders(store)
    sim.settle(T0)
    for deployment in store.list("apps/v1", "Deployment", "openfaas-fn"):
        sim.scale_function(deployment["metadata"]["name"], 0)
    sim.scale_function("headroom-spot", 0, namespace=HEADROOM_NS)
    sim.settle(T0 + timedelta(minutes=1))
    sim.consolidate(T0 + timedelta(minutes=5))
    assert placeholders(store) == [] and spot_nodes(store) == set()


def test_a_working_day_with_and_without_warm_headroom():
    def day():
        bursts = [Burst(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)),
                  Burst(T0 + timedelta(minutes=40), T0 + timedelta(minutes=50))]
        return WorkingDay(T0, T0 + timedelta(hours=1), bursts, step=timedelta(seconds=60))

    store, sim = cluster()
    cold = day().run(sim)
    store, sim = cluster()
    add_placeholders(store, replicas=2)
    warm = day().run(sim)
    times = StartTimes()
    assert len(cold.new_pods) == len(warm.new_pods) == 8 and not cold.never_ready and not warm.never_ready
    assert cold.percentile(95) >= 68 and warm.percentile(95) <= times.pause_stop + times.pod_start
    price = {"spot": 0.03, "on-demand": 0.1}
    assert warm.node_hours() > cold.node_hours()
    assert warm.cost(lambda kind, capacity, zone: price[capacity]) > cold.cost(lambda k, c, z: price[c])


def test_the_deployment_controller_skips_a_deployment_whose_selector_misses_its_template():
    store, sim = cluster()
    add_placeholders(store)
    broken = store.get("apps/v1", "Deployment", HEADROOM_NS, "headroom-spot")
    broken["spec"]["selector"] = {"matchLabels": {"app": "something-else"}}
    store.put(broken)
    sim.settle(T0)
    assert placeholders(store) == []


def test_a_pod_nominated_to_a_node_that_went_away_is_left_to_karpenter():
    store, sim = cluster()
    timeline = Timeline(sim)
    add_placeholders(store)
    timeline.run_until(T0 + timedelta(minutes=3), step=timedelta(seconds=30))
    sim.scale_function("sleep", 5)
    timeline.settle(T0 + timedelta(minutes=3))
    nominated = [p for p in store.list("v1", "Pod", "openfaas-fn") if p["status"].get("nominatedNodeName")]
    assert nominated
    gone = nominated[0]["status"]["nominatedNodeName"]
    sim.terminate_node(gone)
    timeline.settle(T0 + timedelta(minutes=3, seconds=1))
    pod = store.get("v1", "Pod", "openfaas-fn", nominated[0]["metadata"]["name"])
    assert pod["status"].get("nominatedNodeName") != gone  # preempts elsewhere, or is left to Karpenter
    timeline.run_until(T0 + timedelta(minutes=6), step=timedelta(seconds=30))
    assert store.get("v1", "Pod", "openfaas-fn", pod["metadata"]["name"])["status"]["phase"] == "Running"


def test_pods_carry_their_templates_labels():
    """The ReplicaSet controller stamps pods with the template's labels (kubernetes/kubernetes
    pkg/controller/controller_utils.go getPodsLabelSet): a selector on any template label owns them."""
    store, sim = cluster()
    add_placeholders(store)
    deployment = store.get("apps/v1", "Deployment", HEADROOM_NS, "headroom-spot")
    deployment["spec"]["selector"] = {"matchLabels": {"costguard.openfaas.com/headroom-pool": "spot"}}
    deployment["spec"]["template"]["metadata"]["labels"] = {"costguard.openfaas.com/headroom-pool": "spot"}
    store.put(deployment)
    sim.settle(T0)
    sim.settle(T0 + timedelta(seconds=30))
    pods = placeholders(store)
    assert len(pods) == 2 and all(p["metadata"]["labels"]["costguard.openfaas.com/headroom-pool"] == "spot"
                                  and "pod-template-hash" in p["metadata"]["labels"] for p in pods)
