"""What every `costguard` command shares: the stage's settings and one-line errors with exit code 2."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import typer
from kubernetes.client.exceptions import ApiException
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer 0.29 vendors click; not re-exported
from typer.core import TyperGroup
from urllib3.exceptions import HTTPError as Urllib3Error

from chalice_app.config import Settings, load_settings
from chalice_app.errors import CostguardError, explain_aws_error

CHALICE_CONFIG = Path(".chalice") / "config.json"
StageOption = typer.Option(None, "--stage", help="stage in .chalice/config.json (default: $COSTGUARD_STAGE or dev)")


def stage_environment(stage: str, config_path: Path = CHALICE_CONFIG) -> dict[str, str]:
    """The Lambda environment Chalice would give `stage`, so the CLI sees what the functions see."""
    if not config_path.exists():
        return {}
    config = json.loads(config_path.read_text())
    if stage not in config.get("stages", {}):
        raise CostguardError(f"unknown stage {stage!r} in {config_path}: expected one of {sorted(config['stages'])}")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def read_operator_file(path: Path, what: str = "file") -> str:
    """The text of a file named on the command line; one line naming it when it cannot be read as UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CostguardError(f"cannot read {what} {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise CostguardError(f"cannot read {what} {path}: not UTF-8 text (byte {error.start})") from None


def cli_settings(stage: str | None = None) -> Settings:
    """Stage variables from .chalice/config.json, overridden by the caller's environment.

    An explicit `--stage` must exist in the config; a stage named only by $COSTGUARD_STAGE (the sandbox, a CI job)
    may be absent from it, and then the environment alone describes it.
    """
    chosen = stage or os.environ.get("COSTGUARD_STAGE", "dev")
    try:
        stage_variables = stage_environment(chosen)
    except CostguardError:
        if stage is not None:
            raise
        stage_variables = {}
    return load_settings({**stage_variables, **os.environ, "COSTGUARD_STAGE": chosen})


def status_message(error: ApiException) -> str:
    """The Kubernetes Status object's message (e.g. 'deployments.apps "x" not found'), else the raw body."""
    try:
        return json.loads(error.body or "")["message"]
    except (TypeError, ValueError, KeyError):
        return str(error.body or "").strip()[:300]


def describe_failure(error: BaseException) -> str | None:
    """One line for the failures an operator can fix; None for anything else (a bug: let it raise)."""
    if isinstance(error, CostguardError):
        return str(error)
    aws_line = explain_aws_error(error)
    if aws_line is not None:
        return aws_line
    if isinstance(error, ApiException):
        if error.status in (401, 403):
            return (f"Kubernetes refused costguard ({error.status} {error.reason}): check the EKS access entry and "
                    f"the roles bound to its group in policies/kubernetes-rbac.yaml")
        return f"Kubernetes API error {error.status} {error.reason}: {status_message(error)}"
    if isinstance(error, Urllib3Error):
        return f"cannot reach the Kubernetes API: {error}"
    return None


def error_line(message: str) -> str:
    """`costguard: message` as one line: line breaks that an operator's input carried into the message are spaces."""
    return "costguard: " + " ".join(message.split())


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn operator-fixable failures into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as error:  # noqa: BLE001 - classified below, re-raised when not an operator error
            line = describe_failure(error)
            if line is None:
                raise
            print(error_line(line), file=sys.stderr)
            raise typer.Exit(2) from None

    return run


def _command_words(error: typer.TyperException) -> str:
    """The sub-command an error is about ('budget reconcile'), without the program's own name."""
    context = getattr(error, "ctx", None)
    words = context.command_path.split()[1:] if context is not None else []
    return " ".join(words) + ": " if words else ""


class OneLineGroup(TyperGroup):
    """The `costguard` group: every way a command line can be wrong is one line on stderr with exit code 2 (click's
    and Typer's own usage errors print the usage and a boxed message over several lines), and operator-fixable
    failures of any sub-command (see `describe_failure`) are one line too. Bugs still raise."""

    def main(self, args=None, prog_name=None, complete_var=None,  # type: ignore[override]
             standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as error:  # a group without its command: the help, then why
            typer.echo(error.format_message())
            print(error_line(f"{_command_words(error)}give one of the commands listed above"), file=sys.stderr)
            code = error.exit_code
        except typer.TyperException as error:
            hint = " (see --help)" if isinstance(error, UsageError) else ""
            print(error_line(f"{_command_words(error)}{error.format_message()}{hint}"), file=sys.stderr)
            code = error.exit_code
        except typer.Abort:
            print(error_line("aborted"), file=sys.stderr)
            code = 1
        except Exception as error:  # noqa: BLE001 - classified below, re-raised when not an operator error
            line = describe_failure(error)
            if line is None:
                raise
            print(error_line(line), file=sys.stderr)
            code = 2
        # Without standalone mode click returns Exit's code, or the command's return value (None: success).
        sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)
