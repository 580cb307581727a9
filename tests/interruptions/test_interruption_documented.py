"""Every event AWS documents (tests/interruptions/aws_samples.py, each with its page) → what costguard makes of it.

One row per sample or per variant the page's schema allows: the Notice kind, its instances and deadline, or
Ignored. Karpenter reads the same four state-change states and the same EC2 `scheduledChange` Health events
(aws/karpenter-provider-aws pkg/controllers/interruption/messages/statechange/parser.go, scheduledchange/parser.go).
"""
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from chalice_app.interruptions.notice import Ignored, NoticeKind
from chalice_app.interruptions.parsing import parse_event
from chalice_app.interruptions.rules import EVENT_RULES
from tests.interruptions import aws_samples as aws

K = NoticeKind
DOC_ID = "i-1234567890abcdef0"
ARN = "arn:aws:ec2:us-east-1:123456789012:instance/"
RETIREMENT_START = datetime(2026, 8, 27, 13, 19, 3, tzinfo=timezone.utc)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Alerts:
    kind: NoticeKind
    ids: tuple[str, ...]
    deadline: datetime | None


IGNORED = "ignored"


def _state_row(state: str):
    event = aws.state_change(state)
    expected = {"stopping": Alerts(K.INSTANCE_STOPPED, ("i-abcd1111",), None),
                "stopped": Alerts(K.INSTANCE_STOPPED, ("i-abcd1111",), None),
                "shutting-down": Alerts(K.INSTANCE_TERMINATED, ("i-abcd1111",), None),
                "terminated": Alerts(K.INSTANCE_TERMINATED, ("i-abcd1111",), None)}.get(state, IGNORED)
    return pytest.param(event, expected, id=f"state-{state}")


SCHEDULED_EC2_CODES = ("AWS_EC2_INSTANCE_STOP_SCHEDULED", "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
                       "AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED", "AWS_EC2_SYSTEM_MAINTENANCE_EVENT",
                       "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
                       "AWS_EC2_INSTANCE_NETWORK_MAINTENANCE_SCHEDULED")

ROWS = [
    # SPOT_NOTICES: two minutes, except hibernation ("the hibernation process begins immediately").
    pytest.param(aws.SPOT_WARNING, Alerts(K.SPOT_INTERRUPTION, (DOC_ID,), utc(2026, 11, 24, 18, 2)),
                 id="spot-terminate"),
    pytest.param(aws.spot_warning("stop"), Alerts(K.SPOT_INTERRUPTION, (DOC_ID,), utc(2026, 11, 24, 18, 2)),
                 id="spot-stop"),
    pytest.param(aws.spot_warning("hibernate"), Alerts(K.SPOT_INTERRUPTION, (DOC_ID,), utc(2026, 11, 24, 18, 0)),
                 id="spot-hibernate"),
    # REBALANCE: a risk signal, no deadline.
    pytest.param(aws.REBALANCE_RECOMMENDATION, Alerts(K.REBALANCE_RECOMMENDATION, (DOC_ID,), None), id="rebalance"),
    # STATE_CHANGES: the page's own sample (no `version`), then every state the page lists.
    pytest.param(aws.STATE_CHANGE_PAGE, IGNORED, id="state-page-sample-pending-without-version"),
    *[_state_row(state) for state in aws.DOCUMENTED_STATES],
    # INTERRUPTIBLE_CR: `resources` a lone string; the deadline is instance-termination-time.
    pytest.param(aws.INTERRUPTIBLE_CR_WARNING,
                 Alerts(K.CAPACITY_RESERVATION_INTERRUPTION, (DOC_ID,), utc(2026, 11, 24, 18, 2)),
                 id="interruptible-cr-warning"),
    # CAPACITY_BLOCKS: a Capacity Block's instance warned; its expiration warning names no instance (no rule for it).
    pytest.param(aws.CAPACITY_BLOCK_INTERRUPTION,
                 Alerts(K.CAPACITY_RESERVATION_INTERRUPTION, ("i-0abcdef1234567890",), utc(2026, 11, 24, 17, 20)),
                 id="capacity-block-interruption"),
    pytest.param(aws.CAPACITY_BLOCK_EXPIRATION, IGNORED, id="capacity-block-expiration-warning"),
    # HEALTH_SCHEMA samples.
    pytest.param(aws.HEALTH_EC2_OPERATIONAL_ISSUE, IGNORED, id="health-public-ec2-issue"),
    pytest.param(aws.HEALTH_ELB_API_ISSUE, IGNORED, id="health-elb-issue"),
    pytest.param(aws.HEALTH_INSTANCE_STORE_BACKUP, IGNORED, id="health-ec2-issue-backup-event"),
    pytest.param(aws.HEALTH_RETIREMENT_PAGE, Alerts(K.SCHEDULED_CHANGE, (DOC_ID,), RETIREMENT_START),
                 id="health-retirement"),
    pytest.param(aws.HEALTH_LAMBDA_LIFECYCLE, IGNORED, id="health-lambda-scheduled-change"),
    pytest.param(aws.HEALTH_RETIREMENT, Alerts(K.SCHEDULED_CHANGE, ("i-abcd1111",), utc(2023, 2, 10, 10)),
                 id="health-retirement-older-fixture"),
    # Variants HEALTH_SCHEMA allows: statusCode open / upcoming / closed; entity `status` RESOLVED.
    pytest.param(aws.retirement_page("v-upcoming", statusCode="upcoming"),
                 Alerts(K.SCHEDULED_CHANGE, (DOC_ID,), RETIREMENT_START), id="health-upcoming"),
    pytest.param(aws.retirement_page("v-closed", statusCode="closed", endTime="Thu, 27 Aug 2026 14:00:00 GMT"),
                 Alerts(K.SCHEDULED_CHANGE_CLOSED, (DOC_ID,), utc(2026, 8, 27, 14)), id="health-closed"),
    pytest.param(aws.retirement_page("v-closed-no-end", statusCode="closed", endTime=""),
                 Alerts(K.SCHEDULED_CHANGE_CLOSED, (DOC_ID,), None), id="health-closed-empty-end-time"),
    pytest.param(aws.retirement_page("v-resolved", affectedEntities=[{"entityValue": ARN + DOC_ID,
                                                                        "status": "RESOLVED"}]),
                 Alerts(K.SCHEDULED_CHANGE_CLOSED, (DOC_ID,), None), id="health-entity-status-resolved"),
    # Several instances in one event: entities by ARN or id, one RESOLVED; or, entities absent, `resources` only.
    pytest.param(aws.retirement_page("v-many", affectedEntities=[
        {"entityValue": ARN + DOC_ID, "status": "PENDING"}, {"entityValue": "i-0abcdef1234567890"},
        {"entityValue": "i-0fedcba9876543210", "status": "RESOLVED"}, {"entityValue": "h-0123456789abcdef0"}]),
        Alerts(K.SCHEDULED_CHANGE, (DOC_ID, "i-0abcdef1234567890"), RETIREMENT_START), id="health-many-entities"),
    pytest.param({**aws.retirement_page("v-resources", affectedEntities=[]),
                  "resources": [ARN + DOC_ID, "i-0abcdef1234567890"]},
                 Alerts(K.SCHEDULED_CHANGE, (DOC_ID, "i-0abcdef1234567890"), RETIREMENT_START),
                 id="health-resources-only"),
    # A PUBLIC scheduled change naming nothing, shaped like the PUBLIC sample: valid, and nothing of ours.
    pytest.param(aws.retirement_page("v-public", eventScopeCode="PUBLIC", affectedEntities=[]), IGNORED,
                 id="health-public-scheduled-change-without-entities"),
    # Other EC2 scheduled-change codes (HEALTH_SCHEMA names the MAINTENANCE_SCHEDULED ones) are scheduled changes.
    *[pytest.param(aws.retirement_page(f"v-{code}", eventTypeCode=code),
                   Alerts(K.SCHEDULED_CHANGE, (DOC_ID,), RETIREMENT_START), id=code) for code in SCHEDULED_EC2_CODES],
    # Categories other than scheduledChange (HEALTH_SCHEMA: issue, accountNotification, investigation).
    *[pytest.param(aws.retirement_page(f"v-{category}", eventTypeCategory=category), IGNORED, id=f"health-{category}")
      for category in ("issue", "accountNotification", "investigation")],
]


@pytest.mark.parametrize("event, expected", ROWS)
def test_documented_event(event, expected):
    outcome = parse_event(event)
    if expected == IGNORED:
        assert isinstance(outcome, Ignored), outcome
        return
    assert not isinstance(outcome, Ignored), outcome.reason
    assert (outcome.kind, outcome.instance_ids, outcome.deadline) == (expected.kind, expected.ids, expected.deadline)
    assert outcome.event_id == event["id"] and outcome.account == event["account"]


def test_the_rule_lets_through_exactly_the_states_that_alert():
    rule = next(rule for rule in EVENT_RULES if rule.suffix == "state-change")
    alerting = {state for state in aws.DOCUMENTED_STATES
                if not isinstance(parse_event(aws.state_change(state)), Ignored)}
    assert set(rule.pattern["detail"]["state"]) == alerting == {"stopping", "stopped", "shutting-down", "terminated"}


def test_a_state_in_capitals_is_read_as_karpenter_reads_it():
    # statechange/parser.go lowercases detail.state before matching.
    assert parse_event(aws.state_change("Terminated")).kind is K.INSTANCE_TERMINATED


def test_backup_health_event_keeps_the_region_it_is_about_and_the_one_it_came_to():
    event = aws.retirement_page("v-backup", backupEvent="true")
    event["region"] = "us-west-2"
    notice = parse_event(event)
    assert (notice.region, notice.delivered_region) == ("us-east-1", "us-west-2")
