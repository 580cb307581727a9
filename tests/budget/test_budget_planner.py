from datetime import datetime, timedelta, timezone

from chalice_app.budget.alerts import forecast_alert, newest_first, threshold_alerts
from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.planner import functions_driving, plan_budget, status_patch
from chalice_app.budget.prices import PriceBook
from tests.budget.factories import BUDGET, EC2_TYPES, ON_DEMAND, nodepool

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_every_threshold_reached_is_a_candidate_and_the_highest_speaks():
    alerts = threshold_alerts("default", 700.0, 600.0, (50, 80, 100))
    assert [a.key for a in alerts] == ["threshold-50", "threshold-80"]
    [shown] = newest_first(alerts)
    assert shown.key == "threshold-80" and "80 % threshold" in shown.text
    both = newest_first(alerts + threshold_alerts("spot", 100.0, 55.0, (50, 80, 100)))
    assert [(a.pool, a.key) for a in both] == [("default", "threshold-80"), ("spot", "threshold-50")]


def test_forecast_uses_linear_burn_and_waits_for_an_hour_of_data():
    assert forecast_alert("p", 720.0, 0.9, START, END, START + timedelta(minutes=30)) is None
    assert forecast_alert("p", 720.0, 240.0, START, END, START + timedelta(days=10)) is None  # exactly on budget
    alert = forecast_alert("p", 720.0, 300.0, START, END, START + timedelta(days=10))
    assert alert.key == "forecast" and "900.00 USD" in alert.text and "125 %" in alert.text


def test_functions_driving_spend_are_ranked_by_requested_cpu_on_the_pools_nodes():
    def pod(name, fn, node, cpu):
        return {"metadata": {"name": name, "namespace": "openfaas-fn", "labels": {"faas_function": fn}},
                "spec": {"nodeName": node, "containers": [{"resources": {"requests": {"cpu": cpu}}}]}}

    pods = [pod("a1", "a", "n1", "1"), pod("a2", "a", "n2", "1"), pod("b", "b", "n1", "1500m"),
            pod("c", "c", "elsewhere", "8"), pod("d", "d", "n1", "100m")]
    assert functions_driving(pods, {"n1", "n2"}, top=2) == [("openfaas-fn/a", 2.0), ("openfaas-fn/b", 1.5)]


def test_status_patch_carries_resource_version_annotation_and_limits():
    now = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    from chalice_app.budget.metering import LedgerEntry
    plan = plan_budget(parse_budget(BUDGET), [nodepool(rv="41")], [], {"default": LedgerEntry(spent=600.0,
                       metered_at=now)}, catalog, PriceBook(on_demand=ON_DEMAND), now)
    patch = status_patch(plan.pools[0], apply_limits=True)
    assert patch["metadata"]["resourceVersion"] == "41"
    assert patch["spec"] == {"limits": {"cpu": "50", "memory": "200Gi"}}
    assert '"spent": 600.0' in patch["metadata"]["annotations"]["costguard.openfaas.com/budget-status"]
    assert "spec" not in status_patch(plan.pools[0], apply_limits=False)


def test_a_pool_parked_by_off_hours_keeps_its_limits():
    now = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    parked = nodepool(cpu="0", annotations={"costguard.openfaas.com/original-limits": '{"cpu": "100"}'})
    plan = plan_budget(parse_budget(BUDGET), [parked], [], {}, catalog, PriceBook(on_demand=ON_DEMAND), now)
    [pool] = plan.pools
    assert not pool.decision.change and "off-hours holds" in pool.decision.reasons[-1]
    assert not any(alert.kind == "limits" for alert in pool.alerts)


def test_a_pool_off_hours_holds_in_its_table_keeps_its_limits_when_a_sync_removed_the_annotation():
    """A GitOps sync or Helm upgrade at night rewrites the NodePool (limits back to Git's, the mirror annotation
    gone) until off-hours' next run parks it again: the budget must not take the pool meanwhile."""
    now = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    synced = nodepool(cpu="1000")
    plan = plan_budget(parse_budget(BUDGET), [synced], [], {}, catalog, PriceBook(on_demand=ON_DEMAND), now,
                       parked={"default"})
    [pool] = plan.pools
    assert not pool.decision.change and "off-hours holds" in pool.decision.reasons[-1]
    free = plan_budget(parse_budget(BUDGET), [synced], [], {}, catalog, PriceBook(on_demand=ON_DEMAND), now)
    assert free.pools[0].decision.change  # the same pool, not held: the budget sets its limits


def test_a_pool_parked_by_off_hours_sends_no_over_limit_alert():
    from chalice_app.budget.metering import running_nodes
    from tests.budget.factories import nodeclaim
    now = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    running = running_nodes([nodeclaim(f"still-up-{i}") for i in range(40)], [], {t.name: t for t in catalog})  # not yet consolidated
    parked = nodepool(cpu="0", annotations={"costguard.openfaas.com/original-limits": '{"cpu": "100"}'})
    [pool] = plan_budget(parse_budget(BUDGET), [parked], running, {}, catalog, PriceBook(on_demand=ON_DEMAND),
                         now).pools
    assert pool.decision.over_limit
    assert not any(alert.kind == "over-limit" for alert in pool.alerts)
