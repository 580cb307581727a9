"""Every value from the cluster or an event that reaches an interruption message is inert mrkdwn (issue 12,
Deliver 4): `<!channel>`, a user mention and a link in the node name, instance type, zone, capacity type, NodePool,
NodeClaim, function names and namespaces, PodDisruptionBudget refusals and action failures, the cluster name and
the event's own fields, sent through `process_batch` (the handler's path) to the Slack fake; every message's
fallback text and every string of every block is checked, for the full alert (more nodes than are shown in detail,
so the counted tail too), the actions follow-up, AWS Health's closing reply and the cluster-unreachable alert; and
the scheduled digests from the counters those nodes leave in the stage table."""
import json
from collections import Counter
from datetime import date, datetime, timezone

import pytest

from chalice_app.config import load_settings
from chalice_app.digests import handler as digests
from chalice_app.digests.ports import DigestPorts
from chalice_app.interruptions import actions
from chalice_app.interruptions.actions import ActionOutcome
from chalice_app.interruptions.alert import DETAILED_NODES_PER_MESSAGE
from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.ledger import NoticeLedger
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.records import DISRUPTED_LIFETIME, SPOT_LIFETIME, InterruptionRecords, counter_name
from chalice_app.table_keys import disrupted_key, spot_key
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE
from tests.memory_cluster import MemoryCluster, SnapshotReader
from tests.slackfakes import HOSTILE, HOSTILE_ESCAPED, RecordingNotifier, assert_hostile_inert, assert_inert
NODES = DETAILED_NODES_PER_MESSAGE + 3  # the last ones only counted, in the tail section


def hostile_node(number: int) -> dict:
    node = f.node(number, pool=f"{HOSTILE}pool", instance_type=f"{HOSTILE}type", zone=f"{HOSTILE}zone",
                  capacity=f"{HOSTILE}capacity")
    node["metadata"]["name"] = f"{HOSTILE}node-{number}"
    node["metadata"]["labels"]["karpenter.sh/nodeclaim"] = f"{HOSTILE}claim-{number}"
    return node


def hostile_cluster() -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.nodes = [hostile_node(n) for n in range(NODES)]
    cluster.nodeclaims = []
    for n in range(NODES):
        claim = f.nodeclaim(n, pool=f"{HOSTILE}pool")
        claim["metadata"]["name"] = f"{HOSTILE}claim-{n}"
        claim["status"]["nodeName"] = f"{HOSTILE}node-{n}"
        cluster.nodeclaims.append(claim)
    cluster.pods = []
    for n in range(NODES):
        for function in (f"{HOSTILE}fn", f"fn-{n}"):
            pod = f.pod(function, n, namespace=f"{HOSTILE}ns")
            pod["spec"]["nodeName"] = f"{HOSTILE}node-{n}"
            cluster.pods.append(pod)
    return cluster


def refused(action) -> ActionOutcome:
    """A drain that a PodDisruptionBudget refused and an eviction that failed, both naming hostile objects."""
    outcome = actions.dry_run_outcome(action)
    return ActionOutcome(outcome.node, outcome.action, dry_run=False, cordoned=True,
                         evicted=(f"{HOSTILE}ns/{HOSTILE}pod",), blocked=(f"{HOSTILE}ns/{HOSTILE}pdb-pod",),
                         failed=(f"evict {HOSTILE}pod: {HOSTILE}",), skipped=(f"{HOSTILE}ns/{HOSTILE}kept",))


def ports(ledger, slack, cluster) -> InterruptionPorts:
    return InterruptionPorts(ledger=ledger, cluster=cluster, notifier=slack,
                             plan_actions=lambda impacts: actions.plan_actions(impacts, {}, "cordon-and-drain"),
                             clock=lambda: f.NOW, cluster_name=f"{HOSTILE}cluster")


def hostile_reader(fail: bool = False) -> SnapshotReader:
    """The cluster port over the hostile cluster; acting on a node is refused by PodDisruptionBudgets (`refused`)."""
    return SnapshotReader(hostile_cluster(), fail=fail, act=refused)


@pytest.fixture
def ledger(dynamodb):
    return NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)


def hostile_event(event: dict) -> dict:
    """An event whose free fields (id, resources, Health's descriptions) carry the hostile text too."""
    event["id"] = f"{HOSTILE}{event['id']}"
    event["resources"] = [HOSTILE]
    if event["source"] == "aws.health":
        event["detail"]["eventDescription"] = [{"language": "en_US", "latestDescription": HOSTILE}]
        event["detail"]["eventTypeCode"] = HOSTILE
        event["detail"]["eventRegion"] = f.REGION
    return event


def records() -> list[dict]:
    events = [f.spot_warning(n) for n in range(NODES - 2)]
    events += [f.health([NODES - 2]), f.state_change(NODES - 1, "stopping"), f.rebalance(0)]
    return [f.record(hostile_event(event)) for event in events]


def test_every_cluster_and_event_value_in_the_alert_and_its_follow_up_is_inert(ledger):
    slack = RecordingNotifier()
    result = process_batch(records(), f.REGION, ports(ledger, slack, hostile_reader()))
    assert result.failed == [] and len(slack.sent) >= 2, result.errors
    assert_hostile_inert(slack.sent)
    shown = json.dumps([message.blocks for message in slack.sent]).lower()  # capacity types are lowercased
    # The hostile values did reach the messages, escaped: the test saw the fields it means to check.
    for field in ("pool", "type", "zone", "capacity", "node-0", "claim-0", "fn", "cluster", "pdb-pod", "pod:"):
        assert f"{HOSTILE_ESCAPED}{field}".lower() in shown, field
    assert f"+{NODES - DETAILED_NODES_PER_MESSAGE} more nodes" in shown  # the counted tail was rendered as well
    assert_inert(slack.sent[0])


def test_the_health_closing_reply_is_inert(ledger):
    opened = f.health([0])
    process_batch([f.record(hostile_event(opened))], f.REGION, ports(ledger, RecordingNotifier(), hostile_reader()))
    closed = hostile_event(f.health([0], category="scheduledChange"))
    closed["detail"]["statusCode"] = "closed"
    slack = RecordingNotifier()
    process_batch([f.record(closed)], f.REGION, ports(ledger, slack, hostile_reader()))
    assert any("closed" in message.text for message in slack.sent), [m.text for m in slack.sent]
    assert_hostile_inert(slack.sent)
    assert_inert(slack.sent[-1])


def test_the_cluster_unreachable_alert_is_inert(ledger):
    slack = RecordingNotifier()
    process_batch(records(), f.REGION, ports(ledger, slack, hostile_reader(fail=True)))
    assert len(slack.sent) == 1
    assert_hostile_inert(slack.sent)
    assert_inert(slack.sent[0])  # the cluster name


def test_the_scheduled_digests_are_inert(dynamodb):
    """The daily Karpenter digest and the weekly spot digest, from the stage table's counters (NodePool, reason,
    instance type and zone as the cluster labelled them) and the cluster name, sent by the digests Lambda."""
    records = InterruptionRecords(TABLE, dynamodb)
    records.add_counts(disrupted_key(date(2026, 11, 22)),
                       Counter({counter_name(f"{HOSTILE}pool", f"{HOSTILE}reason"): 3,
                                counter_name("spot", HOSTILE): 1}), DISRUPTED_LIFETIME)
    records.add_counts(spot_key(datetime(2026, 11, 18, tzinfo=timezone.utc)),
                       Counter({counter_name(f"{HOSTILE}type", f"{HOSTILE}zone"): 4}), SPOT_LIFETIME)
    settings = load_settings({"COSTGUARD_CLUSTER_NAME": f"{HOSTILE}cluster", "COSTGUARD_TABLE_NAME": TABLE,
                              "COSTGUARD_DEFAULT_TIMEZONE": "Europe/London", "COSTGUARD_KARPENTER_DIGEST": "true",
                              "COSTGUARD_SPOT_DIGEST": "true"})
    slack = RecordingNotifier()
    ports = DigestPorts(digests.DigestClaims(TABLE, dynamodb), records, slack)
    summary = digests.run(settings, datetime(2026, 11, 23, 18, 5, tzinfo=timezone.utc), ports)
    assert set(summary["outcomes"].values()) == {"sent"} and len(slack.sent) == 2
    for message in slack.sent:
        assert_hostile_inert([message])
    shown = json.dumps([message.blocks for message in slack.sent])
    counted = HOSTILE_ESCAPED.replace("|", "/")  # a counter's name keeps `|` as its separator
    for field in ("pool", "type", "zone"):  # labels are cut at 64 characters: these still show whole
        assert f"{counted}{field}" in shown, field
    assert f"{HOSTILE_ESCAPED}cluster" in shown
