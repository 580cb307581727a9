"""Kubernetes down (issue 12, Deliver 6): the alert goes out at once with what the event says, marked "cluster
unreachable", once; the messages stay failed, and the retry that reaches the API sends the correlation in the
instances' thread, once."""
import json

import pytest

from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.ledger import NoticeLedger
from chalice_app.interruptions.unreachable import UNREACHABLE
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE
from tests.memory_cluster import MemoryCluster, SnapshotReader
from tests.slackfakes import RecordingNotifier


@pytest.fixture
def ledger(dynamodb):
    return NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)


def reader(fail: bool) -> SnapshotReader:
    cluster = MemoryCluster()
    cluster.nodes = [f.node(n) for n in range(3)]
    cluster.pods = [f.pod("sleep", n, n) for n in range(3)]
    return SnapshotReader(cluster, fail=fail)


def ports(ledger, slack, cluster) -> InterruptionPorts:
    return InterruptionPorts(ledger=ledger, cluster=cluster, notifier=slack, plan_actions=lambda impacts: (),
                             clock=lambda: f.NOW, cluster_name="prod")


def test_cluster_down_sends_what_the_event_says_once_then_the_correlation_in_its_thread(ledger):
    records = [f.record(f.spot_warning(1)), f.record(f.health([2], region=f.REGION))]
    slack = RecordingNotifier()
    for _ in range(3):  # three receives while the API stays down: one brief alert
        down = process_batch(records, f.REGION, ports(ledger, slack, reader(fail=True)))
        assert sorted(down.failed) == sorted(r["messageId"] for r in records) and down.succeeded == []
    assert len(slack.sent) == 1
    brief = slack.sent[0]
    shown = json.dumps(brief.blocks)
    assert UNREACHABLE in shown and UNREACHABLE in brief.text
    for expected in (f.instance_id(1), f.instance_id(2), "Spot interruption warning", "Scheduled maintenance",
                     f.REGION, "<!date^1795543320^"):  # the spot warning's deadline: 18:00 + 2 min
        assert expected in shown
    assert brief.thread_keys == (f.instance_id(1), f.instance_id(2)) and brief.opens_thread

    up = process_batch(records, f.REGION, ports(ledger, slack, reader(fail=False)))
    assert up.failed == [] and len(slack.sent) == 2
    full = slack.sent[1]
    assert UNREACHABLE not in json.dumps(full.blocks) and f.node_name(1) in json.dumps(full.blocks)
    assert set(full.thread_keys) == {f.instance_id(1), f.instance_id(2)}  # a bot replies in the brief's thread
    again = process_batch(records, f.REGION, ports(ledger, slack, reader(fail=False)))
    assert len(slack.sent) == 2 and again.counts["already_alerted"] == 2


def test_a_brief_alert_slack_refused_is_sent_by_the_next_retry(ledger):
    records = [f.record(f.spot_warning(1))]
    refused = process_batch(records, f.REGION, ports(ledger, RecordingNotifier(fail_after=0), reader(fail=True)))
    assert refused.failed == [records[0]["messageId"]] and refused.messages == []
    slack = RecordingNotifier()
    process_batch(records, f.REGION, ports(ledger, slack, reader(fail=True)))
    assert len(slack.sent) == 1 and UNREACHABLE in slack.sent[0].text


def test_event_values_in_the_brief_alert_are_inert(ledger):
    event = f.health([1], region=f.REGION)
    event["detail"]["eventRegion"] = f.REGION
    slack = RecordingNotifier()
    process_batch([f.record(event)], f.REGION,
                  InterruptionPorts(**{**ports(ledger, slack, reader(fail=True)).__dict__, "cluster_name": "<!channel>"}))
    assert "<!channel>" not in json.dumps(slack.sent[0].blocks) and "&lt;!channel&gt;" in json.dumps(slack.sent[0].blocks)
