"""`costguard budget ...`: see what the budget would do (`plan`), compare the meter with the bill (`reconcile`), check
a document (`validate`), print the default (`template`). None of them changes the cluster, the ledger or SSM."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import boto3
import typer
from rich.console import Console
from rich.table import Table

from chalice_app.budget.cluster import BudgetCluster
from chalice_app.budget.document import TEMPLATE_PATH, BudgetDocument, BudgetDocumentError, parse_budget
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.planner import BudgetPlan
from chalice_app.budget.reconcile import DayError, pool_totals
from chalice_app.budget.service import gather_plan, load_document, reconcile_report
from chalice_app.cli.common import cli_settings, one_line_errors, read_operator_file
from chalice_app.cli.offhours import parse_at
from chalice_app.kube.client import api_client
from chalice_app.offhours.schedule import ScheduleError

app = typer.Typer(help="Budgeted NodePool limits: plan, reconcile, validate, template.", no_args_is_help=True)
StageOption = typer.Option(None, "--stage", help="stage in .chalice/config.json (default: $COSTGUARD_STAGE or dev)")


class ReadOnlyLedger(Ledger):
    """The ledger as `plan` needs it: reads spend and cached prices, writes nothing."""

    def cache_prices(self, *args, **kwargs) -> None:
        return None


def plan_rows(plan: BudgetPlan) -> list[dict]:
    """One row per budgeted NodePool: what was spent, what the limits are and would be, and why."""
    rows = []
    for pool in plan.pools:
        decision = pool.decision
        rows.append({
            "nodepool": pool.pool,
            "spent": round(pool.spent, 2),
            "budget": round(pool.budget, 2),
            "remaining": round(decision.remaining, 2) if decision else round(max(0.0, pool.budget - pool.spent), 2),
            "usd_per_vcpu_hour": round(decision.pricing.per_vcpu_hour, 5) if decision else None,
            "current_cpu": decision.current.cpu if decision else None,
            "proposed_cpu": decision.proposed.cpu if decision else None,
            "proposed_limits": decision.proposed.as_spec() if decision else None,
            "change": bool(decision and decision.change),
            "running_cpu": pool.meter.usage_cpu,
            "why": pool.problem or ("; ".join(decision.reasons) if decision else ""),
            "capacity_type": pool.pricing.capacity_type if pool.pricing else None,
            "ebs_usd_per_node_hour": round(pool.pricing.volume_hourly, 5) if pool.pricing else None,
            "overhead_usd_per_node_hour": round(pool.pricing.overhead_hourly, 5) if pool.pricing else None,
            "assumed": list(pool.assumed),
            "headroom": pool.headroom.reason if pool.headroom else None,
            "headroom_cut": bool(pool.headroom and pool.headroom.cut),
        })
    return rows


def _read_document(budget: Optional[Path], from_ssm: bool, settings, session) -> BudgetDocument:
    if budget and from_ssm:
        raise BudgetDocumentError("give either --budget FILE or --from-ssm, not both")
    if budget:
        if not budget.exists():
            raise BudgetDocumentError(f"{budget}: no such file")
        return parse_budget(read_operator_file(budget, "budget document"), source=str(budget))
    return load_document(settings, session)


def _parse_time(at: Optional[str]) -> datetime:
    """The CLI's one --at parser (UTC when no offset is given; years near 1 or 9999, where a period's bounds leave
    datetime's range, are refused), naming the option."""
    try:
        return parse_at(at, "UTC")
    except ScheduleError as error:
        raise BudgetDocumentError(f"--at {at!r}: {error}") from None


@app.command("plan")
@one_line_errors
def plan(budget: Optional[Path] = typer.Option(None, "--budget", help="a budget document (JSON file)"),
         from_ssm: bool = typer.Option(False, "--from-ssm", help="the stage's document in SSM (the default)"),
         at: Optional[str] = typer.Option(None, "--at", help="plan as of this time (ISO 8601; default now)"),
         as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
         stage: Optional[str] = StageOption) -> None:
    """Per NodePool: spent, remaining, price per vCPU-hour, current and proposed limits and why. Changes nothing."""
    settings = cli_settings(stage)
    session = boto3.session.Session()
    document = _read_document(budget, from_ssm, settings, session)
    moment = _parse_time(at)
    result = gather_plan(settings, document, moment, BudgetCluster(api_client(settings, session)), session,
                         ReadOnlyLedger(settings.table_name, session))
    rows = plan_rows(result)
    if as_json:
        typer.echo(json.dumps({"period": result.period, "mode": result.mode, "at": moment.isoformat(),
                               "nodepools": rows, "unbudgeted": list(result.unbudgeted),
                               "absent": list(result.absent)}, indent=2))
        return
    print_plan(result, rows, Console())


def print_plan(result: BudgetPlan, rows: list[dict], console: Console) -> None:
    table = Table(title=f"budget {result.period} ({result.mode}) as of {result.now.isoformat(timespec='minutes')}")
    for column in ("nodepool", "spent / budget USD", "remaining", "USD/vCPU-h", "cpu limit now", "proposed", "why"):
        table.add_column(column, overflow="fold")
    for row in rows:
        price = "-" if row["usd_per_vcpu_hour"] is None else f"{row['usd_per_vcpu_hour']:.4g}"
        proposed = "-" if row["proposed_cpu"] is None else f"{row['proposed_cpu']:g}" + ("" if row["change"] else " (=)")
        current = "none" if row["current_cpu"] is None else f"{row['current_cpu']:g}"
        table.add_row(row["nodepool"], f"{row['spent']:.2f} / {row['budget']:.2f}", f"{row['remaining']:.2f}", price,
                      current, proposed, row["why"])
    console.print(table)
    for row in rows:
        for line in row["assumed"]:
            console.print(f"{row['nodepool']}: {line}")
        if row["headroom"]:
            console.print(f"{row['nodepool']}: warm headroom {row['headroom']}")
    if result.unbudgeted:
        console.print(f"not in the budget, left alone: {', '.join(result.unbudgeted)}")
    if result.absent:
        console.print(f"in the budget but not in the cluster: {', '.join(result.absent)}")


@app.command("reconcile")
@one_line_errors
def reconcile(days: int = typer.Option(30, "--days", min=1, max=92, help="how many days back from today"),
              as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
              stage: Optional[str] = StageOption) -> None:
    """Metered spend against Cost Explorer's net amortized cost per day and NodePool, with the error."""
    settings = cli_settings(stage)
    session = boto3.session.Session()
    rows = reconcile_report(settings, load_document(settings, session), datetime.now(timezone.utc), days, session)
    totals = pool_totals(rows)
    if as_json:
        typer.echo(json.dumps([{"day": r.day, "nodepool": r.pool, "metered": round(r.metered, 4),
                                "billed": round(r.billed, 4), "error_percent": round(r.percent, 2)}
                               for r in rows + totals], indent=2))
        return
    print_reconcile(rows, totals, Console())


def print_reconcile(rows: list[DayError], totals: list[DayError], console: Console) -> None:
    table = Table(title="metered vs billed (Cost Explorer NetAmortizedCost, closed days)")
    for column in ("day", "nodepool", "metered USD", "billed USD", "error"):
        table.add_column(column, justify="right" if "USD" in column or column == "error" else "left")
    for row in rows + totals:
        table.add_row(row.day, row.pool, f"{row.metered:.2f}", f"{row.billed:.2f}", f"{row.percent:+.1f} %")
    console.print(table)
    if not rows:
        console.print("no closed day with spend yet (Cost Explorer closes a day about a day later)")


@app.command("validate")
@one_line_errors
def validate(path: Path = typer.Argument(..., help="a budget document (JSON file)")) -> None:
    """Check a budget document; print what is wrong, or a one-line summary."""
    if not path.exists():
        raise BudgetDocumentError(f"{path}: no such file")
    document = parse_budget(read_operator_file(path, "budget document"), source=str(path))
    pools = ", ".join(f"{name} {document.pool_amount(name):.2f}" for name in sorted(document.nodepools))
    typer.echo(f"{path}: valid — {document.period} {document.amount:.2f} {document.currency}, {document.mode}; {pools}")


@app.command("template")
def template() -> None:
    """Print the default budget document (what `costguard bootstrap` stores when SSM has none)."""
    typer.echo(TEMPLATE_PATH.read_text().rstrip())
