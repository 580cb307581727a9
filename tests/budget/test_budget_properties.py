"""Properties of metering: however the runs fall (missed, repeated, out of step with node lifetimes), the ledger
ends with the same spend as one run at the end would give."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalice_app.budget.metering import LedgerEntry, RunningNode, meter_pool
from chalice_app.budget.prices import PriceBook

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
BOOK = PriceBook(on_demand={"m5.xlarge": 0.192, "c5.xlarge": 0.17})


def nodes_from(offsets):
    return [RunningNode(f"n{i}", "default", ("m5.xlarge", "c5.xlarge")[i % 2], "on-demand", "us-east-1a",
                        START + timedelta(minutes=offset), 4, 16) for i, offset in enumerate(offsets)]


@settings(max_examples=60, deadline=None)
@given(offsets=st.lists(st.integers(0, 3000), max_size=6),
       runs=st.lists(st.integers(0, 4000), min_size=1, max_size=12))
def test_any_schedule_of_runs_meters_the_same_total(offsets, runs):
    nodes = nodes_from(offsets)
    end = START + timedelta(minutes=max(runs))
    entry = LedgerEntry()
    for minute in runs:  # unsorted: late and repeated invocations included
        at = START + timedelta(minutes=minute)
        visible = [n for n in nodes if n.started <= at]  # a node is listed once it exists
        entry = meter_pool("default", visible, entry, START, at, BOOK).entry
    once = meter_pool("default", nodes, LedgerEntry(), START, end, BOOK).entry
    final = meter_pool("default", nodes, entry, START, end, BOOK).entry
    assert final.spent == pytest.approx(once.spent, rel=1e-9, abs=1e-9)
    assert sum(final.daily.values()) == pytest.approx(final.spent, rel=1e-9, abs=1e-9)
