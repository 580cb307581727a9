"""End to end against the sandbox: the app's identity (RBAC), real kubernetes client, paged lists, merge patches,
faults, Slack. A weekday evening in London scales functions and opted-in NodePools to zero; the morning restores."""
import json
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from chalice_app.cli import app as costguard_cli
from chalice_app.config import settings
from chalice_app.errors import KubeAccessError
from chalice_app.offhours.explain import explain
from chalice_app.offhours.handler import run
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.kube.names import ORIGINAL_LIMITS, ORIGINAL_REPLICAS
from sandbox import Sandbox
from sandbox.kubeapi.faults import Fault

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)  # Tuesday, 19:05 in London (GMT)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
ENV = {"COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London", "COSTGUARD_OFFHOURS_NODEPOOLS": "default"}


@pytest.fixture
def sb():
    with Sandbox(functions=12, nodes=4, now=SEEDED_AT) as running:
        yield running


def deployments(sb) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in sb.kube.store.list("apps/v1", "Deployment", "openfaas-fn")}


def replicas(sb) -> dict[str, int]:
    return {name: d["spec"]["replicas"] for name, d in deployments(sb).items()}


def pool(sb, name: str) -> dict:
    return sb.kube.store.get("karpenter.sh/v1", "NodePool", None, name)


def test_evening_to_zero_and_morning_back_exactly(sb):
    before = replicas(sb)
    limits = {name: pool(sb, name)["spec"]["limits"] for name in ("default", "spot")}
    with sb.activate(**ENV):
        sb.kube.reset_requests()
        evening = run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
        requests = list(sb.kube.requests)
        sb.sim.settle()
        after_evening = deployments(sb)
        again = run(settings(), EVENING.replace(minute=10), OffhoursPorts.from_settings(settings()))
        morning = run(settings(), MORNING, OffhoursPorts.from_settings(settings()))
    assert all(r.user == "costguard" and r.status < 400 for r in requests)
    patches = [r for r in requests if r.method == "PATCH"]
    scaled = sum(1 for count in before.values() if count > 0)
    assert evening["scaled_down"] == scaled and len(patches) == scaled + 1  # one per function + the NodePool
    assert all(d["spec"]["replicas"] == 0 for d in after_evening.values())
    assert {name: int(d["metadata"]["annotations"][ORIGINAL_REPLICAS]) for name, d in after_evening.items()
            if ORIGINAL_REPLICAS in d["metadata"].get("annotations", {})} == {n: c for n, c in before.items() if c}
    assert again["scaled_down"] == 0 and again["counts"]["keep"] == len(before)  # level-triggered: nothing to do
    assert morning["restored"] == scaled and replicas(sb) == before
    assert not any(ORIGINAL_REPLICAS in d["metadata"].get("annotations", {}) for d in deployments(sb).values())
    assert {name: pool(sb, name)["spec"]["limits"] for name in limits} == limits  # exactly, types included
    assert ORIGINAL_LIMITS not in pool(sb, "default")["metadata"]["annotations"]
    texts = [m.payload["text"] for m in sb.slack.messages]
    assert texts == [f"costguard off-hours: {scaled} scaled down, 0 restored, 0 errors",
                     f"costguard off-hours: 0 scaled down, {scaled} restored, 0 errors"]


def test_nodepool_limits_zero_during_downtime_only_when_opted_in(sb):
    spot = pool(sb, "spot")
    with sb.activate(**ENV):
        run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
    limited = pool(sb, "default")
    assert limited["spec"]["limits"] == {"cpu": "0"}
    assert limited["metadata"]["annotations"][ORIGINAL_LIMITS] == '{"cpu": 100}'
    assert pool(sb, "spot") == spot  # not opted in: never touched


def test_a_conflict_is_re_read_and_a_failing_function_does_not_stop_the_others(sb):
    before = replicas(sb)
    victims = sorted(name for name, count in before.items() if count)[:2]
    sb.kube.faults.inject(Fault(status=409, retry_after=None, times=1, method="PATCH", path_contains=f"/{victims[0]}"))
    sb.kube.faults.inject(Fault(status=500, retry_after=0, times=50, method="PATCH", path_contains=f"/{victims[1]}"))
    with sb.activate(**ENV):
        summary = run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
        sb.kube.faults.clear()
    now = replicas(sb)
    assert now[victims[0]] == 0  # re-read after the 409, then patched
    assert now[victims[1]] == before[victims[1]]  # gave up after the retries, untouched
    assert [error.split(" 500 ")[0] for error in summary["errors"]] == [f"openfaas-fn/{victims[1]}: Kubernetes API"]
    assert all(now[name] == 0 for name, count in before.items() if name != victims[1])
    assert "1 errors" in sb.slack.messages[-1].payload["text"]


def test_human_scale_during_downtime_is_left_alone_and_kept(sb):
    with sb.activate(**ENV):
        run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
        sb.sim.scale_function("sleep", 4)
        night = run(settings(), EVENING.replace(hour=23), OffhoursPorts.from_settings(settings()))
        explained = explain("sleep", "openfaas-fn", EVENING.replace(hour=23))
        run(settings(), MORNING, OffhoursPorts.from_settings(settings()))
    assert night["scaled_down"] == 0 and replicas(sb)["sleep"] == 4
    assert explained.action == "skip" and "by someone" in explained.reason
    assert explained.next_change == MORNING.replace(minute=0)
    assert ORIGINAL_REPLICAS not in deployments(sb)["sleep"]["metadata"].get("annotations", {})


def test_dry_run_and_cli_plan_change_nothing(sb, tmp_path, monkeypatch):
    before = replicas(sb)
    with sb.activate(**ENV, COSTGUARD_DRY_RUN="true"):
        summary = run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
        monkeypatch.chdir(tmp_path)  # no .chalice/config.json here: the CLI reads the sandbox's environment
        result = CliRunner().invoke(costguard_cli, ["offhours", "plan", "--at", EVENING.isoformat()])
    assert summary["dry_run"] and summary["scaled_down"] == summary["counts"]["scale-down"] > 0  # would have
    assert replicas(sb) == before
    assert not [r for r in sb.kube.requests if r.method == "PATCH"]
    assert result.exit_code == 0, result.output
    assert "openfaas-fn/sleep" in result.output and "scale-down" in result.output
    assert "[dry run]" in sb.slack.messages[-1].payload["text"]


class LambdaContext:
    function_name = "costguard-sandbox-offhours"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:costguard-sandbox-offhours"
    aws_request_id = "req-offhours"


def test_lambda_entry_takes_the_scheduled_event_and_reports_the_run(sb):
    from chalice_app.offhours import handler

    event = {"id": "tick-1", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-24T19:05:00Z",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/costguard-sandbox-offhours"], "detail": {}}
    with sb.activate(COSTGUARD_DEFAULT_UPTIME="always"):
        summary = handler.handle(event, LambdaContext())
    assert summary["counts"]["keep"] == 12 and summary["errors"] == [] and not summary["dry_run"]


def test_a_missing_namespace_is_reported_naming_it_and_the_others_still_run(sb):
    with sb.activate(**{**ENV, "COSTGUARD_FUNCTION_NAMESPACES": "openfaas-fn,openfaas-fnn"}):
        summary = run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
    assert any("namespace 'openfaas-fnn' from COSTGUARD_FUNCTION_NAMESPACES" in error for error in summary["errors"])
    assert summary["scaled_down"] > 0  # openfaas-fn was still reconciled


def test_the_cli_plan_still_stops_on_a_missing_namespace(sb):
    from chalice_app.offhours.cluster import OffhoursCluster
    from chalice_app.kube.client import api_client
    from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler
    with sb.activate(**{**ENV, "COSTGUARD_FUNCTION_NAMESPACES": "openfaas-fn,openfaas-fnn"}):
        reconciler = Reconciler(OffhoursCluster(api_client(settings())), OffhoursConfig.from_settings(settings()))
        with pytest.raises(KubeAccessError, match="namespace 'openfaas-fnn' from COSTGUARD_FUNCTION_NAMESPACES"):
            reconciler.plan(EVENING)


def test_the_api_down_past_the_retries_is_one_slack_message_and_a_run_log_line_then_the_lambda_fails(sb):
    """Issue 12: a run that fails as a whole is seen: the fake API answers 503 to every Deployment list."""
    from chalice_app.offhours import handler
    from chalice_app.runlog import RunLog

    event = {"id": "tick-2", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-24T19:05:00Z",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/costguard-sandbox-offhours"], "detail": {}}
    sb.kube.faults.inject(Fault(status=503, retry_after=0, times=1000, path_contains="/deployments"))
    with sb.activate(**ENV):
        with pytest.raises(handler.OffhoursRunFailed, match="503"):
            handler.handle(event, LambdaContext())
        last = RunLog(settings().table_name).last_runs()["offhours"]
    sb.kube.faults.clear()
    assert not last["ok"] and any("503" in error for error in last["summary"]["errors"])
    [message] = sb.slack.messages
    assert "1 errors" in message.payload["text"] and "503" in json.dumps(message.payload)
