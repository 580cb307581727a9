"""`costguard budget ...` commands."""
import typer

app = typer.Typer(help="budget", no_args_is_help=True)
