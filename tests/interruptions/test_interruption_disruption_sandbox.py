"""End to end against the twin: Karpenter's own disruptions stay quiet, everything else alerts exactly once.

The simulator plays Karpenter v1 (taint, DisruptionReason, finalizers, drain, EC2 terminate) and EC2 (state-change
events on EventBridge → the stage's rules → the queue); the handler reads the queue as Lambda would.
"""
from datetime import timedelta

import pytest

from chalice_app.interruptions import handler
from chalice_app.interruptions.records import InterruptionRecords
from chalice_app.table_keys import disrupted_key, spot_key
from tests.interruptions.test_interruption_sandbox import LambdaContext, _drain_queue


@pytest.fixture(autouse=True)
def clean(sb):
    _drain_queue(sb)
    sb.slack.clear()
    yield


def _handle(sb, **overrides):
    records = _drain_queue(sb)
    with sb.activate(**overrides):
        result = handler.handle({"Records": records}, LambdaContext()) if records else {"alerts_sent": 0}
    return records, result


def _empty_node(sb) -> str:
    """Grow `sleep` by a node's worth of replicas, then shrink it back: Karpenter's new node is left empty."""
    original = sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")["spec"]["replicas"]
    sb.sim.scale_function("sleep", original + 12)
    added = sb.sim.settle().nodes_added
    sb.sim.scale_function("sleep", original)
    sb.sim.settle()
    assert added, "the simulator launched no node for the extra replicas"
    return added[0]


def _records_table(sb):
    with sb.activate() as environment:
        return InterruptionRecords(environment["COSTGUARD_TABLE_NAME"], sb.session().client("dynamodb"))


def test_a_consolidated_node_yields_no_interruption_alert_and_lands_in_the_digest(sb):
    node = _empty_node(sb)
    at = sb.sim.now() + timedelta(minutes=2)
    first = sb.sim.disrupt(at)
    assert first.disrupted.get(node) == "Empty" and first.shutting_down  # Node still there, tainted, deleting
    records, result = _handle(sb)
    assert records and result["alerts_sent"] == 0
    second = sb.sim.disrupt(at + timedelta(seconds=40))
    assert second.terminated and sb.kube.store.get("v1", "Node", None, node) is None
    records, result = _handle(sb)  # `terminated` after Kubernetes forgot the node: still Karpenter's
    assert records and result["alerts_sent"] == 0 and sb.slack.messages == []
    counts = _records_table(sb).counts([disrupted_key(at.date())])
    assert sum(counts[disrupted_key(at.date())].values()) == 1  # the pair counted once


def test_a_reclaimed_node_alerts_once_with_its_paired_state_changes_as_one_node(sb):
    victim = next(n["metadata"]["name"] for n in sb.kube.store.list("v1", "Node")
                  if n["metadata"]["labels"].get("karpenter.sh/capacity-type") == "spot")
    at = sb.sim.now()
    instance = sb.sim.reclaim(victim, at)
    _, warned = _handle(sb)
    assert warned["alerts_sent"] == 1
    sb.sim.disrupt(at + timedelta(minutes=2))
    sb.sim.disrupt(at + timedelta(minutes=3))
    records, follow_up = _handle(sb)
    sb.sim.disrupt(at + timedelta(minutes=5))  # Karpenter's garbage collection takes the node away
    assert len(records) == 2  # shutting-down and terminated, in one batch
    assert follow_up["alerts_sent"] == 1
    warning, reply = sb.slack.messages
    assert instance in warning.text and instance in reply.text
    assert reply.payload["blocks"][0]["text"]["text"].startswith("1 node hit")
    assert str(reply.payload).count(f"*{instance}*") == 1
    history = _records_table(sb).counts([spot_key(at)])
    assert sum(history[spot_key(at)].values()) >= 1


def test_a_node_terminated_by_hand_alerts_exactly_once(sb):
    victim = sb.kube.store.list("v1", "Node")[-1]["metadata"]["name"]
    at = sb.sim.now()
    instance = sb.sim.terminate_by_hand(victim, at)
    sb.sim.disrupt(at)
    sb.sim.disrupt(at + timedelta(minutes=1))
    _, result = _handle(sb)
    _, again = _handle(sb)
    assert result["alerts_sent"] == 1 and again["alerts_sent"] == 0
    (message,) = sb.slack.messages
    assert instance in message.text and "Instance terminated" in str(message.payload)


def test_each_alerted_notice_is_an_event_on_its_node(sb):
    victim = next(n for n in sb.kube.store.list("v1", "Node")
                  if n["metadata"]["labels"].get("karpenter.sh/capacity-type") == "spot"
                  and not n["spec"].get("unschedulable") and not n["metadata"].get("deletionTimestamp")
                  and any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]))
    name = victim["metadata"]["name"]
    instance = sb.sim.reclaim(name, sb.sim.now())
    _handle(sb)
    events = [e for e in sb.kube.store.list("v1", "Event", "default")
              if e["involvedObject"].get("name") == name and e.get("source", {}).get("component") == "costguard"
              and e["metadata"].get("annotations", {}).get("instance-id") == instance]
    assert [e["reason"] for e in events] == ["SpotInterruption"]
    assert events[0]["involvedObject"]["uid"] == victim["metadata"]["uid"]
    created = [r for r in sb.kube.requests if r.method == "POST" and r.path.endswith("/events")]
    assert created and all(r.user == "costguard" and r.status == 201 for r in created)


def test_a_hibernating_spot_node_is_alerted_as_hibernating_now(sb):
    victim = next(n["metadata"]["name"] for n in sb.kube.store.list("v1", "Node")
                  if n["metadata"]["labels"].get("karpenter.sh/capacity-type") == "spot"
                  and not n["spec"].get("unschedulable") and not n["metadata"].get("deletionTimestamp"))
    at = sb.sim.now()
    instance = sb.sim.reclaim(victim, at, action="hibernate")
    sb.sim.disrupt(at)  # hibernation begins at once: stopping, stopped
    _, result = _handle(sb)
    assert result["alerts_sent"] == 1
    (message,) = sb.slack.messages
    shown = str(message.payload)
    assert instance in message.text and "hibernating now" in shown and "no two-minute warning" in shown
    assert shown.count(f"*{instance}*") == 1  # warning + stopping + stopped: one node
