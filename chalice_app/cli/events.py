"""`costguard events ...`: look at EventBridge events the way the interruption handler sees them."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List

import typer

from chalice_app.interruptions.notice import Ignored, MalformedEvent
from chalice_app.interruptions.parsing import parse_text

app = typer.Typer(help="Interruption events: parse and inspect.", no_args_is_help=True)


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
            print(f"costguard: {path}: cannot read: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
            bad += 1
            continue
        except MalformedEvent as error:
            print(f"costguard: {path}: not a valid interruption event: {error}", file=sys.stderr)
            bad += 1
            continue
        if not isinstance(outcome, Ignored):
            print(json.dumps(outcome.to_json()))
    if bad:
        raise typer.Exit(2)
