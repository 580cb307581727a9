"""Operator commands: bootstrap, teardown, status, explain."""
import typer


def register(app: typer.Typer) -> None:
    pass
