"""Move interruption messages from the DLQ back to the queue (`costguard events redrive`), once Slack answers.

SQS's own StartMessageMoveTask does this server-side, but moto (the sandbox's AWS) does not implement it, so the
move is receive → SendMessageBatch → DeleteMessageBatch, 10 at a time: a message leaves the DLQ only after the
queue accepted its copy (none is lost; one whose delete failed is moved twice at worst, and the idempotency
ledger keeps its alert to one). The redriven copy starts with a fresh receive count on the queue.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from chalice_app.errors import CostguardError, error_code

BATCH = 10  # ReceiveMessage, SendMessageBatch and DeleteMessageBatch take at most 10
HIDE_SECONDS = 60  # a received message stays hidden this long: a copy that could not be sent returns to the DLQ
MISSING_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


@dataclass
class RedriveReport:
    moved: int = 0
    failed: list[str] = field(default_factory=list)  # "<message id>: <code>", left on the DLQ


def queue_url(sqs, name: str, what: str) -> str:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if error_code(error) in MISSING_QUEUE:
            raise CostguardError(f"the {what} {name!r} does not exist (is the stage deployed? `costguard "
                                 f"bootstrap` creates it)") from None
        raise


def _copies(messages: list[dict]) -> list[dict]:
    entries = []
    for index, message in enumerate(messages):
        entry = {"Id": str(index), "MessageBody": message["Body"]}
        if message.get("MessageAttributes"):
            entry["MessageAttributes"] = message["MessageAttributes"]
        entries.append(entry)
    return entries


def redrive(sqs, dlq_url: str, queue_url_: str, limit: int) -> RedriveReport:
    """Move up to `limit` messages; stops when a receive finds the DLQ empty."""
    report = RedriveReport()
    while report.moved + len(report.failed) < limit:
        wanted = min(BATCH, limit - report.moved - len(report.failed))
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=0,
                                       VisibilityTimeout=HIDE_SECONDS,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            break
        sent = sqs.send_message_batch(QueueUrl=queue_url_, Entries=_copies(messages))
        report.failed += [f"{messages[int(failure['Id'])]['MessageId']}: {failure.get('Code')}"
                          for failure in sent.get("Failed", [])]
        accepted = [messages[int(success["Id"])] for success in sent.get("Successful", [])]
        if accepted:
            deleted = sqs.delete_message_batch(QueueUrl=dlq_url, Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(accepted)])
            # A copy whose original could not be deleted still went out: counted as moved (the ledger dedupes).
            report.failed += [f"{accepted[int(failure['Id'])]['MessageId']}: not deleted from the DLQ "
                              f"({failure.get('Code')})" for failure in deleted.get("Failed", [])]
        report.moved += len(accepted)
    return report
