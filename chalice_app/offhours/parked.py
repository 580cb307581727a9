"""The restore counts of what off-hours parked, kept in the stage's DynamoDB table so nothing in the cluster can
erase them (a redeploy replaces a Deployment's annotations, faas-netes pkg/handlers/update.go).

Items (partition key `id`, TTL attribute `expiration`):
- `offhours#function#<namespace>#<name>`: `replicas` (the evening count), `uid` (of the Deployment parked),
  `parked_at`. Written with `attribute_not_exists(id)` BEFORE the patch that parks the function; deleted after the
  patch that restores it. The annotation `costguard.openfaas.com/original-replicas` is only a visible mirror.
- `offhours#nodepool#<name>`: `limits` (JSON) or `replicas` (static pools), same lifecycle.
- `offhours#wake#<namespace>#<name>`: a woken function's last invocation counter and when it last changed.
- `offhours#note#<day>#<key>`: once-a-day notes (the run whose conditional put succeeds sends it).

The TTL is a safety net only (a record of a function deleted for good); live records are refreshed each night.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

KEEP = timedelta(days=30)  # longer than any holiday week a schedule may park a function for
TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit
BATCH_GET_KEYS = 100  # BatchGetItem's limit
BATCH_WRITE_ITEMS = 25  # BatchWriteItem's limit


def function_id(namespace: str, name: str) -> str:
    return f"offhours#function#{namespace}#{name}"


def nodepool_id(name: str) -> str:
    return f"offhours#nodepool#{name}"


def wake_id(namespace: str, name: str) -> str:
    return f"offhours#wake#{namespace}#{name}"


def note_id(day: str, key: str) -> str:
    return f"offhours#note#{day}#{key}"


@dataclass(frozen=True, slots=True)
class ParkedFunction:
    replicas: int
    uid: str = ""
    parked_at: str = ""

    def item(self) -> dict:
        return {"replicas": self.replicas, "uid": self.uid, "parked_at": self.parked_at}

    @classmethod
    def from_item(cls, item: dict) -> "ParkedFunction":
        return cls(int(item["replicas"]), str(item.get("uid", "")), str(item.get("parked_at", "")))


@dataclass(frozen=True, slots=True)
class ParkedPool:
    limits: dict | None = None  # the limits to put back (dynamic pools)
    replicas: int | None = None  # the replicas to put back (static pools)
    parked_at: str = ""

    def item(self) -> dict:
        item: dict = {"parked_at": self.parked_at} if self.parked_at else {}
        if self.limits is not None:
            item["limits"] = json.dumps(self.limits, sort_keys=True)
        if self.replicas is not None:
            item["replicas"] = self.replicas
        return item

    @classmethod
    def from_item(cls, item: dict) -> "ParkedPool":
        limits = json.loads(item["limits"]) if "limits" in item else None
        return cls(limits if isinstance(limits, dict) else None,
                   int(item["replicas"]) if "replicas" in item else None, str(item.get("parked_at", "")))


@dataclass(frozen=True, slots=True)
class WakeState:
    counter: float  # gateway_function_invocation_total summed over codes, as last read
    changed_at: datetime  # when that counter was last seen to change (or the wake-up was first seen)

    def item(self) -> dict:
        return {"counter": str(self.counter), "changed_at": self.changed_at.isoformat()}

    @classmethod
    def from_item(cls, item: dict) -> "WakeState":
        return cls(float(item["counter"]), datetime.fromisoformat(item["changed_at"]))


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class DynamoParkedStore:
    """The records above in the stage table, through one thread-safe boto3 client (the reconcile's workers share
    it). Reads and writes are batched: 10,000 functions cost 100 BatchGetItem calls, not 10,000 GetItem."""

    def __init__(self, table_name: str, client=None, region: str | None = None):
        self._table = table_name
        self._client = client or boto3.client("dynamodb", region_name=region)
        self._to, self._from = TypeSerializer(), TypeDeserializer()

    def _encode(self, item: dict) -> dict:
        return {key: self._to.serialize(value) for key, value in item.items()}

    def _decode(self, item: dict) -> dict:
        return {key: self._from.deserialize(value) for key, value in item.items()}

    def get_many(self, ids: Iterable[str]) -> dict[str, dict]:
        wanted, found = list(dict.fromkeys(ids)), {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            request = {self._table: {"Keys": [{"id": {"S": key}} for key in wanted[start:start + BATCH_GET_KEYS]],
                                     "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    decoded = self._decode(item)
                    found[decoded["id"]] = decoded
                request = response.get("UnprocessedKeys") or None
        return found

    def put_new(self, items: dict[str, dict], now: datetime) -> set[str]:
        """Write items that do not exist yet (conditional); the ids written. An id already there is not
        overwritten: it holds an earlier, truer count (e.g. a run that wrote it and then failed to patch)."""
        written: set[str] = set()
        ids = list(items)
        for start in range(0, len(ids), TRANSACTION_ITEMS):
            chunk = ids[start:start + TRANSACTION_ITEMS]
            try:
                self._client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self._table, "Item": self._encode(self._full(key, items[key], now)),
                             "ConditionExpression": "attribute_not_exists(id)"}} for key in chunk])
                written.update(chunk)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                written.update(key for key in chunk if self._put_one(key, items[key], now, conditional=True))
        return written

    def put(self, key: str, item: dict, now: datetime) -> None:
        self._put_one(key, item, now, conditional=False)

    def _full(self, key: str, item: dict, now: datetime) -> dict:
        return {"id": key, **item, "expiration": _epoch(now + KEEP)}

    def _put_one(self, key: str, item: dict, now: datetime, conditional: bool) -> bool:
        extra = {"ConditionExpression": "attribute_not_exists(id)"} if conditional else {}
        try:
            self._client.put_item(TableName=self._table, Item=self._encode(self._full(key, item, now)), **extra)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def delete_many(self, ids: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), BATCH_WRITE_ITEMS):
            request = {self._table: [{"DeleteRequest": {"Key": {"id": {"S": key}}}}
                                     for key in wanted[start:start + BATCH_WRITE_ITEMS]]}
            while request:
                request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None

    def claim_note(self, key: str, now: datetime) -> bool:
        """True for the one run that may send this note today."""
        return self._put_one(note_id(now.date().isoformat(), key), {}, now - KEEP + timedelta(days=2),
                             conditional=True)

    def release_note(self, key: str, now: datetime) -> None:
        """The note could not be delivered: let the next run try again."""
        self._client.delete_item(TableName=self._table, Key={"id": {"S": note_id(now.date().isoformat(), key)}})


class MemoryParkedStore:
    """The same interface in memory: for `costguard offhours plan`'s dry runs against a copy, and for tests."""

    def __init__(self, items: dict[str, dict] | None = None):
        self.items: dict[str, dict] = dict(items or {})
        self.calls: list[tuple[str, tuple]] = []

    def get_many(self, ids):
        ids = list(ids)
        self.calls.append(("get_many", tuple(ids)))
        return {key: dict(self.items[key], id=key) for key in ids if key in self.items}

    def put_new(self, items, now):
        self.calls.append(("put_new", tuple(items)))
        written = {key for key in items if key not in self.items}
        self.items.update({key: dict(items[key]) for key in written})
        return written

    def put(self, key, item, now):
        self.calls.append(("put", (key,)))
        self.items[key] = dict(item)

    def delete_many(self, ids):
        ids = list(ids)
        self.calls.append(("delete_many", tuple(ids)))
        for key in ids:
            self.items.pop(key, None)

    def claim_note(self, key, now):
        full = note_id(now.date().isoformat(), key)
        if full in self.items:
            return False
        self.items[full] = {}
        return True

    def release_note(self, key, now):
        self.items.pop(note_id(now.date().isoformat(), key), None)
