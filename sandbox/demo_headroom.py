"""Demo, warm headroom: the spot NodePool asks for 2 vCPU of headroom on weekdays 07:00-19:00 London. The 07:10
off-hours run creates the placeholder Deployment, Karpenter launches room for it; a morning burst (`sleep` 1 → 5,
pinned to spot by its Profile) preempts the placeholders and lands on that warm node at once, while the
placeholders go Pending and Karpenter makes room for them again. At 19:05 the placeholders go to zero.

    with Sandbox() as sb, sb.activate():
        install(sb)            # policies/headroom.yaml, applied as an operator would
        run(sb, console)
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from kubernetes.client.exceptions import ApiException
from rich.console import Console
from rich.table import Table

from chalice_app.config import load_settings
from chalice_app.kube.names import HEADROOM, HEADROOM_NAMESPACE, HEADROOM_POOL_LABEL
from chalice_app.kube.rest import call, resource_path
from chalice_app.offhours import handler
from chalice_app.offhours.ports import OffhoursPorts
from sandbox.objects import FUNCTION_NAMESPACE

LONDON = ZoneInfo("Europe/London")
MANIFEST = Path(__file__).resolve().parents[1] / "policies" / "headroom.yaml"
POOL = "spot"
REQUEST = "Mon-Fri 07:00-19:00 Europe/London: 2 vCPU, 2Gi"
_PATHS = {"Namespace": ("namespaces", ("", "v1")), "PriorityClass": ("priorityclasses", ("scheduling.k8s.io", "v1"))}


def install(sb) -> None:
    """Apply policies/headroom.yaml (namespace + PriorityClass) as the sandbox admin; already there is fine."""
    api = sb.admin_kube_client()
    for document in yaml.safe_load_all(MANIFEST.read_text()):
        plural, group_version = _PATHS[document["kind"]]
        try:
            call(api, "POST", resource_path(plural, group_version), body=document, content_type="application/json")
        except ApiException as error:
            if error.status != 409:
                raise


def ask_for_headroom(sb, pool: str = POOL, request: str = REQUEST) -> None:
    """What an operator does: annotate the NodePool."""
    nodepool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, pool)
    nodepool["metadata"].setdefault("annotations", {})[HEADROOM] = request
    sb.kube.store.put(nodepool)


def working_morning(after: datetime) -> datetime:
    """07:10 London on the first weekday at least a week after `after` (after every other demo's clock)."""
    day = (after.astimezone(LONDON) + timedelta(days=7)).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    return datetime.combine(day, time(7, 10), tzinfo=LONDON)


def _pods(sb, namespace: str, selector: tuple[str, str]) -> list[dict]:
    key, value = selector
    return [pod for pod in sb.kube.store.list("v1", "Pod", namespace)
            if (pod["metadata"].get("labels") or {}).get(key) == value]


def _where(sb, title: str) -> Table:
    table = Table(title=title)
    for column in ("pod", "priority", "node", "phase"):
        table.add_column(column)
    for pod in _pods(sb, FUNCTION_NAMESPACE, ("faas_function", "sleep")) + \
            _pods(sb, HEADROOM_NAMESPACE, (HEADROOM_POOL_LABEL, POOL)):
        table.add_row(pod["metadata"]["name"], str(pod["spec"].get("priority", 0)),
                      pod["spec"].get("nodeName") or "-", (pod.get("status") or {}).get("phase", "?"))
    return table


def run(sb, console: Console, at: datetime | None = None) -> dict:
    """Returns what the story showed: placeholders made, the burst's pods' nodes, and the night's count."""
    install(sb)
    ask_for_headroom(sb)
    at = at or working_morning(datetime.now(timezone.utc))
    sb.sim.scale_function("sleep", 1)
    sb.sim.settle(at)
    summary = handler.run(load_settings(), at.astimezone(timezone.utc), OffhoursPorts.from_settings(load_settings()))
    console.print(f"[bold]{at:%a %H:%M} {at.tzname()}[/bold] headroom: {summary.get('headroom')}")
    sb.sim.settle(at)
    warm_nodes = {pod["spec"].get("nodeName") for pod in _pods(sb, HEADROOM_NAMESPACE, (HEADROOM_POOL_LABEL, POOL))}
    console.print(_where(sb, "spot pool at 07:10: `sleep` and the placeholders"))
    burst_at = at + timedelta(minutes=20)
    before = {pod["metadata"]["name"] for pod in _pods(sb, FUNCTION_NAMESPACE, ("faas_function", "sleep"))}
    sb.sim.scale_function("sleep", 5)
    sb.sim.settle(burst_at)
    new = [pod for pod in _pods(sb, FUNCTION_NAMESPACE, ("faas_function", "sleep"))
           if pod["metadata"]["name"] not in before]
    on_warm = [pod["metadata"]["name"] for pod in new if pod["spec"].get("nodeName") in warm_nodes]
    console.print(_where(sb, "07:30 burst: `sleep` 1 → 5 preempts the placeholders"))
    console.print(f"{len(on_warm)} of {len(new)} new `sleep` pods landed on the warm node(s) {sorted(warm_nodes)}")
    evening = datetime.combine(at.date(), time(19, 5), tzinfo=LONDON)
    sb.sim.scale_function("sleep", 1)
    night = handler.run(load_settings(), evening.astimezone(timezone.utc), OffhoursPorts.from_settings(load_settings()))
    sb.sim.settle(evening)
    left = len(_pods(sb, HEADROOM_NAMESPACE, (HEADROOM_POOL_LABEL, POOL)))
    console.print(f"[bold]19:05[/bold] headroom: {night.get('headroom')}; placeholder pods left: {left}")
    return {"morning": summary.get("headroom"), "warm_nodes": sorted(warm_nodes), "new": len(new),
            "on_warm": len(on_warm), "night_pods": left}
