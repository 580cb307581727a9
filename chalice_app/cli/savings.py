"""`costguard savings`: what off-hours parking saved this week or month, by function, namespace or NodePool."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import boto3
import typer
from rich.console import Console
from rich.table import Table

from chalice_app.budget.document import Period, period_bounds
from chalice_app.cli.common import StageOption, cli_settings, one_line_errors
from chalice_app.cli.offhours import parse_at
from chalice_app.errors import CostguardError
from chalice_app.savings.report import GROUPINGS, cents, days_between, per_day, rows, total
from chalice_app.savings.store import SavingsStore

PERIODS: dict[str, Period] = {"week": "weekly", "month": "monthly"}
METHOD = ("estimate: parked replica-hours × requested vCPU and memory at the NodePool's $/vCPU-hour and $/GiB-hour "
          "(budget prices; see README 'Savings'), net of night wake-ups; nodes: node-hours consolidation removed × "
          "instance price. The two overlap and are not added.")


def spent_per_day(settings, session, days: list[str]) -> dict[str, float] | None:
    """What the budget ledger metered per day over the budgeted NodePools; None without a budget document."""
    from chalice_app.budget.document import BudgetDocumentError, period_key
    from chalice_app.budget.ledger import Ledger
    from chalice_app.budget.service import load_document

    try:
        document = load_document(settings, session)
    except BudgetDocumentError:
        return None
    ledger, spent, entries = Ledger(settings.table_name, session), {}, {}
    for day in days:
        period = period_key(document.period, datetime.fromisoformat(day).replace(tzinfo=timezone.utc))
        if period not in entries:
            entries[period] = ledger.entries(period, list(document.nodepools))
        spent[day] = sum(entry.daily.get(day, 0.0) for entry in entries[period].values())
    return spent


def write_chart(saved: dict[str, float], spent: dict[str, float] | None, path: Path, title: str) -> Path:
    """Saved (net) vs spent per day, as the budget's chart does it (matplotlib, Agg, imported only here)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    days = sorted(saved)
    figure, axes = plt.subplots(figsize=(11, 5))
    axes.bar(days, [saved[day] for day in days], color="tab:green", label="saved by parking (estimate)")
    if spent is not None:
        axes.plot(days, [spent.get(day, 0.0) for day in days], color="tab:red", marker="o", label="spent (budget)")
    axes.set_ylabel("USD per day")
    axes.set_title(title)
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", rotation=45)
    figure.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100, format="png")  # PNG whatever the name ends with (matplotlib guesses by it)
    except OSError as error:
        raise CostguardError(f"--chart {str(path)!r}: cannot write it: {error.strerror or error}") from None
    finally:
        plt.close(figure)
    return path


@one_line_errors
def savings(
    period: str = typer.Option("month", "--period", help="week or month (UTC, the one containing --at)"),
    by: str = typer.Option("function", "--by", help="function, namespace or nodepool"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    chart: Optional[Path] = typer.Option(None, "--chart", help="also write saved vs spent per day to this PNG"),
    at: Optional[str] = typer.Option(None, "--at", help="a time inside the period (default: now)"),
    stage: Optional[str] = StageOption,
) -> None:
    """What parking saved (an estimate), from the ledger off-hours books every run."""
    if period not in PERIODS:
        raise CostguardError(f"--period {period!r}: expected week or month")
    if by not in GROUPINGS:
        raise CostguardError(f"--by {by!r}: expected one of {', '.join(GROUPINGS)}")
    settings = cli_settings(stage)
    session = boto3.session.Session()
    # the one --at parser of the CLI: a time without an offset is UTC; years near 1 or 9999 are refused
    start, end = period_bounds(PERIODS[period], parse_at(at, "UTC"))
    days = days_between(start, end)
    books = SavingsStore(settings.table_name, session).days(days)
    overall, found = total(books), rows(books, by)
    if as_json:
        print(json.dumps({"period": period, "from": start.isoformat(), "to": end.isoformat(), "by": by,
                          "currency": "USD", "method": METHOD,
                          "rows": [{"key": row.key, **vars(row.totals)} for row in found],
                          "total": vars(overall)}, indent=2, sort_keys=True))
    else:
        console = Console()
        table = Table(title=f"costguard savings, {period} {start:%Y-%m-%d} – {end:%Y-%m-%d} (UTC), by {by}")
        columns = [by, "replica-hours parked", "woken replica-hours", "saved USD", "wake-ups USD"]
        if by == "nodepool":
            columns += ["node-hours removed", "nodes USD"]
        for column in columns:
            table.add_column(column, justify="left" if column == by else "right")
        for row in found:
            t = row.totals
            cells = [row.key, f"{t.replica_hours:,.1f}", f"{t.woken_replica_hours:,.1f}", cents(t.saved),
                     cents(t.woken)]
            if by == "nodepool":
                cells += [f"{t.node_hours:,.1f}", cents(t.node_saved)]
            table.add_row(*cells)
        console.print(table)
        console.print(f"total saved: {cents(overall.saved)} USD (wake-ups cost {cents(overall.woken)} USD, deducted); "
                      f"nodes removed: {overall.node_hours:,.1f} node-hours, {cents(overall.node_saved)} USD")
        console.print(f"[dim]{METHOD}[/dim]")
    if chart is not None:
        saved = {day: totals.saved for day, totals in per_day(books).items()}
        written = write_chart(saved, spent_per_day(settings, session, days), chart,
                              f"costguard: saved vs spent per day, {start:%Y-%m-%d} – {end:%Y-%m-%d}")
        if not as_json:
            print(f"chart: {written}")


def register(app: typer.Typer) -> None:
    app.command("savings")(savings)
