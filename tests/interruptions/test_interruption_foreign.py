"""Foreign events fail closed (issue 12, Deliver 7): an event whose account or region cannot be established, or is
not the stage's, is never acted on (no alert, no cordon, no drain), and it is counted."""
import pytest

from chalice_app.interruptions import actions
from chalice_app.interruptions.batch import decode_records, process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.ledger import NoticeLedger
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE
from tests.memory_cluster import MemoryCluster, SnapshotReader
from tests.slackfakes import RecordingNotifier


def _without(record: dict, key: str) -> dict:
    return {name: value for name, value in record.items() if name != key}


def _health_about(region: str, emitted_in: str) -> dict:
    event = f.health([1], region=emitted_in)
    event["detail"]["eventRegion"] = region
    return event


@pytest.mark.parametrize("record", [
    _without(f.record(f.spot_warning(1)), "eventSourceARN"),  # the queue's (so the stage's) account is unknown
    {**f.record(f.spot_warning(1)), "eventSourceARN": "arn:aws:sqs:us-east-1:queue"},  # malformed ARN
    {**f.record(f.spot_warning(1)), "eventSourceARN": "not-an-arn"},
    f.record(f.spot_warning(1, account="999999999999")),
    f.record(f.spot_warning(1, region="eu-west-1")),
    f.record(_health_about(f.REGION, emitted_in="us-west-2")),  # another region's (backup) copy naming ours
    f.record(_health_about("eu-west-1", emitted_in=f.REGION)),
], ids=["no-arn", "short-arn", "not-an-arn", "other-account", "other-region", "health-elsewhere-names-ours",
        "health-names-another"])
def test_an_event_of_unknown_or_foreign_origin_is_counted_and_never_acted_on(dynamodb, record):
    cluster = MemoryCluster()
    cluster.nodes = [f.node(1, pool="spot")]
    slack, acted = RecordingNotifier(), []
    reader = SnapshotReader(cluster, act=lambda action: acted.append(action) or actions.dry_run_outcome(action))
    ledger = NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)
    ports = InterruptionPorts(ledger=ledger, cluster=reader, notifier=slack,
                              plan_actions=lambda impacts: actions.plan_actions(impacts, {}, "cordon-and-drain"),
                              clock=lambda: f.NOW, cluster_name="test")
    result = process_batch([record], f.REGION, ports)
    assert result.counts["foreign"] == 1 and result.decoded.notices == []
    assert slack.sent == [] and acted == [] and reader.reads == 0
    assert result.succeeded == [record["messageId"]] and result.failed == []  # settled: never retried into action


def test_a_health_event_emitted_in_and_about_our_region_is_ours():
    decoded = decode_records([f.record(_health_about(f.REGION, emitted_in=f.REGION))], f.REGION)
    assert len(decoded.notices) == 1 and decoded.foreign == []


def test_an_event_without_account_takes_the_queues_account_only_from_a_readable_queue_arn():
    event = f.spot_warning(1)
    del event["account"]  # moto's SQS delivery drops it; the stage's own queue vouches for it
    assert len(decode_records([f.record(event)], f.REGION).notices) == 1
    unvouched = decode_records([_without(f.record(event), "eventSourceARN")], f.REGION)
    assert unvouched.notices == [] and len(unvouched.malformed) == 1
