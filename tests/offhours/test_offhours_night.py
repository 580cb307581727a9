"""What real clusters do at night, on an in-memory cluster and table: faas-netes' layout, redeploys, lost
annotations, recreated functions, OpenFaaS editions, night wake-ups, static NodePools, kube-downscaler's leftovers."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalice_app.offhours import editions
from chalice_app.offhours.editions import CE, STANDARD, Capabilities
from chalice_app.kube.names import LEGACY_ORIGINAL_REPLICAS, ORIGINAL_REPLICAS
from chalice_app.offhours.parked import MemoryParkedStore
from chalice_app.table_keys import function_id, nodepool_id
from chalice_app.offhours.planner import Kind
from chalice_app.offhours.policy import Defaults
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler
from tests.offhours.factories import deployment, nodepool_object
from tests.memory_cluster import MemoryCluster

NS = "openfaas-fn"
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
NIGHT = datetime(2026, 11, 24, 23, 10, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
OFFICE = Defaults(uptime="Mon-Fri 07:00-19:00 Europe/London")


def config(**kwargs):
    return OffhoursConfig((NS,), OFFICE, max_changes=500, **kwargs)


def reconciler(cluster, store=None, **kwargs):
    return Reconciler(cluster, config(**kwargs), sleep=lambda _: None, store=store or MemoryParkedStore())


def replicas(cluster, name):
    return cluster.deployments[(NS, name)]["spec"]["replicas"]


def replicas_after_morning(cluster, store, name):
    """Function `name`'s replicas after the 07:05 run."""
    reconciler(cluster, store).run(MORNING)
    return replicas(cluster, name)


def own_annotations(cluster, name):
    return cluster.deployments[(NS, name)]["metadata"].get("annotations") or {}


def parked_at_evening(replicas_then: int):
    """Function `a` with `replicas_then` replicas, parked by the 19:05 run: (cluster, store)."""
    cluster, store = MemoryCluster([deployment("a", replicas_then)]), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    return cluster, store


def redeploy(cluster, name, scale_min=None):
    """faas-cli deploy of an existing function (faas-netes update.go): the Deployment's annotations replaced by the
    function's; on CE replicas reset to com.openfaas.scale.min when that label is set."""
    obj = cluster.deployments[(NS, name)]
    obj["metadata"]["annotations"] = {"prometheus.io.scrape": "false"}
    if scale_min is not None:
        obj["spec"]["replicas"] = scale_min
    obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)


# ---- (3) labels and annotations where faas-netes puts them -------------------------------------------------------
def test_scale_zero_false_on_the_pod_template_is_never_parked():
    cluster = MemoryCluster([deployment("keep", 2, template_labels={"com.openfaas.scale.zero": "false"}),
                             deployment("park", 2, template_labels={"com.openfaas.scale.zero": "true"})])
    report = reconciler(cluster).run(EVENING)
    assert replicas(cluster, "keep") == 2 and replicas(cluster, "park") == 0
    assert [a.reason for a in report.plan.actions if a.name == "keep"] == ["labelled com.openfaas.scale.zero=false"]


def test_deployment_labels_are_only_a_fallback_and_the_template_wins():
    both = deployment("a", 2, labels={"com.openfaas.scale.zero": "false"},
                      template_labels={"com.openfaas.scale.zero": "true"})
    fallback = deployment("b", 2, labels={"com.openfaas.scale.zero": "false"})
    cluster = MemoryCluster([both, fallback])
    reconciler(cluster).run(EVENING)
    assert (replicas(cluster, "a"), replicas(cluster, "b")) == (0, 2)


def test_costguard_policy_annotations_work_on_the_template_too():
    cluster = MemoryCluster([deployment("a", 2, template_annotations={"costguard.openfaas.com/exclude": "true"}),
                             deployment("b", 2, annotations={"costguard.openfaas.com/exclude": "true"})])
    reconciler(cluster).run(EVENING)
    assert (replicas(cluster, "a"), replicas(cluster, "b")) == (2, 2)


# ---- (4) a restore count nothing can erase -----------------------------------------------------------------------
def test_the_record_is_written_before_the_patch_and_the_annotation_mirrors_it():
    store = MemoryParkedStore()

    class Watching(MemoryCluster):
        def patch_function(self, namespace, name, patch):
            assert function_id(namespace, name) in store.items, "patched before the record was written"
            super().patch_function(namespace, name, patch)

    cluster = Watching([deployment("a", 3)])
    reconciler(cluster, store).run(EVENING)
    assert store.items[function_id(NS, "a")]["replicas"] == 3
    assert own_annotations(cluster, "a")[ORIGINAL_REPLICAS] == "3"


def test_no_record_no_park():
    class Broken(MemoryParkedStore):
        def put_new(self, items, now):
            raise RuntimeError("DynamoDB unavailable")

    cluster = MemoryCluster([deployment("a", 3)])
    with pytest.raises(RuntimeError):
        reconciler(cluster, Broken()).run(EVENING)
    assert replicas(cluster, "a") == 3 and cluster.patches == []


def test_an_unreadable_table_changes_nothing_and_says_so():
    class Unreadable(MemoryParkedStore):
        def get_many(self, ids):
            raise RuntimeError("AccessDenied")

    cluster = MemoryCluster([deployment("a", 0, annotations={ORIGINAL_REPLICAS: "3"})])
    report = reconciler(cluster, Unreadable()).run(MORNING)
    assert cluster.patches == [] and report.errors[0][0] == "stage table"


@pytest.mark.parametrize("scale_min", [None, 2])
def test_a_redeploy_during_downtime_is_parked_again_and_the_morning_gets_the_evening_count(scale_min):
    labels = {"com.openfaas.scale.min": str(scale_min)} if scale_min else {}
    cluster, store = MemoryCluster([deployment("a", 4, template_labels=labels)]), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    redeploy(cluster, "a", scale_min)
    night = reconciler(cluster, store).run(NIGHT)
    assert [(a.kind, a.desired) for a in night.plan.actions] == [(Kind.REPARK, 0)]
    assert "redeploy" in night.plan.actions[0].reason
    assert replicas(cluster, "a") == 0 and own_annotations(cluster, "a")[ORIGINAL_REPLICAS] == "4"
    assert replicas_after_morning(cluster, store, "a") == 4 and ORIGINAL_REPLICAS not in own_annotations(cluster, "a")
    assert function_id(NS, "a") not in store.items


def test_a_lost_annotation_is_written_again_from_the_table():
    cluster, store = parked_at_evening(3)
    del cluster.deployments[(NS, "a")]["metadata"]["annotations"][ORIGINAL_REPLICAS]
    night = reconciler(cluster, store).run(NIGHT)
    assert night.plan.actions[0].kind is Kind.REPARK
    assert cluster.patches[-1][1] == {"metadata": {"resourceVersion": "8", "annotations": {ORIGINAL_REPLICAS: "3"}}}
    assert replicas_after_morning(cluster, store, "a") == 3


def test_a_wrong_annotation_does_not_beat_the_table():
    cluster, store = parked_at_evening(3)
    cluster.deployments[(NS, "a")]["metadata"]["annotations"][ORIGINAL_REPLICAS] = "1"
    assert replicas_after_morning(cluster, store, "a") == 3


def test_a_function_deleted_and_recreated_under_the_same_name_is_the_same_function():
    cluster, store = parked_at_evening(3)
    # faas-cli remove + faas-cli deploy at 23:00: a new Deployment (new uid, 1 replica, just created)
    cluster.deployments[(NS, "a")] = deployment("a", 1, uid="new-uid", created=NIGHT - timedelta(minutes=10))
    night = reconciler(cluster, store).run(NIGHT)
    assert night.plan.actions[0].kind is Kind.REPARK and "recreated" in night.plan.actions[0].reason
    assert replicas(cluster, "a") == 0  # no grace period: it is the parked function, by name
    assert store.items[function_id(NS, "a")]["uid"] == "new-uid" and store.items[function_id(NS, "a")]["replicas"] == 3
    assert replicas_after_morning(cluster, store, "a") == 3


def test_a_human_scale_during_downtime_is_still_not_fought():
    cluster, store = parked_at_evening(2)
    cluster.human_scale(NS, "a", 5)
    night = reconciler(cluster, store).run(NIGHT)
    assert night.plan.actions[0].kind is Kind.SKIP and replicas(cluster, "a") == 5
    assert replicas_after_morning(cluster, store, "a") == 5 and function_id(NS, "a") not in store.items


def test_kube_downscaler_parked_functions_are_restored_and_taken_over():
    parked_by_downscaler = deployment("a", 0, annotations={LEGACY_ORIGINAL_REPLICAS: "3"})
    cluster, store = MemoryCluster([parked_by_downscaler, deployment("b", 0, annotations={
        LEGACY_ORIGINAL_REPLICAS: "2"})]), MemoryParkedStore()
    morning = reconciler(cluster, store).run(MORNING)
    assert replicas(cluster, "a") == 3 and LEGACY_ORIGINAL_REPLICAS not in own_annotations(cluster, "a")
    assert "kube-downscaler" in morning.plan.actions[0].reason
    # at night, costguard takes the count over: table record + its own mirror, kube-downscaler's annotation gone
    cluster2, store2 = MemoryCluster([deployment("b", 0, annotations={LEGACY_ORIGINAL_REPLICAS: "2"})]), MemoryParkedStore()
    reconciler(cluster2, store2).run(NIGHT)
    assert store2.items[function_id(NS, "b")]["replicas"] == 2
    assert own_annotations(cluster2, "b") == {"prometheus.io.scrape": "false", ORIGINAL_REPLICAS: "2"}


# ---- (5) editions ----------------------------------------------------------------------------------------------
def gateway(image, command=("./gateway",)):
    return {"spec": {"template": {"spec": {"containers": [{"name": "gateway", "image": image,
                                                            "command": list(command)}]}}}}


def test_edition_detection_from_the_gateway_deployment():
    assert editions.detect(gateway("ghcr.io/openfaas/gateway:0.27.12")).edition == CE
    pro = gateway("ghcr.io/openfaasltd/gateway:0.4.40", ("./gateway", "-license-file=/var/secrets/license/license"))
    assert editions.detect(pro).edition == STANDARD
    autoscaler = {"spec": {"template": {"spec": {"containers": [
        {"name": "autoscaler", "env": [{"name": "maintain_minimum_replicas", "value": "true"}]}]}}}}
    assert editions.detect(pro, autoscaler).maintain_minimum_replicas is True
    assert editions.resolve(editions.detect(pro), "ce", None).edition == CE


def test_on_ce_no_function_is_patched_twice_and_the_reason_is_reported():
    cluster = MemoryCluster([deployment("big", 3), deployment("one", 1)])
    cluster.gateway = gateway("ghcr.io/openfaas/gateway:0.27.12")
    store = MemoryParkedStore()
    first = reconciler(cluster, store).run(EVENING)
    assert replicas(cluster, "big") == 1 and replicas(cluster, "one") == 1  # parked at 1: CE cannot hold 0
    held = first.plan.of(Kind.HOLD)
    assert [a.name for a in held] == ["one"] and "OpenFaaS CE" in held[0].reason and "Fix" in held[0].reason
    for moment in (EVENING + timedelta(minutes=5), NIGHT):
        reconciler(cluster, store).run(moment)
    assert [name for name, _ in cluster.patches] == ["big"]
    assert replicas_after_morning(cluster, store, "big") == 3


def test_maintain_minimum_replicas_holds_all_but_scale_zero_true():
    cluster = MemoryCluster([deployment("plain", 2), deployment("zero", 2, template_labels={
        "com.openfaas.scale.zero": "true"})])
    report = reconciler(cluster, edition="standard", maintain_minimum_replicas=True).run(EVENING)
    assert (replicas(cluster, "plain"), replicas(cluster, "zero")) == (1, 0)
    assert "maintainMinimumReplicas" in report.plan.actions[0].reason


# ---- (6) night wake-ups ------------------------------------------------------------------------------------------
def metrics(count):
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"function_name": f"a.{NS}"}, "value": [0, str(count)]}]}}).encode()


def test_a_woken_function_is_parked_again_after_the_idle_time_never_mid_burst():
    cluster, store = parked_at_evening(3)
    cluster.human_scale(NS, "a", 1)  # the gateway scaled it from zero on a call at 23:10
    counts = iter([1, 5, 9, 9, 9, 9, 9, 9, 9, 9])
    moment, kinds = NIGHT, []
    for _ in range(9):
        moment += timedelta(minutes=5)
        cluster.metrics = metrics(next(counts))
        report = reconciler(cluster, store).run(moment)
        kinds.append(report.plan.actions[0].kind)
        if replicas(cluster, "a") == 0:
            break
    # busy until 23:25 (counter moving), quiet from 23:25: parked at the first run 30 min later
    assert kinds == [Kind.AWAKE] * 8 + [Kind.REPARK] and moment == datetime(2026, 11, 24, 23, 55, tzinfo=timezone.utc)
    assert replicas_after_morning(cluster, store, "a") == 3


def test_without_metrics_a_fixed_hold_applies_and_the_run_says_so():
    cluster, store = parked_at_evening(3)
    cluster.human_scale(NS, "a", 1)
    first = reconciler(cluster, store).run(NIGHT)
    assert first.plan.actions[0].kind is Kind.AWAKE and "fixed hold" in first.notes[0]
    assert reconciler(cluster, store).run(NIGHT + timedelta(minutes=55)).plan.actions[0].kind is Kind.AWAKE
    assert reconciler(cluster, store).run(NIGHT + timedelta(minutes=60)).plan.actions[0].kind is Kind.REPARK
    assert replicas(cluster, "a") == 0


# ---- (9) static NodePools -----------------------------------------------------------------------------------------
def test_a_static_nodepool_is_parked_through_replicas_and_its_limits_are_never_touched():
    pool = nodepool_object("static", {"nodes": "10"}, {"costguard.openfaas.com/offhours": "true"}, replicas=3)
    cluster, store = MemoryCluster([], nodepools=[pool]), MemoryParkedStore()
    evening = reconciler(cluster, store).run(EVENING)
    assert [(a.kind, e) for a, e in evening.nodepools] == [("limit", None)]
    assert cluster.pools["static"]["spec"] == {"template": {}, "limits": {"nodes": "10"}, "replicas": 0}
    assert store.items[nodepool_id("static")]["replicas"] == 3
    assert ("static/scale", {"spec": {"replicas": 0}}) in cluster.patches
    assert all("limits" not in (patch.get("spec") or {}) for _, patch in cluster.patches)
    reconciler(cluster, store).run(MORNING)
    assert cluster.pools["static"]["spec"]["replicas"] == 3 and nodepool_id("static") not in store.items
    assert ORIGINAL_REPLICAS not in cluster.pools["static"]["metadata"]["annotations"]


def test_dynamic_nodepool_limits_are_recorded_in_the_table_and_restored_from_it():
    pool = nodepool_object("default", {"cpu": "100", "memory": "400Gi"}, {"costguard.openfaas.com/offhours": "true"})
    cluster, store = MemoryCluster([], nodepools=[pool]), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    assert cluster.pools["default"]["spec"]["limits"] == {"cpu": "0", "memory": "0"}
    del cluster.pools["default"]["metadata"]["annotations"]["costguard.openfaas.com/original-limits"]  # lost
    reconciler(cluster, store).run(MORNING)
    assert cluster.pools["default"]["spec"]["limits"] == {"cpu": "100", "memory": "400Gi"}


def test_capabilities_floor():
    assert Capabilities(CE).floor(None, None) == (1, editions.CE_FIX)
    assert Capabilities(STANDARD, True).floor("true", 3) == (0, None)
    assert Capabilities(STANDARD, True).floor(None, 3) == (3, editions.MAINTAIN_FIX)


# ---- (10) GitOps ------------------------------------------------------------------------------------------------
def test_gitops_managed_objects_are_named_in_explain_and_in_the_plan():
    from chalice_app.offhours.explain import explain_function
    from chalice_app.offhours.model import function_from_object

    argo = deployment("a", 2, annotations={"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:openfaas-fn/a"})
    flux = deployment("b", 2, labels={"kustomize.toolkit.fluxcd.io/name": "functions"})
    cluster = MemoryCluster([argo, flux, deployment("c", 2)])
    report = reconciler(cluster).run(EVENING)
    assert [a.gitops for a in report.plan.actions] == [
        "Argo CD (argocd.argoproj.io/tracking-id=shop:apps/Deployment:openfaas-fn/a)", "Flux (Kustomization functions)",
        None]
    explained = dict(explain_function(function_from_object(flux), {}, EVENING, OFFICE, timedelta(0)).lines())
    assert explained["GitOps"].startswith("managed by Flux (Kustomization functions)")
    assert explained["OpenFaaS"].startswith("standard")
