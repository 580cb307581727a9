"""The `costguard` console command: each concern registers its own sub-commands here."""
from __future__ import annotations

import typer

from chalice_app.cli import budget, events, headroom, interruptions, offhours, operations, savings
from chalice_app.cli import sandbox as sandbox_commands
from chalice_app.cli.common import OneLineGroup

app = typer.Typer(help="costguard: spot alerts, off-hours scale-to-zero and budgeted NodePool limits.",
                  no_args_is_help=True, pretty_exceptions_enable=False, cls=OneLineGroup)
app.add_typer(events.app, name="events")
app.add_typer(interruptions.app, name="interruptions")
app.add_typer(offhours.schedule_app, name="schedule")
app.add_typer(offhours.offhours_app, name="offhours")
app.add_typer(budget.app, name="budget")
app.add_typer(headroom.app, name="headroom")
app.add_typer(sandbox_commands.app, name="sandbox")
operations.register(app)
savings.register(app)


def main() -> None:
    app()
