"""The budget ledger in the stage's DynamoDB table (partition key `id`, TTL attribute `expiration`).

- `ledger#<period>#<nodepool>`: spent so far, the last metered time, the rates of the nodes running then, the last
  status. Written only if `metered_at` is still what this run read, so two runs never count a slice twice.
- `alert#<period>#<nodepool>#<key>`: once-per-period alerts; the run whose conditional put succeeds sends it and
  then marks it sent. A claim not marked sent within ALERT_LEASE (the run was killed while posting) is taken by
  the next run, so the alert is retried, never lost.
- `budget#pending-notices`: limit-change notices Slack refused; the next run's message carries them.
- `price#<kind>#<region>`: cached prices with an expiry.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import boto3

from chalice_app.budget.metering import LedgerEntry
from chalice_app.conditional import condition_held
from chalice_app.table_keys import PENDING_BUDGET_NOTICES_ID, alert_id, ledger_id, nodepool_id, price_id

# Longer than a run (lambda_timeout 300 s in .chalice/config.json), shorter than the 15-minute schedule (app.py):
# the next run retries an alert whose run died before marking it sent.
ALERT_LEASE = timedelta(minutes=10)
MAX_PENDING_NOTICES = 50  # the oldest are dropped beyond this (logged by the caller)
KEEP_LEDGER = timedelta(days=100)  # long enough to compare a period with the previous ones


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def entry_from_item(item: dict | None) -> LedgerEntry:
    if not item:
        return LedgerEntry()
    return LedgerEntry(spent=float(item.get("spent", 0)),
                       metered_at=datetime.fromisoformat(item["metered_at"]) if item.get("metered_at") else None,
                       open_rates={k: float(v) for k, v in json.loads(item.get("open_rates", "{}")).items()},
                       daily={k: float(v) for k, v in json.loads(item.get("daily", "{}")).items()},
                       open_aliases={k: tuple(v) for k, v in json.loads(item.get("open_aliases", "{}")).items()})


class Ledger:
    def __init__(self, table_name: str, session: boto3.session.Session | None = None):
        self._table = (session or boto3.session.Session()).resource("dynamodb").Table(table_name)

    def entries(self, period: str, pools: list[str]) -> dict[str, LedgerEntry]:
        return {pool: entry_from_item(self.item(period, pool)) for pool in pools}

    def parked_by_offhours(self, pools: list[str]) -> set[str]:
        """The pools whose limits off-hours holds until their uptime: its record in the stage table (the truth; the
        `original-limits` annotation is a mirror a GitOps sync or Helm upgrade can remove)."""
        return {pool for pool in pools if self._table.get_item(
            Key={"id": nodepool_id(pool)}, ConsistentRead=True, ProjectionExpression="id").get("Item")}

    def item(self, period: str, pool: str) -> dict | None:
        return self._table.get_item(Key={"id": ledger_id(period, pool)}, ConsistentRead=True).get("Item")

    def save(self, period: str, pool: str, before: LedgerEntry, after: LedgerEntry, status: dict | None,
             period_end: datetime) -> bool:
        """Write the new entry if nobody metered since `before`; False when another run got there first.
        `status` None keeps the stored status (closing a past period's tail)."""
        # A run that could price nothing stores metered_at as NULL: the next run must still be able to write.
        condition = ("attribute_not_exists(metered_at) OR attribute_type(metered_at, :null)"
                     if before.metered_at is None else "metered_at = :previous")
        values = {":spent": Decimal(str(round(after.spent, 6))),
                  ":metered_at": after.metered_at.isoformat() if after.metered_at else None,
                  ":open_rates": json.dumps({k: round(v, 6) for k, v in after.open_rates.items()}, sort_keys=True),
                  ":daily": json.dumps({k: round(v, 6) for k, v in after.daily.items()}, sort_keys=True),
                  ":open_aliases": json.dumps({k: list(v) for k, v in after.open_aliases.items()}, sort_keys=True),
                  ":expiration": _epoch(period_end + KEEP_LEDGER)}
        if status is not None:
            values[":status"] = json.dumps(status, sort_keys=True)
        if before.metered_at is not None:
            values[":previous"] = before.metered_at.isoformat()
        else:
            values[":null"] = "NULL"
        return condition_held(self._table.meta.client, lambda: self._table.update_item(
            Key={"id": ledger_id(period, pool)},
            UpdateExpression="SET spent = :spent, metered_at = :metered_at, open_rates = :open_rates, "
                             "open_aliases = :open_aliases, daily = :daily, expiration = :expiration" + (
                                 ", #status = :status" if status is not None else ""),
            ConditionExpression=condition,
            **({"ExpressionAttributeNames": {"#status": "status"}} if status is not None else {}),
            ExpressionAttributeValues=values))

    def claim_alert(self, period: str, pool: str, key: str, period_end: datetime,
                    now: datetime | None = None) -> bool:
        """True for the one run that may send this alert in this period: the first, or the first after a claim
        whose run never marked it sent and whose lease ran out. Items from before the lease (no `sent`) count
        as sent."""
        now = now or datetime.now(timezone.utc)
        return condition_held(self._table.meta.client, lambda: self._table.put_item(
            Item={"id": alert_id(period, pool, key), "expiration": _epoch(period_end + KEEP_LEDGER),
                  "sent": False, "lease_until": _epoch(now + ALERT_LEASE)},
            ConditionExpression="attribute_not_exists(id) OR (sent = :false AND lease_until < :now)",
            ExpressionAttributeValues={":false": False, ":now": _epoch(now)}))

    def mark_sent(self, period: str, pool: str, key: str) -> None:
        self._table.update_item(Key={"id": alert_id(period, pool, key)}, UpdateExpression="SET sent = :true",
                                ExpressionAttributeValues={":true": True})

    def release_alert(self, period: str, pool: str, key: str) -> None:
        """The alert could not be delivered: let the next run try again."""
        self._table.delete_item(Key={"id": alert_id(period, pool, key)})

    def pending_notices(self) -> list[dict]:
        """Notices Slack refused earlier ({"pool", "kind", "text"}), oldest first."""
        item = self._table.get_item(Key={"id": PENDING_BUDGET_NOTICES_ID}, ConsistentRead=True).get("Item") or {}
        try:
            return [dict(notice) for notice in json.loads(item.get("notices", "[]"))]
        except (TypeError, ValueError):
            return []

    def keep_pending(self, notices: list[dict], now: datetime) -> None:
        kept = (self.pending_notices() + notices)[-MAX_PENDING_NOTICES:]
        self._table.put_item(Item={"id": PENDING_BUDGET_NOTICES_ID, "notices": json.dumps(kept),
                                   "expiration": _epoch(now + KEEP_LEDGER)})

    def clear_pending(self) -> None:
        self._table.delete_item(Key={"id": PENDING_BUDGET_NOTICES_ID})

    def cached_prices(self, kind: str, region: str, now: datetime) -> dict | None:
        item = self._table.get_item(Key={"id": price_id(kind, region)}).get("Item")
        if not item or int(item["expiration"]) <= _epoch(now):  # TTL deletion is lazy: check the expiry ourselves
            return None
        return json.loads(item["prices"])

    def cache_prices(self, kind: str, region: str, prices: dict, now: datetime, hours: float) -> None:
        self._table.put_item(Item={"id": price_id(kind, region), "prices": json.dumps(prices, sort_keys=True),
                                   "fetched_at": now.isoformat(), "expiration": _epoch(now + timedelta(hours=hours))})
