"""Closing the loop with the bill: metered vs Cost Explorer per day and pool (`costguard budget reconcile`), the
previous period's tail booked by the first run after midnight, and the error in the budget message."""
import json
from datetime import date, datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber
from rich.console import Console
from typer.testing import CliRunner

from chalice_app import naming
from chalice_app.budget.costexplorer import cost_request
from chalice_app.budget.document import parse_budget
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.metering import LedgerEntry
from chalice_app.budget.reconcile import DayError, pool_totals, reconcile_rows
from chalice_app.budget.service import reconcile_report
from chalice_app.cli import app
from chalice_app.cli.budget import print_reconcile
from tests.budget import test_budget_handler as h
from tests.budget.conftest import STAGE
from tests.budget.test_budget_costexplorer import day
from tests.slackfakes import RecordingNotifier

DOCUMENT = parse_budget({"amount": 1000, "nodepools": {"default": {"amount": 700}, "spot": {"amount": 300}}})


def test_rows_per_closed_day_and_pool_with_the_error():
    metered = {"default": {"2026-11-01": 10.0, "2026-11-02": 11.0, "2026-11-03": 4.0}, "spot": {"2026-11-01": 2.2}}
    closed = {"default": {"2026-11-01": 10.0, "2026-11-02": 10.0}, "spot": {"2026-11-01": 2.0},
              "": {"2026-11-01": 0.0, "2026-11-02": 0.0}}
    rows = reconcile_rows(metered, closed)
    assert [(r.day, r.pool, r.percent) for r in rows] == [
        ("2026-11-01", "default", 0.0), ("2026-11-01", "spot", pytest.approx(10.0)),
        ("2026-11-02", "default", pytest.approx(10.0))]  # the 3rd is not closed yet
    [default, spot] = pool_totals(rows)
    assert default.metered == 21.0 and default.billed == 20.0 and default.percent == pytest.approx(5.0)
    assert DayError("d", "p", 1.0, 0.0).percent == 100.0
    console = Console(record=True, width=120)
    print_reconcile(rows, pool_totals(rows), console)
    text = console.export_text()  # export clears the record
    assert "+10.0 %" in text and "total" in text


def test_reconcile_report_reads_every_period_it_spans_and_asks_cost_explorer_once(aws):
    ledger = Ledger(naming.table(STAGE), aws)
    end = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert ledger.save("2026-10", "default", LedgerEntry(), LedgerEntry(spent=5.0, metered_at=end - timedelta(days=31),
                       daily={"2026-10-31": 5.0}), None, end)
    assert ledger.save("2026-11", "default", LedgerEntry(), LedgerEntry(spent=21.0, metered_at=end, daily={
        "2026-11-01": 10.0, "2026-11-02": 11.0}), None, end)
    client = boto3.client("ce", region_name="us-east-1")
    now = datetime(2026, 11, 3, 9, tzinfo=timezone.utc)
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": [
            day("2026-10-31", [("default", 5.0)]), day("2026-11-01", [("default", 9.0)]),
            day("2026-11-02", [("default", 11.0)], estimated=True)]},
            cost_request(date(2026, 10, 31), date(2026, 11, 3)))
        rows = reconcile_report(h.SETTINGS, DOCUMENT, now, 3, aws, ce_client=client)
    assert [(r.day, r.metered, r.billed) for r in rows] == [("2026-10-31", 5.0, 5.0), ("2026-11-01", 10.0, 9.0)]


def test_request_asks_for_net_amortized_cost_of_compute_and_volumes():
    request = cost_request(date(2026, 11, 1), date(2026, 11, 2))
    assert request["Metrics"] == ["NetAmortizedCost"]
    assert request["Filter"]["Dimensions"]["Values"] == ["Amazon Elastic Compute Cloud - Compute", "EC2 - Other"]


def test_reconcile_command_validates_days():
    result = CliRunner().invoke(app, ["budget", "reconcile", "--days", "0"])
    assert result.exit_code == 2 and "--days" in result.output + (result.stderr or "")


def test_first_run_after_midnight_books_the_last_slice_of_the_previous_period(aws):
    h.put_budget(aws, {**h.BUDGET, "period": "daily"})
    end = datetime(2026, 11, 26, tzinfo=timezone.utc)
    ledger = Ledger(naming.table(STAGE), aws)
    rates = {c["metadata"]["name"]: 0.192 for c in h.CLAIMS}
    last = end - timedelta(minutes=10)  # the last run of the 25th was at 23:50
    assert ledger.save("2026-11-25", "default", LedgerEntry(), LedgerEntry(spent=10.0, metered_at=last,
                       open_rates=rates, daily={"2026-11-25": 10.0}), {}, end)
    h.run(aws, h.cluster(), RecordingNotifier(), now=end + timedelta(minutes=5))
    closed = ledger.entries("2026-11-25", ["default"])["default"]
    today = ledger.entries("2026-11-26", ["default"])["default"]
    assert closed.metered_at == end and closed.spent == pytest.approx(10.0 + 14 * 0.192 / 6)
    assert today.spent == pytest.approx(14 * 0.192 / 12)  # 00:00 to 00:05, nothing lost, nothing twice
    assert json.loads(ledger.item("2026-11-25", "default")["status"]) == {}  # closing keeps the old status


def test_budget_message_carries_the_last_closed_days_error_above_the_threshold(aws):
    h.put_budget(aws, {**h.BUDGET, "cost_explorer": True, "reconcile_alert_percent": 5})
    now = datetime(2026, 11, 3, 9, tzinfo=timezone.utc)
    claims = [dict(c, metadata={**c["metadata"], "creationTimestamp": "2026-10-30T00:00:00Z"}) for c in h.CLAIMS]
    kube = h.budget_cluster([h.nodepool("default")], nodeclaims=claims)
    notifier = RecordingNotifier()
    client = boto3.client("ce", region_name="us-east-1")
    # metered: 14 nodes x 0.192 x 24 h = 64.51 USD a day; the bill says 50 on the 2nd (Savings Plans)
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": [
            day("2026-11-01", [("default", 64.5)]), day("2026-11-02", [("default", 50.0)])]})
        h.handler.run(h.SETTINGS, now, h.ports(aws, kube, notifier, ce_client=client))
    text = notifier.sent[-1].text
    assert "on 2026-11-02: metered 64.51 USD, billed 50.00 USD (+29.0 %, above 5 %)" in text
