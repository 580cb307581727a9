"""Per-NodePool budget status (spent, remaining, limit, last run) for the demo (no CLI command or Lambda reads it), from the ledger (every
mode) or from the NodePool's budget-status annotation (enforce mode writes it)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import boto3

from chalice_app.budget.document import BudgetDocumentError, period_key
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.planner import BUDGET_STATUS
from chalice_app.budget.service import load_document
from chalice_app.config import Settings


@dataclass(frozen=True)
class PoolBudgetStatus:
    pool: str
    spent: float | None
    budget: float | None
    remaining: float | None
    limit: float | None  # the cpu limit in force after the last run
    rate: float | None  # USD/h of what ran at the last run
    price: float | None  # USD per vCPU-hour used for the limit
    last_run: str | None
    mode: str | None
    problem: str | None = None
    source: str = "ledger"

    def line(self) -> str:
        if self.spent is None:
            return f"{self.pool}: no budget run yet"
        text = (f"{self.pool}: spent {self.spent:.2f} of {self.budget or 0:.2f} USD, {self.remaining or 0:.2f} left; "
                f"cpu limit {'-' if self.limit is None else f'{self.limit:g}'}; last run {self.last_run}")
        return text + (f" ({self.problem})" if self.problem else "")


def status_from_dict(pool: str, status: dict | None, source: str) -> PoolBudgetStatus:
    status = status or {}

    def number(key: str) -> float | None:
        return float(status[key]) if status.get(key) is not None else None

    return PoolBudgetStatus(pool=pool, spent=number("spent"), budget=number("budget"), remaining=number("remaining"),
                            limit=number("limit"), rate=number("rate"), price=number("price"), last_run=status.get("at"),
                            mode=status.get("mode"), problem=status.get("problem"), source=source)


def status_from_annotation(nodepool: dict) -> PoolBudgetStatus | None:
    """The status the last enforce run wrote on the NodePool; None when it has none (or an unreadable one)."""
    raw = (nodepool.get("metadata", {}).get("annotations") or {}).get(BUDGET_STATUS)
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = None
    return status_from_dict(nodepool["metadata"]["name"], decoded, "annotation") if decoded else None


def budget_statuses(settings: Settings, session: boto3.session.Session | None = None,
                    now: datetime | None = None, nodepools: list[dict] | None = None) -> list[PoolBudgetStatus]:
    """One status per budgeted NodePool for the current period, read from the ledger; NodePool annotations stand
    in when the budget document cannot be read (then the period is unknown)."""
    session = session or boto3.session.Session()
    now = now or datetime.now(timezone.utc)
    try:
        document = load_document(settings, session)
    except BudgetDocumentError as problem:
        found = [status_from_annotation(pool) for pool in nodepools or []]
        return [s for s in found if s] or [PoolBudgetStatus("-", None, None, None, None, None, None, None, None,
                                                            problem=str(problem))]
    ledger = Ledger(settings.table_name, session)
    period = period_key(document.period, now)
    statuses = []
    for pool in sorted(document.nodepools):
        item = ledger.item(period, pool)
        statuses.append(status_from_dict(pool, json.loads(item["status"]) if item and item.get("status") else None,
                                         "ledger"))
    return statuses
