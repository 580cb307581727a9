"""Done-when, end to end on the OpenFaaS/Karpenter twin, as the app's identity: faas-netes' layout, a night
redeploy, CE, a night call and its re-parking, a static NodePool, the field manager, a node that stays and why."""
from datetime import datetime, timedelta, timezone

import pytest

from chalice_app.config import settings
from chalice_app.offhours.handler import run
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.kube.names import ORIGINAL_REPLICAS
from sandbox import Sandbox
from sandbox.demo_budget import seed_prices
from tests.kubeapi.conftest import requires_crds

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)  # Tuesday, 19:05 in London (GMT)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
ENV = {"COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London", "COSTGUARD_OFFHOURS_NODEPOOLS": "default,spot"}
NS = "openfaas-fn"


def deployment(sb, name):
    return sb.kube.store.get("apps/v1", "Deployment", NS, name)


def replicas(sb):
    return {d["metadata"]["name"]: d["spec"].get("replicas", 1) for d in sb.kube.store.list("apps/v1", "Deployment", NS)}


def tick(sb, at):
    summary = run(settings(), at, OffhoursPorts.from_settings(settings()))
    sb.sim.settle(at)
    return summary


def label_template(sb, name, labels):
    """A faas-cli deploy with --label: faas-netes puts it on the pod template (deploy.go)."""
    sb.openfaas.redeploy(name, labels=labels)


@pytest.fixture
def standard():
    with Sandbox(functions=8, nodes=4, now=SEEDED_AT) as sb, sb.activate(**ENV):
        seed_prices(sb, EVENING - timedelta(minutes=30))  # moto has no Pricing API: the price cache, as the demo
        yield sb


def test_scale_zero_false_is_never_parked_and_a_night_redeploy_ends_the_morning_at_the_evening_count(standard):
    sb = standard
    sb.sim.scale_function("nodeinfo", 3)
    label_template(sb, "figlet", {"com.openfaas.scale.zero": "false"})
    sb.sim.settle(EVENING - timedelta(hours=1))
    before = replicas(sb)
    sb.kube.reset_requests()
    tick(sb, EVENING)
    assert replicas(sb)["figlet"] == before["figlet"] > 0  # labelled on the pod template: never parked
    assert replicas(sb)["nodeinfo"] == 0
    assert "figlet" not in {r.path.rsplit("/", 1)[-1] for r in sb.kube.requests if r.method == "PATCH"}
    # 23:00 a CI pipeline redeploys nodeinfo: annotations replaced, replicas reset to its scale.min
    sb.openfaas.redeploy("nodeinfo", labels={"com.openfaas.scale.min": "2"})
    assert ORIGINAL_REPLICAS not in (deployment(sb, "nodeinfo")["metadata"].get("annotations") or {})
    night = tick(sb, EVENING + timedelta(hours=4))
    assert night["reparked"] >= 1 and replicas(sb)["nodeinfo"] == 0
    tick(sb, MORNING)
    assert replicas(sb)["nodeinfo"] == 3 and replicas(sb) == before
    assert all(r.query.get("fieldManager") == "costguard" for r in sb.kube.requests if r.method == "PATCH")


def test_a_call_at_2310_wakes_a_function_that_is_parked_again_after_the_idle_time(standard):
    sb = standard
    tick(sb, EVENING)
    assert replicas(sb)["sleep"] == 0
    call = datetime(2026, 11, 24, 23, 10, tzinfo=timezone.utc)
    assert sb.openfaas.invoke("sleep", call) is True  # the gateway scales it from zero
    sb.sim.settle(call)
    seen = {}
    for minutes in (5, 10, 15, 40, 50):  # calls at 23:14 and 23:19 (a burst), then quiet
        moment = call + timedelta(minutes=minutes)
        if minutes in (5, 10):
            sb.openfaas.invoke("sleep", moment + timedelta(minutes=4))
        summary = tick(sb, moment)
        seen[minutes] = (replicas(sb)["sleep"], summary["awake"], summary["reparked"])
    assert seen[5][0] == 1 and seen[5][1] == [f"{NS}/sleep"]  # up within the run after the call, left up
    assert seen[10][2] == seen[15][2] == 0  # never parked mid-burst
    assert seen[40][:2] == (1, [f"{NS}/sleep"])  # 23:50: quiet for 25 minutes only
    assert seen[50] == (0, [], 1)  # 00:00: quiet for 35 minutes (idle time 30): parked again
    tick(sb, MORNING)
    assert replicas(sb)["sleep"] == 1


def test_on_ce_no_function_is_patched_twice_in_a_night_and_the_reason_is_reported():
    with Sandbox(functions=8, nodes=4, now=SEEDED_AT, edition="ce") as sb, sb.activate(**ENV):
        before = replicas(sb)
        sb.kube.reset_requests()
        first = tick(sb, EVENING)
        for minutes in (5, 35, 95):
            tick(sb, EVENING + timedelta(minutes=minutes))
        patched = [r.path.rsplit("/", 1)[-1] for r in sb.kube.requests
                   if r.method == "PATCH" and "/deployments/" in r.path]
        assert len(patched) == len(set(patched))
        assert first["held"] and "OpenFaaS CE" in first["held_because"][0] and "Fix" in first["held_because"][0]
        assert first["openfaas"].startswith("ce (detected")
        held = [text for text in (m.payload.get("text", "") for m in sb.slack.messages) if "cannot hold" in text]
        assert len(held) == 1
        tick(sb, MORNING)
        assert replicas(sb) == before


@requires_crds  # the NodePool CRD's scale subresource, printer columns and static mode come from ../shared/crds
def test_a_static_nodepool_is_parked_through_replicas_without_a_422_and_a_node_that_stays_is_reported(standard):
    sb = standard
    static = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default")
    static = {**static, "metadata": {"name": "ci-static", "annotations": {"costguard.openfaas.com/offhours": "true"}},
              "spec": {**static["spec"], "replicas": 2, "limits": {"nodes": "4"}}}
    static["spec"].pop("disruption", None)
    sb.kube.store.put(static)
    sb.sim.settle(EVENING - timedelta(minutes=30))
    spot_nodes = [n["metadata"]["name"] for n in sb.kube.store.list("v1", "Node")
                  if n["metadata"].get("labels", {}).get("karpenter.sh/nodepool") == "spot"]
    sb.sim.place_pod(spot_nodes[0], "backup", namespace="kube-system", do_not_disrupt=True)
    sb.kube.reset_requests()
    evening = tick(sb, EVENING)
    assert evening["nodepools"]["ci-static"] == "limit"
    assert not [r for r in sb.kube.requests if r.status >= 400]
    assert sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "ci-static")["spec"]["replicas"] == 0
    assert any(r.method == "PATCH" and r.path.endswith("/nodepools/ci-static/scale") for r in sb.kube.requests)
    sb.sim.consolidate()
    later = tick(sb, EVENING + timedelta(minutes=35))
    assert "$" in later["nodes_staying"][0] and "price unknown" not in later["nodes_staying"][0]
    stays = [line for line in later["nodes_staying"] if line.startswith(spot_nodes[0])]
    assert stays and "pod kube-system/backup-" in stays[0] and "annotated karpenter.sh/do-not-disrupt" in stays[0]
    assert any("still running" in (m.payload.get("text") or "") for m in sb.slack.messages)
    tick(sb, MORNING)
    restored = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "ci-static")
    assert restored["spec"]["replicas"] == 2 and restored["spec"]["limits"] == {"nodes": "4"}
