"""The OpenFaaS twin (sandbox/openfaas.py, sandbox/prometheus.py, sandbox/openfaas_chart.py) does what faas-netes, the
gateway and the Standard autoscaler do, per edition: each test names the upstream behaviour it pins."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from kubernetes.client.exceptions import ApiException

from sandbox import Sandbox
from sandbox.cluster_sim import ClusterSim
from sandbox.kubeapi.store import Store
from sandbox.openfaas import (
    CE,
    STANDARD,
    OpenFaaS,
    OpenFaaSApiError,
    ce_informer_target,
    gateway_scale_from_zero,
    redeployed,
    standard_autoscaler_target,
    zero_duration,
)
from sandbox.openfaas_chart import chart_objects
from sandbox.prometheus import InvocationLog
from sandbox.seed import build_objects, fake_machines, plan_cluster

NIGHT = datetime(2026, 3, 10, 23, 0, tzinfo=timezone.utc)
FN = "openfaas-fn"


def function_deployment(replicas=1, **labels) -> dict:
    return {"metadata": {"name": "fn", "namespace": FN, "labels": {"faas_function": "fn"},
                         "annotations": {"costguard.openfaas.com/original-replicas": "2"}},
            "spec": {"replicas": replicas, "template": {
                "metadata": {"labels": {"faas_function": "fn", **labels}, "annotations": {}},
                "spec": {"containers": [{"name": "fn", "image": "ghcr.io/example/fn:1"}]}}}}


def cluster(edition=STANDARD, maintain=False, functions=8):
    """A seeded store with the twin and the simulator, without HTTP or moto (fast)."""
    plan = plan_cluster(functions, 4, now=NIGHT - timedelta(days=1))
    store = Store()
    store.put_many(chart_objects(build_objects(plan, fake_machines(plan)).objects, edition, maintain, plan.now))
    openfaas = OpenFaaS(store, edition, maintain)
    return store, openfaas, ClusterSim(store, None, openfaas=openfaas)


def replicas(store, name) -> int:
    return store.get("apps/v1", "Deployment", FN, name)["spec"]["replicas"]


# --- CE: faas-netes pkg/handlers/informers.go applyValidation, replica_updater.go ------------------------------------
def test_ce_informer_sets_a_function_at_zero_back_to_one_and_caps_at_five():
    assert ce_informer_target(function_deployment(0)) == 1
    assert ce_informer_target(function_deployment(9)) == 5  # MaxReplicas for CE (replica_reader.go)
    assert ce_informer_target(function_deployment(3)) is None
    not_a_function = function_deployment(0)
    del not_a_function["spec"]["template"]["metadata"]["labels"]["faas_function"]
    assert ce_informer_target(not_a_function) is None  # it looks at the pod template's faas_function label


def test_ce_cluster_cannot_hold_zero_and_its_api_refuses_zero():
    store, openfaas, sim = cluster(CE)
    sim.scale_function("sleep", 0)  # what costguard's patch does
    report = sim.settle(NIGHT)
    assert report.openfaas.informer_reset == ["sleep"] and replicas(store, "sleep") == 1
    with pytest.raises(OpenFaaSApiError) as refused:
        openfaas.scale("sleep", 0)
    assert refused.value.status == 400 and refused.value.text == "replicas cannot be set to 0 in OpenFaaS CE"
    openfaas.scale("sleep", 3)
    assert replicas(store, "sleep") == 3


def test_chart_renders_the_gateway_per_edition_and_the_autoscaler_only_on_standard():
    for edition, maintain in ((CE, False), (STANDARD, True)):
        store, _, _ = cluster(edition, maintain)
        gateway = store.get("apps/v1", "Deployment", "openfaas", "gateway")
        images = [c["image"] for c in gateway["spec"]["template"]["spec"]["containers"]]
        autoscaler = store.get("apps/v1", "Deployment", "openfaas", "autoscaler")
        if edition == CE:
            assert images[0].startswith("ghcr.io/openfaas/gateway:") and autoscaler is None
        else:
            assert images[0].startswith("ghcr.io/openfaasltd/gateway:")
            container = autoscaler["spec"]["template"]["spec"]["containers"][0]
            assert "-license-file=/var/secrets/license/license" in container["command"]
            assert {"name": "maintain_minimum_replicas", "value": "true"} in container["env"]


def test_a_default_standard_chart_renders_no_maintain_minimum_replicas_because_upstream_has_none():
    # faas-netes chart/openfaas/templates/autoscaler-dep.yaml renders gateway_url, prometheus_host/port (and
    # default_target when set); no upstream chart value maintainMinimumReplicas exists (sandbox/openfaas_chart.py).
    store, _, _ = cluster(STANDARD, False)
    container = store.get("apps/v1", "Deployment", "openfaas", "autoscaler")["spec"]["template"]["spec"]["containers"][0]
    assert [env["name"] for env in container["env"]] == ["gateway_url", "prometheus_host", "prometheus_port"]


def test_ce_with_maintain_minimum_replicas_is_refused():
    with pytest.raises(ValueError, match="Standard"):
        OpenFaaS(Store(), CE, maintain_minimum_replicas=True)


# --- gateway: openfaas/faas gateway/scaling/function_scaler.go -------------------------------------------------------
def test_gateway_scales_from_zero_to_scale_min_default_one():
    assert gateway_scale_from_zero(function_deployment(0)) == 1
    assert gateway_scale_from_zero(function_deployment(0, **{"com.openfaas.scale.min": "3"})) == 3
    assert gateway_scale_from_zero(function_deployment(0, **{"com.openfaas.scale.min": "junk"})) == 1
    assert gateway_scale_from_zero(function_deployment(2)) is None


def test_a_call_at_night_wakes_a_parked_function_and_the_sim_runs_it():
    store, openfaas, sim = cluster(STANDARD)
    sim.scale_function("sleep", 0)
    sim.settle(NIGHT)
    assert openfaas.invoke("sleep", NIGHT + timedelta(minutes=10)) is True
    assert replicas(store, "sleep") == 1
    report = sim.settle(NIGHT + timedelta(minutes=10))
    assert len(report.pods_created) == 1
    assert openfaas.invoke("sleep", NIGHT + timedelta(minutes=11)) is False  # already up: only counted


# --- Standard autoscaler: docs.openfaas.com/openfaas-pro/scale-to-zero ----------------------------------------------
def test_idler_scales_scale_zero_functions_after_their_idle_duration_only():
    labels = {"com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "20m"}
    deployment = function_deployment(2, **labels)
    quiet = NIGHT - timedelta(minutes=20)
    assert standard_autoscaler_target(deployment, quiet, NIGHT - timedelta(hours=1), NIGHT, False) == 0
    assert standard_autoscaler_target(deployment, quiet + timedelta(seconds=1), NIGHT - timedelta(hours=1), NIGHT,
                                      False) is None
    never_called = standard_autoscaler_target(deployment, None, NIGHT - timedelta(minutes=5), NIGHT, False)
    assert never_called is None  # idle only for the time the autoscaler has been watching
    assert standard_autoscaler_target(function_deployment(2), None, quiet, NIGHT, False) is None  # not opted in
    assert zero_duration({"com.openfaas.scale.zero-duration": "1h30m"}) == timedelta(minutes=90)
    assert zero_duration({"com.openfaas.scale.zero-duration": "soon"}) is None


def test_maintain_minimum_replicas_brings_back_functions_that_may_not_sleep():
    store, openfaas, sim = cluster(STANDARD, maintain=True)
    sim.scale_function("sleep", 0)
    report = sim.settle(NIGHT)
    assert report.openfaas.restored_minimum == ["sleep"] and replicas(store, "sleep") == 1
    plain_store, _, plain_sim = cluster(STANDARD, maintain=False)
    plain_sim.scale_function("sleep", 0)
    plain_sim.settle(NIGHT)
    assert replicas(plain_store, "sleep") == 0  # without the option zero holds on Standard
    sleeper = function_deployment(0, **{"com.openfaas.scale.zero": "true"})
    assert standard_autoscaler_target(sleeper, None, NIGHT, NIGHT, True) is None  # opted in to zero: left alone


def test_a_woken_scale_to_zero_function_is_idled_again_after_its_duration():
    store, openfaas, sim = cluster(STANDARD)
    deployment = store.get("apps/v1", "Deployment", FN, "sleep")
    deployment["spec"]["template"]["metadata"]["labels"].update(
        {"com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "15m"})
    deployment["spec"]["replicas"] = 0
    store.put(deployment)
    sim.settle(NIGHT)
    openfaas.invoke("sleep", NIGHT + timedelta(minutes=1))
    assert sim.settle(NIGHT + timedelta(minutes=10)).openfaas.idled == []
    assert sim.settle(NIGHT + timedelta(minutes=16)).openfaas.idled == ["sleep"]
    assert replicas(store, "sleep") == 0


# --- redeploy: faas-netes pkg/handlers/update.go updateDeploymentSpec -------------------------------------------------
def test_redeploy_replaces_annotations_and_resets_replicas_to_scale_min():
    parked = function_deployment(0, **{"com.openfaas.scale.min": "2"})
    after = redeployed(parked, {"com.openfaas.scale.min": "2"}, {"team": "a"}, None, "7")
    assert after["metadata"]["annotations"] == {"team": "a", "prometheus.io.scrape": "false"}  # costguard's gone
    assert after["spec"]["template"]["metadata"]["labels"] == {"faas_function": "fn", "uid": "7",
                                                               "com.openfaas.scale.min": "2"}
    assert after["spec"]["replicas"] == 2
    unchanged = redeployed(function_deployment(0), {}, {}, "ghcr.io/example/fn:2", "8")
    assert unchanged["spec"]["replicas"] == 0  # no scale.min label: replicas left alone
    assert unchanged["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/fn:2"
    assert unchanged["metadata"]["labels"] == {"faas_function": "fn"}


def test_redeploy_on_each_edition_uses_the_function_resource():
    for edition, expected in ((STANDARD, 1), (CE, 1)):
        store, openfaas, sim = cluster(edition)
        sim.scale_function("figlet", 0)
        annotated = store.get("apps/v1", "Deployment", FN, "figlet")
        annotated["metadata"]["annotations"]["costguard.openfaas.com/original-replicas"] = "1"
        store.put(annotated)
        stored = openfaas.redeploy("figlet")
        assert "costguard.openfaas.com/original-replicas" not in stored["metadata"]["annotations"]
        assert stored["spec"]["replicas"] == expected  # the seed's figlet has com.openfaas.scale.min=1
        sim.settle(NIGHT)
        assert replicas(store, "figlet") == expected


# --- Prometheus -------------------------------------------------------------------------------------------------------
def test_counter_as_prometheus_scrapes_it_and_the_query_shapes():
    log = InvocationLog()
    log.record("sleep.openfaas-fn", "200", NIGHT + timedelta(seconds=5), 3)
    log.record("sleep.openfaas-fn", "500", NIGHT + timedelta(seconds=6))
    log.record("env.openfaas-fn", "200", NIGHT + timedelta(minutes=2))
    at = NIGHT + timedelta(minutes=5)
    summed = log.query("sum by (function_name) (gateway_function_invocation_total)", at)
    assert [(r["metric"], r["value"][1]) for r in summed] == [
        ({"function_name": "env.openfaas-fn"}, "1"), ({"function_name": "sleep.openfaas-fn"}, "4")]
    only_ok = log.query('gateway_function_invocation_total{function_name="sleep.openfaas-fn",code="200"}', at)
    assert [r["value"][1] for r in only_ok] == ["3"]
    assert log.query("gateway_function_invocation_total", NIGHT + timedelta(seconds=10)) == []  # not scraped yet
    assert log.last_call("sleep.openfaas-fn", at) == NIGHT + timedelta(seconds=6)
    with pytest.raises(Exception, match="evaluates only"):
        log.query("rate(up[5m])", at)


def test_increase_follows_prometheus_extrapolation_and_is_zero_when_idle():
    log = InvocationLog()
    for minute in range(0, 10):
        log.record("fn.openfaas-fn", "200", NIGHT + timedelta(minutes=minute, seconds=1))
    busy = log.query('increase(gateway_function_invocation_total{function_name=~"fn.*"}[5m])',
                     NIGHT + timedelta(minutes=9, seconds=30))
    assert 4.0 <= float(busy[0]["value"][1]) <= 6.0
    idle = log.query("increase(gateway_function_invocation_total[30m])", NIGHT + timedelta(minutes=50))
    assert [r["value"][1] for r in idle] == ["0"]


def get(api, path: str, query: list | None = None) -> dict:
    """A GET through the real client's plumbing (auth, serialisation); ApiException on a non-2xx answer."""
    method, url, headers = api.param_serialize("GET", path, query_params=query or [], auth_settings=["BearerToken"])[:3]
    response = api.call_api(method, url, headers)
    response.read()
    if not 200 <= response.status <= 299:
        raise ApiException(http_resp=response)
    return json.loads(response.data)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=8, nodes=4, ec2_instances=False) as running:
        yield running


def test_prometheus_is_reached_through_the_service_proxy_with_rbac(sb):
    sb.openfaas.invoke("sleep", NIGHT + timedelta(minutes=1), count=2)
    answer = get(sb.admin_kube_client(), "/api/v1/namespaces/openfaas/services/prometheus:9090/proxy/api/v1/query",
                 [("query", "sum by (function_name) (gateway_function_invocation_total)"),
                  ("time", str((NIGHT + timedelta(minutes=5)).timestamp()))])
    assert answer["status"] == "success"
    assert answer["data"]["result"] == [{"metric": {"function_name": "sleep.openfaas-fn"},
                                         "value": [(NIGHT + timedelta(minutes=5)).timestamp(), "2"]}]
    request = sb.kube.requests[-1]
    assert request.path.endswith("/services/prometheus:9090/proxy/api/v1/query")


def test_service_proxy_is_authorized_like_kube_apiserver(sb):
    app = sb.app_kube_client()
    path = "/api/v1/namespaces/openfaas/services/grafana:3000/proxy/api/health"
    with pytest.raises(ApiException) as refused:
        get(app, path)
    assert refused.value.status == 403
    assert 'cannot get resource "services/proxy" in API group "" in the namespace "openfaas"' in \
        json.loads(refused.value.body)["message"]
    admin = sb.admin_kube_client()
    with pytest.raises(ApiException) as missing:
        get(admin, path)
    assert missing.value.status == 404
    with pytest.raises(ApiException) as bad:
        get(admin, "/api/v1/namespaces/openfaas/services/prometheus:9090/proxy/api/v1/query", [("query", "up")])
    assert bad.value.status == 400 and json.loads(bad.value.body)["errorType"] == "bad_data"


def test_remove_and_deploy_again_makes_a_new_function_object():
    store, openfaas, sim = cluster(STANDARD)
    before = store.get("apps/v1", "Deployment", FN, "figlet")
    openfaas.remove("figlet")
    assert store.get("apps/v1", "Deployment", FN, "figlet") is None
    assert not [p for p in store.list("v1", "Pod", FN) if p["metadata"]["labels"].get("faas_function") == "figlet"]
    again = openfaas.deploy("figlet", "ghcr.io/openfaas/figlet:latest", labels={"com.openfaas.scale.min": "2"})
    assert again["metadata"]["uid"] != before["metadata"]["uid"]
    assert again["metadata"]["labels"] == {"faas_function": "figlet"} and again["spec"]["replicas"] == 2
    assert again["metadata"]["annotations"] == {"prometheus.io.scrape": "false"}
    assert len(sim.settle(NIGHT).pods_created) == 2
    with pytest.raises(OpenFaaSApiError):
        openfaas.deploy("figlet", "ghcr.io/openfaas/figlet:latest")
