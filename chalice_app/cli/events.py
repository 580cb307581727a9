"""`costguard events ...`: look at EventBridge events the way the interruption handler sees them."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from chalice_app.cli.common import StageOption, cli_settings, error_line, one_line_errors

from chalice_app.interruptions.notice import Ignored, MalformedEvent
from chalice_app.interruptions.parsing import parse_text

app = typer.Typer(help="Interruption events: parse, inspect and redrive.", no_args_is_help=True)
MAX_REDRIVE = 100_000


@app.callback()
def events() -> None:
    """Interruption events: parse and inspect (a callback keeps `parse` a sub-command)."""


@app.command("parse")
def parse(files: List[Path] = typer.Argument(..., help="files with one EventBridge event (JSON) each")) -> None:
    """Print one JSON line per notice; ignored events print nothing; a bad file is named on stderr (exit 2)."""
    bad = 0
    for path in files:
        try:
            outcome = parse_text(path.read_text())
        except (OSError, UnicodeDecodeError) as error:
            print(error_line(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}"), file=sys.stderr)
            bad += 1
            continue
        except MalformedEvent as error:
            print(error_line(f"{path}: not a valid interruption event: {error}"), file=sys.stderr)
            bad += 1
            continue
        if not isinstance(outcome, Ignored):
            print(json.dumps(outcome.to_json()))
    if bad:
        raise typer.Exit(2)


@app.command("redrive")
@one_line_errors
def redrive(limit: int = typer.Option(10_000, "--max", min=1, max=MAX_REDRIVE, help="move at most this many"),
            stage: Optional[str] = StageOption) -> None:
    """Move the messages the interruption DLQ holds back to the queue (run it once Slack answers again): each is
    alerted once, an event alerted before is not alerted again."""
    import boto3

    from chalice_app import naming
    from chalice_app.interruptions.redrive import queue_url, redrive as move

    settings = cli_settings(stage)
    sqs = boto3.client("sqs", region_name=settings.region)
    dlq = queue_url(sqs, naming.interruption_dlq(settings.stage), "dead-letter queue")
    queue = queue_url(sqs, naming.interruption_queue(settings.stage), "interruption queue")
    report = move(sqs, dlq, queue, limit)
    print(f"moved {report.moved} message(s) from {naming.interruption_dlq(settings.stage)} back to "
          f"{naming.interruption_queue(settings.stage)}")
    for problem in report.failed:
        print(error_line(f"not moved: {problem}"), file=sys.stderr)
    if report.failed:
        raise typer.Exit(1)
