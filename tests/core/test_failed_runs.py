"""A run that fails as a whole still writes its run-log line (`costguard status`) and sends one Slack message naming
the failure, then raises (the function's errors alarm): off-hours, budget and digests, each with a fault injected —
Kubernetes unreachable, the stage table unreachable, settings broken, an unexpected exception (issue 12)."""
import json
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError
from kubernetes.client.exceptions import ApiException

from chalice_app import config
from chalice_app.budget import handler as budget_handler
from chalice_app.digests import handler as digests_handler
from chalice_app.digests.ports import DigestPorts
from chalice_app.failed_run import salvaged_settings
from chalice_app.interruptions.records import InterruptionRecords
from chalice_app.offhours import handler as offhours_handler
from chalice_app.offhours.parked import MemoryParkedStore
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.runlog import RunLog
from tests.memory_cluster import MemoryCluster, budget_cluster
from tests.moto_helpers import stage_table_session
from tests.slackfakes import RecordingNotifier

TABLE = "costguard-test"
SETTINGS = config.load_settings({"COSTGUARD_CLUSTER_NAME": "c", "COSTGUARD_TABLE_NAME": TABLE,
                                 "COSTGUARD_KARPENTER_DIGEST": "true", "COSTGUARD_DIGEST_HOUR": "18",
                                 "COSTGUARD_DEFAULT_TIMEZONE": "UTC"})
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
UNREACHABLE = ApiException(status=503, reason="Service Unavailable")


@pytest.fixture
def table():
    with stage_table_session(TABLE) as session:
        yield session


class UnreachableCluster(MemoryCluster):
    def functions(self, namespace):
        raise UNREACHABLE

    def nodepools(self):
        raise UNREACHABLE


class UnreachableStore(MemoryParkedStore):
    def get_many(self, ids):
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "table not found"}}, "GetItem")


class Buggy(MemoryCluster):
    def functions(self, namespace):
        raise KeyError("metadata")


def _failed_line(session, feature):
    run = RunLog(TABLE, session).last_runs()[feature]  # as `costguard status` reads it
    assert run["ok"] is False
    return run["summary"]["failed"]


@pytest.mark.parametrize("cluster, store, named", [
    (UnreachableCluster(), MemoryParkedStore(), "Kubernetes API 503 Service Unavailable"),
    (MemoryCluster(), UnreachableStore(), "ResourceNotFoundException"),
    (Buggy(), MemoryParkedStore(), "KeyError: 'metadata'"),
])
def test_an_offhours_run_that_cannot_read_is_logged_and_said_in_slack_then_raised(table, cluster, store, named):
    slack = RecordingNotifier()
    with pytest.raises(offhours_handler.OffhoursRunFailed, match=named):
        offhours_handler.run(SETTINGS, EVENING, OffhoursPorts(cluster, store, slack))
    [message] = slack.sent  # the run's summary, with its errors
    assert named in message.text + json.dumps(message.blocks)
    line = RunLog(TABLE, table).last_runs()["offhours"]
    assert not line["ok"] and any(named in error for error in line["summary"]["errors"])


def test_an_offhours_run_that_raises_unexpectedly_is_logged_and_said_in_slack_then_raised(table, monkeypatch):
    def bug(report):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(offhours_handler, "summary_message", bug)
    slack = RecordingNotifier()
    with pytest.raises(ZeroDivisionError):
        offhours_handler.run(SETTINGS, EVENING, OffhoursPorts(MemoryCluster(), MemoryParkedStore(), slack))
    [message] = slack.texts
    assert "offhours run failed: ZeroDivisionError: 'division by zero'" in message
    assert "ZeroDivisionError" in _failed_line(table, "offhours")


def test_a_budget_run_with_kubernetes_unreachable_is_logged_and_said_in_slack_then_raised(table):

    from tests.budget.test_budget_handler import SETTINGS as BUDGET_SETTINGS, ports, put_budget
    from tests.budget.factories import BUDGET
    put_budget(table, BUDGET)
    view, slack = budget_cluster([]), RecordingNotifier()
    view.nodepools = lambda: (_ for _ in ()).throw(UNREACHABLE)
    with pytest.raises(ApiException):
        budget_handler.run(BUDGET_SETTINGS, datetime(2026, 11, 26, 20, tzinfo=timezone.utc),
                           ports(table, view, slack))
    [message] = slack.texts
    assert "budget run failed: ApiException" in message
    line = RunLog(BUDGET_SETTINGS.table_name, table).last_runs()["budget"]
    assert not line["ok"] and "budget run failed: ApiException" in line["summary"]["problem"]


def test_a_budget_run_with_the_table_unreachable_still_says_so_in_slack_then_raises(table):

    from tests.budget.test_budget_handler import SETTINGS as BUDGET_SETTINGS, ports, put_budget
    from tests.budget.factories import BUDGET, nodepool
    put_budget(table, BUDGET)
    missing = BUDGET_SETTINGS.model_copy(update={"table_name": "no-such-table"})  # every ledger call fails
    slack = RecordingNotifier()
    with pytest.raises(Exception) as raised:
        budget_handler.run(missing, datetime(2026, 11, 26, 20, tzinfo=timezone.utc),
                           ports(table, budget_cluster([nodepool("default")]), slack, settings=missing))
    [message] = slack.texts
    assert f"budget run failed: {type(raised.value).__name__}" in message


def test_a_digests_run_with_the_table_unreachable_is_said_in_slack_then_raised(table):
    client = table.client("dynamodb")
    slack = RecordingNotifier()
    broken = DigestPorts(digests_handler.DigestClaims("no-such-table", client),
                         InterruptionRecords("no-such-table", client), slack)
    with pytest.raises(Exception) as raised:
        digests_handler.run(SETTINGS, datetime(2026, 11, 24, 18, 5, tzinfo=timezone.utc), broken)
    [message] = slack.texts
    assert f"digests run failed: {type(raised.value).__name__}" in message


def test_a_digests_run_that_raises_unexpectedly_is_logged_and_said_in_slack(table):

    class Broken(InterruptionRecords):
        def counts(self, keys):
            raise RuntimeError("bug")

    client, slack = table.client("dynamodb"), RecordingNotifier()
    ports = DigestPorts(digests_handler.DigestClaims(TABLE, client), Broken(TABLE, client), slack)
    with pytest.raises(digests_handler.DigestsNotSent):  # one digest failed: its own line, retried next hour
        digests_handler.run(SETTINGS, datetime(2026, 11, 24, 18, 5, tzinfo=timezone.utc), ports)
    assert "RuntimeError: bug" in RunLog(TABLE, table).last_runs()["digests"]["summary"]["failures"][0]


@pytest.mark.parametrize("feature, module", [("offhours", offhours_handler), ("budget", budget_handler),
                                             ("digests", digests_handler)])
def test_broken_settings_are_logged_and_said_in_slack_through_what_can_still_be_read(table, monkeypatch, feature,
                                                                                     module):
    from chalice_app.slack import notifier as notifier_module
    environ = {"COSTGUARD_CLUSTER_NAME": "c", "COSTGUARD_TABLE_NAME": TABLE, "COSTGUARD_STAGE": "Not A Stage!",
               "COSTGUARD_SLACK_WEBHOOK_PARAMETER": "/costguard/test/webhook", "AWS_REGION": "us-east-1"}
    for key in [k for k in list(__import__("os").environ) if k.startswith("COSTGUARD_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(config.settings, "cache_clear", config.settings.cache_clear)
    config.settings.cache_clear()
    slack, built_from = RecordingNotifier(), []
    monkeypatch.setattr(notifier_module, "notifier_from_settings",
                        lambda settings, *a, **k: built_from.append(settings) or slack)
    try:
        with pytest.raises(config.ConfigError, match="COSTGUARD_STAGE"):
            module.handle.__wrapped__({}, None)
    finally:
        config.settings.cache_clear()
    [message] = slack.texts
    assert f"{feature} run failed: ConfigError" in message and "COSTGUARD_STAGE" in message
    assert built_from[0].slack_webhook_parameter == "/costguard/test/webhook"
    assert "COSTGUARD_STAGE" in _failed_line(table, feature)


def test_settings_are_salvaged_without_the_broken_variables_only():
    kept = salvaged_settings({"COSTGUARD_CLUSTER_NAME": "c", "COSTGUARD_TABLE_NAME": TABLE,
                              "COSTGUARD_STAGE": "Bad!", "COSTGUARD_DIGEST_TIMEZONE": "America"})
    assert (kept.table_name, kept.stage, kept.digest_timezone) == (TABLE, "dev", None)
    assert salvaged_settings({"COSTGUARD_CLUSTER_NAME": "c"}) is None  # the table name is required
