"""`costguard interruptions ...`: the spot history and Karpenter's own disruptions, from the stage table."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

import boto3
import typer
from rich.console import Console
from rich.table import Table

from chalice_app.cli.common import StageOption, cli_settings, one_line_errors
from chalice_app.errors import CostguardError
from chalice_app.interruptions.digest import history_rows, karpenter_digest, spot_digest
from chalice_app.interruptions.records import InterruptionRecords, last_weeks
from chalice_app.table_keys import SPOT_PREFIX, disrupted_key
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.notifier import notifier_from_settings, slack_configured
from chalice_app.slack.render import to_text

app = typer.Typer(help="Interruptions: spot history and Karpenter's own disruptions.", no_args_is_help=True)
MAX_WEEKS = 52  # SPOT_LIFETIME keeps about 17; a bound on what is asked for


def _records(settings) -> InterruptionRecords:
    return InterruptionRecords(settings.table_name, boto3.client("dynamodb", region_name=settings.region))


def _send(settings, message: SlackMessage | None, console: Console) -> None:
    if message is None:
        console.print("nothing to send")
        return
    if not slack_configured(settings):
        raise CostguardError("Slack is not configured for this stage (no webhook or bot token parameter)")
    notifier_from_settings(settings).send(message)
    console.print("sent to Slack")


@app.command("history")
@one_line_errors
def history(weeks: int = typer.Option(4, "--weeks", min=1, max=MAX_WEEKS, help="how many ISO weeks, newest first"),
            send: bool = typer.Option(False, "--send", help="also post the weekly digest to Slack"),
            stage: Optional[str] = StageOption) -> None:
    """Spot interruption warnings per week, instance type and zone; --send posts the most reclaimed to Slack."""
    settings = cli_settings(stage)
    keys = last_weeks(datetime.now(timezone.utc), weeks)
    counts = {key[len(SPOT_PREFIX):]: value for key, value in _records(settings).counts(keys).items()}
    console = Console()
    table = Table(title=f"Spot warnings, cluster {settings.cluster_name}")
    for column in ("week", "warnings", "most reclaimed (type in zone)"):
        table.add_column(column)
    for week, total, top in history_rows([key[len(SPOT_PREFIX):] for key in keys], counts):
        table.add_row(week, str(total), top)
    console.print(table)
    message = spot_digest(counts, settings.cluster_name, weeks)
    if message is not None:
        console.print(to_text(message))
    if send:
        _send(settings, message, console)


@app.command("digest")
@one_line_errors
def digest(day: Optional[str] = typer.Option(None, "--day", help="YYYY-MM-DD (UTC); default today"),
           send: bool = typer.Option(False, "--send", help="post the digest to Slack"),
           stage: Optional[str] = StageOption) -> None:
    """Karpenter's own disruptions of a day, per NodePool and reason (never alerted as interruptions)."""
    try:
        chosen = date.fromisoformat(day) if day else datetime.now(timezone.utc).date()
    except ValueError:
        raise CostguardError(f"--day {day!r}: expected YYYY-MM-DD") from None
    settings = cli_settings(stage)
    key = disrupted_key(chosen)
    counts = _records(settings).counts([key]).get(key)
    message = karpenter_digest(counts, chosen, settings.cluster_name) if counts else None
    console = Console()
    console.print(to_text(message) if message else f"Karpenter disrupted no node on {chosen.isoformat()}")
    if send:
        _send(settings, message, console)
