"""`costguard schedule check` (is a time inside a spec?) and `costguard offhours plan` (what the next tick would do).

Neither changes anything in the cluster.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from chalice_app.cli.common import StageOption, cli_settings, error_line, one_line_errors
from chalice_app.kube.client import api_client
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.parked import DynamoParkedStore
from chalice_app.offhours.planner import FunctionPlan, Kind
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler
from chalice_app.offhours.schedule import ScheduleError, parse_instant, parse_schedule

schedule_app = typer.Typer(help="Time specs (py-kube-downscaler format): check a time against one.",
                           no_args_is_help=True)
offhours_app = typer.Typer(help="Off-hours scale-to-zero: see what the next run would do.", no_args_is_help=True)
INSIDE, OUTSIDE, INVALID = 0, 1, 2


def parse_at(text: Optional[str], zone: str) -> datetime:
    """An --at option: ISO 8601 (a time without an offset is in `zone`), or now."""
    return parse_instant(text, zone) if text else datetime.now(timezone.utc)


@schedule_app.command("check")
def check(spec: str = typer.Argument(..., help="e.g. 'Mon-Fri 07:00-19:00 Europe/London', 'always', ISO ranges"),
          at: Optional[str] = typer.Option(None, "--at", help="ISO 8601 time (default now)"),
          holidays: Optional[str] = typer.Option(None, "--holidays", help="public holidays, e.g. GB-ENG or US"),
          zone: str = typer.Option("UTC", "--timezone", help="zone for windows and --at given without one")) -> None:
    """Exit 0 when the time is inside the spec, 1 when outside, 2 when the spec (or time) is invalid."""
    try:
        schedule = parse_schedule(spec, holidays, zone)
        moment = parse_at(at, zone)
    except ScheduleError as error:
        typer.echo(error_line(str(error)), err=True)
        raise typer.Exit(INVALID) from None
    inside = schedule.contains(moment)
    following = schedule.next_change(moment)
    after = f"; changes at {following.isoformat()}" if following else "; no change ahead"
    typer.echo(f"{moment.isoformat()} is {'inside' if inside else 'outside'} {spec!r}{after}")
    raise typer.Exit(INSIDE if inside else OUTSIDE)


def plan_table(plan: FunctionPlan, show_unchanged: bool) -> Table:
    table = Table("function", "replicas", "action", "why", title="off-hours plan")
    for action in plan.actions:
        if action.kind is Kind.KEEP and not show_unchanged:
            continue
        table.add_row(f"{action.namespace}/{action.name}", f"{action.current} → {action.desired}",
                      action.kind.value, action.reason)
    return table


@offhours_app.command("plan")
@one_line_errors
def plan(at: Optional[str] = typer.Option(None, "--at", help="plan as of this ISO 8601 time (default now)"),
         all_rows: bool = typer.Option(False, "--all", help="also list functions that stay as they are"),
         stage: Optional[str] = StageOption) -> None:
    """Print what the next run would do (function, replicas now → desired, and why) without changing anything."""
    settings = cli_settings(stage)
    moment = parse_at(at, settings.default_timezone)
    # Reads the stage table's restore records (never writes: plan() only reads)
    reconciler = Reconciler(OffhoursCluster(api_client(settings)), OffhoursConfig.from_settings(settings),
                            store=DynamoParkedStore(settings.table_name, region=settings.region))
    function_plan = reconciler.plan(moment)
    console = Console()
    console.print(plan_table(function_plan, all_rows))
    pools = Table("nodepool", "limits", "action", "why", title="NodePools")
    for action in reconciler.plan_nodepools(moment):
        shown = f"replicas → {action.extra['replicas']}" if action.static and "replicas" in action.extra else \
            f"{action.limits} → {action.desired}"
        pools.add_row(action.name, shown, action.kind, action.reason)
    console.print(pools)
    counts = {kind.value: len(function_plan.of(kind)) for kind in Kind if function_plan.of(kind)}
    console.print(f"at {moment.isoformat()}: {counts}" + (" (cap reached)" if function_plan.capped else ""))
