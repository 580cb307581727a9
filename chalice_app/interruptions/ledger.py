"""Exactly-once alerting: Powertools Idempotency records in the stage table, one per EventBridge event id.

`idempotent_function` wraps one call, but one Slack message carries many notices, so the three steps it does
around a call are split around the batch's send, using the persistence layer's own public operations:

    claim   (save_inprogress: conditional put)  before acting and sending,
    done    (save_success)                      after the message carrying the notice was accepted,
    release (delete_record)                     when that message failed, so a redelivery alerts again.

A claim that finds COMPLETED means "already alerted" (skip); one that finds a live INPROGRESS means another
container is on it (report the message as failed: SQS redelivers it and the retry then sees COMPLETED). If the
Lambda dies between send and done, the in-progress record expires with the invocation's remaining time and the
redelivered message alerts once more: at most one duplicate after a crash, never a lost alert.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Callable, Iterable

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS

from chalice_app.interruptions.notice import Notice

KEY_PREFIX = "interruptions.notice"
RECORD_LIFETIME_SECONDS = 7 * 24 * 3600  # longer than SQS keeps a message (4 days by default) plus DLQ redrives
DEFAULT_REMAINING_MS = 15 * 60 * 1000  # outside Lambda: the longest a Lambda invocation can run
PARALLEL_CALLS = 16  # DynamoDB round trips are I/O: overlap them


class Claim(str, Enum):
    NEW = "new"  # ours to alert
    DONE = "done"  # alerted before: skip
    BUSY = "busy"  # another invocation holds it: retry later


class NoticeLedger:
    def __init__(self, table_name: str, client=None, remaining_ms: Callable[[], int] | None = None,
                 lifetime_seconds: int = RECORD_LIFETIME_SECONDS):
        self._store = DynamoDBPersistenceLayer(table_name=table_name, key_attr="id", expiry_attr="expiration",
                                               boto3_client=client)
        config = IdempotencyConfig(event_key_jmespath="event_id", raise_on_no_idempotency_key=True,
                                   expires_after_seconds=lifetime_seconds)
        self._store.configure(config, key_prefix=KEY_PREFIX)
        self._remaining_ms = remaining_ms or (lambda: DEFAULT_REMAINING_MS)

    @staticmethod
    def _data(notice: Notice) -> dict:
        return {"event_id": notice.event_id}

    def claim(self, notice: Notice) -> Claim:
        for _ in range(2):  # a record can vanish between the failed put and the read; then the put is retried
            try:
                self._store.save_inprogress(self._data(notice), remaining_time_in_millis=self._remaining_ms())
                return Claim.NEW
            except IdempotencyItemAlreadyExistsError as exists:
                try:
                    record = exists.old_data_record or self._store.get_record(self._data(notice))
                except IdempotencyItemNotFoundError:
                    continue
                return Claim.DONE if record.status == STATUS_CONSTANTS["COMPLETED"] else Claim.BUSY
        return Claim.BUSY

    def done(self, notice: Notice) -> None:
        self._store.save_success(self._data(notice), result={"alerted": True})

    def release(self, notice: Notice, reason: Exception) -> None:
        self._store.delete_record(self._data(notice), exception=reason)

    def claim_all(self, notices: Iterable[Notice]) -> list[Claim]:
        with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
            return list(pool.map(self.claim, notices))

    def done_all(self, notices: Iterable[Notice]) -> None:
        with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
            list(pool.map(self.done, notices))

    def release_all(self, notices: Iterable[Notice], reason: Exception) -> None:
        with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
            list(pool.map(lambda notice: self.release(notice, reason), notices))
