"""Isolation per object in the interruption batch: whatever one Node (or its NodeClaim or a Pod on it) carries in its
labels, annotations, taints, providerID, ownerReferences or timestamps, every other instance's alert is unchanged
and every instance is alerted exactly once; a Node left out alerts with what its event says and the field named
(fake cluster, Slack and ledger: no I/O)."""
import copy
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from chalice_app.interruptions import actions
from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from tests.interruptions import factories as f
from tests.memory_cluster import FreshLedger, snapshot_of
from tests.slackfakes import RecordingNotifier, message_texts

NUMBERS = (1, 2, 3, 4)
HOSTILE = 1
HOSTILE_VALUES = ("²", "9" * 5000, "", "not-a-time", "9999-99-99T99:99:99Z", "aws:///", "aws:///x/i-",
                  f"aws:///us-east-1a/{f.instance_id(2)}x", "<!channel>", "null")
text = st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE_VALUES))
anything = st.one_of(text, st.integers(), st.none(), st.booleans(), st.lists(text, max_size=2),
                     st.dictionaries(text, text, max_size=2))
str_map = st.one_of(st.dictionaries(text, text, max_size=3), anything)
taints = st.one_of(st.lists(st.one_of(st.fixed_dictionaries({}, optional={"key": anything, "effect": anything,
                                                                         "value": anything}), anything),
                            max_size=3), anything)
owners = st.one_of(st.lists(st.one_of(st.fixed_dictionaries({}, optional={"kind": anything, "name": anything}),
                                      anything), max_size=2), anything)
node_fields = st.fixed_dictionaries({}, optional={
    "labels": str_map, "annotations": str_map, "ownerReferences": owners, "creationTimestamp": anything,
    "deletionTimestamp": anything, "taints": taints, "providerID": st.one_of(text, anything),
    "unschedulable": anything, "claim_conditions": anything, "pod_labels": str_map, "pod_phase": anything})


def objects(fields: dict):
    nodes = [f.node(n) for n in NUMBERS]
    claims = [f.nodeclaim(n) for n in NUMBERS]
    pods = [f.pod("fn", n, n) for n in NUMBERS]
    node, claim, pod = nodes[0], claims[0], pods[0]  # HOSTILE's
    for key in ("labels", "annotations", "ownerReferences", "creationTimestamp", "deletionTimestamp"):
        if key in fields:
            node["metadata"][key] = fields[key]
    for key in ("taints", "providerID", "unschedulable"):
        if key in fields:
            node["spec"][key] = fields[key]
    if "claim_conditions" in fields:
        claim["status"]["conditions"] = fields["claim_conditions"]
    if "pod_labels" in fields:
        pod["metadata"]["labels"] = fields["pod_labels"]
    if "pod_phase" in fields:
        pod["status"]["phase"] = fields["pod_phase"]
    return nodes, claims, pods


def run_batch(fields: dict):
    nodes, claims, pods = objects(fields)
    slack = RecordingNotifier()
    ports = InterruptionPorts(ledger=FreshLedger(), cluster=snapshot_of(nodes, claims, pods), notifier=slack,
                              plan_actions=lambda impacts: actions.plan_actions(impacts, {}, "alert"),
                              clock=lambda: f.NOW, cluster_name="test")
    result = process_batch([f.record(f.spot_warning(n)) for n in NUMBERS], f.REGION, ports)
    return result, slack


def lines_about(slack, instance_id: str) -> list[str]:
    """The alert's lines about this instance alone (lines that list several instances are the batch's)."""
    others = [f.instance_id(n) for n in NUMBERS if f.instance_id(n) != instance_id]
    return sorted(line for message in slack.sent for text in message_texts([message.text, message.blocks])
                  for line in text.split("\n") if instance_id in line and not any(o in line for o in others))


BASELINE = run_batch({})[1]


@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(node_fields)
def test_one_objects_fields_never_change_the_other_instances_alerts(fields):
    result, slack = run_batch(copy.deepcopy(fields))
    assert result.failed == []
    for number in NUMBERS:
        instance_id = f.instance_id(number)
        sent_in = [m for m in slack.sent if instance_id in m.thread_keys  # the alert's threads: its instances
                   and not m.text.startswith("left out: ")]  # a reply naming objects left out is no alert
        # A well-formed Node whose providerID names no instance (absent, empty) is simply not that instance's.
        unlinked = number == HOSTILE and result.counts["not_in_cluster"] and not any(
            "Node " in error for error in result.errors)
        assert len(sent_in) == (0 if unlinked else 1), (instance_id, [m.text for m in slack.sent])
        if number != HOSTILE:
            assert lines_about(slack, instance_id) == lines_about(BASELINE, instance_id)


def test_a_node_with_a_malformed_field_alerts_with_the_event_and_names_the_field():
    result, slack = run_batch({"taints": "NoSchedule"})
    hostile = f.instance_id(HOSTILE)
    [message] = [m for m in slack.sent if hostile in m.text]
    said = " ".join(message_texts([message.text, message.blocks]))
    assert "node malformed" in said and "spec.taints: 'NoSchedule' is not a list of taints" in said
    assert "Spot" in said  # what the event says: its kind, instance and deadline
    assert any("spec.taints" in error for error in result.errors)
    for number in NUMBERS[1:]:
        assert lines_about(slack, f.instance_id(number)) == lines_about(BASELINE, f.instance_id(number))


def test_a_pod_with_a_malformed_field_is_left_out_and_named_in_its_nodes_thread_never_the_batchs_failure():
    result, slack = run_batch({"pod_phase": ["Running"]})
    assert result.failed == [] and any("Pod fn-1: spec.nodeName/status.phase" in e for e in result.errors)
    alert, note = slack.sent
    assert all(f.instance_id(n) in alert.thread_keys for n in NUMBERS)
    assert note.thread_keys == (f.instance_id(HOSTILE),) and not note.opens_thread
    assert "Pod fn-1: spec.nodeName/status.phase" in json.dumps(note.blocks)
