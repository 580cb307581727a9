"""The budget run end to end against in-process moto (DynamoDB, SSM, EC2), a stubbed Pricing API and an in-memory
cluster; the sandbox test covers the real Kubernetes client and CRD validation."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.stub import ANY, Stubber

from chalice_app import naming
from chalice_app.budget import handler
from chalice_app.budget.aws_prices import PriceSource
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.metering import LedgerEntry
from chalice_app.budget.ports import BudgetPorts
from sandbox.budget_status import budget_statuses, status_from_annotation
from chalice_app.config import load_settings
from tests.budget.conftest import STAGE
from tests.budget.factories import BUDGET, ON_DEMAND, nodeclaim, nodepool, price_item
from tests.slackfakes import RecordingNotifier
from tests.memory_cluster import budget_cluster

NOW = datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc)  # 100 h before the end of November
END = datetime(2026, 12, 1, tzinfo=timezone.utc)
CLAIMS = [nodeclaim(f"default-{i}", node_name=f"ip-10-0-0-{i}") for i in range(14)]  # 56 vCPU, 2.688 USD/h
PODS = [{"metadata": {"name": f"{fn}-{i}", "namespace": "openfaas-fn", "labels": {"faas_function": fn}},
         "spec": {"nodeName": f"ip-10-0-0-{i}", "containers": [{"name": fn, "resources": {"requests": {"cpu": cpu}}}]}}
        for i, (fn, cpu) in enumerate([("resize", "2"), ("resize", "2"), ("ocr", "1500m"), ("ping", "100m")])]


def put_budget(session, document):
    text = document if isinstance(document, str) else json.dumps(document)
    session.client("ssm").put_parameter(Name=naming.budget_parameter(STAGE), Value=text, Type="SecureString",
                                        Overwrite=True)


SETTINGS = load_settings({"COSTGUARD_STAGE": STAGE, "COSTGUARD_CLUSTER_NAME": "guide",
                          "COSTGUARD_TABLE_NAME": naming.table(STAGE), "COSTGUARD_PARAMETER_CACHE_SECONDS": "0"})


def prices(session, fail=False, answers=1):
    client = session.client("pricing", region_name="us-east-1")
    stub = Stubber(client)
    for _ in range(answers):
        if fail:
            stub.add_client_error("get_products", "ThrottlingException", "Rate exceeded")
        else:
            stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
                price_item(name, usd) for name, usd in ON_DEMAND.items()]},
                expected_params={"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1"})
    stub.activate()
    return PriceSource(session, "us-east-1", Ledger(naming.table(STAGE), session), pricing=client)


def seed_ledger(session, spent, at=NOW - timedelta(minutes=15)):
    after = LedgerEntry(spent=spent, metered_at=at, open_rates={c["metadata"]["name"]: 0.192 for c in CLAIMS})
    assert Ledger(naming.table(STAGE), session).save("2026-11", "default", LedgerEntry(), after, {}, END)


def cluster():
    return budget_cluster([nodepool("default"), nodepool("spot", cpu="1000", requirements=[
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.xlarge"]}])],
        nodeclaims=CLAIMS, pods=PODS)


def ports(session, kube, notifier, source=None, settings=SETTINGS, ce_client=None) -> BudgetPorts:
    """The run's ports on moto (`session`), the given cluster, Slack fake and prices; the document read directly."""
    return BudgetPorts(session, Ledger(settings.table_name, session), kube, notifier, prices=source or prices(session),
                       ce_client=ce_client, document_session=session)


def run(session, kube, notifier, source=None, settings=SETTINGS, now=NOW):
    return handler.run(settings, now, ports(session, kube, notifier, source, settings))


def test_crossing_80_percent_lowers_the_limit_and_says_why(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube, slack = cluster(), RecordingNotifier()
    summary = run(aws, kube, slack)

    assert summary["patched"] == ["default"]
    pool = kube.pools["default"]
    assert pool["spec"]["limits"] == {"cpu": "50", "memory": "200Gi"}  # 100 → at most one 50 % step
    status = json.loads(pool["metadata"]["annotations"]["costguard.openfaas.com/budget-status"])
    assert status["spent"] == pytest.approx(560.67, abs=0.01) and status["limit"] == 50
    assert status_from_annotation(pool).remaining == pytest.approx(139.33, abs=0.01)
    [message] = slack.sent
    assert "80 % threshold" in message.text and "50 % threshold" not in message.text
    assert "100 → 50" in message.text
    section = json.dumps(message.blocks)
    assert "runs 56 vCPU, above its cpu limit 50" in section
    assert "openfaas-fn/resize` (4 vCPU requested)" in section and "openfaas-fn/ocr" in section
    entry = Ledger(naming.table(STAGE), aws).entries("2026-11", ["default"])["default"]
    assert entry.spent == pytest.approx(560.0 + 14 * 0.192 / 4)


def test_thresholds_are_sent_once_per_period_and_reruns_count_nothing_twice(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube, slack = cluster(), RecordingNotifier()
    run(aws, kube, slack)
    run(aws, kube, slack)  # the same instant again: a retried invocation
    entry = Ledger(naming.table(STAGE), aws).entries("2026-11", ["default"])["default"]
    assert entry.spent == pytest.approx(560.0 + 14 * 0.192 / 4)
    assert sum("threshold" in m.text for m in slack.sent) == 1
    assert sum("above its cpu limit" in m.text for m in slack.sent) == 1  # once a day
    assert kube.pools["default"]["spec"]["limits"]["cpu"] == "26"  # the second run stepped to the target


def test_missed_runs_are_caught_up(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 100.0, at=NOW - timedelta(hours=2))
    run(aws, cluster(), RecordingNotifier())
    entry = Ledger(naming.table(STAGE), aws).entries("2026-11", ["default"])["default"]
    assert entry.spent == pytest.approx(100.0 + 14 * 0.192 * 2)


@pytest.mark.parametrize("document, fragment", [
    (None, "cannot be read (ParameterNotFound)"),
    ("{oops", "is not JSON"),
    ({**BUDGET, "amount": 0}, "amount: Input should be greater than 0"),
])
def test_missing_or_invalid_document_touches_nothing_and_says_so_once_a_day(aws, document, fragment):
    if document is not None:
        put_budget(aws, document)
    kube, slack = cluster(), RecordingNotifier()
    summary = run(aws, kube, slack)
    assert summary["applied"] is False and fragment in summary["problem"]
    assert kube.patches == []
    assert len(slack.sent) == 1 and fragment in slack.sent[0].text
    assert "No NodePool was touched" in slack.sent[0].text
    run(aws, kube, slack)
    assert len(slack.sent) == 1


def test_prices_unavailable_keep_the_limits_and_alert(aws):
    put_budget(aws, BUDGET)
    kube, slack = cluster(), RecordingNotifier()
    summary = run(aws, kube, slack, source=prices(aws, fail=True))
    assert summary["applied"] is False and "ThrottlingException" in summary["problem"]
    assert kube.patches == [] and "prices could not be fetched" in slack.sent[0].text


def test_prices_are_cached_in_the_ledger_table(aws):
    put_budget(aws, BUDGET)
    kube = cluster()
    source = prices(aws, answers=1)  # a second get_products call would fail: the Stubber has one answer
    run(aws, kube, RecordingNotifier(), source=source)
    run(aws, kube, RecordingNotifier(), source=source, now=NOW + timedelta(minutes=15))


def test_advise_mode_changes_nothing_but_reports(aws):
    put_budget(aws, {**BUDGET, "mode": "advise"})
    seed_ledger(aws, 560.0)
    kube, slack = cluster(), RecordingNotifier()
    run(aws, kube, slack)
    assert kube.patches == []
    assert "would be lowered (advise mode)" in slack.sent[0].text
    [status] = [s for s in budget_statuses(SETTINGS, aws, NOW) if s.pool == "default"]
    assert status.limit == 100 and status.spent == pytest.approx(560.67, abs=0.01)


def test_dry_run_setting_is_advise(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube = cluster()
    run(aws, kube, RecordingNotifier(), settings=SETTINGS.model_copy(update={"dry_run": True}))
    assert kube.patches == []


def test_undelivered_alerts_are_sent_by_the_next_run(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube = cluster()
    with pytest.raises(RuntimeError, match="Slack is down"):
        run(aws, kube, RecordingNotifier(fail_after=0, error=RuntimeError("Slack is down")))
    slack = RecordingNotifier()
    run(aws, kube, slack, now=NOW + timedelta(minutes=15))
    assert "80 % threshold" in slack.sent[0].text


def test_a_nodepool_changed_meanwhile_is_left_for_the_next_run(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube, slack = cluster(), RecordingNotifier()
    original = kube.nodepools

    def stale():
        pools = original()
        for pool in pools:
            pool["metadata"]["resourceVersion"] = "1"
        return pools

    kube.nodepools = stale
    summary = run(aws, kube, slack)
    assert summary["patched"] == [] and "default" in summary["skipped"]
    assert "patch refused (409" in slack.sent[0].text


def test_a_run_that_lost_the_race_writes_and_sends_nothing(aws):
    from chalice_app.budget.service import apply_plan, gather_plan

    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube, slack = cluster(), RecordingNotifier()
    ledger = Ledger(naming.table(STAGE), aws)
    document = handler.load_document(SETTINGS, aws)
    slow = gather_plan(SETTINGS, document, NOW, kube, aws, ledger, prices(aws))
    run(aws, kube, slack, now=NOW + timedelta(minutes=1))  # another invocation meters first
    spent = ledger.entries("2026-11", ["default"])["default"].spent
    outcome = apply_plan(slow, SETTINGS, kube, ledger, RecordingNotifier())
    assert "default" in outcome.skipped and outcome.patched == []
    assert ledger.entries("2026-11", ["default"])["default"].spent == spent


def test_a_string_parameter_works_too(aws):
    aws.client("ssm").put_parameter(Name=naming.budget_parameter(STAGE), Value=json.dumps(BUDGET), Type="String")
    assert run(aws, cluster(), RecordingNotifier())["applied"] is True


def test_a_run_that_metered_nothing_does_not_lock_the_ledger(aws):
    # the first run of a period could price nothing: metered_at stays empty, and the next run must still write
    ledger, end = Ledger(naming.table(STAGE), aws), NOW + timedelta(days=30)
    empty = LedgerEntry()
    assert ledger.save("2099-01", "default", empty, LedgerEntry(), {}, end)
    assert ledger.entries("2099-01", ["default"])["default"].metered_at is None
    metered = LedgerEntry(spent=1.5, metered_at=NOW)
    assert ledger.save("2099-01", "default", empty, metered, {}, end)
    assert ledger.entries("2099-01", ["default"])["default"].spent == 1.5
    assert not ledger.save("2099-01", "default", empty, metered, {}, end)  # a stale writer still loses


def test_one_pool_failing_does_not_stop_the_others_and_the_run_says_so(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube, slack = cluster(), RecordingNotifier()
    patch = kube.patch_nodepool

    def broken_for_spot(name, body):
        if name == "spot":
            raise RuntimeError("connection reset")
        return patch(name, body)

    kube.patch_nodepool = broken_for_spot
    summary = run(aws, kube, slack)
    assert summary["patched"] == ["default"] and summary["ok"] is False
    assert summary["failures"] == ["spot: RuntimeError: connection reset"]
    assert "NodePools not applied: spot: RuntimeError" in json.dumps([m.blocks for m in slack.sent])


def test_an_unexpected_error_is_reported_once_a_day_and_fails_the_invocation(aws):
    put_budget(aws, BUDGET)
    kube, slack = cluster(), RecordingNotifier()

    def unreachable():
        raise ConnectionError("kube API unreachable")

    kube.nodepools = unreachable
    for _ in range(2):
        with pytest.raises(ConnectionError):
            run(aws, kube, slack)
    [message] = slack.sent
    assert "budget run failed: ConnectionError: kube API unreachable" in message.text


def test_a_pool_off_hours_recorded_as_parked_is_left_alone_without_its_annotation(aws):
    """Off-hours' record in the stage table, not the mirror annotation a sync can remove, tells the budget that
    off-hours holds the pool until its uptime (the same run without the record lowers the limit)."""
    from chalice_app.offhours.parked import DynamoParkedStore, ParkedPool
    from chalice_app.table_keys import nodepool_id

    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    DynamoParkedStore(naming.table(STAGE), client=aws.client("dynamodb")).put_new(
        {nodepool_id("default"): ParkedPool(limits={"cpu": "100"}, parked_at=NOW.isoformat()).item()}, NOW)
    kube, slack = cluster(), RecordingNotifier()
    summary = run(aws, kube, slack)
    assert "default" not in summary["patched"]
    assert kube.pools["default"]["spec"]["limits"] == {"cpu": "100"}  # as it was (the same run lowers it to 50 alone)
