"""EventBridge event → Notice: one small parser per (source, detail-type), picked from a table.

The envelope is validated with Powertools Parser's EventBridgeModel; each kind's `detail` with its own pydantic
model. A handled kind with a bad field raises MalformedEvent naming the field; an event costguard does not act
on (other state, other service or category, unknown detail-type) comes back as Ignored.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, TypeVar

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalice_app.interruptions.notice import Ignored, MalformedEvent, Notice, NoticeKind

DetailModel = TypeVar("DetailModel", bound=BaseModel)  # _detail returns the model it validated with

# AWS gives two minutes between a spot interruption warning and the instance's reclaim, except for hibernation:
# "you receive an interruption notice, but you do not receive a two-minute warning because the hibernation process
# begins immediately" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
SPOT_WARNING_LEAD = timedelta(minutes=2)
ZERO_OFFSET = timedelta(0)
SPOT_ACTIONS = frozenset({"terminate", "stop", "hibernate"})
INSTANCE_ID_PATTERN = r"^i-[0-9a-f]{8,17}$"
INSTANCE_ID = re.compile(INSTANCE_ID_PATTERN)
# Health names an instance by id or by ARN: arn:aws:ec2:us-east-1:123456789012:instance/i-0abc... (any partition).
INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:ec2:[a-z0-9-]*:[0-9]*:instance/(i-[0-9a-f]{8,17})$")
# AWS Health: event statusCode `open` / `upcoming` / `closed`; entity statusCode … `RESOLVED` (API_AffectedEntity).
HEALTH_CLOSED = "closed"
ENTITY_RESOLVED = "RESOLVED"
STOPPED_STATES = frozenset({"stopping", "stopped"})
TERMINATED_STATES = frozenset({"shutting-down", "terminated"})


class _Envelope(EventBridgeModel):
    # AWS Health's schema marks `resources` as not required; EventBridgeModel insists on it. The EC2 state-change
    # page's sample has no `version` (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/
    # monitoring-instance-state-changes.html); costguard reads neither, so neither missing rejects an event.
    version: str = "0"
    resources: list[str] = Field(default_factory=list)

    @field_validator("resources", mode="before")
    @classmethod
    def _lone_resource(cls, value):
        # The interruptible Capacity Reservation warning is documented with `"resources": "[instance arn]"`, one
        # string (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-interruptible-cr.html): one resource.
        return [value] if isinstance(value, str) else value


# Each kind's detail model builds its validator on its first event (defer_build): a batch seldom holds every kind,
# and a Lambda container should not pay at import for the kinds it never sees.
class _InstanceDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)
    instance_id: str = Field(alias="instance-id", pattern=INSTANCE_ID_PATTERN)


class _SpotWarningDetail(_InstanceDetail):
    instance_action: str | None = Field(None, alias="instance-action")


class _StateChangeDetail(_InstanceDetail):
    state: str


class _CapacityReservationDetail(_InstanceDetail):
    termination_time: datetime | None = Field(None, alias="instance-termination-time")


class _AffectedEntity(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    entityValue: str = Field("", max_length=1224)  # API_AffectedEntity's bound
    # The Health API names the entity's state `statusCode` (API_AffectedEntity); the EventBridge schema and its
    # samples name it `status` (https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html).
    statusCode: str | None = None
    status: str | None = None

    @property
    def resolved(self) -> bool:
        return ENTITY_RESOLVED in ((self.statusCode or "").upper(), (self.status or "").upper())


class _HealthDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    service: str
    eventTypeCategory: str
    eventTypeCode: str = ""
    eventScopeCode: str | None = None  # ACCOUNT_SPECIFIC or PUBLIC
    eventRegion: str | None = None
    statusCode: str | None = None
    startTime: datetime | None = None
    endTime: datetime | None = None
    affectedEntities: list[_AffectedEntity] = Field(default_factory=list)

    @field_validator("startTime", "endTime", mode="before")
    @classmethod
    def _rfc1123_or_iso(cls, value):
        # Health writes "Sat, 05 Jun 2021 15:10:09 GMT"; tests and replays often use ISO 8601. endTime is optional in
        # the schema and may come as "" while the event is ahead: an empty time is an absent one.
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and "," in value:
            try:
                return parsedate_to_datetime(value)
            except (TypeError, ValueError):
                raise ValueError(f"not an RFC 1123 or ISO 8601 time: {value!r}") from None
        return value


def _utc(moment: datetime) -> datetime:
    # Events carry UTC times: relabelling them (no arithmetic) costs half of astimezone, twice per message.
    try:
        if moment.tzinfo is None or moment.utcoffset() == ZERO_OFFSET:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except OverflowError:  # year 1 east of UTC, or year 9999 west of it: no such instant in UTC
        raise MalformedEvent(f"time {moment.isoformat()} is out of range") from None


def _describe(error: ValidationError, prefix: str) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(event)"
        problems.append(f"{prefix}{where}: {item['msg']}")
    return "; ".join(problems)


def _detail(model: type[DetailModel], envelope: EventBridgeModel) -> DetailModel:
    try:
        return model.model_validate(envelope.detail)
    except ValidationError as error:
        raise MalformedEvent(f"{envelope.detail_type} {envelope.id}: {_describe(error, 'detail.')}") from None


def _notice(envelope: EventBridgeModel, kind: NoticeKind, instance_ids: tuple[str, ...],
            deadline: datetime | None = None, region: str | None = None, action: str | None = None) -> Notice:
    return Notice(kind=kind, instance_ids=instance_ids, event_id=envelope.id, account=envelope.account,
                  region=region or envelope.region, time=_utc(envelope.time),
                  deadline=_utc(deadline) if deadline else None, instance_action=action,
                  delivered_region=envelope.region)


def _warning_deadline(envelope: EventBridgeModel) -> datetime:
    # A `time` near datetime.max (a forged or corrupt event) cannot take two more minutes.
    try:
        return envelope.time + SPOT_WARNING_LEAD
    except OverflowError:
        raise MalformedEvent(f"{envelope.detail_type} {envelope.id}: time {envelope.time.isoformat()} "
                             f"is out of range") from None


def parse_spot_warning(envelope: EventBridgeModel) -> Notice:
    detail = _detail(_SpotWarningDetail, envelope)
    action = detail.instance_action if detail.instance_action in SPOT_ACTIONS else None
    deadline = envelope.time if action == "hibernate" else _warning_deadline(envelope)
    return _notice(envelope, NoticeKind.SPOT_INTERRUPTION, (detail.instance_id,), deadline=deadline, action=action)


def parse_rebalance(envelope: EventBridgeModel) -> Notice:
    detail = _detail(_InstanceDetail, envelope)
    return _notice(envelope, NoticeKind.REBALANCE_RECOMMENDATION, (detail.instance_id,))


def parse_state_change(envelope: EventBridgeModel) -> Notice | Ignored:
    detail = _detail(_StateChangeDetail, envelope)
    state = detail.state.lower()  # as Karpenter reads it (aws/karpenter-provider-aws messages/statechange/parser.go)
    if state in STOPPED_STATES:
        return _notice(envelope, NoticeKind.INSTANCE_STOPPED, (detail.instance_id,))
    if state in TERMINATED_STATES:
        return _notice(envelope, NoticeKind.INSTANCE_TERMINATED, (detail.instance_id,))
    return Ignored(f"instance state {detail.state!r}")


def parse_health(envelope: EventBridgeModel) -> Notice | Ignored:
    detail = _detail(_HealthDetail, envelope)
    if detail.service != "EC2" or detail.eventTypeCategory != "scheduledChange":
        return Ignored(f"AWS Health {detail.service} {detail.eventTypeCategory}")
    closed = (detail.statusCode or "").lower() == HEALTH_CLOSED
    pending: dict[str, None] = {}
    resolved: dict[str, None] = {}
    for entity in detail.affectedEntities:
        instance_id = instance_id_in(entity.entityValue)
        if instance_id is not None:
            (resolved if closed or entity.resolved else pending)[instance_id] = None
    if not detail.affectedEntities:  # entities absent: the resources ARNs are all there is
        for arn in envelope.resources:
            instance_id = instance_id_in(arn)
            if instance_id is not None:
                (resolved if closed else pending)[instance_id] = None
    # `region` is where the event was emitted, `detail.eventRegion` the region it is about; AWS Health also sends a
    # region's public events to a backup region (detail.backupEvent; https://docs.aws.amazon.com/health/latest/ug/
    # choosing-a-region.html). The Notice keeps both and the batch acts only when both are the stage's.
    region = detail.eventRegion
    if pending:
        return _notice(envelope, NoticeKind.SCHEDULED_CHANGE, tuple(pending), deadline=detail.startTime, region=region)
    if resolved:
        return _notice(envelope, NoticeKind.SCHEDULED_CHANGE_CLOSED, tuple(resolved), deadline=detail.endTime,
                       region=region)
    # A Dedicated Host (h-…), a volume, a public notice naming no entity (the schema requires neither
    # affectedEntities nor resources, and its PUBLIC samples carry both empty): nothing costguard's nodes can be hit by.
    if not detail.affectedEntities and not envelope.resources:
        scope = f" ({detail.eventScopeCode})" if detail.eventScopeCode else ""
        return Ignored(f"AWS Health {detail.eventTypeCode or detail.service}{scope}: names no affected entity")
    return Ignored(f"AWS Health {detail.eventTypeCode or detail.service}: no EC2 instance among the affected entities")


def parse_capacity_reservation(envelope: EventBridgeModel) -> Notice:
    detail = _detail(_CapacityReservationDetail, envelope)
    deadline = detail.termination_time or _warning_deadline(envelope)
    return _notice(envelope, NoticeKind.CAPACITY_RESERVATION_INTERRUPTION, (detail.instance_id,), deadline=deadline)


def instance_id_in(value: str) -> str | None:
    """An instance id given as is or as its ARN → the id; anything else (h-…, vol-…, other ARNs) → None."""
    if INSTANCE_ID.match(value):
        return value
    match = INSTANCE_ARN.match(value)
    return match.group(1) if match else None


Parser = Callable[[EventBridgeModel], "Notice | Ignored"]

# (source, detail-type) → parser; kept in step with rules.EVENT_RULES (a test checks they cover each other).
PARSERS: dict[tuple[str, str], Parser] = {
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"): parse_spot_warning,
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"): parse_rebalance,
    ("aws.ec2", "EC2 Instance State-change Notification"): parse_state_change,
    ("aws.health", "AWS Health Event"): parse_health,
    ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"): parse_capacity_reservation,
}


def parse_event(event: dict) -> Notice | Ignored:
    """One EventBridge event (as a dict) → Notice, Ignored, or MalformedEvent raised."""
    if not isinstance(event, dict):
        raise MalformedEvent(f"expected an EventBridge event object, got {type(event).__name__}")
    source, detail_type = event.get("source"), event.get("detail-type")
    # A list or dict here would make the table lookup raise TypeError (unhashable) instead of a verdict.
    if not isinstance(source, str) or not isinstance(detail_type, str):
        raise MalformedEvent(f"source and detail-type must be strings, got {type(source).__name__} / "
                             f"{type(detail_type).__name__}")
    parser = PARSERS.get((source, detail_type))
    if parser is None:
        return Ignored(f"unhandled event {source!r} / {detail_type!r}")
    try:
        envelope = _Envelope.model_validate(event)
    except ValidationError as error:
        raise MalformedEvent(f"{detail_type} {event.get('id', '(no id)')}: "
                             f"{_describe(error, '')}") from None
    if not envelope.id.strip():  # the id is the idempotency key: the ledger refuses an empty one
        raise MalformedEvent(f"{detail_type}: id: must not be empty")
    return parser(envelope)


def load_body(text: str | None):
    """JSON text (an SQS body, a file) → the decoded value; MalformedEvent when it is not JSON."""
    if text is None:
        raise MalformedEvent("not JSON: no body")
    try:
        return json.loads(text)
    except (ValueError, TypeError) as error:  # ValueError: bad JSON, or a number longer than int() converts
        raise MalformedEvent(f"not JSON: {str(error)[:200]}") from None
    except RecursionError:
        raise MalformedEvent("not JSON an event could be: nested too deeply") from None


def parse_text(text: str) -> Notice | Ignored:
    """An SQS body or a file: JSON text of one EventBridge event."""
    return parse_event(load_body(text))
