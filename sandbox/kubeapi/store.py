"""In-memory object store: one bucket per resource type, objects kept pre-serialized, a global resourceVersion.

Every object is held twice: the dict (for selectors and patches; never handed out or mutated) and its JSON bytes
(list pages are the bytes joined, so a page costs O(page) after a binary search in the sorted keys).
"""
from __future__ import annotations

import base64
import binascii
import gc
import json
import threading
import uuid
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from sandbox.kubeapi import errors
from sandbox.kubeapi.resources import RESOURCES, ResourceType, by_kind

Key = tuple[str, str]  # (namespace or "", name)
_LAST_KEY = "\U0010ffff"


def dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def now_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    obj: dict      # never mutated once stored
    raw: bytes     # dumps(obj)

    def copy(self) -> dict:
        return json.loads(self.raw)


@dataclass(frozen=True)
class Page:
    raws: list[bytes]
    continue_token: str | None
    remaining: int | None
    resource_version: str


class _Bucket:
    def __init__(self) -> None:
        self.entries: dict[Key, Entry] = {}
        self._sorted: list[Key] | None = []

    def sorted_keys(self) -> list[Key]:
        if self._sorted is None:
            self._sorted = sorted(self.entries)
        return self._sorted

    def set(self, key: Key, entry: Entry, bulk: bool = False) -> None:
        is_new = key not in self.entries
        self.entries[key] = entry
        if is_new:
            if bulk or self._sorted is None:
                self._sorted = None
            else:
                insort(self._sorted, key)

    def pop(self, key: Key) -> Entry | None:
        entry = self.entries.pop(key, None)
        if entry is not None and self._sorted is not None:
            index = bisect_left(self._sorted, key)
            del self._sorted[index]
        return entry


def encode_continue(resource_version: int, key: Key) -> str:
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": list(key)})
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_continue(token: str) -> Key:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        namespace, name = data["start"]
        return str(namespace), str(name)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.bad_request(f"continue key is not valid: {token!r}") from None


class Store:
    """Thread-safe. `validate(resource, obj)` (defaults + schema, in place) runs when seeding custom kinds; the
    HTTP handlers admit objects themselves before `create`/`replace`."""

    def __init__(self, validate: Callable[[ResourceType, dict], None] | None = None):
        self._lock = threading.RLock()
        self._buckets = {resource: _Bucket() for resource in RESOURCES}
        self._resource_version = 0
        self._validate = validate

    # ---- seeding interface (no HTTP, no RBAC) -------------------------------------------------------------------
    def put(self, obj: dict) -> dict:
        """Create or replace; fills uid, resourceVersion, creationTimestamp; validates custom kinds."""
        with self._lock:
            return self._seed(obj, bulk=False).copy()

    def put_many(self, objs: Iterable[dict]) -> int:
        """Bulk `put` under one lock, without returning copies; the count stored. The cyclic garbage collector is
        paused meanwhile: tens of thousands of new dicts would otherwise trigger full collections over the store."""
        count = 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self._lock:
                for obj in objs:
                    self._seed(obj, bulk=True)
                    count += 1
        finally:
            if collecting:
                gc.enable()
        return count

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        entry = self.read(by_kind(api_version, kind), namespace, name)
        return entry.copy() if entry else None

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        resource = by_kind(api_version, kind)
        with self._lock:
            page = self.page(resource, namespace, None, None, None)
        return [json.loads(raw) for raw in page.raws]

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        resource = by_kind(api_version, kind)
        with self._lock:
            if self.read(resource, namespace, name) is None:
                return False
            self.remove(resource, namespace, name)
            return True

    # ---- server interface -----------------------------------------------------------------------------------------
    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def resource_version(self) -> str:
        return str(self._resource_version)

    def read(self, resource: ResourceType, namespace: str | None, name: str) -> Entry | None:
        return self._buckets[resource].entries.get(self._key(resource, namespace, name))

    def create(self, resource: ResourceType, obj: dict) -> Entry:
        with self._lock:
            metadata = obj["metadata"]
            if self.read(resource, metadata.get("namespace"), metadata["name"]) is not None:
                raise errors.already_exists(resource.plural, resource.group, metadata["name"])
            return self._write(resource, obj)

    def replace(self, resource: ResourceType, obj: dict) -> Entry:
        """Write over an existing object (callers check existence and preconditions under `lock`)."""
        with self._lock:
            return self._write(resource, obj)

    def remove(self, resource: ResourceType, namespace: str | None, name: str) -> Entry:
        with self._lock:
            entry = self._buckets[resource].pop(self._key(resource, namespace, name))
            if entry is None:
                raise errors.not_found(resource.plural, resource.group, name)
            self._resource_version += 1
            return entry

    def page(self, resource: ResourceType, namespace: str | None, predicate: Callable[[dict], bool] | None,
             limit: int | None, continue_token: str | None) -> Page:
        """One page of a list, in key order (namespace, name), resuming after the continue token's key."""
        with self._lock:
            bucket = self._buckets[resource]
            keys = bucket.sorted_keys()
            low, high = 0, len(keys)
            if namespace is not None and resource.namespaced:
                low = bisect_left(keys, (namespace, ""))
                high = bisect_right(keys, (namespace, _LAST_KEY))
            if continue_token:
                low = max(low, bisect_right(keys, decode_continue(continue_token), low, high))
            raws: list[bytes] = []
            index, last_key, more = low, None, False
            while index < high:
                key = keys[index]
                entry = bucket.entries[key]
                index += 1
                if predicate is not None and not predicate(entry.obj):
                    continue
                if limit and len(raws) == limit:
                    more = True
                    break
                raws.append(entry.raw)
                last_key = key
            token = encode_continue(self._resource_version, last_key) if more and last_key else None
            remaining = None
            if more and predicate is None:
                remaining = high - index + 1
            return Page(raws, token, remaining, str(self._resource_version))

    def objects(self, resource: ResourceType, namespace: str | None,
                predicate: Callable[[dict], bool] | None = None) -> list[dict]:
        """The stored dicts themselves, in key order: read-only, for callers holding `lock`."""
        with self._lock:
            bucket = self._buckets[resource]
            keys = bucket.sorted_keys()
            if namespace is not None and resource.namespaced:
                keys = keys[bisect_left(keys, (namespace, "")):bisect_right(keys, (namespace, _LAST_KEY))]
            found = (bucket.entries[key].obj for key in keys)
            return [obj for obj in found if predicate is None or predicate(obj)]

    # ---- internals -------------------------------------------------------------------------------------------------
    @staticmethod
    def _key(resource: ResourceType, namespace: str | None, name: str) -> Key:
        return (namespace or "") if resource.namespaced else "", name

    def _seed(self, obj: dict, bulk: bool) -> Entry:
        """Store a caller's object without keeping a reference to any part of it (the stored dict is parsed
        back from the JSON), validating custom kinds first."""
        resource = by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        if not isinstance(obj.get("metadata"), dict):
            raise ValueError(f"{resource.kind} has no metadata: {str(obj)[:200]}")
        if resource.custom and self._validate is not None:
            obj = json.loads(dumps(obj))
            self._validate(resource, obj)
        metadata = dict(obj["metadata"])
        existing = self._buckets[resource].entries.get(
            self._key(resource, metadata.get("namespace"), metadata.get("name", "")))
        if existing is not None:  # a replacement keeps the object's identity unless it names its own
            for field in ("uid", "creationTimestamp"):
                if field in existing.obj["metadata"]:
                    metadata.setdefault(field, existing.obj["metadata"][field])
        return self._write(resource, {**obj, "metadata": metadata}, bulk, detach=True)

    def _write(self, resource: ResourceType, obj: dict, bulk: bool = False, detach: bool = False) -> Entry:
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict) or not metadata.get("name"):
            raise ValueError(f"{resource.kind} has no metadata.name: {str(obj)[:200]}")
        if resource.namespaced and not metadata.get("namespace"):
            raise ValueError(f'{resource.kind} "{metadata["name"]}" is namespaced but has no metadata.namespace')
        if not resource.namespaced:
            metadata.pop("namespace", None)
        self._resource_version += 1
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("creationTimestamp", now_timestamp())
        metadata.setdefault("generation", 1)
        metadata["resourceVersion"] = str(self._resource_version)
        raw = dumps(obj)
        entry = Entry(json.loads(raw) if detach else obj, raw)
        self._buckets[resource].set(self._key(resource, metadata.get("namespace"), metadata["name"]), entry, bulk)
        return entry
