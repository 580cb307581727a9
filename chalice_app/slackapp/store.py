"""The Slack route's bookkeeping in the stage table: replay cache, per-user rate limit, audit trail.

- `slack-replay#<sha256 of the signature>`: one conditional put per request; a second request with the same
  signature (a replay within the 5 minutes the timestamp allows) fails the condition. TTL after 10 minutes.
- `slack-rate#<user>#<10-minute window>`: a counter, incremented only while below the limit (conditional update).
- `audit#slack#<UTC day>`: who did what, when, from which channel, appended to the day's list (kept 90 days).
- `offhours#keeps#<namespace>`: a function's keep, attribute `keep:<name>`, so that a redeploy replacing the
  Deployment's annotations does not end it (chalice_app.offhours.keeps). Keeps are at most 24 hours ahead; the item
  expires 2 days after its last write.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import boto3

from chalice_app.conditional import condition_held, put_if_absent
from chalice_app.offhours.shards import shard_counts
from chalice_app.table_keys import (KEEP_ATTRIBUTE_PREFIX, RATE_WINDOW_SECONDS, audit_id, keeps_id, rate_id, replay_id,
                                    shard_ids)
from chalice_app.table_reads import batch_get

REPLAY_TTL = timedelta(minutes=10)  # longer than the 5 minutes a timestamp stays valid
KEEP_AUDIT = timedelta(days=90)
KEEPS_ITEM_LIFE = timedelta(days=2)  # longer than any keep (slackapp.commands.MAX_DURATION)


class SlackStore:
    def __init__(self, table_name: str, session: boto3.session.Session | None = None):
        self._session = session or boto3.session.Session()
        self._table = self._session.resource("dynamodb").Table(table_name)

    def first_use(self, signature: str, now: datetime) -> bool:
        """True the first time this signature is seen; False for a replay."""
        return self.claim(replay_id(signature), now, REPLAY_TTL)

    def within_rate(self, user_id: str, now: datetime, limit: int) -> bool:
        """Count one action for the user in this 10-minute window; False once `limit` is reached."""
        return condition_held(self._table.meta.client, lambda: self._table.update_item(
            Key={"id": rate_id(user_id, now)}, UpdateExpression="ADD hits :one SET expiration = :expiration",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": limit,
                                       ":expiration": int(now.timestamp()) + 2 * RATE_WINDOW_SECONDS}))

    def claim(self, key: str, now: datetime, keep: timedelta = timedelta(days=2)) -> bool:
        """True for the one caller that gets `key` (e.g. one heads-up per downtime start)."""
        return put_if_absent(self._table, {"id": key, "expiration": int((now + keep).timestamp())})

    def audit(self, entry: dict, now: datetime) -> None:
        self._table.update_item(
            Key={"id": audit_id(f"{now:%Y-%m-%d}")},
            UpdateExpression="SET entries = list_append(if_not_exists(entries, :empty), :entry), "
                             "expiration = :expiration",
            ExpressionAttributeValues={":empty": [], ":entry": [json.dumps(entry, sort_keys=True)],
                                       ":expiration": int((now + KEEP_AUDIT).timestamp())})

    def record_keep(self, namespace: str, name: str, until: datetime, now: datetime) -> None:
        """The function's keep, beside the annotation a redeploy would remove."""
        self._table.update_item(
            Key={"id": keeps_id(namespace)}, UpdateExpression="SET #keep = :until, expiration = :expiration",
            ExpressionAttributeNames={"#keep": KEEP_ATTRIBUTE_PREFIX + name},
            ExpressionAttributeValues={":until": until.isoformat(timespec="seconds"),
                                       ":expiration": int((now + KEEPS_ITEM_LIFE).timestamp())})

    def offhours_view(self, namespaces: list[str]) -> tuple[dict[tuple[str, str], int], dict[str, dict]]:
        """What off-hours holds for `/costguard status`: ({(namespace, name): restore count}, the keeps items by id)."""
        keeps = [keeps_id(namespace) for namespace in namespaces]
        # a plain client: the resource's own client serializes keys again (boto3's transformation injector)
        found = batch_get(self._session.client("dynamodb"), self._table.name,
                          [*(shard for namespace in namespaces for shard in shard_ids(namespace)), *keeps])
        counts = {(namespace, name): count for namespace in namespaces for shard in shard_ids(namespace)
                  for name, count in shard_counts(found.get(shard)).items()}
        return counts, {key: found[key] for key in keeps if key in found}

    def audit_entries(self, day: str) -> list[dict]:
        item = self._table.get_item(Key={"id": audit_id(day)}, ConsistentRead=True).get("Item")
        return [json.loads(entry) for entry in (item or {}).get("entries", [])]
