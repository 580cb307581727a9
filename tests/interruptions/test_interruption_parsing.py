import json
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from chalice_app.cli.events import app as events_app
from chalice_app.interruptions.notice import Ignored, MalformedEvent, NoticeKind
from chalice_app.interruptions.parsing import PARSERS, parse_event, parse_text
from chalice_app.interruptions.rules import EVENT_RULES
from tests.interruptions import factories as f


def test_spot_warning_has_a_two_minute_deadline():
    notice = parse_event(f.spot_warning(7, event_id="e-1"))
    assert notice.kind is NoticeKind.SPOT_INTERRUPTION
    assert notice.instance_ids == (f.instance_id(7),)
    assert (notice.event_id, notice.account, notice.region) == ("e-1", f.ACCOUNT, f.REGION)
    assert notice.time == datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)
    assert notice.deadline == datetime(2026, 11, 24, 18, 2, tzinfo=timezone.utc)


def test_rebalance_has_no_deadline():
    notice = parse_event(f.rebalance(3))
    assert notice.kind is NoticeKind.REBALANCE_RECOMMENDATION and notice.deadline is None


@pytest.mark.parametrize("state, kind", [
    ("stopping", NoticeKind.INSTANCE_STOPPED), ("stopped", NoticeKind.INSTANCE_STOPPED),
    ("shutting-down", NoticeKind.INSTANCE_TERMINATED), ("terminated", NoticeKind.INSTANCE_TERMINATED)])
def test_state_changes_map_to_stopped_or_terminated(state, kind):
    assert parse_event(f.state_change(1, state)).kind is kind


@pytest.mark.parametrize("state", ["pending", "running"])
def test_other_states_are_ignored(state):
    assert isinstance(parse_event(f.state_change(1, state)), Ignored)


def test_health_scheduled_change_takes_start_time_and_every_instance():
    notice = parse_event(f.health([1, 2]))
    assert notice.kind is NoticeKind.SCHEDULED_CHANGE
    assert notice.instance_ids == (f.instance_id(1), f.instance_id(2))
    assert notice.deadline == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def test_health_accepts_iso_start_time_and_uses_the_event_region():
    event = f.health([1], start="2026-12-01T10:00:00Z")
    event["detail"]["eventRegion"] = "eu-west-1"
    notice = parse_event(event)
    assert notice.deadline == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc) and notice.region == "eu-west-1"


@pytest.mark.parametrize("service, category", [("RDS", "scheduledChange"), ("EC2", "issue"),
                                               ("EC2", "accountNotification")])
def test_health_events_of_other_services_or_categories_are_ignored(service, category):
    assert isinstance(parse_event(f.health([1], service=service, category=category)), Ignored)


def test_health_without_any_entity_or_resource_is_ignored_not_malformed():
    # The Health EventBridge schema requires neither field and its PUBLIC sample carries both empty
    # (https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html).
    outcome = parse_event(f.health([]))
    assert isinstance(outcome, Ignored) and "names no affected entity" in outcome.reason


def test_capacity_reservation_deadline_is_the_termination_time_or_two_minutes():
    notice = parse_event(f.capacity_reservation(4, termination="2026-11-24T18:01:30Z"))
    assert notice.kind is NoticeKind.CAPACITY_RESERVATION_INTERRUPTION
    assert notice.deadline == datetime(2026, 11, 24, 18, 1, 30, tzinfo=timezone.utc)
    assert parse_event(f.capacity_reservation(4, termination=None)).deadline == datetime(
        2026, 11, 24, 18, 2, tzinfo=timezone.utc)


def test_unknown_detail_types_are_ignored():
    assert isinstance(parse_event(f.event("EC2 AMI State Change", {"State": "available"})), Ignored)


@pytest.mark.parametrize("mutate, problem", [
    (lambda e: e["detail"].pop("instance-id"), "detail.instance-id: Field required"),
    (lambda e: e["detail"].__setitem__("instance-id", "not-an-instance"), "detail.instance-id"),
    (lambda e: e.pop("time"), "time: Field required"),
    (lambda e: e.__setitem__("time", "yesterday"), "time"),
])
def test_malformed_events_name_the_bad_field(mutate, problem):
    event = f.spot_warning(1)
    mutate(event)
    with pytest.raises(MalformedEvent, match=problem.replace(".", r"\.")):
        parse_event(event)


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", "null"])
def test_non_events_are_malformed(text):
    with pytest.raises(MalformedEvent):
        parse_text(text)


def _matches(pattern: dict, event: dict) -> bool:
    for key, allowed in pattern.items():
        value = event.get(key)
        if isinstance(allowed, dict):
            if not isinstance(value, dict) or not _matches(allowed, value):
                return False
        elif value not in allowed:
            return False
    return True


@pytest.mark.parametrize("event", [f.spot_warning(1), f.rebalance(1), f.state_change(1, "terminated"),
                                   f.health([1]), f.capacity_reservation(1)])
def test_every_ruled_event_has_a_parser_and_every_parser_a_rule(event):
    assert any(_matches(rule.pattern, event) for rule in EVENT_RULES)
    assert (event["source"], event["detail-type"]) in PARSERS
    assert {(r.pattern["source"][0], r.pattern["detail-type"][0]) for r in EVENT_RULES} == set(PARSERS)


def test_cli_prints_one_json_line_per_notice_and_nothing_for_ignored(tmp_path):
    spot, ignored = tmp_path / "spot.json", tmp_path / "running.json"
    spot.write_text(json.dumps(f.spot_warning(9, event_id="e-9")))
    ignored.write_text(json.dumps(f.state_change(9, "running")))
    result = CliRunner().invoke(events_app, ["parse", str(spot), str(ignored)])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"kind": "spot_interruption", "instance_ids": [f.instance_id(9)],
                                    "event_id": "e-9", "account": f.ACCOUNT, "region": f.REGION,
                                    "time": "2026-11-24T18:00:00+00:00", "deadline": "2026-11-24T18:02:00+00:00",
                                    "instance_action": "terminate"}


@pytest.mark.parametrize("content, problem", [("{oops", "not JSON"),
                                              (json.dumps(f.event("EC2 Spot Instance Interruption Warning", {})),
                                               "instance-id")])
def test_cli_exits_2_naming_the_bad_file(tmp_path, content, problem):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = CliRunner().invoke(events_app, ["parse", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.stderr and problem in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("mutate, problem", [
    (lambda e: e.__setitem__("source", ["aws.ec2"]), "source and detail-type must be strings"),
    (lambda e: e.__setitem__("detail-type", {"a": 1}), "source and detail-type must be strings"),
    (lambda e: e.__setitem__("id", ""), "id: must not be empty"),
    (lambda e: e.__setitem__("time", "9999-12-31T23:59:00Z"), "out of range"),
])
def test_hostile_envelopes_are_malformed_not_crashes(mutate, problem):
    event = f.spot_warning(1)
    mutate(event)
    with pytest.raises(MalformedEvent, match=problem):
        parse_event(event)


def test_a_capacity_reservation_at_the_end_of_time_is_malformed():
    event = f.capacity_reservation(1, termination=None)
    event["time"] = "9999-12-31T23:59:00Z"
    with pytest.raises(MalformedEvent, match="out of range"):
        parse_event(event)
