"""Real formats: the AWS-documented samples (tests/interruptions/aws_samples.py) parse and alert as AWS means them."""
import json
from datetime import datetime, timezone

import pytest

from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.chunking import plan_messages
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.ports import InterruptionPorts, NoRecords
from chalice_app.interruptions.notice import Ignored, MalformedEvent, NoticeKind
from chalice_app.interruptions.parsing import instance_id_in, parse_event
from chalice_app.slack.render import to_text
from tests.interruptions import aws_samples as aws
from tests.interruptions import factories as f
from tests.memory_cluster import FreshLedger, snapshot_of
from tests.slackfakes import RecordingNotifier

RETIREMENT_START = datetime(2023, 2, 10, 10, 0, tzinfo=timezone.utc)


def test_documented_spot_warning_gives_two_minutes():
    notice = parse_event(aws.SPOT_WARNING)
    assert notice.kind is NoticeKind.SPOT_INTERRUPTION and notice.instance_ids == ("i-1234567890abcdef0",)
    assert notice.deadline == datetime(2026, 11, 24, 18, 2, tzinfo=timezone.utc) and not notice.hibernates


def test_hibernation_has_no_two_minute_grace():
    notice = parse_event(aws.spot_warning("hibernate"))
    assert notice.hibernates and notice.deadline == notice.time  # "hibernation begins immediately"
    assert parse_event(aws.spot_warning("stop")).deadline == datetime(2026, 11, 24, 18, 2, tzinfo=timezone.utc)


def test_a_hibernating_node_is_alerted_as_hibernating_now_without_a_two_minute_promise():
    event = f.spot_warning(1)
    event["detail"]["instance-action"] = "hibernate"
    correlation = correlate([parse_event(event)], [f.node(1)], [], [])
    text = to_text(plan_messages(correlation, f.NOW, "demo")[0][0], now=f.NOW)
    assert "hibernating now" in text and "no two-minute warning" in text


def test_documented_rebalance_and_state_change_samples():
    assert parse_event(aws.REBALANCE_RECOMMENDATION).kind is NoticeKind.REBALANCE_RECOMMENDATION
    assert isinstance(parse_event(aws.STATE_CHANGE), Ignored)  # `pending`, as documented
    assert parse_event(aws.state_change("shutting-down")).kind is NoticeKind.INSTANCE_TERMINATED


def test_health_retirement_sample_names_its_instance_by_arn_without_resources():
    assert "resources" not in aws.HEALTH_RETIREMENT
    notice = parse_event(aws.HEALTH_RETIREMENT)
    assert notice.kind is NoticeKind.SCHEDULED_CHANGE
    assert notice.instance_ids == ("i-abcd1111",)
    assert notice.deadline == RETIREMENT_START  # RFC 1123 startTime


def test_health_retirement_sample_alerts_with_its_deadline():
    node = f.node(1)
    node["spec"]["providerID"] = "aws:///us-east-1a/i-abcd1111"
    correlation = correlate([parse_event(aws.HEALTH_RETIREMENT)], [node], [], [])
    planned = plan_messages(correlation, f.NOW, "demo")
    assert len(planned) == 1
    text = to_text(planned[0][0], now=f.NOW)
    assert "Scheduled maintenance (AWS Health)" in text and "i-abcd1111" in text
    assert f"<!date^{int(RETIREMENT_START.timestamp())}^" in json.dumps(planned[0][0].blocks)


def test_closed_health_event_ends_the_thread_instead_of_alerting():
    notice = parse_event(aws.health_closed())
    assert notice.kind is NoticeKind.SCHEDULED_CHANGE_CLOSED and notice.instance_ids == ("i-abcd1111",)
    node = f.node(1)
    node["spec"]["providerID"] = "aws:///us-east-1a/i-abcd1111"
    correlation = correlate([notice], [node], [], [])
    assert correlation.impacts == () and len(correlation.closed) == 1
    assert plan_messages(correlation, f.NOW, "demo") == []  # no alert


def _ports(slack, nodes, recalled=None):
    return InterruptionPorts(ledger=FreshLedger(), cluster=snapshot_of(nodes, requests=2, act=lambda action: None),
                             notifier=slack, plan_actions=lambda impacts: (), clock=lambda: f.NOW,
                             cluster_name="demo", records=_Recalled(recalled or {}))


class _Recalled(NoRecords):
    def __init__(self, recalled: dict):
        self.recalled = recalled

    def recall(self, ids):
        return {i: v for i, v in self.recalled.items() if i in ids}


def test_a_closed_event_for_a_known_instance_is_a_reply_in_its_thread_not_an_alert():
    node = f.node(1)
    node["spec"]["providerID"] = "aws:///us-east-1a/i-abcd1111"
    slack = RecordingNotifier()
    result = process_batch([f.record(aws.health_closed())], "us-east-1", _ports(slack, [node]))
    assert result.failed == [] and len(slack.sent) == 1
    reply = slack.sent[0]
    assert reply.thread_keys == ("i-abcd1111",) and not reply.opens_thread
    assert "closed" in reply.text and "node hit" not in to_text(reply, now=f.NOW)
    assert [block["type"] for block in reply.blocks] == ["section"]  # a one-line reply, not an alert


def test_dedicated_host_entities_are_ignored_not_malformed():
    outcome = parse_event(aws.health_dedicated_host())
    assert isinstance(outcome, Ignored) and "no EC2 instance" in outcome.reason


def test_health_entities_mix_instances_ids_arns_and_others():
    event = f.health([1])
    event["detail"]["affectedEntities"] += [
        {"entityValue": f"arn:aws:ec2:us-east-1:{f.ACCOUNT}:instance/{f.instance_id(2)}"},
        {"entityValue": "h-0123456789abcdef0"}, {"entityValue": "vol-0123456789abcdef0"},
        {"entityValue": f.instance_id(3), "statusCode": "RESOLVED"}]
    notice = parse_event(event)
    assert notice.instance_ids == (f.instance_id(1), f.instance_id(2))  # RESOLVED entity no longer upcoming


def test_instance_id_in_accepts_ids_and_instance_arns_only():
    assert instance_id_in("i-0123456789abcdef0") == "i-0123456789abcdef0"
    assert instance_id_in("arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0123456789abcdef0") == "i-0123456789abcdef0"
    for other in ("h-0123456789abcdef0", "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0",
                  "arn:aws:ec2:us-east-1:123456789012:instance/i-XYZ", "i-1 ", ""):
        assert instance_id_in(other) is None


def test_a_bad_rfc1123_start_time_is_named():
    event = f.health([1], start="Fri, 99 Feb 2023 10:00:00 GMT")
    with pytest.raises(MalformedEvent, match="startTime"):
        parse_event(event)


def test_closing_many_instances_is_one_message_not_a_flood_of_replies():
    from chalice_app.interruptions.chunking import MAX_THREAD_KEYS, closed_messages
    event = f.health(list(range(MAX_THREAD_KEYS + 5)))
    event["detail"]["statusCode"] = "closed"
    count = MAX_THREAD_KEYS + 5
    correlation = correlate([parse_event(event)], [f.node(n) for n in range(count)], [], [])
    planned = closed_messages(correlation.closed, "demo")
    assert len(planned) == 1 and planned[0][0].thread_keys == ()
    assert "for 25 instances" in str(planned[0][0].blocks) and planned[0][1] == {event["id"]}
