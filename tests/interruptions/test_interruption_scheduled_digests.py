"""The digests on a schedule: when each is due (pure), and the hourly Lambda sending each once per period, retried
when Slack fails (the stage table on in-process moto, the shared Slack fake)."""
from collections import Counter
from datetime import date, datetime, timezone

import pytest

from chalice_app.config import load_settings
from chalice_app.digests import handler
from chalice_app.digests.ports import DigestPorts
from chalice_app.digests.schedule import KARPENTER, SPOT, DigestSchedule, due_digests
from chalice_app.errors import ConfigError
from chalice_app.interruptions.records import DISRUPTED_LIFETIME, SPOT_LIFETIME, InterruptionRecords
from chalice_app.table_keys import disrupted_key, spot_key
from tests.interruptions.conftest import TABLE
from tests.slackfakes import RecordingNotifier

TUESDAY_EVENING = datetime(2026, 11, 24, 18, 5, tzinfo=timezone.utc)  # London is on GMT in November
MONDAY_EVENING = datetime(2026, 11, 23, 18, 5, tzinfo=timezone.utc)
BOTH = DigestSchedule(karpenter=True, spot=True, hour=18, zone="Europe/London", weekday="mon", weeks=2)


def settings(**extra):
    return load_settings({"COSTGUARD_CLUSTER_NAME": "prod", "COSTGUARD_TABLE_NAME": TABLE,
                          "COSTGUARD_DEFAULT_TIMEZONE": "Europe/London", **extra})


def test_nothing_is_due_by_default_nor_before_the_hour():
    assert due_digests(TUESDAY_EVENING, DigestSchedule.from_settings(settings())) == []
    assert due_digests(datetime(2026, 11, 24, 17, 59, tzinfo=timezone.utc), BOTH) == []


def test_the_karpenter_digest_is_due_daily_for_the_last_complete_utc_day():
    due = due_digests(TUESDAY_EVENING, BOTH)
    assert [(d.kind, d.period, d.claim_key, d.day) for d in due] == [
        (KARPENTER, "2026-11-23", "digest#karpenter#2026-11-23", date(2026, 11, 23))]
    # every later tick of the day names the same period, so its claim stops a second send
    assert due_digests(datetime(2026, 11, 24, 23, 59, tzinfo=timezone.utc), BOTH)[0].period == "2026-11-23"


def test_the_hour_follows_the_zones_daylight_saving_time():
    summer = DigestSchedule(karpenter=True, hour=18, zone="Europe/London")
    assert due_digests(datetime(2026, 7, 14, 17, 5, tzinfo=timezone.utc), summer)  # 18:05 BST
    assert not due_digests(datetime(2026, 11, 24, 17, 5, tzinfo=timezone.utc), summer)  # 17:05 GMT


def test_the_spot_digest_is_due_on_its_weekday_for_the_complete_weeks_before():
    due = {d.kind: d for d in due_digests(MONDAY_EVENING, BOTH)}
    assert due[SPOT].period == "2026-W48" and due[SPOT].claim_key == "digest#spot#2026-W48"
    assert due[SPOT].spot_keys == ("spot#2026-W47", "spot#2026-W46")
    assert SPOT not in {d.kind for d in due_digests(TUESDAY_EVENING, BOTH)}


def test_settings_name_a_bad_zone_or_hour_in_one_line():
    with pytest.raises(ConfigError, match="COSTGUARD_DIGEST_TIMEZONE: .*not an IANA time zone"):
        settings(COSTGUARD_DIGEST_TIMEZONE="Mars/Olympus")
    with pytest.raises(ConfigError, match="COSTGUARD_DIGEST_HOUR"):
        settings(COSTGUARD_DIGEST_HOUR="24")
    chosen = DigestSchedule.from_settings(settings(COSTGUARD_KARPENTER_DIGEST="true", COSTGUARD_DIGEST_HOUR="9",
                                                   COSTGUARD_SPOT_DIGEST_WEEKDAY="fri"))
    assert (chosen.karpenter, chosen.spot, chosen.hour, chosen.zone, chosen.weekday) == (
        True, False, 9, "Europe/London", "fri")


def ports(dynamodb, slack) -> DigestPorts:
    return DigestPorts(handler.DigestClaims(TABLE, dynamodb), InterruptionRecords(TABLE, dynamodb), slack)


def _counts(dynamodb):
    records = InterruptionRecords(TABLE, dynamodb)
    records.add_counts(disrupted_key(date(2026, 11, 22)), Counter({"n:spot|Underutilized": 10, "n:spot|Empty": 3,
                                                                    "n:default|Drifted": 1}), DISRUPTED_LIFETIME)
    records.add_counts(spot_key(datetime(2026, 11, 18, tzinfo=timezone.utc)), Counter({"n:m5.large|us-east-1a": 4}),
                       SPOT_LIFETIME)


def test_each_digest_goes_once_per_period_whatever_the_ticks(dynamodb):
    _counts(dynamodb)
    enabled = settings(COSTGUARD_KARPENTER_DIGEST="true", COSTGUARD_SPOT_DIGEST="true")
    slack = RecordingNotifier()
    summary = handler.run(enabled, MONDAY_EVENING, ports(dynamodb, slack))
    assert summary["outcomes"] == {"karpenter 2026-11-22": "sent", "spot 2026-W48": "sent"}
    assert slack.texts == ["Karpenter replaced 14 nodes on 2026-11-22: 10 underutilized, 3 empty, 1 drifted",
                           "Spot reclaims, last 4 weeks: 4 warnings"]
    for hour in (19, 20, 23):
        again = handler.run(enabled, MONDAY_EVENING.replace(hour=hour), ports(dynamodb, slack))
        assert set(again["outcomes"].values()) == {"already sent"}
    assert len(slack.sent) == 2
    # the next day has nothing to report: no message, and its claim is kept
    quiet = handler.run(enabled, TUESDAY_EVENING, ports(dynamodb, slack))
    assert quiet["outcomes"] == {"karpenter 2026-11-23": "nothing to report"} and len(slack.sent) == 2
    assert "Item" in dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "digest#karpenter#2026-11-23"}})


def test_a_digest_slack_refused_is_released_and_sent_by_the_next_tick(dynamodb):
    _counts(dynamodb)
    enabled = settings(COSTGUARD_KARPENTER_DIGEST="true")
    slack = RecordingNotifier(fail_after=0, failures=1)
    with pytest.raises(handler.DigestsNotSent, match="karpenter 2026-11-22: SlackDeliveryError"):
        handler.run(enabled, MONDAY_EVENING, ports(dynamodb, slack))
    assert slack.sent == []
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "digest#karpenter#2026-11-22"}})
    assert handler.run(enabled, MONDAY_EVENING.replace(hour=19), ports(dynamodb, slack))["outcomes"] == {
        "karpenter 2026-11-22": "sent"}
    assert handler.run(enabled, MONDAY_EVENING.replace(hour=20), ports(dynamodb, slack))["outcomes"] == {
        "karpenter 2026-11-22": "already sent"}
    assert len(slack.sent) == 1


def test_a_tick_with_nothing_due_touches_nothing():
    untouchable = DigestPorts(claims=object(), counters=object(), notifier=None)
    assert handler.run(settings(), MONDAY_EVENING, untouchable) == {"due": []}
