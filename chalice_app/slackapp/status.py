"""`/costguard status`: which functions are parked and which are kept up, from the stage table (what off-hours
parked, the Slack keeps) and, where it holds nothing, the annotations that mirror it (a redeploy removes them)."""
from __future__ import annotations

from datetime import datetime

from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.observability import logger
from chalice_app.offhours.keeps import keeps_from_items, with_keeps
from chalice_app.slack.message import MAX_MESSAGE_TEXT
from chalice_app.slack.text import code, titled_list
from chalice_app.slackapp.decide import EXCLUDE_UNTIL, current_until

SHOWN = 20


def status_lines(functions, now: datetime, zone, parked: dict[tuple[str, str], int] | None = None
                 ) -> tuple[list[str], list[str]]:
    """(parked, kept up) lines for slim function records (pure); `parked`: the table's restore counts."""
    parked = parked or {}
    parked_lines, kept = [], []
    for function in sorted(functions, key=lambda item: item.key):
        name = code(f"{function.namespace}/{function.name}")
        restores_to = parked.get(function.key, function.annotations.get(ORIGINAL_REPLICAS))
        if restores_to is not None:
            parked_lines.append(f"{name} at {function.replicas}, restores to {code(str(restores_to))}")
        # the annotation, else a keep the stage table still holds after a redeploy removed it (offhours.keeps)
        until = current_until({EXCLUDE_UNTIL: function.annotations.get(EXCLUDE_UNTIL, function.kept_until)})
        if until is not None and until > now:
            local = until.astimezone(zone)
            kept.append(f"{name} kept up until {local:%a %H:%M} {local.tzname()}")
    return parked_lines, kept


def _section(title: str, lines: list[str]) -> str:
    return titled_list(title, lines, limit=MAX_MESSAGE_TEXT // 2, shown=SHOWN, empty="none")


def status_text(cluster, namespaces: list[str], now: datetime, zone, stored=None) -> str:
    """`stored`: () → (restore counts, keeps items) from the stage table (SlackStore.offhours_view); None or a
    failure: the annotations only, and the answer says so."""
    functions = [function for namespace in namespaces for function in cluster.functions(namespace)]
    parked, note = None, ""
    if stored is not None:
        try:
            parked, keep_items = stored()
            functions = with_keeps(functions, keeps_from_items(keep_items, namespaces), now)
        except Exception:  # noqa: BLE001 - the annotations still answer
            logger.exception("could not read the stage table for /costguard status")
            note = "\n_The stage table could not be read: this is what the annotations say._"
    parked_lines, kept = status_lines(functions, now, zone, parked)
    return (f"{_section('Parked by off-hours', parked_lines)}\n"
            f"{_section('Kept up from Slack or by annotation', kept)}{note}")
