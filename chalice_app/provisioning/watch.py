"""Reading and writing what watches costguard: the alarm topic and its subscriptions, the alarms, the dashboard.
Decisions come from chalice_app.provisioning.alarms; this module only reads, compares and writes."""
from __future__ import annotations

import json
from functools import partial
from dataclasses import dataclass
from typing import Iterable

from botocore.exceptions import ClientError

from chalice_app import naming
from chalice_app.errors import error_code as _code
from chalice_app.provisioning.alarms import (
    AlarmSpec, alarm_differs, alarm_specs, dashboard_body, dashboard_differs, subscription_protocol,
)
from chalice_app.provisioning.desired import Place, ResourceOutcome, Step, decide

def topic_arn(place: Place) -> str:
    return place.arn("sns", naming.alarm_topic(place.stage))


def _topic_exists(sns, arn: str) -> bool:
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return True
    except ClientError as error:
        if _code(error) in ("NotFound", "NotFoundException"):
            return False
        raise


def plan_topic(sns, place: Place, dry_run: bool) -> Step:
    name = naming.alarm_topic(place.stage)
    exists = _topic_exists(sns, topic_arn(place))
    return Step(ResourceOutcome("sns-topic", name, decide(exists, False, dry_run), "" if exists else "alarm notices"),
                None if exists else (lambda: sns.create_topic(Name=name)))


def _subscribed(sns, arn: str) -> set[tuple[str, str]]:
    """(protocol, endpoint) of the topic's subscriptions, pending confirmations included."""
    found: set[tuple[str, str]] = set()
    try:
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            found.update((s["Protocol"], s["Endpoint"]) for s in page["Subscriptions"])
    except ClientError as error:
        if _code(error) not in ("NotFound", "NotFoundException"):
            raise
    return found


def plan_subscriptions(sns, place: Place, endpoints: Iterable[str], dry_run: bool) -> list[Step]:
    arn = topic_arn(place)
    existing = _subscribed(sns, arn)
    steps = []
    for endpoint in endpoints:
        protocol = subscription_protocol(endpoint)
        exists = (protocol, endpoint) in existing
        detail = "" if exists else f"{protocol}; the endpoint must confirm it (SNS sends a confirmation)"
        steps.append(Step(ResourceOutcome("sns-subscription", shown_endpoint(endpoint), decide(exists, False, dry_run),
                                          detail),
                          None if exists else partial(sns.subscribe, TopicArn=arn, Protocol=protocol,
                                                      Endpoint=endpoint)))
    return steps


def shown_endpoint(endpoint: str) -> str:
    """An https endpoint may carry a secret in its path (a webhook): reports show only its host."""
    if endpoint.startswith("https://"):
        return "https://" + endpoint[len("https://"):].split("/", 1)[0] + "/…"
    return endpoint


def _alarms(cloudwatch, names: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for start in range(0, len(names), 100):
        response = cloudwatch.describe_alarms(AlarmNames=names[start:start + 100], AlarmTypes=["MetricAlarm"])
        found.update({alarm["AlarmName"]: alarm for alarm in response["MetricAlarms"]})
    return found


def plan_alarms(cloudwatch, place: Place, dry_run: bool) -> list[Step]:
    specs: list[AlarmSpec] = alarm_specs(place.stage)
    current = _alarms(cloudwatch, [spec.name for spec in specs])
    steps = []
    for spec in specs:
        desired = spec.request(topic_arn(place))
        have = current.get(spec.name)
        action = decide(have is not None, have is not None and alarm_differs(have, desired), dry_run)
        detail = "" if action == "kept" else f"{spec.namespace} {spec.metric}, missing data: {spec.treat_missing_data}"
        steps.append(Step(ResourceOutcome("cloudwatch-alarm", spec.name, action, detail),
                          None if action == "kept" else partial(cloudwatch.put_metric_alarm, **desired)))
    return steps


def plan_dashboard(cloudwatch, place: Place, dry_run: bool) -> Step:
    name = naming.dashboard(place.stage)
    body = dashboard_body(place.stage, place.region)
    try:
        current = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    except ClientError as error:
        if _code(error) not in ("ResourceNotFound", "ResourceNotFoundException"):
            raise
        current = None
    differs = dashboard_differs(current, body)
    action = decide(current is not None, differs, dry_run)
    return Step(ResourceOutcome("cloudwatch-dashboard", name, action, "" if action == "kept" else "handlers' EMF "
                                "metrics, Lambda errors, DLQ"),
                (lambda: cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body)))
                if differs else None)


def watch_steps(session, place: Place, alarm_subscriptions: Iterable[str], dry_run: bool) -> list[Step]:
    """Topic first (alarms name it), then its subscriptions, the alarms and the dashboard."""
    sns, cloudwatch = session.client("sns"), session.client("cloudwatch")
    return [plan_topic(sns, place, dry_run), *plan_subscriptions(sns, place, alarm_subscriptions, dry_run),
            *plan_alarms(cloudwatch, place, dry_run), plan_dashboard(cloudwatch, place, dry_run)]


def remove_watch(session, place: Place, dry_run: bool) -> list[ResourceOutcome]:
    sns, cloudwatch = session.client("sns"), session.client("cloudwatch")
    outcomes = []
    present = _alarms(cloudwatch, [spec.name for spec in alarm_specs(place.stage)])
    for spec in alarm_specs(place.stage):
        outcomes.append(_removed("cloudwatch-alarm", spec.name, spec.name in present, dry_run))
    if present and not dry_run:
        cloudwatch.delete_alarms(AlarmNames=sorted(present))
    name = naming.dashboard(place.stage)
    dashboards = {d["DashboardName"] for d in cloudwatch.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]}
    outcomes.append(_removed("cloudwatch-dashboard", name, name in dashboards, dry_run))
    if name in dashboards and not dry_run:
        cloudwatch.delete_dashboards(DashboardNames=[name])
    exists = _topic_exists(sns, topic_arn(place))
    outcomes.append(_removed("sns-topic", naming.alarm_topic(place.stage), exists, dry_run))
    if exists and not dry_run:
        sns.delete_topic(TopicArn=topic_arn(place))  # its subscriptions go with it
    return outcomes


def _removed(kind: str, name: str, exists: bool, dry_run: bool) -> ResourceOutcome:
    return ResourceOutcome(kind, name, "absent" if not exists else ("would-delete" if dry_run else "deleted"))


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    reason: str
    since: str


def alarm_states(cloudwatch, stage: str) -> list[AlarmState]:
    """The stage's alarms as CloudWatch sees them now (what `costguard status` shows)."""
    states = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=naming.alarm_prefix(stage),
                                                                      AlarmTypes=["MetricAlarm"]):
        for alarm in page["MetricAlarms"]:
            updated = alarm.get("StateUpdatedTimestamp")
            states.append(AlarmState(alarm["AlarmName"], alarm["StateValue"], alarm.get("StateReason", ""),
                                     updated.isoformat(timespec="seconds") if updated else ""))
    return sorted(states, key=lambda a: (a.state != "ALARM", a.name))
