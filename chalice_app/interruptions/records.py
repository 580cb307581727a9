"""What the interruption feature keeps in the stage table besides idempotency records: the one home of its keys.

    hit#<instance id>        the first notice's facts of an instance (node, NodePool, NodeClaim, functions), so its
                             follow-ups are attributed and threaded after Kubernetes forgot the node; 14 days
    spot#<ISO year>-W<week>  spot warnings counted per instance type and zone; 120 days
    disrupted#<date>         Karpenter's own disruptions counted per NodePool and reason; 14 days

Counters are top-level numeric attributes `n:<a>|<b>` updated with ADD, so concurrent batches never lose a count.
The pure part (keys, items, counting) is tested without I/O; `InterruptionRecords` is the thin DynamoDB adapter.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping, Sequence

from chalice_app.interruptions.correlation import OFFHOURS_DELETION, FunctionKey, NodeFacts, NodeImpact, parse_time
from chalice_app.interruptions.ledger import batch_write
from chalice_app.interruptions.notice import NoticeKind
from chalice_app.table_keys import BATCH_GET_LIMIT, HIT_PREFIX, hit_key, spot_key

COUNT_PREFIX = "n:"
HIT_LIFETIME = timedelta(days=14)
SPOT_LIFETIME = timedelta(days=120)
DISRUPTED_LIFETIME = timedelta(days=14)
MAX_LABEL = 64  # cluster labels are untrusted: a counter's name is bounded
MAX_REMEMBERED_FUNCTIONS = 20
COUNTERS_PER_UPDATE = 50
UNPROCESSED_RETRIES = 8


def _label(value: str | None) -> str:
    text = str(value or "unknown").replace("|", "/")
    return text[:MAX_LABEL] or "unknown"


def counter_name(first: str | None, second: str | None) -> str:
    return f"{COUNT_PREFIX}{_label(first)}|{_label(second)}"


def _named(pairs: Counter) -> Counter:
    """(a, b) counts → counter names: the few distinct pairs are named once, not once per instance."""
    named: Counter = Counter()
    for (first, second), count in pairs.items():
        named[counter_name(first, second)] += count
    return named


def spot_counts(impacts: Iterable[NodeImpact]) -> Counter:
    """Spot warnings per (instance type, zone): one per instance."""
    return _named(Counter((impact.node.instance_type, impact.node.zone) for impact in impacts
                          if impact.notice.kind is NoticeKind.SPOT_INTERRUPTION))


def disruption_counts(impacts: Iterable[NodeImpact]) -> Counter:
    """Karpenter's disruptions per (NodePool, reason): one per instance."""
    return _named(Counter((impact.node.nodepool, impact.node.karpenter_reason) for impact in impacts))


def counts_of(item: Mapping[str, dict]) -> Counter:
    """A counter item (DynamoDB JSON) → Counter[(a, b)]."""
    found: Counter = Counter()
    for name, value in item.items():
        if name.startswith(COUNT_PREFIX) and "N" in value:
            first, _, second = name[len(COUNT_PREFIX):].partition("|")
            found[(first, second)] += int(value["N"])
    return found


def hit_item(impact: NodeImpact, now: datetime, at: str | None = None, expiration: str | None = None) -> dict:
    """`at` and `expiration`: `now` as written, when the caller writes many items of one batch (made once)."""
    node = impact.node
    facts = {
        "instance_id": node.instance_id, "node": node.name, "nodepool": node.nodepool, "nodeclaim": node.nodeclaim,
        "capacity_type": node.capacity_type, "instance_type": node.instance_type, "zone": node.zone,
        "created": node.created.isoformat() if node.created else None,
        "disruption_reason": node.disruption_reason, "uid": node.uid,
        "functions": [[function.namespace, function.name, count]
                      for function, count in impact.replicas[:MAX_REMEMBERED_FUNCTIONS]],
        "first_event": impact.notice.event_id, "first_kind": impact.notice.kind.value, "at": at or now.isoformat(),
    }
    return {"id": {"S": hit_key(node.instance_id)}, "facts": {"S": json.dumps(facts)},
            "expiration": {"N": expiration or hit_expiration(now)}}


def hit_expiration(now: datetime) -> str:
    return str(int((now + HIT_LIFETIME).timestamp()))


def hit_items(impacts: Iterable[NodeImpact], now: datetime) -> list[dict]:
    """The hit# items of one batch's impacts, all written at `now`."""
    at, expiration = now.isoformat(), hit_expiration(now)
    return [hit_item(impact, now, at, expiration) for impact in impacts]


def offhours_deletion_facts(instance_id: str, node: str, nodepool: str, nodeclaim: str, capacity_type: str,
                            instance_type: str, zone: str, now: datetime) -> dict:
    """The hit# facts off-hours writes before it deletes an empty NodeClaim (offhours/reaper.py): the termination
    that follows is costguard's own disruption (correlation.OFFHOURS_DELETION), never an interruption alert."""
    return {"instance_id": instance_id, "node": node, "nodepool": nodepool, "nodeclaim": nodeclaim,
            "capacity_type": capacity_type, "instance_type": instance_type, "zone": zone, "created": None,
            "disruption_reason": OFFHOURS_DELETION, "uid": None, "functions": [], "first_event": None,
            "first_kind": None, "at": now.isoformat()}


def remembered_facts(item: Mapping[str, dict]) -> tuple[NodeFacts, tuple[tuple[FunctionKey, int], ...]] | None:
    """A hit# item → (facts marked remembered, functions then); None when the item is not readable."""
    try:
        facts = json.loads(item["facts"]["S"])
        node = NodeFacts(
            name=str(facts["node"]), instance_id=str(facts["instance_id"]), nodepool=facts.get("nodepool"),
            nodeclaim=facts.get("nodeclaim"), capacity_type=str(facts.get("capacity_type") or "unknown"),
            instance_type=str(facts.get("instance_type") or "unknown"), zone=str(facts.get("zone") or ""),
            created=parse_time(facts.get("created")), unschedulable=True, resource_version=None,
            disruption_reason=facts.get("disruption_reason"), uid=facts.get("uid"), remembered=True,
            first_kind=facts.get("first_kind"))
        replicas = tuple((FunctionKey(str(ns), str(name)), int(count)) for ns, name, count in facts.get("functions", []))
    except (KeyError, TypeError, ValueError):
        return None
    return node, replicas


class InterruptionRecords:
    """The stage table's hit#, spot# and disrupted# items. Failures raise botocore's errors; the caller decides."""

    def __init__(self, table_name: str, client, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self._table = table_name
        self._client = client
        self._clock = clock
        self.requests = 0

    def _get_many(self, keys: Sequence[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            request = {self._table: {"Keys": [{"id": {"S": key}} for key in unique[start:start + BATCH_GET_LIMIT]]}}
            for _ in range(UNPROCESSED_RETRIES):
                self.requests += 1
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    found[item["id"]["S"]] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def recall(self, instance_ids: Iterable[str]) -> dict[str, tuple[NodeFacts, tuple]]:
        """Instance id → (remembered facts, functions) for every instance hit before."""
        recalled = {}
        for key, item in self._get_many([hit_key(i) for i in instance_ids]).items():
            parsed = remembered_facts(item)
            if parsed is not None:
                recalled[key[len(HIT_PREFIX):]] = parsed
        return recalled

    def remember(self, impacts: Sequence[NodeImpact]) -> None:
        now = self._clock()
        requests = [{"PutRequest": {"Item": item}} for item in hit_items(impacts, now)]
        self.requests += batch_write(self._client, self._table, requests, "hit records")

    def add_counts(self, key: str, counts: Counter, lifetime: timedelta) -> None:
        """ADD each counter (atomic, so concurrent batches add up); the item expires `lifetime` after the last."""
        names = sorted(name for name, value in counts.items() if value > 0)
        expiration = str(int((self._clock() + lifetime).timestamp()))
        for start in range(0, len(names), COUNTERS_PER_UPDATE):
            chunk = names[start:start + COUNTERS_PER_UPDATE]
            attribute_names = {f"#c{i}": name for i, name in enumerate(chunk)}
            values = {f":c{i}": {"N": str(counts[name])} for i, name in enumerate(chunk)}
            self.requests += 1
            self._client.update_item(
                TableName=self._table, Key={"id": {"S": key}},
                UpdateExpression="SET #expiration = :expiration ADD " + ", ".join(
                    f"#c{i} :c{i}" for i in range(len(chunk))),
                ExpressionAttributeNames={**attribute_names, "#expiration": "expiration"},
                ExpressionAttributeValues={**values, ":expiration": {"N": expiration}})

    def counts(self, keys: Sequence[str]) -> dict[str, Counter]:
        """Key → counters, for the counter items that exist."""
        return {key: counts_of(item) for key, item in self._get_many(keys).items()}


def last_weeks(now: datetime, weeks: int) -> list[str]:
    """spot# keys of the last `weeks` ISO weeks, newest first."""
    return [spot_key(now - timedelta(weeks=back)) for back in range(weeks)]
