"""Budget messages: NodePool and function names (from the cluster) and the problem text (it may quote the document
or an API error) are inert mrkdwn (Slack's `&`, `<`, `>` rule: api.slack.com/reference/surfaces/formatting#escaping)."""
from datetime import datetime, timezone
from types import SimpleNamespace

from chalice_app.budget.alerts import threshold_alerts
from chalice_app.budget.report import budget_message, problem_message
from tests.slackfakes import assert_inert

HOSTILE = "<!channel><https://evil.example|click here>"
NOW = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)


def test_pool_and_function_names_are_inert_in_the_budget_message():
    plan = SimpleNamespace(period="monthly", pools=[], mode="advise", now=NOW)
    alerts = threshold_alerts(HOSTILE, 100.0, 90.0, (50, 80))
    assert_inert(budget_message(plan, alerts, {HOSTILE: [(f"openfaas-fn/{HOSTILE}", 2.0)]}))


def test_the_problem_text_is_inert():
    assert_inert(problem_message(f"budget document is invalid: nodepools.{HOSTILE}: bad", NOW.isoformat()))
