"""A simulated week against a simulated bill (built from the nodes' lifetimes, hourly spot prices, the Savings Plan
and EBS prorated as AWS bills them): the bill stays within budget, uses it where demand saturates, and the meter is
within 2 % of the bill."""
from functools import lru_cache

import pytest

from sandbox.budget_simulation_bill import bill_scenarios, simulate_bill

SCENARIOS = {s.name: s for s in bill_scenarios(7)}


@lru_cache(maxsize=None)
def outcome_of(name):
    return simulate_bill(SCENARIOS[name])


@pytest.mark.parametrize("name", ["unconstrained: spot+on-demand+arm64", "on-demand, 28 % Savings Plan"])
def test_bill_within_budget_and_meter_within_2_percent_of_it(name):
    outcome = outcome_of(name)
    assert outcome.ratio <= 1.0
    assert outcome.ratio >= 0.95
    assert abs(outcome.error_percent) <= 2.0


def test_an_unconstrained_pool_runs_spot_and_arm64():
    outcome = outcome_of("unconstrained: spot+on-demand+arm64")
    assert outcome.spot_share > 0.5 and outcome.arm64_share > 0.5
    assert outcome.spot_share < 1.0  # spot was short some hours: on-demand filled in


def test_only_one_period_per_run():
    with pytest.raises(ValueError, match="days must be 7 or 30"):
        bill_scenarios(1)
