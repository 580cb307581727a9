"""The handler's notes: held functions once a day, staying nodes once a night, re-sent when Slack failed."""
from datetime import timedelta

import pytest

from chalice_app.budget.prices import PriceBook
from chalice_app.config import load_settings
from chalice_app.offhours import handler
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.offhours.parked import MemoryParkedStore
from tests.offhours.factories import deployment
from tests.memory_cluster import MemoryCluster
from tests.offhours.test_offhours_night import EVENING, MORNING, NS, config, gateway
from tests.offhours.test_offhours_nodes import DEFAULT, node, pod
from tests.slackfakes import RecordingNotifier

SETTINGS = load_settings({"COSTGUARD_CLUSTER_NAME": "c", "COSTGUARD_TABLE_NAME": "costguard-test"})


@pytest.fixture(autouse=True)
def no_run_log(monkeypatch):
    monkeypatch.setattr(handler, "record_run_quietly", lambda *args, **kwargs: True)


def run(cluster, store, notifier, now):
    ports = OffhoursPorts(cluster, store, notifier,
                          prices=lambda on_demand, spot: PriceBook(spot={("c6a.large", "us-east-1a"): 0.05}))
    return handler.run(SETTINGS, now, ports, config=config())


def test_held_functions_are_said_once_a_day_with_the_fix():
    cluster = MemoryCluster([deployment("one", 1)])
    cluster.gateway = gateway("ghcr.io/openfaas/gateway:0.27.12")
    store, notifier = MemoryParkedStore(), RecordingNotifier(fail_after=0, failures=1, error=RuntimeError("Slack is down"))
    first = run(cluster, store, notifier, EVENING)  # Slack fails: the note is released for the next run
    assert first["held"] == [f"{NS}/one"] and "OpenFaaS Standard" in first["held_because"][0]
    run(cluster, store, notifier, EVENING + timedelta(minutes=5))
    run(cluster, store, notifier, EVENING + timedelta(minutes=10))
    held = [text for text in notifier.texts if "cannot hold them at zero" in text]
    assert len(held) == 1 and "1 function(s)" in held[0]


def test_staying_nodes_are_reported_once_a_night_with_their_cost():
    cluster = MemoryCluster([], nodepools=[DEFAULT])
    cluster.nodes = [node("kept", "default")]
    cluster.pods = [pod("batch", "kept", namespace="jobs", annotations={"karpenter.sh/do-not-disrupt": "true"})]
    store, notifier = MemoryParkedStore(), RecordingNotifier()
    run(cluster, store, notifier, EVENING)
    for minutes in (35, 40, 5 * 60 + 35):  # 19:40, 19:45 and 00:40: one night
        summary = run(cluster, store, notifier, EVENING + timedelta(minutes=minutes))
    assert summary["nodes_staying"] == [
        "kept (default, c6a.large spot, $0.0500/h): pod jobs/batch annotated karpenter.sh/do-not-disrupt"]
    notes = [text for text in notifier.texts if "still running" in text]
    assert notes == ["costguard off-hours: 1 node(s) of parked NodePools are still running ($0.05/h); "
                     "Karpenter does not remove them, for the reasons below."]
    assert run(cluster, store, notifier, MORNING)["nodes_staying"] == []
