"""Lambda entry for interruption messages: build the adapters, run the batch, report, settle with SQS."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from chalice_app import config
from chalice_app.interruptions import actions as action_plan
from chalice_app.interruptions.batch import BatchPorts, BatchResult, process_batch
from chalice_app.interruptions.cluster import pods_on_node, read_snapshot
from chalice_app.interruptions.ledger import NoticeLedger
from chalice_app.interruptions.node_events import record_events
from chalice_app.interruptions.records import InterruptionRecords
from chalice_app.kube.client import api_client
from chalice_app.observability import instrumented, logger, metrics
from chalice_app.runlog import record_run_quietly
from chalice_app.slack.message import SlackMessage


class _Lazy:
    """Build an adapter on first use: a batch of ignored events never reads SSM nor opens the cluster."""

    def __init__(self, factory):
        self._factory = factory
        self._value = None
        self._built = False

    def __call__(self):
        if not self._built:
            self._value, self._built = self._factory(), True
        return self._value


def _notifier(settings: config.Settings):
    from chalice_app.slack.notifier import notifier_from_settings  # SSM and Slack's adapters: only to send

    return notifier_from_settings(settings)


def _sender(notifier: _Lazy):
    def send(message: SlackMessage):
        return notifier().send(message)
    return send


def _actor(settings: config.Settings, api: _Lazy):
    def act(action: action_plan.NodeAction) -> action_plan.ActionOutcome:
        if settings.dry_run:
            pods = pods_on_node(api(), action.node) if action.action is action_plan.Action.CORDON_AND_DRAIN else []
            outcome = action_plan.dry_run_outcome(action, pods)
            logger.info("dry run: would act on node", extra={"node": action.node, "action": action.action.value,
                                                             "would_evict": list(outcome.evicted)})
            return outcome
        from chalice_app.interruptions.kube_actions import apply_action  # only pools configured to cordon or drain

        return apply_action(api(), action)
    return act


def build_ports(settings: config.Settings, context=None) -> BatchPorts:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    dynamodb = boto3.client("dynamodb", region_name=settings.region)
    ledger = NoticeLedger(settings.table_name, client=dynamodb, remaining_ms=remaining)
    table = InterruptionRecords(settings.table_name, dynamodb)
    api = _Lazy(lambda: api_client(settings))
    notifier = _Lazy(lambda: _notifier(settings))
    return BatchPorts(
        claim_all=ledger.claim_all, done_all=ledger.done_all, release_all=ledger.release_all,
        read_cluster=lambda: read_snapshot(api(), settings.function_namespaces),
        act=_actor(settings, api),
        plan_actions=partial(action_plan.plan_actions, per_pool=settings.interruption_actions,
                             default=settings.default_interruption_action,
                             rebalance_pools=frozenset(settings.interruption_rebalance_pools)),
        send=_sender(notifier), clock=lambda: datetime.now(timezone.utc), cluster_name=settings.cluster_name,
        recall=table.recall, remember=table.remember, add_counts=table.add_counts,
        record_events=lambda bodies: record_events(api(), bodies) if bodies and not settings.dry_run else [])


def report(result: BatchResult) -> None:
    for message_id, why in result.decoded.malformed:
        logger.error("malformed interruption message", extra={"message_id": message_id, "problem": why})
    for message_id, why in result.decoded.ignored:
        logger.debug("ignored event", extra={"message_id": message_id, "reason": why})
    for message_id, notice in result.decoded.foreign:
        logger.warning("event from another account or region, or of unknown origin: not acted on", extra={
            "message_id": message_id, "account": notice.account, "region": notice.region,
            "delivered_region": notice.delivered_region})
    for name, value in sorted(result.counts.items()):
        metrics.add_metric(name=f"Interruptions.{name}", unit=MetricUnit.Count, value=value)
    logger.info("interruption batch done", extra={
        "counts": dict(result.counts), "failed": len(result.failed), "kube_requests": result.kube_requests,
        "actions": [outcome.node for outcome in result.outcomes], "errors": result.errors})


def run(event: dict, context, settings: config.Settings, ports: BatchPorts, sqs=None) -> dict:
    records = event.get("Records") or []
    result = process_batch(records, settings.region, ports)
    report(result)
    if result.messages or result.failed:  # batches of ignored events are not worth a status line
        record_run_quietly(settings.table_name, "interruptions",
                           {"messages": len(records), **dict(result.counts), "failed": len(result.failed)},
                           ok=not result.failed, alerts=[message.text for message in result.messages])
    if result.failed:
        from chalice_app.interruptions.sqs_batch import BatchItemsFailed, delete_messages, hasten_retries

        sqs = sqs or boto3.client("sqs", region_name=settings.region)
        hasten_retries(sqs, records, result.failed)  # a spot warning cannot wait out the queue's 30 min timeout
        delete_messages(sqs, records, result.succeeded)
        raise BatchItemsFailed(result.failed, result.errors)
    return {"messages": len(records), "alerts_sent": result.counts.get("alerts_sent", 0)}


@instrumented()
def handle(event: dict, context) -> dict:
    settings = config.settings()
    return run(event, context, settings, build_ports(settings, context))
