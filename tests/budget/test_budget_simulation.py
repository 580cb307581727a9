import pytest

from sandbox.budget_simulation import scenarios, simulate


@pytest.mark.parametrize("days", [1, 7])
def test_spend_stays_within_budget_and_uses_it_when_demand_saturates(days):
    for scenario in scenarios(days):
        outcome = simulate(scenario)
        assert outcome.ratio <= 1.0, scenario.name
        if scenario.saturating:
            assert outcome.ratio >= 0.95, scenario.name
        # the ledger never reports less than was really spent
        assert outcome.metered_spend >= outcome.true_spend * 0.999, scenario.name


def test_karpenter_model_never_runs_above_the_limit_it_was_given_when_launching():
    outcome = simulate(scenarios(1)[0])
    assert outcome.usage[0] <= 100  # the initial limit
    assert max(outcome.usage) <= max(outcome.limit)


def test_only_one_period_per_run():
    with pytest.raises(ValueError, match="days must be 1, 7 or 30"):
        scenarios(2)
