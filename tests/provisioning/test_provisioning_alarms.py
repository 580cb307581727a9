"""costguard watches itself: bootstrap makes the alarms (DLQ, Lambda errors, heartbeats with missing data as
breaching), their SNS topic with the operator's subscription and the dashboard; status shows their states;
teardown removes them. Against a moto server (which stores alarms but does not evaluate them)."""
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chalice_app.cli import app as cli
from chalice_app.errors import CostguardError
from chalice_app.observability import with_heartbeat
from chalice_app.provisioning import ensure_stage, teardown_stage
from chalice_app.provisioning.alarms import SCHEDULE_MINUTES, alarm_specs, dashboard_body, schedule_minutes
from chalice_app.provisioning.watch import alarm_states
from tests.provisioning.conftest import CLUSTER

STAGE = "dev"
APP_PY = Path(__file__).resolve().parents[2] / "app.py"


def test_heartbeat_alarms_fire_when_two_schedule_periods_pass_without_a_run():
    heartbeats = {spec.name: spec for spec in alarm_specs(STAGE) if spec.name.endswith("-heartbeat")}
    offhours = heartbeats["costguard-dev-offhours-heartbeat"]
    assert (offhours.treat_missing_data, offhours.comparison, offhours.threshold) == ("breaching", "LessThanThreshold", 1)
    assert offhours.period * offhours.evaluation_periods == 2 * 5 * 60  # a missed restore alarms within 10 minutes
    assert heartbeats["costguard-dev-budget-heartbeat"].period == 15 * 60
    assert dict(offhours.dimensions) == {"function": "offhours", "service": "costguard"}


def test_schedules_match_app_py():
    rates = dict((name, int(minutes)) for minutes, name in
                 re.findall(r"Rate\((\d+), unit=Rate.MINUTES\), name=\"(\w+)\"", APP_PY.read_text()))
    assert rates == {name: minutes for name, minutes in SCHEDULE_MINUTES.items() if name in rates}


def test_every_scheduled_handler_has_a_heartbeat_alarm_with_its_own_period():
    import app

    schedules = {source.name: schedule_minutes(source.schedule_expression) for source in app.app.event_sources
                 if hasattr(source, "schedule_expression")}
    assert schedules == SCHEDULE_MINUTES == {"offhours": 5, "budget": 15, "digests": 60}  # digests: hourly Cron
    heartbeats = {spec.name: spec for spec in alarm_specs(STAGE) if spec.name.endswith("-heartbeat")}
    digests = heartbeats["costguard-dev-digests-heartbeat"]
    assert (digests.period, digests.evaluation_periods, digests.treat_missing_data) == (3600, 2, "breaching")
    assert dict(digests.dimensions) == {"function": "digests", "service": "costguard"}
    assert "digests are not sent" in digests.description
    assert sorted(heartbeats) == [f"costguard-dev-{name}-heartbeat" for name in sorted(schedules)]


def test_schedule_minutes_reads_rates_and_hourly_or_daily_crons():
    from chalice import Cron, Rate

    assert schedule_minutes(Rate(2, unit=Rate.HOURS)) == 120
    assert schedule_minutes(Cron(15, "*", "*", "*", "?", "*")) == 60
    assert schedule_minutes(Cron(0, 7, "*", "*", "?", "*")) == 24 * 60
    with pytest.raises(ValueError, match="without one period"):
        schedule_minutes(Cron(0, 7, "?", "*", "MON-FRI", "*"))  # weekdays only: no single period


def test_every_lambda_has_an_errors_alarm_the_slack_route_included():
    errors = {spec.name: dict(spec.dimensions)["FunctionName"] for spec in alarm_specs(STAGE)
              if spec.name.endswith("-errors")}
    # The Slack actions route runs in Chalice's API handler, named <app>-<stage> (tests/deploy/test_deploy_moto.py).
    assert errors == {"costguard-dev-interruptions-errors": "costguard-dev-interruptions",
                      "costguard-dev-offhours-errors": "costguard-dev-offhours",
                      "costguard-dev-budget-errors": "costguard-dev-budget",
                      "costguard-dev-digests-errors": "costguard-dev-digests",
                      "costguard-dev-slack-route-errors": "costguard-dev"}


def test_a_successful_run_emits_a_heartbeat_with_its_function_dimension(capsys, monkeypatch):
    from chalice_app.observability import metrics

    def handle(event, context):
        return "done"
    handle.__module__ = "chalice_app.offhours.handler"
    flushed = metrics.log_metrics(with_heartbeat(handle))
    assert flushed({}, None) == "done"
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert emf["Heartbeat"] == [1.0] and emf["function"] == "offhours"
    assert ["function", "service"] == sorted(emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0])

    def failing(event, context):
        raise RuntimeError("restore failed")
    failing.__module__ = "chalice_app.offhours.handler"
    with pytest.raises(RuntimeError):
        metrics.log_metrics(with_heartbeat(failing))({}, None)
    assert "Heartbeat" not in capsys.readouterr().out  # a failed run is no heartbeat


def test_bootstrap_creates_alarms_topic_subscription_and_dashboard(session):
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER, alarm_subscriptions=("ops@example.com",))
    cloudwatch, sns = session.client("cloudwatch"), session.client("sns")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix="costguard-dev-")["MetricAlarms"]}
    assert sorted(alarms) == sorted(spec.name for spec in alarm_specs(STAGE))
    assert set(alarms) >= {"costguard-dev-dlq-messages", "costguard-dev-interruptions-errors",
                           "costguard-dev-offhours-errors", "costguard-dev-budget-errors",
                           "costguard-dev-offhours-heartbeat", "costguard-dev-budget-heartbeat",
                           "costguard-dev-digests-heartbeat", "costguard-dev-slack-route-errors"}
    topic = "arn:aws:sns:us-east-1:123456789012:costguard-dev-alarms"
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in alarms.values())
    heartbeat = alarms["costguard-dev-offhours-heartbeat"]
    assert (heartbeat["Namespace"], heartbeat["MetricName"], heartbeat["TreatMissingData"]) == (
        "Costguard", "Heartbeat", "breaching")
    assert alarms["costguard-dev-dlq-messages"]["Dimensions"] == [
        {"Name": "QueueName", "Value": "costguard-dev-interruptions-dlq"}]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
    body = json.loads(cloudwatch.get_dashboard(DashboardName="costguard-dev")["DashboardBody"])
    assert body == dashboard_body(STAGE, "us-east-1") and "Costguard" in json.dumps(body)
    assert "sns-subscription" in {o.kind for o in report.outcomes}

    again = ensure_stage(session, STAGE, cluster_name=CLUSTER, alarm_subscriptions=("ops@example.com",))
    assert not again.changed
    gone = teardown_stage(session, STAGE)
    assert set(gone.names("deleted")) >= {"costguard-dev-alarms", "costguard-dev-offhours-heartbeat"}
    assert cloudwatch.describe_alarms(AlarmNamePrefix="costguard-dev-")["MetricAlarms"] == []
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []
    assert sns.list_topics()["Topics"] == []


def test_a_bad_subscription_is_refused_before_anything_is_written(session):
    with pytest.raises(CostguardError, match="expected an e-mail address or an https:// URL"):
        ensure_stage(session, STAGE, cluster_name=CLUSTER, alarm_subscriptions=("http://plain.example/hook",))
    assert session.client("sqs").list_queues().get("QueueUrls", []) == []


def test_drifted_alarm_is_updated(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER)
    cloudwatch = session.client("cloudwatch")
    drifted = alarm_specs(STAGE)[-1].request("arn:aws:sns:us-east-1:123456789012:costguard-dev-alarms")
    cloudwatch.put_metric_alarm(**{**drifted, "TreatMissingData": "notBreaching"})
    report = ensure_stage(session, STAGE, cluster_name=CLUSTER)
    assert report.names("updated") == [drifted["AlarmName"]]
    assert cloudwatch.describe_alarms(AlarmNames=[drifted["AlarmName"]])["MetricAlarms"][0][
        "TreatMissingData"] == "breaching"


def test_missing_heartbeat_shows_in_alarm_states_first(session):
    ensure_stage(session, STAGE, cluster_name=CLUSTER)
    cloudwatch = session.client("cloudwatch")
    # moto stores alarms but does not evaluate them: put the alarm where CloudWatch would after two silent periods
    cloudwatch.set_alarm_state(AlarmName="costguard-dev-offhours-heartbeat", StateValue="ALARM",
                               StateReason="Threshold Crossed: no datapoints for 2 periods (treated as breaching)")
    states = alarm_states(cloudwatch, STAGE)
    assert states[0].name == "costguard-dev-offhours-heartbeat" and states[0].state == "ALARM"
    assert {s.state for s in states[1:]} <= {"OK", "INSUFFICIENT_DATA"}


def test_bootstrap_cli_takes_alarm_subscriptions(session):
    result = CliRunner().invoke(cli, ["bootstrap", "--stage", "dev", "--cluster", CLUSTER,
                                      "--alarm-https", "https://relay.example/hooks/secret-path"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "https://relay.example/…" in result.output and "secret-path" not in result.output
    assert "costguard-dev-budget-heartbeat" in result.output and "cloudwatch-dashboard" in result.output
