"""`costguard bootstrap` / `teardown` through typer, against the module's moto server."""
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from chalice_app.cli.bootstrap import register
from tests.provisioning.conftest import CLUSTER

PROJECT_DIR = Path(__file__).resolve().parents[2]
cli = typer.Typer()
register(cli)
runner = CliRunner(env={"COLUMNS": "160"})


def test_bootstrap_prints_created_then_kept(session):
    first = runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER])
    assert first.exit_code == 0, first.output
    assert "costguard-dev-interruptions" in first.stdout and "created" in first.stdout
    second = runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER])
    assert second.exit_code == 0
    assert "created" not in second.stdout
    # 10 + alarm topic, 9 alarms (DLQ; errors of 5 Lambdas, the Slack route's too; 3 heartbeats, the digests' too),
    # dashboard, allow-list
    assert second.stdout.strip().splitlines()[-1] == "22 kept"


def test_without_a_budget_file_the_budget_feature_template_is_stored(session):
    from chalice_app.budget.document import TEMPLATE_PATH

    assert runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER]).exit_code == 0
    stored = session.client("ssm").get_parameter(Name="/costguard/dev/budget")["Parameter"]["Value"]
    assert stored == TEMPLATE_PATH.read_text()


def test_cluster_comes_from_the_stage_config(session, monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)
    result = runner.invoke(cli, ["bootstrap", "--stage", "prod", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "would-create" in result.stdout
    assert session.client("sqs").list_queues().get("QueueUrls", []) == []


def test_budget_file_and_webhook_are_stored(session, tmp_path):
    budget = tmp_path / "budget.json"
    budget.write_text(json.dumps({"currency": "USD", "period": "weekly", "amount": 700, "mode": "enforce",
                                  "thresholds": [80, 100], "nodepools": {"default": {"share": 1}}}))
    result = runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER, "--budget-file", str(budget),
                                 "--slack-webhook", "https://hooks.slack.com/services/T/B/C"])
    assert result.exit_code == 0, result.output
    ssm = session.client("ssm")
    assert json.loads(ssm.get_parameter(Name="/costguard/dev/budget")["Parameter"]["Value"])["amount"] == 700
    assert "hooks.slack.com" not in result.stdout


def test_teardown_keeps_data_by_default(session):
    runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER])
    result = runner.invoke(cli, ["teardown", "--stage", "dev"])
    assert result.exit_code == 0, result.output
    assert "--include-data" in result.stdout
    assert session.client("dynamodb").list_tables()["TableNames"] == ["costguard-dev"]
    assert runner.invoke(cli, ["teardown", "--stage", "dev", "--include-data"]).exit_code == 0
    assert session.client("dynamodb").list_tables()["TableNames"] == []


def test_bad_input_is_one_line_on_stderr_with_exit_2(session, tmp_path):
    result = runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER, "--slack-webhook", "nope"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["costguard: Slack webhook URL must start with https:// (and "
                                                  "contain no spaces)"]
    missing = runner.invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER,
                                  "--budget-file", str(tmp_path / "absent.json")])
    assert missing.exit_code == 2
    assert missing.stderr.startswith("costguard: cannot read budget file")
    assert session.client("sqs").list_queues().get("QueueUrls", []) == []
