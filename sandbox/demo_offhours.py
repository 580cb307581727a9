"""Demo, off-hours: a weekday 18:55 → 19:05 in Europe/London scales every function to zero and parks the opted-in
NodePools (limits to zero); Karpenter's consolidation removes the emptied nodes. Next morning at 07:05 everything
comes back exactly as it was.

    with Sandbox() as sb, sb.activate():
        evening(sb, console)   # annotate like an operator would, then the 18:55 and 19:05 ticks
        morning(sb, console)   # the 07:05 tick, then a comparison with the evening's "before"
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from chalice_app.config import load_settings
from chalice_app.offhours import handler
from chalice_app.offhours.model import NODEPOOL_OPT_IN, ORIGINAL_LIMITS, ORIGINAL_REPLICAS
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.render import to_text
from sandbox.objects import FUNCTION_NAMESPACE

LONDON = ZoneInfo("Europe/London")
UPTIME = "Mon-Fri 07:00-19:00 Europe/London"
OPTED_IN_POOLS = ("default", "spot")
UPTIME_ANNOTATION = "costguard.openfaas.com/uptime"


@dataclass
class Snapshot:
    replicas: dict[str, int]
    limits: dict[str, dict]
    nodes: int


_before: dict[int, tuple[Snapshot, datetime]] = {}  # per sandbox: the evening's state and time, for the morning


def demo_evening(after: datetime) -> datetime:
    """18:55 London on the first Monday-to-Thursday after `after` + 1 day (so the next morning is a workday too,
    and the seeded functions are past their grace period)."""
    day: date = (after.astimezone(LONDON) + timedelta(days=1)).date()
    while day.weekday() > 3:
        day += timedelta(days=1)
    return datetime.combine(day, time(18, 55), tzinfo=LONDON)


def snapshot(sb) -> Snapshot:
    store = sb.kube.store
    return Snapshot(
        {d["metadata"]["name"]: d["spec"].get("replicas", 1)
         for d in store.list("apps/v1", "Deployment", FUNCTION_NAMESPACE)},
        {p["metadata"]["name"]: p["spec"].get("limits", {}) for p in store.list("karpenter.sh/v1", "NodePool")},
        sum(1 for node in store.list("v1", "Node") if "karpenter.sh/nodepool" in node["metadata"].get("labels", {})),
    )


def _annotate(sb, api_version: str, kind: str, name: str, annotations: dict) -> None:
    """What `kubectl annotate` (or `faas-cli deploy --annotation`) does, as the sandbox admin."""
    obj = sb.kube.store.get(api_version, kind, None, name)
    obj["metadata"].setdefault("annotations", {}).update(annotations)
    sb.kube.store.put(obj)


def _function_table(sb, title: str, before: Snapshot | None = None) -> Table:
    table = Table(title=title)
    for column in ("function", "replicas" if before is None else "replicas (before → now)", "to restore"):
        table.add_column(column)
    for deployment in sorted(sb.kube.store.list("apps/v1", "Deployment", FUNCTION_NAMESPACE),
                             key=lambda d: d["metadata"]["name"]):
        name, replicas = deployment["metadata"]["name"], deployment["spec"].get("replicas", 1)
        shown = str(replicas) if before is None else f"{before.replicas[name]} → {replicas}"
        table.add_row(name, shown, (deployment["metadata"].get("annotations") or {}).get(ORIGINAL_REPLICAS, "-"))
    return table


def _pool_table(sb, title: str) -> Table:
    table = Table(title=title)
    for column in ("nodepool", "limits", "stored limits", "nodes"):
        table.add_column(column)
    nodes: dict[str, int] = {}
    for node in sb.kube.store.list("v1", "Node"):
        pool = node["metadata"].get("labels", {}).get("karpenter.sh/nodepool")
        if pool:
            nodes[pool] = nodes.get(pool, 0) + 1
    for pool in sb.kube.store.list("karpenter.sh/v1", "NodePool"):
        name = pool["metadata"]["name"]
        table.add_row(name, str(pool["spec"].get("limits", {})),
                      (pool["metadata"].get("annotations") or {}).get(ORIGINAL_LIMITS, "-"), str(nodes.get(name, 0)))
    return table


def _tick(sb, console: Console, at: datetime) -> dict:
    sent = len(sb.slack.messages)
    summary = handler.run(load_settings(), at.astimezone(timezone.utc))
    console.print(f"[bold]{at:%a %d %b %H:%M} {at.tzname()}[/bold] off-hours run: {summary['scaled_down']} scaled "
                  f"down, {summary['restored']} restored, NodePools {summary['nodepools'] or 'unchanged'}, "
                  f"errors {len(summary['errors'])}")
    for message in sb.slack.messages[sent:]:
        console.print("[dim]Slack:[/dim]")
        console.print(to_text(SlackMessage(message.payload.get("text", ""), message.payload.get("blocks", []))),
                      markup=False)
    return summary


def evening(sb, console: Console) -> dict:
    """18:55 (uptime: nothing changes) then 19:05 (downtime): functions to zero, opted-in NodePools parked."""
    _annotate(sb, "v1", "Namespace", FUNCTION_NAMESPACE, {UPTIME_ANNOTATION: UPTIME})
    for pool in OPTED_IN_POOLS:
        _annotate(sb, "karpenter.sh/v1", "NodePool", pool, {NODEPOOL_OPT_IN: "true", UPTIME_ANNOTATION: UPTIME})
    console.print(f"namespace {FUNCTION_NAMESPACE} annotated {UPTIME_ANNOTATION}={UPTIME!r}; NodePools "
                  f"{', '.join(OPTED_IN_POOLS)} opted in with the same uptime")
    before = snapshot(sb)
    at = demo_evening(datetime.now(timezone.utc))
    _before[id(sb)] = (before, at)
    console.print(_function_table(sb, "functions before"))
    console.print(_pool_table(sb, "NodePools before"))

    _tick(sb, console, at)  # 18:55: still uptime
    summary = _tick(sb, console, at + timedelta(minutes=10))  # 19:05
    sb.sim.settle()
    removed = sb.sim.consolidate()
    console.print(f"pods follow the replicas; Karpenter consolidates {len(removed)} empty node(s): "
                  f"{', '.join(removed) or '-'}")
    console.print(_function_table(sb, "functions at 19:05", before))
    console.print(_pool_table(sb, "NodePools at 19:05"))
    return summary


def morning(sb, console: Console) -> dict:
    """07:05 the next workday: every function back to its replicas, NodePool limits restored, then compared."""
    if id(sb) not in _before:
        raise RuntimeError("run evening(sb, console) first: the morning compares with the evening's state")
    before, evening_at = _before.pop(id(sb))
    at = datetime.combine(evening_at.date() + timedelta(days=1), time(7, 5), tzinfo=LONDON)
    summary = _tick(sb, console, at)
    sb.sim.settle()
    after = snapshot(sb)
    console.print(_function_table(sb, "functions at 07:05", before))
    console.print(_pool_table(sb, "NodePools at 07:05"))
    same_replicas = after.replicas == before.replicas
    same_limits = all(after.limits[name] == before.limits[name] for name in OPTED_IN_POOLS)
    verdict = "[green]everything back as it was[/green]" if same_replicas and same_limits else "[red]differs[/red]"
    console.print(f"replicas identical: {same_replicas}; opted-in NodePool limits identical: {same_limits} "
                  f"→ {verdict}")
    return {**summary, "replicas_restored": same_replicas, "limits_restored": same_limits}
