"""Operator commands: status, kubeconfig (and the bootstrap/explain commands registered from their modules)."""
from __future__ import annotations

import json
from typing import Optional

import boto3
import typer
import yaml
from rich.console import Console
from rich.table import Table

from chalice_app.cli import bootstrap
from chalice_app.cli.common import StageOption, cli_settings, one_line_errors
from chalice_app.cli.offhours import parse_at
from chalice_app.kube.client import api_client
from chalice_app.kube.kubeconfig import stage_kubeconfig
from chalice_app.offhours.explain import explain
from chalice_app.offhours.parked import DynamoParkedStore
from chalice_app.provisioning.watch import alarm_states
from chalice_app.runlog import RunLog
from chalice_app.status import cluster_status, compact_summary



@one_line_errors
def status(stage: Optional[str] = StageOption) -> None:
    """Recent runs, budgets and limits per NodePool, functions now in downtime, costguard's own alarms, the last
    alerts."""
    settings = cli_settings(stage)
    console = Console()
    log = RunLog(settings.table_name)
    records = DynamoParkedStore(settings.table_name, region=settings.region)  # what off-hours parked: the truth
    snapshot = cluster_status(api_client(settings), settings.function_namespaces, records)

    runs = Table(title=f"costguard {settings.stage}: last runs")
    for column in ("feature", "at", "ok", "summary"):
        runs.add_column(column)
    last = log.last_runs()
    for feature, run in last.items():
        runs.add_row(feature, run["at"], "yes" if run["ok"] else "NO", compact_summary(run["summary"]))
    console.print(runs)

    pools = Table(title="NodePools")
    for column in ("nodepool", "limits", "stored off-hours limits", "stored in", "budget status"):
        pools.add_column(column)
    for pool in snapshot.nodepools:
        pools.add_row(pool.name, json.dumps(pool.limits), json.dumps(pool.stored_limits) if pool.stored_limits else "",
                      pool.stored_from, pool.budget_summary)
    console.print(pools)

    offhours = (last.get("offhours") or {}).get("summary") or {}
    if offhours.get("nodes_staying"):
        console.print(f"[bold]nodes parked NodePools still run[/bold] ({len(offhours['nodes_staying'])})")
        for line in offhours["nodes_staying"][:20]:
            console.print(f"  {line}", markup=False)
    if offhours.get("nodeclaims_deleted"):
        console.print(f"[bold]empty NodeClaims the last off-hours run deleted[/bold] "
                      f"({len(offhours['nodeclaims_deleted'])})")
        for line in offhours["nodeclaims_deleted"][:20]:
            console.print(f"  {line}", markup=False)
    if offhours.get("held"):
        console.print(f"[bold]functions OpenFaaS cannot hold at zero[/bold] ({len(offhours['held'])}, "
                      f"{offhours.get('openfaas', '')}): {'; '.join(offhours.get('held_because', []))}", markup=False)

    down = Table(title=f"functions in downtime ({len(snapshot.functions_down)})")
    for column in ("function", "namespace", "replicas now", "restores to", "stored in"):
        down.add_column(column)
    for function in snapshot.functions_down[:50]:
        down.add_row(function.name, function.namespace, str(function.replicas),
                     "?" if function.restore_to is None else str(function.restore_to), function.source)
    console.print(down)

    watched = alarm_states(boto3.client("cloudwatch", region_name=settings.region), settings.stage)
    firing = sum(alarm.state == "ALARM" for alarm in watched)
    alarms = Table(title=f"alarms ({firing} in ALARM)" if watched else "alarms: none (run costguard bootstrap)")
    for column in ("alarm", "state", "since", "reason"):
        alarms.add_column(column, no_wrap=column != "reason")
    for alarm in watched:
        style = {"ALARM": "bold red", "OK": "green"}.get(alarm.state, "yellow")
        alarms.add_row(alarm.name, f"[{style}]{alarm.state}[/{style}]", alarm.since, alarm.reason[:200])
    console.print(alarms)

    alerts = log.recent_alerts()
    console.print(f"[bold]last alerts[/bold] ({len(alerts)})")
    for alert in alerts[-10:]:
        console.print(f"  {alert['at']}  {alert['feature']:<13} {alert['text']}")


@one_line_errors
def kubeconfig(stage: Optional[str] = StageOption, profile: Optional[str] = typer.Option(None)) -> None:
    """Print a kubeconfig for the stage's cluster that authenticates with `aws eks get-token`."""
    config = stage_kubeconfig(cli_settings(stage), boto3.session.Session(), profile)
    typer.echo(yaml.safe_dump(config, sort_keys=False))


explain_app = typer.Typer(help="Why costguard does what it does to one object.", no_args_is_help=True)


@explain_app.command("function")
@one_line_errors
def explain_function(name: str = typer.Argument(..., help="the function (its Deployment name)"),
                     namespace: Optional[str] = typer.Option(None, help="default: the first configured namespace"),
                     at: Optional[str] = typer.Option(None, help="explain as of this ISO 8601 time (default now)"),
                     stage: Optional[str] = StageOption) -> None:
    """Why a function is up or down now, which policy source decided, and when it next changes."""
    settings = cli_settings(stage)
    moment = parse_at(at, settings.default_timezone)
    explanation = explain(name, namespace or settings.function_namespaces[0], moment, settings=settings)
    table = Table(show_header=False, title=f"{explanation.namespace}/{explanation.name} at {moment.isoformat()}")
    for label, value in explanation.lines():
        table.add_row(label, str(value))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(explain_app, name="explain")
    bootstrap.register(app)
    app.command("status")(status)
    app.command("kubeconfig")(kubeconfig)
