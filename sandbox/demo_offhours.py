"""Demo, off-hours, on the OpenFaaS Standard twin: a weekday 18:55 → 19:05 in Europe/London scales every function to
zero and parks the opted-in NodePools (limits to zero; the static `ci-runners` pool through its replicas);
Karpenter's consolidation removes the emptied spot nodes, except one that a do-not-disrupt backup pod keeps, which the
19:40 run reports with its reason and price; the `default` pool never consolidates (`consolidateAfter: Never`), so
that run deletes its empty NodeClaims (COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS) and Karpenter terminates them. At 23:10 a call wakes `sleep` (pinned to the parked spot pool by its
Profile): the pool gets a night allowance, the function serves, and once it has been idle for 30 minutes both are
parked again. Next morning at 07:05 everything comes back exactly as it was.

    with Sandbox() as sb, sb.activate():
        evening(sb, console)   # annotate like an operator would, the 18:55 / 19:05 / 19:40 ticks, then the night
        morning(sb, console)   # the 07:05 tick, then a comparison with the evening's "before"
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from chalice_app.config import load_settings
from chalice_app.offhours import handler
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.kube.names import NODEPOOL_OPT_IN, ORIGINAL_LIMITS, ORIGINAL_REPLICAS
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.render import to_text
from sandbox.demo_budget import seed_prices
from sandbox.objects import FUNCTION_NAMESPACE

LONDON = ZoneInfo("Europe/London")
UPTIME = "Mon-Fri 07:00-19:00 Europe/London"
OPTED_IN_POOLS = ("default", "spot")
STATIC_POOL = "ci-runners"  # a static NodePool (spec.replicas): parked through its scale subresource
UPTIME_ANNOTATION = "costguard.openfaas.com/uptime"
NIGHT_CALL = time(23, 10)
WOKEN = "sleep"
NEVER_CONSOLIDATED = "default"  # its operator set consolidateAfter: Never; costguard deletes its empty NodeClaims
OPERATOR_SETTINGS = {"COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS": "5"}


@dataclass
class Snapshot:
    replicas: dict[str, int]
    limits: dict[str, dict]
    nodes: int
    static_replicas: int | None = None


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
        sum(1 for node in store.list("v1", "Node")
            if node["metadata"].get("labels", {}).get("karpenter.sh/nodepool") in OPTED_IN_POOLS),
        (store.get("karpenter.sh/v1", "NodePool", None, STATIC_POOL) or {}).get("spec", {}).get("replicas"),
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
        annotations = pool["metadata"].get("annotations") or {}
        static = "replicas" in pool["spec"]
        table.add_row(name, str(pool["spec"].get("limits", {})) + (f", replicas {pool['spec']['replicas']}" if static
                                                                   else ""),
                      annotations.get(ORIGINAL_REPLICAS if static else ORIGINAL_LIMITS, "-"), str(nodes.get(name, 0)))
    return table


def _tick(sb, console: Console, at: datetime) -> dict:
    sent = len(sb.slack.messages)
    settings = load_settings({**os.environ, **OPERATOR_SETTINGS})
    summary = handler.run(settings, at.astimezone(timezone.utc), OffhoursPorts.from_settings(settings))
    console.print(f"[bold]{at:%a %d %b %H:%M} {at.tzname()}[/bold] off-hours run: {summary['scaled_down']} scaled "
                  f"down, {summary['reparked']} parked again, {summary['restored']} restored, awake "
                  f"{summary['awake'] or '-'}, NodePools {summary['nodepools'] or 'unchanged'}, "
                  f"errors {len(summary['errors'])}")
    for message in sb.slack.messages[sent:]:
        console.print("[dim]Slack:[/dim]")
        console.print(to_text(SlackMessage(message.payload.get("text", ""), message.payload.get("blocks", []))),
                      markup=False)
    return summary


def _static_pool(sb) -> None:
    """What an operator applies: a static NodePool of 2 CI runner nodes (karpenter.sh/v1 spec.replicas), opted in."""
    pool = copy.deepcopy(sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default"))
    pool["metadata"] = {"name": STATIC_POOL, "annotations": {NODEPOOL_OPT_IN: "true", UPTIME_ANNOTATION: UPTIME}}
    pool["spec"]["replicas"], pool["spec"]["limits"] = 2, {"nodes": "4"}
    pool["spec"].pop("disruption", None)
    sb.kube.store.put(pool)


def _keep_a_node(sb, console: Console, at: datetime) -> str | None:
    """A backup job marked karpenter.sh/do-not-disrupt on a spot node: consolidation must leave that node."""
    nodes = sorted(n["metadata"]["name"] for n in sb.kube.store.list("v1", "Node")
                   if n["metadata"].get("labels", {}).get("karpenter.sh/nodepool") == "spot")
    if not nodes:
        return None
    sb.sim.place_pod(nodes[0], "backup", namespace="kube-system", do_not_disrupt=True)
    console.print(f"a backup job annotated karpenter.sh/do-not-disrupt runs on {nodes[0]} (spot)")
    return nodes[0]


def night(sb, console: Console, evening_at: datetime) -> dict:
    """23:10 a call wakes `sleep`; its pod needs the parked spot pool: night allowance; parked again when idle."""
    call = datetime.combine(evening_at.date(), NIGHT_CALL, tzinfo=LONDON)
    woke = sb.openfaas.invoke(WOKEN, call.astimezone(timezone.utc))
    console.print(f"[bold]{call:%H:%M}[/bold] a caller invokes {WOKEN}: the gateway scales it from zero ({woke})")
    sb.sim.settle(call.astimezone(timezone.utc))
    moment, summary, seen_up = call, {}, False
    while moment < call + timedelta(hours=2):
        moment += timedelta(minutes=5 if moment < call + timedelta(minutes=15) else 10)
        if moment < call + timedelta(minutes=10):
            sb.openfaas.invoke(WOKEN, (moment - timedelta(minutes=1)).astimezone(timezone.utc))  # a short burst
        summary = _tick(sb, console, moment)
        sb.sim.settle(moment.astimezone(timezone.utc))
        replicas = sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, WOKEN)["spec"].get("replicas")
        seen_up = seen_up or replicas > 0
        if summary["reparked"]:
            console.print(f"{WOKEN} idle for 30 minutes: parked again; the spot pool's allowance withdrawn")
            _tick(sb, console, moment + timedelta(minutes=5))
            sb.sim.settle((moment + timedelta(minutes=5)).astimezone(timezone.utc))
            break
    return {**summary, "woken_served": seen_up}


def evening(sb, console: Console) -> dict:
    """18:55 (uptime: nothing changes), 19:05 (downtime): functions to zero, opted-in NodePools parked; 19:40: the
    node that stays and why; then the night call and its re-parking."""
    _annotate(sb, "v1", "Namespace", FUNCTION_NAMESPACE, {UPTIME_ANNOTATION: UPTIME})
    for pool in OPTED_IN_POOLS:
        _annotate(sb, "karpenter.sh/v1", "NodePool", pool, {NODEPOOL_OPT_IN: "true", UPTIME_ANNOTATION: UPTIME})
    _static_pool(sb)
    pool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, NEVER_CONSOLIDATED)
    pool["spec"]["disruption"]["consolidateAfter"] = "Never"
    sb.kube.store.put(pool)
    at = demo_evening(datetime.now(timezone.utc))
    sb.sim.settle((at - timedelta(minutes=30)).astimezone(timezone.utc))
    seed_prices(sb, (at - timedelta(minutes=30)).astimezone(timezone.utc))
    console.print(f"namespace {FUNCTION_NAMESPACE} annotated {UPTIME_ANNOTATION}={UPTIME!r}; NodePools "
                  f"{', '.join(OPTED_IN_POOLS)} and the static {STATIC_POOL} opted in with the same uptime")
    kept = _keep_a_node(sb, console, at)
    before = snapshot(sb)
    _before[id(sb)] = (before, at)
    console.print(_function_table(sb, "functions before"))
    console.print(_pool_table(sb, "NodePools before"))

    _tick(sb, console, at)  # 18:55: still uptime
    summary = _tick(sb, console, at + timedelta(minutes=10))  # 19:05
    sb.sim.settle((at + timedelta(minutes=10)).astimezone(timezone.utc))
    removed = sb.sim.consolidate()
    console.print(f"pods follow the replicas; Karpenter consolidates {len(removed)} empty node(s): "
                  f"{', '.join(removed) or '-'}")
    console.print(_function_table(sb, "functions at 19:05", before))
    console.print(_pool_table(sb, "NodePools at 19:05"))
    later = _tick(sb, console, at + timedelta(minutes=45))  # 19:40: the nodes that stay, and why
    for line in later["nodes_staying"]:
        console.print(f"  stays: {line}", markup=False)
    for line in later["nodeclaims_deleted"]:
        console.print(f"  deleted ({NEVER_CONSOLIDATED} never consolidates): {line}", markup=False)
    gone = at + timedelta(minutes=46)
    terminated = sb.sim.disrupt(gone.astimezone(timezone.utc)).shutting_down
    sb.sim.disrupt((gone + timedelta(minutes=1)).astimezone(timezone.utc))
    console.print(f"Karpenter drains and terminates them: {', '.join(terminated) or '-'}")
    woken = night(sb, console, at)
    console.print(_pool_table(sb, "NodePools after the night call"))
    return {**summary, "nodes_staying": later["nodes_staying"], "kept_node": kept,
            "nodeclaims_deleted": later["nodeclaims_deleted"], "terminated": terminated,
            "woken_served": woken["woken_served"], "reparked": woken.get("reparked", 0)}


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
    same_limits = same_limits and after.static_replicas == before.static_replicas
    verdict = "[green]everything back as it was[/green]" if same_replicas and same_limits else "[red]differs[/red]"
    console.print(f"replicas identical: {same_replicas}; NodePools identical: {same_limits} → {verdict}")
    return {**summary, "replicas_restored": same_replicas, "limits_restored": same_limits}
