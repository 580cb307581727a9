"""`/costguard status`: which functions are parked and which are kept up, from the annotations costguard reads."""
from __future__ import annotations

from datetime import datetime

from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.slack.message import MAX_MESSAGE_TEXT
from chalice_app.slack.text import code, titled_list
from chalice_app.slackapp.decide import EXCLUDE_UNTIL, current_until

SHOWN = 20


def status_lines(functions, now: datetime, zone) -> tuple[list[str], list[str]]:
    """(parked, kept up) lines for slim function records (pure)."""
    parked, kept = [], []
    for function in sorted(functions, key=lambda item: item.key):
        name = code(f"{function.namespace}/{function.name}")
        if ORIGINAL_REPLICAS in function.annotations:
            parked.append(f"{name} at {function.replicas}, restores to "
                          f"{code(function.annotations[ORIGINAL_REPLICAS])}")
        until = current_until(function.annotations) if EXCLUDE_UNTIL in function.annotations else None
        if until is not None and until > now:
            local = until.astimezone(zone)
            kept.append(f"{name} kept up until {local:%a %H:%M} {local.tzname()}")
    return parked, kept


def _section(title: str, lines: list[str]) -> str:
    return titled_list(title, lines, limit=MAX_MESSAGE_TEXT // 2, shown=SHOWN, empty="none")


def status_text(cluster, namespaces: list[str], now: datetime, zone) -> str:
    functions = [function for namespace in namespaces for function in cluster.functions(namespace)]
    parked, kept = status_lines(functions, now, zone)
    return f"{_section('Parked by off-hours', parked)}\n{_section('Kept up from Slack or by annotation', kept)}"
