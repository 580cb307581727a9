"""The restore counts of what off-hours parked, kept in the stage's DynamoDB table so nothing in the cluster can
erase them (a redeploy replaces a Deployment's annotations, faas-netes pkg/handlers/update.go).

Items (partition key `id`, TTL attribute `expiration`):
- a function's record (`function_id`): `replicas` (the evening count), `uid` (of the Deployment parked),
  `parked_at`; kept in per-namespace shard items (see DynamoParkedStore). Added, never overwritten, BEFORE the patch
  that parks the function; removed after the patch that restores it. The annotation
  `costguard.openfaas.com/original-replicas` is only a visible mirror.
- `offhours#nodepool#<name>`: `limits` (JSON) or `replicas` (static pools), same lifecycle.
- `offhours#wake#<namespace>#<name>`: a woken function's last invocation counter and when it last changed.
- `offhours#note#<day>#<key>`: once-a-day notes (the run whose conditional put succeeds sends it).

The TTL is a safety net only (a record of a function deleted for good); live records are refreshed each night.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

import boto3
from boto3.dynamodb.types import TypeSerializer

from chalice_app.conditional import condition_held
from chalice_app.errors import StageTableError
from chalice_app.table_keys import BATCH_WRITE_LIMIT, FUNCTION_PREFIX, note_id, shard_id
from chalice_app.table_reads import batch_get

KEEP = timedelta(days=30)  # longer than any holiday week a schedule may park a function for
SHARD_ATTEMPTS = 5


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
    """The records above in the stage table, through one boto3 client (thread-safe; writes happen from the run's
    main thread, before and after the parallel patches).

    Function records are many, so they are kept in shards: item `offhours#functions#<namespace>#<nn>` holds the
    records of the functions whose name hashes to shard nn (crc32 % SHARDS) as one JSON map, with a `version`.
    A shard is written with `attribute_not_exists(id) OR version = :read` and re-read and merged on a conflict, so
    two runs never lose each other's records, and adding a record never overwrites one that is there. 10,000
    functions cost one BatchGetItem and ~16 conditional PutItem calls, not 10,000 of each (~60 KB per shard).
    """

    def __init__(self, table_name: str, client=None, region: str | None = None):
        self._table = table_name
        self._client = client or boto3.client("dynamodb", region_name=region)
        self._to = TypeSerializer()
        self._shards: dict[str, tuple[int, dict]] = {}  # shard id → (version, {name: [replicas, uid, parked_at]})

    def _encode(self, item: dict) -> dict:
        return {key: self._to.serialize(value) for key, value in item.items()}

    # ---- plain items -------------------------------------------------------------------------------------------
    def _batch_get(self, ids: list[str]) -> dict[str, dict]:
        return batch_get(self._client, self._table, ids)

    def _put_one(self, key: str, item: dict, now: datetime, conditional: bool, expires: timedelta = KEEP) -> bool:
        extra = {"ConditionExpression": "attribute_not_exists(id)"} if conditional else {}
        return condition_held(self._client, lambda: self._client.put_item(
            TableName=self._table, Item=self._encode({"id": key, **item, "expiration": _epoch(now + expires)}),
            **extra))

    # ---- function records, sharded --------------------------------------------------------------------------------
    def _load_shards(self, shard_ids: set[str]) -> None:
        missing = sorted(shard_ids - set(self._shards))
        found = self._batch_get(missing) if missing else {}
        for shard in missing:
            item = found.get(shard)
            entries = json.loads(item["entries"]) if item else {}
            self._shards[shard] = (int(item["version"]) if item else 0, entries if isinstance(entries, dict) else {})

    def _change_shard(self, shard: str, change, now: datetime) -> set[str]:
        """Apply `change(entries) -> names changed` to a shard and write it conditionally; re-read on a conflict."""
        for _ in range(SHARD_ATTEMPTS):
            self._load_shards({shard})
            version, entries = self._shards[shard]
            entries = dict(entries)
            changed = change(entries)
            if not changed:
                return set()
            if condition_held(self._client, lambda: self._client.put_item(
                    TableName=self._table,
                    Item=self._encode({"id": shard, "version": version + 1, "entries": json.dumps(entries),
                                       "expiration": _epoch(now + KEEP)}),
                    ConditionExpression="attribute_not_exists(id) OR version = :read",
                    ExpressionAttributeValues={":read": {"N": str(version)}})):
                self._shards[shard] = (version + 1, entries)
                return changed
            self._shards.pop(shard, None)  # another run wrote it: read again and merge
        raise StageTableError(f"stage table item {shard} kept changing: {SHARD_ATTEMPTS} conflicting writes")

    def _by_shard(self, ids) -> dict[str, dict[str, str]]:
        """{shard id: {function name: record id}} for function record ids."""
        grouped: dict[str, dict[str, str]] = {}
        for key in ids:
            namespace, name = key[len(FUNCTION_PREFIX):].split("#", 1)
            grouped.setdefault(shard_id(namespace, name), {})[name] = key
        return grouped

    # ---- the store's interface ----------------------------------------------------------------------------------
    def get_many(self, ids: Iterable[str]) -> dict[str, dict]:
        wanted = list(dict.fromkeys(ids))
        functions = [key for key in wanted if key.startswith(FUNCTION_PREFIX)]
        others = [key for key in wanted if not key.startswith(FUNCTION_PREFIX)]
        grouped = self._by_shard(functions)
        for shard in grouped:
            self._shards.pop(shard, None)  # a new run reads afresh
        self._load_shards(set(grouped))
        found = self._batch_get(others) if others else {}
        for shard, names in grouped.items():
            entries = self._shards[shard][1]
            for name, key in names.items():
                if isinstance(entries.get(name), list) and len(entries[name]) == 3:
                    replicas, uid, parked_at = entries[name]
                    found[key] = {"id": key, "replicas": replicas, "uid": uid, "parked_at": parked_at}
        return found

    def put_new(self, items: dict[str, dict], now: datetime) -> set[str]:
        """Write records that do not exist yet; the ids written. A record already there is not overwritten: it
        holds an earlier, truer count (e.g. a run that wrote it and then failed to patch)."""
        written = {key for key, item in items.items() if not key.startswith(FUNCTION_PREFIX)
                   and self._put_one(key, item, now, conditional=True)}
        for shard, names in self._by_shard([key for key in items if key.startswith(FUNCTION_PREFIX)]).items():
            def add(entries, names=names):
                added = {name for name in names if name not in entries}
                for name in added:
                    item = items[names[name]]
                    entries[name] = [int(item["replicas"]), item.get("uid", ""), item.get("parked_at", "")]
                return added
            written |= {names[name] for name in self._change_shard(shard, add, now)}
        return written

    def put(self, key: str, item: dict, now: datetime) -> None:
        if not key.startswith(FUNCTION_PREFIX):
            self._put_one(key, item, now, conditional=False)
            return
        [(shard, names)] = self._by_shard([key]).items()
        [name] = names

        def overwrite(entries):
            entries[name] = [int(item["replicas"]), item.get("uid", ""), item.get("parked_at", "")]
            return {name}
        self._change_shard(shard, overwrite, now)

    def delete_many(self, ids: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(ids))
        others = [key for key in wanted if not key.startswith(FUNCTION_PREFIX)]
        for start in range(0, len(others), BATCH_WRITE_LIMIT):
            request: dict | None = {self._table: [{"DeleteRequest": {"Key": {"id": {"S": key}}}}
                                                  for key in others[start:start + BATCH_WRITE_LIMIT]]}
            while request:
                request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None
        for shard, names in self._by_shard([key for key in wanted if key.startswith(FUNCTION_PREFIX)]).items():
            def remove(entries, names=names):
                gone = {name for name in names if name in entries}
                for name in gone:
                    del entries[name]
                return gone
            self._change_shard(shard, remove, datetime.now(timezone.utc))

    def claim_note(self, key: str, now: datetime) -> bool:
        """True for the one run that may send this note today."""
        return self._put_one(note_id(now.date().isoformat(), key), {}, now, conditional=True,
                             expires=timedelta(days=2))

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
