"""Partial batch failures without ReportBatchItemFailures (Chalice's SQS event source cannot turn it on).

The classic pattern: delete the messages that succeeded ourselves, then raise naming the ones that failed. Lambda
then leaves the whole batch to SQS, but only the failed messages are still on the queue, so only they come back
(after the visibility timeout), and the redrive policy moves one to the DLQ after 5 receives. When everything
succeeded the handler returns normally and Lambda deletes the batch itself.

The queue's visibility timeout (~30 min) is far too late for a two-minute spot warning, so the failed messages are
first made visible again sooner: 30 s, doubling with each receive, at most 300 s.
"""
from __future__ import annotations

from typing import Sequence

from chalice_app.errors import CostguardError
from chalice_app.observability import logger

DELETE_BATCH = 10  # SQS DeleteMessageBatch (and ChangeMessageVisibilityBatch) take at most 10 entries
RETRY_VISIBILITY_SECONDS = 30
RETRY_VISIBILITY_CAP_SECONDS = 300


class BatchItemsFailed(CostguardError):
    def __init__(self, failed: Sequence[str], reasons: Sequence[str] = ()):
        self.failed = list(failed)
        why = f"; {'; '.join(reasons[:3])}" if reasons else ""
        super().__init__(f"{len(self.failed)} interruption messages failed and will be redelivered: "
                         f"{', '.join(self.failed[:20])}{' …' if len(self.failed) > 20 else ''}{why}")


def queue_of(arn: str) -> tuple[str, str]:
    """arn:aws:sqs:<region>:<account>:<name> → (account, name)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise CostguardError(f"eventSourceARN is not an SQS queue ARN: {arn!r}")
    return parts[4], parts[5]


def _by_queue(records: Sequence[dict], message_ids: Sequence[str]) -> dict[str, list[dict]]:
    wanted = set(message_ids)
    by_queue: dict[str, list[dict]] = {}
    for record in records:
        if record.get("messageId") in wanted and record.get("receiptHandle"):
            by_queue.setdefault(record["eventSourceARN"], []).append(record)
    return by_queue


def delete_messages(sqs, records: Sequence[dict], message_ids: Sequence[str]) -> int:
    """Delete these messages from their queues; returns how many SQS confirmed. Failures are logged, not raised:
    an undeleted message comes back and the idempotency record makes its second pass a no-op."""
    deleted = 0
    for arn, queued in _by_queue(records, message_ids).items():
        account, name = queue_of(arn)
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        for start in range(0, len(queued), DELETE_BATCH):
            chunk = queued[start:start + DELETE_BATCH]
            response = sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"]} for index, record in enumerate(chunk)])
            deleted += len(response.get("Successful", []))
            for failure in response.get("Failed", []):
                logger.warning("could not delete a processed message", extra={
                    "message_id": chunk[int(failure["Id"])]["messageId"], "code": failure.get("Code")})
    return deleted


def retry_visibility_seconds(record: dict) -> int:
    """30 s after the first receive, doubling with each later one, capped at 300 s."""
    try:
        receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
    except (TypeError, ValueError):
        receives = 1
    return min(RETRY_VISIBILITY_CAP_SECONDS, RETRY_VISIBILITY_SECONDS * 2 ** min(max(receives, 1) - 1, 10))


def hasten_retries(sqs, records: Sequence[dict], message_ids: Sequence[str]) -> int:
    """Shorten the failed messages' visibility timeout so they come back soon; returns how many SQS confirmed.
    Never raises: the caller must still raise BatchItemsFailed, and a message left at the queue's timeout still
    comes back, only later."""
    changed = 0
    for arn, queued in _by_queue(records, message_ids).items():
        try:
            account, name = queue_of(arn)
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            for start in range(0, len(queued), DELETE_BATCH):
                chunk = queued[start:start + DELETE_BATCH]
                response = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"],
                     "VisibilityTimeout": retry_visibility_seconds(record)} for index, record in enumerate(chunk)])
                changed += len(response.get("Successful", []))
                for failure in response.get("Failed", []):
                    logger.warning("could not shorten a failed message's visibility", extra={
                        "message_id": chunk[int(failure["Id"])]["messageId"], "code": failure.get("Code")})
        except Exception as error:  # noqa: BLE001 - logged; BatchItemsFailed must still be what the handler raises
            logger.warning("could not shorten failed messages' visibility; they return after the queue's timeout",
                           extra={"queue": arn, "messages": len(queued), "error": type(error).__name__})
    return changed
