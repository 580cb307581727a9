"""`costguard bootstrap` and `costguard teardown`: the stage's AWS resources that `chalice deploy` does not make."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import boto3
import typer
from rich.console import Console
from rich.table import Table

from chalice_app.budget.document import TEMPLATE_PATH
from chalice_app.cli.common import cli_settings, one_line_errors, read_operator_file
from chalice_app.provisioning import ProvisionReport, ensure_stage, teardown_stage

ACTION_STYLES = {"created": "green", "updated": "yellow", "deleted": "red", "kept": "dim", "absent": "dim"}


def render_report(report: ProvisionReport, console: Console) -> None:
    title = f"costguard {report.stage} in {report.region}" + (" (dry run: nothing changed)" if report.dry_run else "")
    table = Table(title=title)
    for column in ("resource", "name", "action", "detail"):
        table.add_column(column, no_wrap=column != "detail")  # names stay whole so they can be copied
    for outcome in report.outcomes:
        style = ACTION_STYLES.get(outcome.action, "cyan")  # would-* in cyan
        table.add_row(outcome.kind, outcome.name, f"[{style}]{outcome.action}[/{style}]", outcome.detail)
    console.print(table)
    console.print(report.summary())


def read_budget_file(path: Path | None) -> str:
    """The operator's budget document, or the budget feature's default (what `costguard budget template` prints)."""
    return read_operator_file(path or TEMPLATE_PATH, "budget file")


@one_line_errors
def bootstrap(
    stage: str = typer.Option(..., "--stage", help="stage to provision, e.g. dev or prod"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show what would be created; change nothing"),
    slack_webhook: Optional[str] = typer.Option(None, "--slack-webhook", help="Slack incoming-webhook URL (stored "
                                                "as an SSM SecureString; updated only when it changed)"),
    budget_file: Optional[Path] = typer.Option(None, "--budget-file", help="budget document (JSON) used only when "
                                               "the stage has none yet"),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="EKS cluster (default: the stage's "
                                          "COSTGUARD_CLUSTER_NAME in .chalice/config.json)"),
    slack_signing_secret: Optional[str] = typer.Option(
        None, "--slack-signing-secret", envvar="COSTGUARD_BOOTSTRAP_SLACK_SIGNING_SECRET",
        help="the Slack app's signing secret, for the /slack/actions route (stored as an SSM SecureString; better "
             "passed in the environment variable than on the command line)"),
    alarm_email: List[str] = typer.Option([], "--alarm-email", help="e-mail address subscribed to the alarms' SNS "
                                          "topic (repeatable; SNS asks it to confirm)"),
    alarm_https: List[str] = typer.Option([], "--alarm-https", help="https:// endpoint subscribed to the alarms' "
                                          "SNS topic (repeatable). For Slack, add the topic to an AWS Chatbot "
                                          "channel configuration instead"),
) -> None:
    """Create the stage's queue, DLQ, EventBridge rules, table, parameters, and the alarms and dashboard that watch
    costguard; run it again any time."""
    cluster_name = cluster or cli_settings(stage).cluster_name
    report = ensure_stage(boto3.session.Session(), stage, cluster_name=cluster_name, slack_webhook_url=slack_webhook,
                          budget_template=read_budget_file(budget_file), dry_run=dry_run,
                          alarm_subscriptions=(*alarm_email, *alarm_https), slack_signing_secret=slack_signing_secret)
    render_report(report, Console())


@one_line_errors
def teardown(
    stage: str = typer.Option(..., "--stage", help="stage to remove"),
    include_data: bool = typer.Option(False, "--include-data", help="also delete the table (ledger, idempotency "
                                      "records) and the budget document"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show what would be deleted; change nothing"),
) -> None:
    """Remove what bootstrap created (run `chalice delete --stage S` for the functions)."""
    report = teardown_stage(boto3.session.Session(), stage, include_data=include_data, dry_run=dry_run)
    render_report(report, Console())


def register(app: typer.Typer) -> None:
    app.command("bootstrap")(bootstrap)
    app.command("teardown")(teardown)
