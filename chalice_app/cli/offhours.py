"""`costguard schedule ...` and `costguard offhours ...` commands."""
import typer

schedule_app = typer.Typer(help="schedules", no_args_is_help=True)
offhours_app = typer.Typer(help="off-hours", no_args_is_help=True)
