"""Seeing the savings (pure): day books → rows by function, namespace or NodePool; the morning Slack line.

Two figures, never added together because they overlap (the function pods ran on those nodes):
- `saved`: parked replica-hours × each replica's requests at its NodePool's $/vCPU-hour and $/GiB-hour, net of
  night wake-ups (`woken` is what the wake-ups cost);
- `node_saved`: node-hours consolidation removed from parked NodePools × the instances' hourly prices.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalice_app.savings.ledger import DayBook, Totals
from chalice_app.slack.text import code

GROUPINGS = ("function", "namespace", "nodepool")


@dataclass
class Row:
    key: str
    totals: Totals = field(default_factory=Totals)


def days_between(start: datetime, end: datetime) -> list[str]:
    """UTC days of [start, end)."""
    day, days = start.replace(hour=0, minute=0, second=0, microsecond=0), []
    while day < end:
        days.append(f"{day:%Y-%m-%d}")
        day += timedelta(days=1)
    return days


def rows(books: dict[str, DayBook], by: str) -> list[Row]:
    """One row per function, namespace or NodePool, biggest saving first."""
    if by not in GROUPINGS:
        raise ValueError(f"--by {by}: expected one of {', '.join(GROUPINGS)}")
    found: dict[str, Row] = {}
    for book in books.values():
        for key, (replica_hours, woken_hours, saved, woken) in book.functions.items():
            group = {"function": key, "namespace": key.split("/", 1)[0],
                     "nodepool": book.function_pools.get(key) or "(no NodePool)"}[by]
            found.setdefault(group, Row(group)).totals.add(Totals(replica_hours, woken_hours, saved, woken))
        if by == "nodepool":
            for pool, (node_hours, saved) in book.pools.items():
                found.setdefault(pool, Row(pool)).totals.add(Totals(node_hours=node_hours, node_saved=saved))
    return sorted(found.values(), key=lambda row: (-row.totals.saved, -row.totals.node_saved, row.key))


def total(books: dict[str, DayBook]) -> Totals:
    result = Totals()
    for book in books.values():
        result.add(book.totals())
    return result


def per_day(books: dict[str, DayBook]) -> dict[str, Totals]:
    return {day: book.totals() for day, book in sorted(books.items())}


def cents(amount: float) -> str:
    return f"{amount:,.2f}"


def night_block(night: Totals, since: datetime | None, now: datetime) -> dict:
    """The morning summary's line: what parking saved since the evening (an estimate)."""
    hours = f" over {(now - since).total_seconds() / 3600:.1f} h" if since else ""
    text = (f":moneybag: Parking saved an estimated *${cents(night.saved)}*{hours}: "
            f"{night.replica_hours:,.1f} replica-hours at zero")
    if night.woken:
        text += f" (night wake-ups cost ${cents(night.woken)}, already deducted)"
    if night.node_hours:
        text += f"; consolidation removed {night.node_hours:,.1f} node-hours (${cents(night.node_saved)})"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text + ". `costguard savings` for details."}}


def digest_text(books: dict[str, DayBook], top: int = 5) -> str:
    """The weekly digest: the week's total and the top savers."""
    overall = total(books)
    lines = [f"*costguard savings this week*: ${cents(overall.saved)} estimated "
             f"({overall.replica_hours:,.0f} replica-hours parked); nodes removed: ${cents(overall.node_saved)}"]
    lines += [f"• {code(row.key)} ${cents(row.totals.saved)}" for row in rows(books, "function")[:top]]
    return "\n".join(lines)
