import json
from datetime import datetime, timezone

from rich.console import Console
from typer.testing import CliRunner

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.metering import LedgerEntry, running_nodes
from chalice_app.budget.planner import plan_budget
from chalice_app.budget.prices import PriceBook
from chalice_app.cli import app
from chalice_app.cli.budget import plan_rows, print_plan
from tests.budget.factories import BUDGET, EC2_TYPES, ON_DEMAND, nodeclaim, nodepool

runner = CliRunner()


def test_validate_accepts_a_good_document(tmp_path):
    path = tmp_path / "budget.json"
    path.write_text(json.dumps(BUDGET))
    result = runner.invoke(app, ["budget", "validate", str(path)])
    assert result.exit_code == 0 and "valid — monthly 1000.00 USD, enforce; default 700.00, spot 300.00" in result.output


def test_validate_names_the_problem_and_exits_2(tmp_path):
    path = tmp_path / "budget.json"
    path.write_text(json.dumps({**BUDGET, "period": "hourly"}))
    result = runner.invoke(app, ["budget", "validate", str(path)])
    assert result.exit_code == 2 and "period: Input should be 'monthly', 'weekly' or 'daily'" in result.stderr


def test_template_prints_a_valid_document():
    result = runner.invoke(app, ["budget", "template"])
    assert result.exit_code == 0 and parse_budget(result.output).mode == "advise"


def test_plan_rejects_both_sources_and_bad_times(tmp_path):
    path = tmp_path / "budget.json"
    path.write_text(json.dumps(BUDGET))
    env = {"COSTGUARD_CLUSTER_NAME": "guide", "COSTGUARD_TABLE_NAME": "costguard-test"}
    both = runner.invoke(app, ["budget", "plan", "--budget", str(path), "--from-ssm"], env=env)
    assert both.exit_code == 2 and "not both" in both.stderr
    bad = runner.invoke(app, ["budget", "plan", "--budget", str(path), "--at", "tuesday"], env=env)
    assert bad.exit_code == 2 and "--at 'tuesday'" in bad.stderr


def test_plan_rows_and_table_say_why():
    now = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    running = running_nodes([nodeclaim(f"c{i}") for i in range(3)], [], {t.name: t for t in catalog})
    plan = plan_budget(parse_budget(BUDGET), [nodepool(), nodepool("gpu")], running,
                       {"default": LedgerEntry(spent=600.0, metered_at=now)}, catalog, PriceBook(on_demand=ON_DEMAND),
                       now)
    [row] = plan_rows(plan)
    assert row["nodepool"] == "default" and row["current_cpu"] == 100 and row["proposed_cpu"] == 50
    assert row["change"] and "moved at most 50 %" in row["why"]
    console = Console(record=True, width=200)
    print_plan(plan, plan_rows(plan), console)
    text = console.export_text()
    assert "not in the budget, left alone: gpu" in text and "in the budget but not in the cluster: spot" in text
    assert "default: capacity types: on-demand (karpenter.sh/capacity-type In on-demand)" in text
    assert "default: architectures: amd64 (kubernetes.io/arch In amd64)" in text

