"""costguard watching itself, as pure desired state: CloudWatch alarms on the DLQ, on each Lambda's errors and on
the heartbeat of each scheduled handler, the SNS topic they notify, and a dashboard of the handlers' EMF metrics.

A heartbeat is the `Heartbeat` metric each handler emits after a successful run (chalice_app.observability). Its
alarm treats missing data as breaching (CloudWatch: "TreatMissingData: breaching"), so a run that never happened —
a failed morning restore, a disabled schedule, a broken deploy — alarms once two schedule periods in a row have no
heartbeat, without waiting for an error that a run which never started cannot raise.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalice_app import naming
from chalice_app.errors import CostguardError
from chalice_app.observability import HEARTBEAT_METRIC, NAMESPACE, SERVICE

# app.py's schedules, in minutes (a test reads them from app.py's event sources through schedule_minutes).
SCHEDULE_MINUTES = {"offhours": 5, "budget": 15, "digests": 60}
# What a missing heartbeat means, per scheduled handler.
HEARTBEAT_STAKES = {"offhours": "functions may stay parked or NodePool limits stale",
                    "budget": "functions may stay parked or NodePool limits stale",
                    "digests": "the Karpenter disruption and spot digests are not sent"}
RATE_UNIT_MINUTES = {"MINUTES": 1, "HOURS": 60, "DAYS": 1440}
HEARTBEAT_PERIODS = 2  # consecutive periods without a heartbeat before the alarm fires
ERROR_PERIOD_SECONDS = 300
ALARM_FIELDS = ("Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
                "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "AlarmDescription",
                "AlarmActions", "OKActions")


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    treat_missing_data: str

    def request(self, topic_arn: str) -> dict:
        """The PutMetricAlarm request (the same fields DescribeAlarms answers with)."""
        return {"AlarmName": self.name, "AlarmDescription": self.description, "Namespace": self.namespace,
                "MetricName": self.metric,
                "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
                "Statistic": self.statistic, "Period": self.period, "EvaluationPeriods": self.evaluation_periods,
                "DatapointsToAlarm": self.evaluation_periods, "Threshold": float(self.threshold),
                "ComparisonOperator": self.comparison, "TreatMissingData": self.treat_missing_data,
                "ActionsEnabled": True, "AlarmActions": [topic_arn], "OKActions": [topic_arn]}


def heartbeat_dimensions(function: str) -> tuple[tuple[str, str], ...]:
    return (("function", function), ("service", SERVICE))


def alarm_specs(stage: str) -> list[AlarmSpec]:
    dlq = naming.interruption_dlq(stage)
    specs = [AlarmSpec(
        naming.alarm(stage, "dlq-messages"),
        f"Interruption events in {dlq} failed 5 times and were not alerted: inspect, fix, redrive.",
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", dlq),), "Maximum", 300, 1, 0,
        "GreaterThanThreshold", "notBreaching")]
    for function, lambda_name in naming.watched_functions(stage):
        specs.append(AlarmSpec(
            naming.alarm(stage, f"{function}-errors"), f"{lambda_name} failed (Lambda Errors > 0 in 5 minutes).",
            "AWS/Lambda", "Errors", (("FunctionName", lambda_name),), "Sum", ERROR_PERIOD_SECONDS, 1, 0,
            "GreaterThanThreshold", "notBreaching"))
    for function, minutes in SCHEDULE_MINUTES.items():
        specs.append(AlarmSpec(
            naming.alarm(stage, f"{function}-heartbeat"),
            f"No successful {function} run for {HEARTBEAT_PERIODS} schedule periods ({minutes} min each): "
            f"{HEARTBEAT_STAKES[function]}.",
            NAMESPACE, HEARTBEAT_METRIC, heartbeat_dimensions(function), "Sum", minutes * 60, HEARTBEAT_PERIODS,
            1, "LessThanThreshold", "breaching"))
    return specs


def schedule_minutes(expression) -> int:
    """Minutes between two runs of a Chalice schedule: a `Rate`, or a `Cron` firing at a fixed minute of every
    hour (or of one hour every day). Other Crons have no single period and raise ValueError."""
    if hasattr(expression, "unit"):  # chalice.Rate(value, unit)
        return int(expression.value) * RATE_UNIT_MINUTES[str(expression.unit).upper()]
    fields = (expression.day_of_month, expression.month, expression.day_of_week, expression.year)
    if isinstance(expression.minutes, int) and all(str(field) in ("*", "?") for field in fields):
        if expression.hours == "*":
            return 60
        if isinstance(expression.hours, int):
            return 24 * 60
    raise ValueError(f"schedule without one period: {vars(expression)}")


def _comparable(alarm: dict) -> dict:
    picked = {key: alarm.get(key) for key in ALARM_FIELDS}
    picked["Dimensions"] = sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or [])
    picked["Threshold"] = float(alarm.get("Threshold") or 0)
    return picked


def alarm_differs(current: dict, desired: dict) -> bool:
    return _comparable(current) != _comparable(desired)


def dashboard_body(stage: str, region: str) -> dict:
    """One row per handler (its EMF metrics, found by SEARCH so new counters show up), then errors and the DLQ."""
    def search(function: str) -> str:
        return (f"SEARCH('{{{NAMESPACE},function,service}} function=\"{function}\" service=\"{SERVICE}\"', "
                f"'Sum', 300)")

    widgets = []
    for row, function in enumerate(naming.FUNCTIONS):
        widgets.append({"type": "metric", "x": 0, "y": row * 6, "width": 24, "height": 6, "properties": {
            "title": f"{function}: EMF metrics (Sum per 5 min)", "region": region, "view": "timeSeries",
            "metrics": [[{"expression": search(function), "id": f"m{row}"}]]}})
    errors = [["AWS/Lambda", "Errors", "FunctionName", lambda_name] for _, lambda_name in naming.watched_functions(stage)]
    widgets.append({"type": "metric", "x": 0, "y": 18, "width": 12, "height": 6, "properties": {
        "title": "Lambda errors", "region": region, "stat": "Sum", "period": 300, "metrics": errors}})
    widgets.append({"type": "metric", "x": 12, "y": 18, "width": 12, "height": 6, "properties": {
        "title": "interruption DLQ: visible messages", "region": region, "stat": "Maximum", "period": 300,
        "metrics": [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", naming.interruption_dlq(stage)]]}})
    return {"widgets": widgets}


def dashboard_differs(current_body: str | None, desired: dict) -> bool:
    if current_body is None:
        return True
    try:
        return json.loads(current_body) != desired
    except ValueError:
        return True


def subscription_protocol(endpoint: str) -> str:
    """SNS protocol of an operator-chosen endpoint: an e-mail address or an HTTPS URL (e.g. a chat webhook relay)."""
    if endpoint.startswith("https://") and " " not in endpoint:
        return "https"
    if "@" in endpoint and " " not in endpoint and not endpoint.startswith(("http:", "https:")):
        return "email"
    raise CostguardError(f"alarm subscription {endpoint!r}: expected an e-mail address or an https:// URL")
