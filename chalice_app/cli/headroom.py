"""`costguard headroom plan | explain POOL | status`: what warm headroom each NodePool keeps now and why."""
from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from chalice_app.cli.common import StageOption, cli_settings, error_line, one_line_errors
from chalice_app.cli.offhours import parse_at
from chalice_app.headroom import service
from chalice_app.headroom.cluster import HeadroomCluster
from chalice_app.headroom.planner import HeadroomPlan, Policy, deployment_name
from chalice_app.kube.client import api_client
from chalice_app.kube.names import HEADROOM_NAMESPACE, HEADROOM_POOL_LABEL

app = typer.Typer(help="Warm headroom per NodePool: placeholder pods that function pods preempt.",
                  no_args_is_help=True)
INVALID = 2


def _plan(at: Optional[str], stage: Optional[str]) -> tuple[HeadroomPlan, HeadroomCluster]:
    settings = cli_settings(stage)
    moment = parse_at(at, settings.default_timezone)
    cluster = HeadroomCluster(api_client(settings))
    return service.plan(cluster, Policy.from_settings(settings), moment), cluster


def _next(pool) -> str:
    return pool.next_change.isoformat(timespec="minutes") if pool.next_change else "-"


@app.command("plan")
@one_line_errors
def plan(at: Optional[str] = typer.Option(None, "--at", help="plan as of this ISO 8601 time (default now)"),
         stage: Optional[str] = StageOption) -> None:
    """What each pool keeps now (placeholders × size), why, the next change, and what the next run would do."""
    result, _ = _plan(at, stage)
    table = Table("nodepool", "keeps", "now", "action", "why", "next change", title="headroom plan")
    for pool in result.pools:
        keeps = f"{pool.replicas} × {pool.pod_cpu_millis}m" if pool.spec else "-"
        now = "-" if pool.current is None else str(pool.current)
        table.add_row(pool.pool, keeps, now, pool.action, pool.error or pool.reason, _next(pool))
    Console().print(table)
    if not result.pools:
        typer.echo("no NodePool asks for headroom (annotation costguard.openfaas.com/headroom or COSTGUARD_HEADROOM)")


@app.command("explain")
@one_line_errors
def explain(pool_name: str = typer.Argument(..., help="a NodePool's name"),
            at: Optional[str] = typer.Option(None, "--at", help="as of this ISO 8601 time (default now)"),
            stage: Optional[str] = StageOption) -> None:
    """Where a pool's headroom request comes from, what it means now and when it changes."""
    result, _ = _plan(at, stage)
    found = [pool for pool in result.pools if pool.pool == pool_name]
    if not found:
        typer.echo(error_line(f"NodePool {pool_name!r} asks for no headroom (or does not exist)"), err=True)
        raise typer.Exit(INVALID)
    pool = found[0]
    lines = [f"NodePool {pool.pool}: request from {pool.source}"]
    if pool.spec:
        lines.append(f"  asks for {pool.spec.amount()} during {pool.spec.schedule.spec!r}")
    lines.append(f"  keeps now: {pool.replicas} placeholder(s) of {pool.pod_cpu_millis}m cpu"
                 f"{f', {pool.pod_memory_bytes} bytes' if pool.pod_memory_bytes else ''} because {pool.reason}")
    if pool.error:
        lines.append(f"  error: {pool.error}")
    lines.append(f"  Deployment {HEADROOM_NAMESPACE}/{deployment_name(pool.pool)}: "
                 f"{'absent' if pool.current is None else f'{pool.current} replicas'}; next run: {pool.action}")
    lines.append(f"  next change: {_next(pool)}")
    typer.echo("\n".join(lines))


@app.command("status")
@one_line_errors
def status(stage: Optional[str] = StageOption) -> None:
    """The placeholder Deployments as the cluster has them: wanted, ready."""
    settings = cli_settings(stage)
    table = Table("nodepool", "deployment", "wanted", "ready", title=f"placeholders in {HEADROOM_NAMESPACE}")
    for item in HeadroomCluster(api_client(settings)).placeholders():
        labels = item["metadata"].get("labels") or {}
        state = item.get("status") or {}
        table.add_row(str(labels.get(HEADROOM_POOL_LABEL, "?")), item["metadata"]["name"],
                      str((item.get("spec") or {}).get("replicas", 1)), str(state.get("readyReplicas", 0)))
    Console().print(table)
