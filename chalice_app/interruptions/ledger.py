"""Exactly-once alerting: Powertools Idempotency records in the stage table, one per EventBridge event id.

`idempotent_function` wraps one call, but one Slack message carries many notices, so the steps it does around a
call are split around the batch's send:

    claim   (conditional put of an INPROGRESS record)  before acting and sending,
    done    (the record becomes COMPLETED)              after the message carrying the notice was accepted,
    release (the record is deleted)                     when that message failed, so a redelivery alerts again.

A claim that finds COMPLETED means "already alerted" (skip); one that finds a live INPROGRESS means another
invocation is on it (the message is reported failed: SQS redelivers it and the retry then finds COMPLETED). If
the Lambda dies between send and done, the in-progress record expires with the invocation's remaining time and
the redelivered message alerts once more: at most one duplicate after a crash, never a lost alert.

One notice at a time this is Powertools' DynamoDBPersistenceLayer as is (`claim`, `done`, `release`). A burst
of 15,000 notices would be 30,000 round trips, so `BatchedPersistenceLayer` writes the very same records (keys,
attributes, the same put condition) 100 per TransactWriteItems and 25 per BatchWriteItem.
"""
from __future__ import annotations

import json
import time
from enum import Enum
from typing import Callable, Sequence

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS

from chalice_app.errors import StageTableError
from chalice_app.interruptions.notice import Notice
from chalice_app.table_keys import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, TRANSACTION_LIMIT
from chalice_app.table_keys import NOTICE_KEY_PREFIX as KEY_PREFIX

RECORD_LIFETIME_SECONDS = 7 * 24 * 3600  # longer than SQS keeps a message (4 days by default) plus DLQ redrives
DEFAULT_REMAINING_MS = 15 * 60 * 1000  # outside Lambda: the longest a Lambda invocation can run
UNPROCESSED_RETRIES = 8
RESULT = json.dumps({"alerted": True}, sort_keys=True)


class Claim(str, Enum):
    NEW = "new"  # ours to alert
    DONE = "done"  # alerted before: skip
    BUSY = "busy"  # another invocation holds it: retry later


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def batch_write(client, table: str, requests: list[dict], what: str) -> int:
    """BatchWriteItem 25 at a time, retrying what DynamoDB leaves unprocessed (with backoff); returns the calls."""
    calls = 0
    for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
        items = {table: chunk}
        for attempt in range(UNPROCESSED_RETRIES):
            calls += 1
            items = client.batch_write_item(RequestItems=items).get("UnprocessedItems") or {}
            if not items:
                break
            time.sleep(0.05 * 2 ** attempt)
        if items:
            raise StageTableError(f"DynamoDB left {len(items[table])} {what} unprocessed")
    return calls


class BatchedPersistenceLayer(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB layer plus many-at-once versions of its put (claim), update (done) and delete."""

    def key_of(self, data: dict) -> str:
        key = self._get_hashed_idempotency_key(data=data)
        assert key is not None  # raise_on_no_idempotency_key=True: Powertools raises instead of None
        return key

    def _claim_put(self, key: str, now: float, remaining_ms: int) -> dict:
        # Same record and same condition as DynamoDBPersistenceLayer._put_record: absent, expired, or an
        # in-progress record whose invocation has timed out.
        return {"Put": {
            "TableName": self.table_name,
            "Item": {**self._get_key(key), self.status_attr: {"S": STATUS_CONSTANTS["INPROGRESS"]},
                     self.expiry_attr: {"N": str(int(now + self.expires_after_seconds))},
                     self.in_progress_expiry_attr: {"N": str(int(now * 1000 + remaining_ms))}},
            "ConditionExpression": ("attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
                                    "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_ms)"),
            "ExpressionAttributeNames": {"#id": self.key_attr, "#expiry": self.expiry_attr,
                                         "#status": self.status_attr,
                                         "#in_progress_expiry": self.in_progress_expiry_attr},
            "ExpressionAttributeValues": {":now": {"N": str(int(now))}, ":now_ms": {"N": str(int(now * 1000))},
                                          ":inprogress": {"S": STATUS_CONSTANTS["INPROGRESS"]}},
        }}

    def put_inprogress_many(self, keys: Sequence[str], remaining_ms: int) -> set[str]:
        """Claim what can be claimed; returns the keys that already had a live record."""
        taken: set[str] = set()
        pending = list(keys)
        while pending:
            chunk, pending = pending[:TRANSACTION_LIMIT], pending[TRANSACTION_LIMIT:]
            now = time.time()
            try:
                self.client.transact_write_items(TransactItems=[self._claim_put(k, now, remaining_ms) for k in chunk])
            except self.client.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons") or []
                if len(reasons) != len(chunk):
                    raise
                failed = {key for key, reason in zip(chunk, reasons) if reason.get("Code") == "ConditionalCheckFailed"}
                if not failed:
                    raise  # cancelled for another reason (throttling, conflict): let the batch be retried
                taken |= failed
                pending = [key for key in chunk if key not in failed] + pending  # the rest was rolled back
        return taken

    def statuses(self, keys: Sequence[str]) -> dict[str, str]:
        """Key → status of the records that exist (consistent reads)."""
        found: dict[str, str] = {}
        for chunk in _chunks(list(keys), BATCH_GET_LIMIT):
            request = {self.table_name: {"Keys": [self._get_key(k) for k in chunk], "ConsistentRead": True}}
            for _ in range(UNPROCESSED_RETRIES):
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item[self.key_attr]["S"]] = item[self.status_attr]["S"]
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def _write_many(self, requests: list[dict]) -> None:
        batch_write(self.client, self.table_name, requests, "idempotency writes")

    def put_completed_many(self, keys: Sequence[str]) -> None:
        expiry = str(self._get_expiry_timestamp())
        self._write_many([{"PutRequest": {"Item": {
            **self._get_key(k), self.status_attr: {"S": STATUS_CONSTANTS["COMPLETED"]},
            self.expiry_attr: {"N": expiry}, self.data_attr: {"S": RESULT}}}} for k in keys])

    def delete_many(self, keys: Sequence[str]) -> None:
        self._write_many([{"DeleteRequest": {"Key": self._get_key(k)}} for k in keys])


class NoticeLedger:
    def __init__(self, table_name: str, client=None, remaining_ms: Callable[[], int] | None = None,
                 lifetime_seconds: int = RECORD_LIFETIME_SECONDS):
        self._store = BatchedPersistenceLayer(table_name=table_name, key_attr="id", expiry_attr="expiration",
                                              boto3_client=client)
        config = IdempotencyConfig(event_key_jmespath="event_id", raise_on_no_idempotency_key=True,
                                   expires_after_seconds=lifetime_seconds)
        self._store.configure(config, key_prefix=KEY_PREFIX)
        self._remaining_ms = remaining_ms or (lambda: DEFAULT_REMAINING_MS)

    @staticmethod
    def _data(notice: Notice) -> dict:
        return {"event_id": notice.event_id}

    # One notice: Powertools' own operations.
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
                done = record is not None and record.status == STATUS_CONSTANTS["COMPLETED"]
                return Claim.DONE if done else Claim.BUSY
        return Claim.BUSY

    def done(self, notice: Notice) -> None:
        self._store.save_success(self._data(notice), result={"alerted": True})

    def release(self, notice: Notice, reason: Exception) -> None:
        self._store.delete_record(self._data(notice), exception=reason)

    # A batch: the same records, many per request.
    def _keys(self, notices: Sequence[Notice]) -> list[str]:
        return [self._store.key_of(self._data(notice)) for notice in notices]

    def claim_all(self, notices: Sequence[Notice]) -> list[Claim]:
        keys = self._keys(notices)
        taken = self._store.put_inprogress_many(keys, self._remaining_ms())
        statuses = self._store.statuses(sorted(taken)) if taken else {}
        claims = []
        for notice, key in zip(notices, keys):
            if key not in taken:
                claims.append(Claim.NEW)
            elif key not in statuses:  # gone between the put and the read: claim it on its own
                claims.append(self.claim(notice))
            else:
                claims.append(Claim.DONE if statuses[key] == STATUS_CONSTANTS["COMPLETED"] else Claim.BUSY)
        return claims

    def done_all(self, notices: Sequence[Notice]) -> None:
        self._store.put_completed_many(self._keys(notices))

    def release_all(self, notices: Sequence[Notice], reason: Exception) -> None:
        self._store.delete_many(self._keys(notices))
