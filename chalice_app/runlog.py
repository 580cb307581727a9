"""What each feature did last, and the recent alerts, kept in the stage table for `costguard status`.

Items: `run#<feature>` (the last run's summary) and `alerts#recent` (the newest alerts, capped). Writes are best
effort from the handler's point of view: the caller logs a failure and goes on, since losing a status line must
never fail a reconcile.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Sequence

import boto3

from chalice_app import aws_clients
from chalice_app.conditional import condition_held
from chalice_app.errors import StageTableError
from chalice_app.table_keys import RECENT_ALERTS_KEY, run_id

MAX_RECENT_ALERTS = 20
FEATURES = ("interruptions", "offhours", "budget", "digests")  # each writes run#<feature>


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def appended_alerts(existing: list[dict], alert: dict, cap: int = MAX_RECENT_ALERTS) -> list[dict]:
    """Newest last, at most `cap` kept."""
    return (list(existing) + [alert])[-cap:]


class RunLog:
    def __init__(self, table_name: str, session: boto3.session.Session | None = None):
        # Without a session, the container's one resource (aws_clients): a new one per run costs a model load.
        self._table = (session.resource("dynamodb") if session else aws_clients.resource("dynamodb")).Table(table_name)

    def record_run(self, feature: str, summary: dict[str, Any], ok: bool = True, at: str | None = None) -> None:
        self._table.put_item(Item={"id": run_id(feature), "feature": feature, "at": at or _now(), "ok": ok,
                                   "summary": json.dumps(summary, default=str, sort_keys=True)})

    def record_alert(self, feature: str, text: str, at: str | None = None, attempts: int = 3) -> None:
        alert = {"feature": feature, "text": text[:500], "at": at or _now()}
        for _ in range(attempts):  # optimistic concurrency: two Lambdas may alert at once
            item = self._table.get_item(Key={"id": RECENT_ALERTS_KEY}, ConsistentRead=True).get("Item")
            version = int(item["version"]) if item else 0
            alerts = json.loads(item["alerts"]) if item else []
            if condition_held(self._table.meta.client, lambda: self._table.put_item(
                    Item={"id": RECENT_ALERTS_KEY, "version": version + 1,
                          "alerts": json.dumps(appended_alerts(alerts, alert))},
                    ConditionExpression="attribute_not_exists(id) OR version = :version",
                    ExpressionAttributeValues={":version": version})):
                return
        raise StageTableError("could not record the alert: the recent-alerts item kept changing")

    def last_runs(self) -> dict[str, dict]:
        runs = {}
        for feature in FEATURES:
            item = self._table.get_item(Key={"id": run_id(feature)}).get("Item")
            if item:
                runs[feature] = {"at": item["at"], "ok": bool(item["ok"]), "summary": json.loads(item["summary"])}
        return runs

    def recent_alerts(self) -> list[dict]:
        item = self._table.get_item(Key={"id": RECENT_ALERTS_KEY}).get("Item")
        return json.loads(item["alerts"]) if item else []


def record_run_quietly(table_name: str, feature: str, summary: dict[str, Any], ok: bool,
                       alerts: Sequence[str] = (), session: boto3.session.Session | None = None) -> bool:
    """Record a run and its alerts for `costguard status`; a failure is logged, never raised (see module doc)."""
    from chalice_app.observability import logger  # late: keeps this module importable without Powertools set up

    try:
        log = RunLog(table_name, session)
        log.record_run(feature, summary, ok=ok)
        for text in alerts:
            log.record_alert(feature, text)
        return True
    except Exception:  # noqa: BLE001 - any failure here only costs a status line
        logger.exception("could not record the run", extra={"feature": feature})
        return False
