"""Thread roots (bot only): the first message naming a thread key (e.g. an instance id) starts a thread; later
messages with that key reply in it. Roots are kept in the stage's DynamoDB table (`thread#<key>`), so they survive
Lambda containers."""
from __future__ import annotations

import time
from typing import Callable, Protocol

import boto3

from chalice_app.conditional import condition_held
from chalice_app.table_keys import thread_id

THREAD_TTL_SECONDS = 14 * 24 * 3600


class ThreadStore(Protocol):
    def get(self, key: str, channel: str) -> str | None: ...

    def put(self, key: str, channel: str, ts: str) -> None: ...


class DynamoThreadStore:
    """Thread roots in the stage table as `thread#<key>` items, expiring after `ttl_seconds` (TTL `expiration`)."""

    def __init__(self, table_name: str, client=None, ttl_seconds: int = THREAD_TTL_SECONDS,
                 clock: Callable[[], float] = time.time):
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._ttl = ttl_seconds
        self._clock = clock

    def get(self, key: str, channel: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key={"id": {"S": thread_id(key)}},
                                     ConsistentRead=True).get("Item")
        if not item or item.get("channel", {}).get("S") != channel:
            return None
        if int(item.get("expiration", {}).get("N", "0")) <= self._clock():
            return None  # TTL deletion is lazy; an expired root is treated as gone
        return item["ts"]["S"]

    def put(self, key: str, channel: str, ts: str) -> None:
        item = {
            "id": {"S": thread_id(key)},
            "channel": {"S": channel},
            "ts": {"S": ts},
            "expiration": {"N": str(int(self._clock()) + self._ttl)},
        }
        # First writer wins, so concurrent containers agree on one thread per key.
        condition_held(self._client, lambda: self._client.put_item(
            TableName=self._table, Item=item,
            ConditionExpression="attribute_not_exists(id) OR #expiration < :now",
            ExpressionAttributeNames={"#expiration": "expiration"},
            ExpressionAttributeValues={":now": {"N": str(int(self._clock()))}}))


def thread_for(keys: tuple[str, ...], known: Callable[[str], str | None]) -> str | None:
    """The thread root of the first key that has one."""
    for key in keys:
        ts = known(key)
        if ts:
            return ts
    return None
