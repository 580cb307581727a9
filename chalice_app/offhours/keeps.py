"""Slack keeps that a redeploy cannot erase (pure).

"Keep sleep up until 22:00" is written by the Slack route as the function's `costguard.openfaas.com/exclude-until`
annotation, and also into the stage table: item `offhours#keeps#<namespace>`, one attribute `keep:<name>` holding
the time (table_keys.keeps_id). A redeploy replaces the Deployment's annotations with the function's own (faas-netes
pkg/handlers/update.go: `deployment.Annotations = annotations`), so a keep clicked at 18:55 and a `faas-cli deploy`
at 20:00 would park the function at 20:05; the table's copy keeps it up until the time the person chose.

The annotation wins while it is there: a person who shortens or ends a keep edits it (a past time ends it). The
table's copy applies only when the annotation is gone and its time is still ahead.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalice_app.kube.names import EXCLUDE_UNTIL
from chalice_app.offhours.model import FunctionDeployment
from chalice_app.table_keys import KEEP_ATTRIBUTE_PREFIX, keeps_id


def keep_item_ids(namespaces) -> list[str]:
    return [keeps_id(namespace) for namespace in namespaces]


def keeps_from_items(found: dict[str, dict], namespaces) -> dict[tuple[str, str], datetime]:
    """{(namespace, name): until} from the namespaces' keeps items; unreadable times are left out (the table is
    costguard's own, but a hand edit must not stop a run)."""
    keeps: dict[tuple[str, str], datetime] = {}
    for namespace in namespaces:
        for attribute, value in (found.get(keeps_id(namespace)) or {}).items():
            if not attribute.startswith(KEEP_ATTRIBUTE_PREFIX) or not isinstance(value, str):
                continue
            try:
                until = datetime.fromisoformat(value)
            except ValueError:
                continue
            if until.tzinfo is not None:
                keeps[(namespace, attribute[len(KEEP_ATTRIBUTE_PREFIX):])] = until
    return keeps


def with_keeps(functions: list[FunctionDeployment], keeps: dict[tuple[str, str], datetime],
               now: datetime) -> list[FunctionDeployment]:
    """The functions, each whose keep annotation a redeploy removed carrying the table's keep again."""
    if not keeps:
        return functions
    return [with_keep(function, keeps.get(function.key), now) for function in functions]


def with_keep(function: FunctionDeployment, until: datetime | None, now: datetime) -> FunctionDeployment:
    if until is None or until <= now or EXCLUDE_UNTIL in function.annotations:
        return function
    return replace(function, kept_until=until.isoformat(timespec="seconds"))  # a policy layer of its own (policy.py)
