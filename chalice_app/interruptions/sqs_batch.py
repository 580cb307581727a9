"""Partial batch failures without ReportBatchItemFailures (Chalice's SQS event source cannot turn it on).

The classic pattern: delete the messages that succeeded ourselves, then raise naming the ones that failed. Lambda
then leaves the whole batch to SQS, but only the failed messages are still on the queue, so only they come back
(after the visibility timeout), and the redrive policy moves one to the DLQ after 5 receives. When everything
succeeded the handler returns normally and Lambda deletes the batch itself.
"""
from __future__ import annotations

from typing import Sequence

from chalice_app.errors import CostguardError
from chalice_app.observability import logger

DELETE_BATCH = 10  # SQS DeleteMessageBatch takes at most 10 entries


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


def delete_messages(sqs, records: Sequence[dict], message_ids: Sequence[str]) -> int:
    """Delete these messages from their queues; returns how many SQS confirmed. Failures are logged, not raised:
    an undeleted message comes back and the idempotency record makes its second pass a no-op."""
    wanted = set(message_ids)
    by_queue: dict[str, list[dict]] = {}
    for record in records:
        if record.get("messageId") in wanted and record.get("receiptHandle"):
            by_queue.setdefault(record["eventSourceARN"], []).append(record)
    deleted = 0
    for arn, queued in by_queue.items():
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
