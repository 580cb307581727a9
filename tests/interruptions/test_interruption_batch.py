"""The batch flow with the real idempotency ledger (moto DynamoDB in process) and fake cluster and Slack."""
import json

import boto3
import pytest

from chalice_app.interruptions import actions
from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.ledger import Claim, NoticeLedger
from chalice_app.interruptions.parsing import parse_event
from chalice_app.interruptions.sqs_batch import BatchItemsFailed
from chalice_app.interruptions import handler
from chalice_app.config import load_settings
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE
from tests.memory_cluster import MemoryCluster, SnapshotReader
from tests.slackfakes import RecordingNotifier





def snapshot_reader(count=10, fail=False, pools=("spot",), act=actions.dry_run_outcome) -> SnapshotReader:
    cluster = MemoryCluster()
    cluster.nodes = [f.node(n, pool=pools[n % len(pools)]) for n in range(count)]
    cluster.pods = [f.pod("sleep", n, n) for n in range(count)]
    return SnapshotReader(cluster, fail=fail, act=act)


@pytest.fixture
def ledger(dynamodb):
    return NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)


def ports(ledger, slack, cluster, per_pool=None, default="alert"):
    return InterruptionPorts(ledger=ledger, cluster=cluster, notifier=slack,
                             plan_actions=lambda impacts: actions.plan_actions(impacts, per_pool or {}, default),
                             clock=lambda: f.NOW, cluster_name="test")


def test_a_mixed_batch_alerts_once_and_never_fails_on_bad_messages(ledger):
    records = [f.record(f.spot_warning(1)), f.record(f.spot_warning(2)), f.record(f.rebalance(3)),
               f.record("{not json", message_id="bad-1"), f.record(f.state_change(4, "running")),
               f.record(f.spot_warning(5, account="999999999999")), f.record(f.spot_warning(5, region="eu-west-1")),
               f.record(f.spot_warning(404))]
    slack, cluster = RecordingNotifier(), snapshot_reader()
    result = process_batch(records, f.REGION, ports(ledger, slack, cluster))
    assert result.failed == [] and sorted(result.succeeded) == sorted(r["messageId"] for r in records)
    assert len(slack.sent) == 1 and cluster.reads == 1
    assert result.decoded.malformed[0][0] == "bad-1"
    assert {key: result.counts[key] for key in ("malformed", "ignored", "foreign", "not_in_cluster",
                                                 "alerts_sent", "kind.spot_interruption")} == {
        "malformed": 1, "ignored": 1, "foreign": 2, "not_in_cluster": 1, "alerts_sent": 1,
        "kind.spot_interruption": 3}
    assert "3 nodes hit" in slack.sent[0].blocks[0]["text"]["text"]


def test_a_redelivered_batch_does_not_alert_twice(ledger):
    records = [f.record(f.spot_warning(n)) for n in range(5)]
    slack, cluster = RecordingNotifier(), snapshot_reader()
    process_batch(records, f.REGION, ports(ledger, slack, cluster))
    again = process_batch(records, f.REGION, ports(ledger, slack, cluster))
    assert len(slack.sent) == 1 and again.counts["already_alerted"] == 5 and again.failed == []
    assert cluster.reads == 1  # nothing new: the cluster is not even read


def test_the_same_event_twice_in_one_batch_is_one_alert(ledger):
    event = f.spot_warning(1)
    records = [f.record(event), f.record(event)]
    slack = RecordingNotifier()
    result = process_batch(records, f.REGION, ports(ledger, slack, snapshot_reader()))
    assert len(slack.sent) == 1 and len(result.succeeded) == 2


def test_slack_failure_fails_only_those_messages_and_the_retry_alerts_them_once(ledger):
    records = [f.record(f.spot_warning(n)) for n in range(3)]
    failing = RecordingNotifier(fail_after=0)
    result = process_batch(records, f.REGION, ports(ledger, failing, snapshot_reader()))
    assert sorted(result.failed) == sorted(r["messageId"] for r in records) and result.succeeded == []
    assert "HTTP 500" in result.errors[0]
    working = RecordingNotifier()
    retry = process_batch(records, f.REGION, ports(ledger, working, snapshot_reader()))
    assert retry.failed == [] and len(working.sent) == 1


def test_a_failed_second_part_fails_only_the_notices_it_carried(ledger):
    pools = tuple(f"pool{n:02d}" for n in range(40))
    records = [f.record(f.spot_warning(n)) for n in range(80)]
    slack = RecordingNotifier(fail_after=1)
    result = process_batch(records, f.REGION, ports(ledger, slack, snapshot_reader(80, pools=pools)))
    assert len(slack.sent) == 1 and result.failed and result.succeeded
    retry_slack = RecordingNotifier()
    retry = process_batch([r for r in records if r["messageId"] in result.failed], f.REGION,
                          ports(ledger, retry_slack, snapshot_reader(80, pools=pools)))
    assert retry.failed == [] and retry.counts["already_alerted"] == 0
    assert set(result.failed).isdisjoint(result.succeeded)
    assert set(result.failed) | set(result.succeeded) == {r["messageId"] for r in records}
    assert retry_slack.sent[0].blocks[0]["text"]["text"].startswith(f"{len(result.failed)} nodes hit")


def test_a_notice_held_by_another_invocation_is_retried_later(ledger):
    event = f.spot_warning(1)
    assert ledger.claim(parse_event(event)) is Claim.NEW  # another container is mid-way
    records = [f.record(event, message_id="held"), f.record(f.spot_warning(2), message_id="free")]
    slack = RecordingNotifier()
    result = process_batch(records, f.REGION, ports(ledger, slack, snapshot_reader()))
    assert result.failed == ["held"] and result.succeeded == ["free"] and len(slack.sent) == 1


def test_a_cluster_read_failure_fails_the_messages_and_releases_the_claims(ledger):
    # Issue 12: no longer raised (the batch raised before the visibility was shortened); the brief alert goes out
    # (tests/interruptions/test_interruption_outage.py) and the messages are failed, so they come back.
    records = [f.record(f.spot_warning(1))]
    down = process_batch(records, f.REGION, ports(ledger, RecordingNotifier(), snapshot_reader(fail=True)))
    assert down.failed == [records[0]["messageId"]] and any("503" in error for error in down.errors)
    slack = RecordingNotifier()
    assert process_batch(records, f.REGION, ports(ledger, slack, snapshot_reader())).failed == []
    assert len(slack.sent) == 1


def test_kubernetes_reads_do_not_grow_with_messages(ledger):
    cluster = snapshot_reader(count=300)
    process_batch([f.record(f.spot_warning(n)) for n in range(300)], f.REGION, ports(ledger, RecordingNotifier(), cluster))
    assert cluster.reads == 1


def test_actions_follow_the_nodepool_policy_and_show_in_the_alert(ledger):
    slack = RecordingNotifier()
    result = process_batch([f.record(f.spot_warning(1))], f.REGION,
                           ports(ledger, slack, snapshot_reader(), per_pool={"spot": "cordon"}))
    assert [(o.node, o.action.value, o.dry_run) for o in result.outcomes] == [(f.node_name(1), "cordon", True)]
    # Alert first, then act: the alert carries no action; the follow-up reports them in the instance's thread.
    assert "Actions" not in json.dumps(slack.sent[0].blocks)
    assert "Actions (dry run)" in json.dumps(slack.sent[1].blocks)
    assert slack.sent[1].thread_keys == (f.instance_id(1),) and not slack.sent[1].opens_thread


def test_handler_deletes_what_succeeded_and_raises_naming_what_failed(ledger, monkeypatch):
    sqs = boto3.client("sqs", region_name=f.REGION)
    url = sqs.create_queue(QueueName="costguard-test-interruptions")["QueueUrl"]
    for body in (f.spot_warning(1), "{broken"):
        sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "eventSourceARN": f.QUEUE_ARN} for m in received]
    spot_id = next(r["messageId"] for r in records if "broken" not in r["body"])
    settings = load_settings({"COSTGUARD_CLUSTER_NAME": "test", "COSTGUARD_TABLE_NAME": TABLE})
    with pytest.raises(BatchItemsFailed, match=spot_id) as failure:
        handler.run({"Records": records}, None, settings, ports(ledger, RecordingNotifier(fail_after=0), snapshot_reader()),
                    sqs=sqs)
    assert failure.value.failed == [spot_id]
    import moto.sqs.models as moto_sqs
    later = moto_sqs.unix_time_millis() + 31_000  # the failed message is hidden for 30 s before its retry
    monkeypatch.setattr(moto_sqs, "unix_time_millis", lambda: later)
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["MessageId"] for m in left] == [spot_id]  # the malformed one was deleted, the failed one stays


def test_a_failing_action_is_reported_in_the_alert_not_raised(ledger):
    slack = RecordingNotifier()

    def broken(action):
        raise ConnectionError("API server went away")

    batch_ports = ports(ledger, slack, snapshot_reader(act=broken), per_pool={"spot": "cordon"})
    result = process_batch([f.record(f.spot_warning(1))], f.REGION, batch_ports)
    assert result.failed == [] and "API server went away" in json.dumps(slack.sent[1].blocks)


def test_a_failure_while_planning_releases_the_claims(ledger):
    batch_ports = ports(ledger, RecordingNotifier(), snapshot_reader())
    batch_ports.clock = lambda: 1 / 0
    records = [f.record(f.spot_warning(1))]
    with pytest.raises(ZeroDivisionError):
        process_batch(records, f.REGION, batch_ports)
    assert ledger.claim_all([parse_event(json.loads(records[0]["body"]))]) == [Claim.NEW]


def test_hostile_messages_are_counted_malformed_and_the_valid_alert_still_goes_out(ledger):
    unhashable = f.spot_warning(2)
    unhashable["source"] = ["aws.ec2"]
    empty_id = f.spot_warning(3)
    empty_id["id"] = ""
    end_of_time = f.spot_warning(4)
    end_of_time["time"] = "9999-12-31T23:59:00Z"
    records = [f.record(f.spot_warning(1)), f.record(unhashable, message_id="bad-list"),
               f.record(empty_id, message_id="bad-id"), f.record(end_of_time, message_id="bad-time")]
    slack = RecordingNotifier()
    result = process_batch(records, f.REGION, ports(ledger, slack, snapshot_reader()))
    assert result.failed == [] and len(slack.sent) == 1
    assert sorted(mid for mid, _ in result.decoded.malformed) == ["bad-id", "bad-list", "bad-time"]


def test_an_unforeseen_decoding_error_is_one_malformed_message(ledger, monkeypatch):
    from chalice_app.interruptions import batch

    def explode(event):
        if event.get("id") == "boom":
            raise KeyError("something the parser never expected")
        return parse_event(event)

    monkeypatch.setattr(batch, "parse_event", explode)
    records = [f.record(f.spot_warning(1)), f.record(f.spot_warning(2, event_id="boom"), message_id="odd-1")]
    result = process_batch(records, f.REGION, ports(ledger, RecordingNotifier(), snapshot_reader()))
    assert result.failed == [] and result.decoded.malformed[0][0] == "odd-1"
    assert "KeyError" in result.decoded.malformed[0][1]
