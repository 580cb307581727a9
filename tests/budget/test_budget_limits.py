from datetime import datetime, timezone

import pytest

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.estimate import estimate_pricing
from chalice_app.budget.limits import current_limits, decide_limits
from chalice_app.budget.metering import running_nodes
from chalice_app.budget.prices import PriceBook, PriceUnavailable
from tests.budget.factories import BUDGET, EC2_TYPES, ON_DEMAND, nodeclaim, nodepool

CATALOG = [instance_type_from_ec2(item) for item in EC2_TYPES]
BOOK = PriceBook(on_demand=ON_DEMAND)
END = datetime(2026, 12, 1, tzinfo=timezone.utc)
# 100 hours before the end of November
NOW = datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc)


def pricing(estimator, pool=None, running=()):
    return estimate_pricing(pool or nodepool(), CATALOG, BOOK, estimator, list(running))


def test_estimators():
    cheapest = pricing("cheapest")
    median = pricing("median")
    assert cheapest.per_vcpu_hour == pytest.approx(0.17 / 4)  # c5.xlarge
    assert median.per_vcpu_hour == pytest.approx(0.048)  # m5: 0.192/4, the middle of c5, m5, m5, r5
    running = running_nodes([nodeclaim("r", instance_type="r5.xlarge", memory="32Gi")], [], {})
    mix = pricing("mix", running=running)
    assert mix.per_vcpu_hour == pytest.approx(0.252 / 4) and mix.gib_per_vcpu == pytest.approx(8)
    assert pricing("mix").estimator.startswith("median")
    assert cheapest.per_gpu_hour is None


def test_gpu_pool_gets_a_gpu_price():
    pool = nodepool(requirements=[{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt",
                                   "values": ["0"]}])
    assert pricing("cheapest", pool).per_gpu_hour == pytest.approx(0.526)


def test_no_price_for_the_allowed_types_is_named():
    with pytest.raises(PriceUnavailable, match="NodePool default"):
        estimate_pricing(nodepool(), CATALOG, PriceBook(), "median", [])


def decide(spent, pool=None, budget=None, usage=0.0, estimator="median"):
    document = parse_budget(budget or BUDGET)
    pool = pool or nodepool()
    return decide_limits("default", document, spent, NOW, END, pricing(estimator, pool), pool, usage)


def test_limit_is_remaining_over_hours_left_over_price():
    # 700 USD budget, 2 % reserve: 686 usable; 686 - 206 = 480 for 100 h = 4.8 USD/h; at 0.048 → 100 vCPU
    decision = decide(206.0)
    assert decision.allowed_rate == pytest.approx(4.8)
    assert decision.target_cpu == pytest.approx(100)
    assert decision.proposed.cpu == 100 and decision.proposed.memory_gib == 400
    assert not decision.change  # the pool already has cpu 100: nothing to patch


def test_spent_budget_drops_the_limit_but_at_most_one_step():
    decision = decide(600.0)  # 86 USD for 100 h → 17.9 vCPU, but 50 % step from 100
    assert decision.proposed.cpu == 50 and decision.change
    assert any("at most 50 %" in reason for reason in decision.reasons)


def test_clamped_to_min_and_max_cpu():
    assert decide(686.0, pool=nodepool(cpu="6")).proposed.cpu == 4  # min_cpu 4
    rich = {**BUDGET, "amount": 3000, "nodepools": {"default": {"amount": 2000, "max_cpu": 200}}}
    capped = decide(0.0, pool=nodepool(cpu="190"), budget=rich)  # 1960 USD / 100 h / 0.048 = 408 vCPU
    assert capped.proposed.cpu == 200 and any("max_cpu 200" in reason for reason in capped.reasons)


def test_small_changes_are_not_patched():
    decision = decide(206.0, pool=nodepool(cpu="97"))
    assert decision.proposed.cpu == 100 and not decision.change


def test_usage_above_the_new_limit_is_flagged():
    assert decide(600.0, usage=64.0).over_limit
    assert not decide(600.0, usage=40.0).over_limit


def test_current_limits_parse_quantities():
    limits = current_limits(nodepool(cpu="1500m", memory="64Gi"))
    assert limits.cpu == 1.5 and limits.memory_gib == 64 and limits.gpus is None
    assert decide(600.0).proposed.as_spec() == {"cpu": "50", "memory": "200Gi"}
