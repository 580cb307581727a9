import json
from datetime import datetime, timezone

import pytest

from chalice_app.budget.document import BudgetDocumentError, parse_budget, period_bounds, period_key
from tests.budget.factories import BUDGET


def test_valid_document_gets_defaults_and_pool_amounts():
    document = parse_budget(json.dumps(BUDGET))
    assert document.thresholds == (50, 80, 100)
    assert document.mode == "enforce"
    assert document.pool_amount("default") == pytest.approx(700)
    assert document.pool_amount("spot") == 300


@pytest.mark.parametrize("change, fragment", [
    ({"currency": "EUR"}, "currency"),
    ({"period": "yearly"}, "period"),
    ({"amount": -5}, "amount"),
    ({"mode": "yolo"}, "mode"),
    ({"nodepools": {"default": {"min_cpu": 1}}}, "exactly one of share or amount"),
    ({"nodepools": {"default": {"share": 0.5, "min_cpu": 9, "max_cpu": 3}}}, "min_cpu 9 is above max_cpu 3"),
    ({"nodepools": {"a": {"share": 0.8}, "b": {"amount": 300}}}, "add up to 1100.00 USD"),
    ({"thresholds": [0, 80]}, "thresholds"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_documents_name_what_is_wrong(change, fragment):
    with pytest.raises(BudgetDocumentError) as error:
        parse_budget(json.dumps({**BUDGET, **change}), source="/costguard/dev/budget")
    assert fragment in str(error.value)
    assert "/costguard/dev/budget" in str(error.value)


@pytest.mark.parametrize("text, fragment", [(None, "missing"), ("  ", "missing"), ("{nope", "not JSON"),
                                            ("[1]", "JSON object")])
def test_missing_or_garbled_documents(text, fragment):
    with pytest.raises(BudgetDocumentError, match=fragment):
        parse_budget(text)


def test_thresholds_are_sorted_and_unique():
    assert parse_budget({**BUDGET, "thresholds": [100, 50, 50, 90]}).thresholds == (50, 90, 100)


def test_template_is_a_valid_document():
    from chalice_app.budget.document import load_template
    assert load_template().nodepools


@pytest.mark.parametrize("period, start, end, key", [
    ("monthly", "2026-11-01", "2026-12-01", "2026-11"),
    ("weekly", "2026-11-23", "2026-11-30", "2026-W48"),
    ("daily", "2026-11-24", "2026-11-25", "2026-11-24"),
])
def test_period_bounds(period, start, end, key):
    at = datetime(2026, 11, 24, 18, 30, tzinfo=timezone.utc)
    begin, finish = period_bounds(period, at)
    assert begin.date().isoformat() == start and finish.date().isoformat() == end
    assert period_key(period, at) == key


def test_december_rolls_into_next_year():
    begin, end = period_bounds("monthly", datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc))
    assert (begin.month, end.year, end.month) == (12, 2027, 1)
