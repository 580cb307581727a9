"""The budget leaves a static NodePool's limits alone (only limits.nodes is allowed there) and says so."""
from datetime import datetime, timezone

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.planner import plan_budget, status_patch
from chalice_app.budget.prices import PriceBook
from tests.budget.factories import BUDGET, EC2_TYPES, ON_DEMAND, nodepool


def test_budget_plan_leaves_static_pools_limits_alone_and_says_why():
    now = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
    from chalice_app.budget.metering import LedgerEntry
    static = nodepool(rv="41")
    static["spec"]["replicas"] = 3
    [pool] = plan_budget(parse_budget(BUDGET), [static], [], {"default": LedgerEntry(spent=600.0, metered_at=now)},
                         [instance_type_from_ec2(item) for item in EC2_TYPES], PriceBook(on_demand=ON_DEMAND),
                         now).pools
    assert not pool.decision.change and "static NodePool" in pool.decision.reasons[-1]
    assert "spec" not in status_patch(pool, apply_limits=True)  # only the status annotation is written
    assert not any(alert.kind == "limits" for alert in pool.alerts)
