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
            print(f"costguard: {line}", file=sys.stderr)
            raise typer.Exit(2) from None

    return run
