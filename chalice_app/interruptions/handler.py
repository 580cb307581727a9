"""Lambda entry for interruption messages: build the adapters, run the batch, report, settle with SQS."""
from __future__ import annotations

import gc
from contextlib import contextmanager

from aws_lambda_powertools.metrics import MetricUnit

from chalice_app import aws_clients, config
from chalice_app.interruptions.batch import BatchResult, process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.observability import instrumented, logger, metrics
from chalice_app.runlog import record_run_quietly


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


@contextmanager
def collector_paused():
    """The cyclic garbage collector off for one batch: a 10,000-message batch allocates hundreds of thousands of
    short-lived, acyclic objects (messages, Nodes, facts), and each allocation threshold crossed would otherwise
    start a collection that walks every object of the container's imports too (about a third of the batch's CPU
    at 15,000 messages, benchmarks/bench_interruptions.py). Reference counting still frees them as they go; cycles
    made meanwhile wait for the collector's next run, after the batch, when the batch's objects are gone."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@collector_paused()
def run(event: dict, context, settings: config.Settings, ports: InterruptionPorts, sqs=None) -> dict:
    records = event.get("Records") or []
    result = process_batch(records, settings.region, ports)
    report(result)
    if result.messages or result.failed:  # batches of ignored events are not worth a status line
        record_run_quietly(settings.table_name, "interruptions",
                           {"messages": len(records), **dict(result.counts), "failed": len(result.failed)},
                           ok=not result.failed, alerts=[message.text for message in result.messages])
    if result.failed:
        from chalice_app.interruptions.sqs_batch import BatchItemsFailed, delete_messages, hasten_retries

        sqs = sqs or aws_clients.client("sqs", settings.region)
        hasten_retries(sqs, records, result.failed)  # a spot warning cannot wait out the queue's 30 min timeout
        delete_messages(sqs, records, result.succeeded)
        raise BatchItemsFailed(result.failed, result.errors)
    return {"messages": len(records), "alerts_sent": result.counts.get("alerts_sent", 0)}


@instrumented()
def handle(event: dict, context) -> dict:
    settings = config.settings()
    return run(event, context, settings, InterruptionPorts.from_settings(settings, context))
