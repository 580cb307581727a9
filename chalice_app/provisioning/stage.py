"""Reading and writing the stage's AWS resources: ensure_stage, teardown_stage, and one-line AWS errors."""
from __future__ import annotations

import json
from functools import partial
from typing import Callable

from botocore.exceptions import ClientError, NoRegionError

from chalice_app import naming
from chalice_app.errors import CostguardError, aws_errors, error_code as _error_code
from chalice_app.interruptions.rules import EVENT_RULES
from chalice_app.provisioning.alarms import subscription_protocol
from chalice_app.provisioning.watch import remove_watch, watch_steps
from chalice_app.provisioning.desired import (
    DEFAULT_BUDGET_DOCUMENT, EMPTY_ALLOW_LIST, Place, ProvisionReport, ResourceOutcome, Step, TARGET_ID,
    attributes_to_change, decide, dlq_attributes, queue_attributes, rule_names, validate_budget_template,
    validate_request, validate_signing_secret,
)


def locate(session, stage: str) -> Place:
    region = session.region_name
    if not region:
        raise NoRegionError()
    known = {name for partition in ("aws", "aws-cn", "aws-us-gov")
             for name in session.get_available_regions("sqs", partition_name=partition)}
    if region not in known:
        raise CostguardError(f"unknown AWS region {region!r}: expected e.g. us-east-1 or eu-west-2")
    caller = session.client("sts").get_caller_identity()
    return Place(stage=stage, region=region, account=caller["Account"], partition=caller["Arn"].split(":")[1])


def _queue_url(sqs, name: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if _error_code(error) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        raise


def plan_queue(sqs, name: str, desired: dict[str, str], dry_run: bool) -> Step:
    url = _queue_url(sqs, name)
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] if url else {}
    changes = attributes_to_change(current, desired) if url else desired
    action = decide(url is not None, bool(changes), dry_run)
    detail = "" if action == "kept" else "set " + ", ".join(sorted(changes))
    if url is None:
        return Step(ResourceOutcome("sqs-queue", name, action, detail),
                    lambda: sqs.create_queue(QueueName=name, Attributes=desired))
    return Step(ResourceOutcome("sqs-queue", name, action, detail),
                (lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes=changes)) if changes else None)


def plan_rule(events, place: Place, rule, dry_run: bool) -> Step:
    name = naming.rule_prefix(place.stage) + rule.suffix
    queue_arn = place.queue_arn(naming.interruption_queue(place.stage))
    try:
        current = events.describe_rule(Name=name)
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        current, targets = None, []
    rule_differs = current is not None and (
        json.loads(current.get("EventPattern", "{}")) != rule.pattern or current.get("State") != "ENABLED"
        or current.get("Description") != rule.description)
    target_differs = not any(t["Id"] == TARGET_ID and t["Arn"] == queue_arn for t in targets)
    action = decide(current is not None, rule_differs or target_differs, dry_run)

    def apply() -> None:
        events.put_rule(Name=name, EventPattern=json.dumps(rule.pattern), State="ENABLED",
                        Description=rule.description)
        events.put_targets(Rule=name, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])

    return Step(ResourceOutcome("event-rule", name, action, "" if action == "kept" else "target: interruption queue"),
                apply if action != "kept" else None)


def _table(dynamodb, name: str) -> dict | None:
    try:
        return dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        return None


def plan_table(dynamodb, name: str, dry_run: bool) -> Step:
    table = _table(dynamodb, name)
    if table is None:
        def create() -> None:
            dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
            dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
            _enable_ttl(dynamodb, name)
        action = decide(False, False, dry_run)
        return Step(ResourceOutcome("dynamodb-table", name, action, "key id (S), TTL expiration"), create)
    key = {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    if key != {("id", "HASH")} or types.get("id") != "S":
        raise CostguardError(f"table {name} exists with key {sorted(key)}: costguard needs partition key id (S) only; "
                             f"rename or remove it")
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if ttl.get("AttributeName") != "expiration":
            raise CostguardError(f"table {name} has TTL on {ttl.get('AttributeName')!r}: costguard needs 'expiration'")
        return Step(ResourceOutcome("dynamodb-table", name, "kept"))
    return Step(ResourceOutcome("dynamodb-table", name, decide(True, True, dry_run), "enable TTL on expiration"),
                lambda: _enable_ttl(dynamodb, name))


def _enable_ttl(dynamodb, name: str) -> None:
    dynamodb.update_time_to_live(TableName=name,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})


def _parameter(ssm, name: str, decrypt: bool = False) -> dict | None:
    try:
        return ssm.get_parameter(Name=name, WithDecryption=decrypt)["Parameter"]
    except ClientError as error:
        if _error_code(error) == "ParameterNotFound":
            return None
        raise


def plan_budget_parameter(ssm, name: str, template: str, dry_run: bool) -> Step:
    if _parameter(ssm, name) is not None:
        return Step(ResourceOutcome("ssm-parameter", name, "kept", "never overwritten; edit it with the budget CLI"))
    return Step(ResourceOutcome("ssm-parameter", name, decide(False, False, dry_run), "budget document"),
                lambda: ssm.put_parameter(Name=name, Type="String", Value=template, Overwrite=False,
                                          Description="costguard budget document"))


def plan_webhook_parameter(ssm, name: str, url: str, dry_run: bool) -> Step:
    return plan_secure_parameter(ssm, name, url, "costguard Slack webhook URL", dry_run)


def plan_secure_parameter(ssm, name: str, secret: str, description: str, dry_run: bool) -> Step:
    current = _parameter(ssm, name, decrypt=True)
    differs = current is not None and (current["Value"] != secret or current["Type"] != "SecureString")
    action = decide(current is not None, differs, dry_run)
    write = (lambda: ssm.put_parameter(Name=name, Type="SecureString", Value=secret, Overwrite=current is not None,
                                       Description=description))
    # The value is a secret: the report never shows it.
    return Step(ResourceOutcome("ssm-parameter", name, action, "SecureString" if action != "kept" else ""),
                write if action != "kept" else None)


def plan_allow_list_parameter(ssm, name: str, dry_run: bool) -> Step:
    """Who may act from Slack: created empty (nobody) unless present, never overwritten."""
    if _parameter(ssm, name) is not None:
        return Step(ResourceOutcome("ssm-parameter", name, "kept", "never overwritten; edit it to allow users"))
    return Step(ResourceOutcome("ssm-parameter", name, decide(False, False, dry_run), "Slack allow-list (empty)"),
                lambda: ssm.put_parameter(Name=name, Type="String", Value=EMPTY_ALLOW_LIST, Overwrite=False,
                                          Description="costguard: Slack users and user groups allowed to act"))


def check_cluster(eks, cluster_name: str, region: str) -> Step:
    try:
        eks.describe_cluster(name=cluster_name)
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        raise CostguardError(f"EKS cluster {cluster_name!r} not found in region {region}: check the cluster name "
                             f"(COSTGUARD_CLUSTER_NAME or --cluster) and AWS_REGION") from None
    return Step(ResourceOutcome("eks-cluster", cluster_name, "kept", "exists; not managed by costguard"))


def apply_steps(steps: list[Step], region: str) -> None:
    """Write in order; a failure says what is already done (running again finishes the rest)."""
    done: list[str] = []
    for step in steps:
        if step.apply is None:
            continue
        try:
            with aws_errors(region):
                step.apply()
        except CostguardError as error:
            raise CostguardError(f"{error} (already done: {', '.join(done) or 'nothing'}; fix this and run bootstrap "
                                 f"again, it carries on from here)") from None
        done.append(f"{step.outcome.action} {step.outcome.name}")


def ensure_stage(session, stage: str, *, cluster_name: str, slack_webhook_url: str | None = None,
                 budget_template: str | None = None, dry_run: bool = False,
                 alarm_subscriptions: tuple[str, ...] = (),
                 slack_signing_secret: str | None = None) -> ProvisionReport:
    """Make the stage's AWS resources exist as costguard needs them; report what was created, kept or updated.
    `alarm_subscriptions`: e-mail addresses or https URLs subscribed to the alarms' SNS topic."""
    validate_request(stage, cluster_name, slack_webhook_url)
    validate_signing_secret(slack_signing_secret)
    for endpoint in alarm_subscriptions:
        subscription_protocol(endpoint)  # a bad one is refused before anything is written
    template = validate_budget_template(budget_template if budget_template is not None else DEFAULT_BUDGET_DOCUMENT)
    with aws_errors(session.region_name):
        place = locate(session, stage)
        sqs, events = session.client("sqs"), session.client("events")
        dynamodb, ssm = session.client("dynamodb"), session.client("ssm")
        steps = [
            check_cluster(session.client("eks"), cluster_name, place.region),
            plan_queue(sqs, naming.interruption_dlq(stage), dlq_attributes(), dry_run),
            plan_queue(sqs, naming.interruption_queue(stage), queue_attributes(place), dry_run),
            *(plan_rule(events, place, rule, dry_run) for rule in EVENT_RULES),
            plan_table(dynamodb, naming.table(stage), dry_run),
            plan_budget_parameter(ssm, naming.budget_parameter(stage), template, dry_run),
            plan_allow_list_parameter(ssm, naming.slack_allow_list_parameter(stage), dry_run),
        ]
        if slack_webhook_url is not None:
            steps.append(plan_webhook_parameter(ssm, naming.slack_webhook_parameter(stage), slack_webhook_url,
                                                dry_run))
        if slack_signing_secret is not None:
            steps.append(plan_secure_parameter(ssm, naming.slack_signing_secret_parameter(stage),
                                               slack_signing_secret, "costguard Slack signing secret", dry_run))
        steps.extend(watch_steps(session, place, alarm_subscriptions, dry_run))
        if not dry_run:
            apply_steps(steps, place.region)
    return ProvisionReport(stage, place.region, dry_run, tuple(step.outcome for step in steps))


def teardown_stage(session, stage: str, *, include_data: bool = False, dry_run: bool = False) -> ProvisionReport:
    """Remove what ensure_stage made; the table and the budget document only with include_data."""
    validate_request(stage, "-", None)
    with aws_errors(session.region_name):
        place = locate(session, stage)
        sqs, events = session.client("sqs"), session.client("events")
        dynamodb, ssm = session.client("dynamodb"), session.client("ssm")

        def remove_rule(name: str) -> None:
            targets = [target["Id"] for target in events.list_targets_by_rule(Rule=name)["Targets"]]
            if targets:
                events.remove_targets(Rule=name, Ids=targets)
            events.delete_rule(Name=name)

        outcomes = [_remove("event-rule", name, _rule_exists(events, name), True, dry_run,
                            partial(remove_rule, name)) for name in rule_names(stage)]
        for name in (naming.interruption_queue(stage), naming.interruption_dlq(stage)):
            url = _queue_url(sqs, name)
            outcomes.append(_remove("sqs-queue", name, url is not None, True, dry_run,
                                    partial(sqs.delete_queue, QueueUrl=url)))
        for name, allowed in ((naming.slack_webhook_parameter(stage), True),
                              (naming.slack_signing_secret_parameter(stage), True),
                              (naming.slack_allow_list_parameter(stage), include_data),
                              (naming.budget_parameter(stage), include_data)):
            outcomes.append(_remove("ssm-parameter", name, _parameter(ssm, name) is not None, allowed, dry_run,
                                    partial(ssm.delete_parameter, Name=name)))
        table = naming.table(stage)
        outcomes.append(_remove("dynamodb-table", table, _table(dynamodb, table) is not None, include_data, dry_run,
                                lambda: dynamodb.delete_table(TableName=table)))
        outcomes.extend(remove_watch(session, place, dry_run))
    return ProvisionReport(stage, place.region, dry_run, tuple(outcomes))


def _remove(kind: str, name: str, exists: bool, allowed: bool, dry_run: bool,
            delete: Callable[[], object]) -> ResourceOutcome:
    if not exists:
        return ResourceOutcome(kind, name, "absent")
    if not allowed:
        return ResourceOutcome(kind, name, "kept", "data: pass --include-data to remove")
    if not dry_run:
        delete()
    return ResourceOutcome(kind, name, "would-delete" if dry_run else "deleted")


def _rule_exists(events, name: str) -> bool:
    try:
        events.describe_rule(Name=name)
        return True
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        return False
