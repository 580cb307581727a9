"""ensure_stage / teardown_stage against a moto server: idempotent, dry runs write nothing, events reach the queue."""
import json
from datetime import datetime, timezone

import pytest

from chalice_app import naming
from chalice_app.errors import CostguardError
from chalice_app.interruptions.rules import EVENT_RULES
from chalice_app.provisioning.alarms import alarm_specs
from chalice_app.provisioning import (
    DEFAULT_BUDGET_DOCUMENT, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS, ensure_stage, teardown_stage,
)
from tests.provisioning.conftest import CLUSTER

STAGE = "dev"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXX"

# What watches the stage (tests/provisioning/test_provisioning_alarms.py): topic, alarms, dashboard.
WATCH = ["costguard-dev-alarms", *(spec.name for spec in alarm_specs("dev")), "costguard-dev"]


def spot_interruption_event(instance_id="i-0123456789abcdef0"):
    return {
        "Source": "aws.ec2",
        "DetailType": "EC2 Spot Instance Interruption Warning",
        "Detail": json.dumps({"instance-id": instance_id, "instance-action": "terminate"}),
        "Resources": [f"arn:aws:ec2:us-east-1:123456789012:instance/{instance_id}"],
        "Time": datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc),
    }


def stage_resources(session):
    """Every costguard resource of the stage that exists, by kind."""
    sqs, events = session.client("sqs"), session.client("events")
    return {
        "queues": sorted(url.rsplit("/", 1)[1] for url in
                         sqs.list_queues(QueueNamePrefix=naming.prefix(STAGE)).get("QueueUrls", [])),
        "rules": sorted(rule["Name"] for rule in events.list_rules(NamePrefix=naming.rule_prefix(STAGE))["Rules"]),
        "tables": session.client("dynamodb").list_tables()["TableNames"],
        "parameters": sorted(p["Name"] for p in session.client("ssm").describe_parameters()["Parameters"]),
    }


def test_first_run_creates_everything_the_stage_needs(session):
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK)
    assert report.names("created") == [
        "costguard-dev-interruptions-dlq", "costguard-dev-interruptions",
        *[f"costguard-dev-{rule.suffix}" for rule in EVENT_RULES],
        "costguard-dev", "/costguard/dev/budget", "/costguard/dev/slack-allow-list",
        "/costguard/dev/slack-webhook", *WATCH]
    assert report.names("kept") == [CLUSTER]

    sqs = session.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="costguard-dev-interruptions")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) >= 6 * 300
    assert int(attributes["VisibilityTimeout"]) == VISIBILITY_TIMEOUT_SECONDS
    assert attributes["MessageRetentionPeriod"] == str(4 * 24 * 3600)
    assert attributes["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":costguard-dev-interruptions-dlq")
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
    statement = json.loads(attributes["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        f"arn:aws:events:us-east-1:123456789012:rule/costguard-dev-{rule.suffix}" for rule in EVENT_RULES)

    dynamodb = session.client("dynamodb")
    table = dynamodb.describe_table(TableName="costguard-dev")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName="costguard-dev")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiration")

    ssm = session.client("ssm")
    assert json.loads(ssm.get_parameter(Name="/costguard/dev/budget")["Parameter"]["Value"]) == json.loads(
        DEFAULT_BUDGET_DOCUMENT)
    webhook = ssm.get_parameter(Name="/costguard/dev/slack-webhook", WithDecryption=True)["Parameter"]
    assert (webhook["Type"], webhook["Value"]) == ("SecureString", WEBHOOK)
    assert WEBHOOK not in repr(report)


def test_second_run_creates_nothing(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK)
    before = stage_resources(session)
    again = ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK)
    assert {outcome.action for outcome in again.outcomes} == {"kept"}
    assert not again.changed
    assert stage_resources(session) == before


def test_changed_webhook_is_updated_and_budget_document_never_overwritten(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK)
    ssm = session.client("ssm")
    edited = DEFAULT_BUDGET_DOCUMENT.replace("3000", "4500")
    ssm.put_parameter(Name="/costguard/dev/budget", Value=edited, Type="String", Overwrite=True)
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK + "-new",
                          budget_template=DEFAULT_BUDGET_DOCUMENT)
    assert report.names("updated") == ["/costguard/dev/slack-webhook"]
    assert ssm.get_parameter(Name="/costguard/dev/budget")["Parameter"]["Value"] == edited
    assert ssm.get_parameter(Name="/costguard/dev/slack-webhook",
                             WithDecryption=True)["Parameter"]["Value"] == WEBHOOK + "-new"


def test_drifted_queue_attribute_and_missing_target_are_repaired(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER)
    sqs, events = session.client("sqs"), session.client("events")
    url = sqs.get_queue_url(QueueName="costguard-dev-interruptions")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})
    events.remove_targets(Rule="costguard-dev-rebalance", Ids=["interruption-queue"])
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER)
    assert report.names("updated") == ["costguard-dev-interruptions", "costguard-dev-rebalance"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
        "VisibilityTimeout"] == str(VISIBILITY_TIMEOUT_SECONDS)
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="costguard-dev-rebalance")["Targets"]] == [
        "interruption-queue"]


def test_spot_interruption_warning_reaches_the_queue(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER)
    result = session.client("events").put_events(Entries=[spot_interruption_event()])
    assert result["FailedEntryCount"] == 0
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName="costguard-dev-interruptions")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    delivered = json.loads(messages[0]["Body"])
    assert delivered["detail-type"] == "EC2 Spot Instance Interruption Warning"
    assert delivered["detail"]["instance-id"] == "i-0123456789abcdef0"


def test_unrelated_event_does_not_reach_the_queue(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER)
    event = {**spot_interruption_event(), "DetailType": "EC2 Instance State-change Notification",
             "Detail": json.dumps({"instance-id": "i-1", "state": "running"})}
    session.client("events").put_events(Entries=[event])
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName="costguard-dev-interruptions")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_the_slack_signing_secret_is_a_secure_string_and_the_allow_list_is_never_overwritten(session):
    secret = "0123456789abcdef0123456789abcdef"
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_signing_secret=secret)
    assert "/costguard/dev/slack-signing-secret" in report.names("created")
    assert all(secret not in f"{outcome}" for outcome in report.outcomes)
    ssm = session.client("ssm")
    stored = ssm.get_parameter(Name="/costguard/dev/slack-signing-secret", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", secret)
    assert json.loads(ssm.get_parameter(Name="/costguard/dev/slack-allow-list")["Parameter"]["Value"]) == \
        {"users": [], "usergroups": [], "namespaces": {}}
    ssm.put_parameter(Name="/costguard/dev/slack-allow-list", Value='{"users": ["U0ALEX0001"]}', Type="String",
                      Overwrite=True)
    again = ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_signing_secret=secret)
    assert not again.changed
    assert "U0ALEX0001" in ssm.get_parameter(Name="/costguard/dev/slack-allow-list")["Parameter"]["Value"]
    with pytest.raises(CostguardError, match="signing secret") as error:
        ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_signing_secret="short secret!")
    assert "short secret" not in str(error.value)


def test_dry_run_creates_nothing_and_says_what_it_would(session):
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK, dry_run=True)
    assert len(report.names("would-create")) == 2 + len(EVENT_RULES) + 4 + len(WATCH)
    assert stage_resources(session) == {"queues": [], "rules": [], "tables": [], "parameters": []}


def test_teardown_keeps_data_unless_asked_then_leaves_nothing(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER, slack_webhook_url=WEBHOOK)
    first = teardown_stage(session, STAGE)
    data = ["/costguard/dev/slack-allow-list", "/costguard/dev/budget", "costguard-dev"]
    assert first.names("kept") == data
    assert stage_resources(session) == {"queues": [], "rules": [], "tables": ["costguard-dev"],
                                        "parameters": ["/costguard/dev/budget", "/costguard/dev/slack-allow-list"]}
    dry = teardown_stage(session, STAGE, include_data=True, dry_run=True)
    assert dry.names("would-delete") == data
    second = teardown_stage(session, STAGE, include_data=True)
    assert second.names("deleted") == data
    assert stage_resources(session) == {"queues": [], "rules": [], "tables": [], "parameters": []}
    assert {outcome.action for outcome in teardown_stage(session, STAGE, include_data=True).outcomes} == {"absent"}


def test_other_stages_are_left_alone(session):
    ensure_stage(session, "prod", cluster_name=CLUSTER)
    ensure_stage(session, STAGE, cluster_name=CLUSTER)
    teardown_stage(session, STAGE, include_data=True)
    assert session.client("dynamodb").list_tables()["TableNames"] == ["costguard-prod"]
    assert len(session.client("events").list_rules(NamePrefix="costguard-prod-")["Rules"]) == len(EVENT_RULES)


def test_conflicting_table_stops_before_anything_is_written(session):
    session.client("dynamodb").create_table(
        TableName="costguard-dev", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    with pytest.raises(CostguardError, match="table costguard-dev exists with key .*needs partition key id"):
        ensure_stage(session, STAGE, cluster_name=CLUSTER)
    assert stage_resources(session)["queues"] == []


def test_unknown_cluster_suggests_the_region(session):
    with pytest.raises(CostguardError, match="EKS cluster 'nope' not found in region us-east-1"):
        ensure_stage(session, STAGE, cluster_name="nope")
    assert stage_resources(session)["queues"] == []


@pytest.mark.parametrize("kwargs, message", [
    ({"slack_webhook_url": "hooks.slack.com/x"}, "Slack webhook URL must start with https://"),
    ({"budget_template": "{not json"}, "budget template"),
    ({"budget_template": json.dumps({"amount": -1})}, "amount"),
])
def test_bad_input_is_named_and_nothing_is_written(session, kwargs, message):
    with pytest.raises(CostguardError, match=message):
        ensure_stage(session, STAGE, cluster_name=CLUSTER, **kwargs)
    assert stage_resources(session)["queues"] == []


def test_bad_stage_name_is_rejected(session):
    with pytest.raises(CostguardError, match="stage 'Dev!'"):
        ensure_stage(session, "Dev!", cluster_name=CLUSTER)


class TableRefused:
    """The caller may do everything but create tables."""

    def __init__(self, session):
        self._session = session
        self.region_name = session.region_name

    def get_available_regions(self, *args, **kwargs):
        return self._session.get_available_regions(*args, **kwargs)

    def client(self, service):
        client = self._session.client(service)
        if service == "dynamodb":
            def refuse(**kwargs):
                from botocore.exceptions import ClientError
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "CreateTable")
            client.create_table = refuse
        return client


def test_a_failed_write_says_what_is_done_and_a_rerun_finishes(session):
    with pytest.raises(CostguardError) as failure:
        ensure_stage(TableRefused(session), STAGE, cluster_name=CLUSTER)
    message = str(failure.value)
    assert message.startswith("access denied for CreateTable: not allowed (already done: created "
                              "costguard-dev-interruptions-dlq, created costguard-dev-interruptions")
    assert "run bootstrap again" in message
    rerun = ensure_stage(session, STAGE, cluster_name=CLUSTER)
    assert rerun.names("created") == ["costguard-dev", "/costguard/dev/budget", "/costguard/dev/slack-allow-list",
                                      *WATCH]
