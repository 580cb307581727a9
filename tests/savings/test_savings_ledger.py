"""Pure savings: the booking rules (slices, reruns, missed runs, wake-ups, NodePool baselines), the price split,
which NodePool a function runs on, and the rows the CLI prints."""
from datetime import datetime, timedelta, timezone

import pytest

from chalice_app.savings.ledger import Cursor, ParkedFunctionCost, ParkedPoolCost, State, book
from chalice_app.savings.observe import resources_from_object
from chalice_app.savings.pricing import VCPU_IN_GIB, pool_for, replica_hourly, split_rates
from chalice_app.savings.report import rows, total

T0 = datetime(2026, 11, 30, 19, 5, tzinfo=timezone.utc)
HOURLY = 0.01


def parked(replicas=0, original=2, floor=0, name="sleep") -> State:
    return State({f"fn/{name}": ParkedFunctionCost("fn", name, "spot", original, replicas, floor, HOURLY)})


def run(cursor: Cursor, state: State, hours: float):
    return book(cursor, state, T0 + timedelta(hours=hours))


def test_each_run_books_the_slice_since_the_previous_with_the_state_held_then():
    first = book(Cursor(), parked(), T0)
    assert first.days == {} and first.cursor.booked_until == T0
    second = run(first.cursor, parked(), 2)
    assert second.days["2026-11-30"].functions["fn/sleep"] == pytest.approx([4.0, 0.0, 4 * HOURLY, 0.0])


def test_a_slice_across_midnight_is_split_into_days():
    booking = run(book(Cursor(), parked(), T0).cursor, parked(), 12)  # 19:05 → 07:05
    assert booking.days["2026-11-30"].functions["fn/sleep"][0] == pytest.approx(2 * (4 + 55 / 60))
    assert booking.days["2026-12-01"].functions["fn/sleep"][0] == pytest.approx(2 * (7 + 5 / 60))


def test_a_rerun_books_nothing_and_a_missed_run_loses_nothing():
    start = book(Cursor(), parked(), T0).cursor
    assert book(start, parked(), T0) is None and book(start, parked(), T0 - timedelta(minutes=5)) is None
    every_hour, cursor = 0.0, start
    for hour in range(1, 7):
        booking = run(cursor, parked(), hour)
        every_hour += sum(day.totals().saved for day in booking.days.values())
        cursor = booking.cursor
    once = run(start, parked(), 6)
    assert sum(day.totals().saved for day in once.days.values()) == pytest.approx(every_hour)


def test_night_wake_ups_count_against_the_savings():
    cursor = book(Cursor(), parked(replicas=0, floor=0), T0).cursor
    woken = run(cursor, parked(replicas=1, floor=1), 1)  # observed: 1 of 2 replicas back
    assert woken.cursor.state.functions["fn/sleep"].floor == 0  # the floor of when it was parked is kept
    after = run(woken.cursor, parked(replicas=1, floor=1), 2)
    replica_hours, woken_hours, saved, cost = after.days["2026-11-30"].functions["fn/sleep"]
    assert (replica_hours, woken_hours) == pytest.approx((1.0, 1.0))
    assert saved == pytest.approx(HOURLY) and cost == pytest.approx(HOURLY)


def test_a_parked_pool_books_what_consolidation_removed_from_its_baseline():
    pools = lambda nodes, hourly: State({}, {"spot": ParkedPoolCost("spot", nodes, hourly, nodes, hourly)})  # noqa: E731
    cursor = book(Cursor(), pools(3, 0.3), T0).cursor
    cursor = run(cursor, pools(0, 0.0), 1).cursor  # consolidation done: baseline kept
    assert cursor.state.pools["spot"].removed_hourly == pytest.approx(0.3)
    booking = run(cursor, State(), 3)  # restored in the morning: the night ends
    assert booking.days["2026-11-30"].pools["spot"] == pytest.approx([6.0, 0.6])
    assert booking.night.node_saved == pytest.approx(0.6) and booking.cursor.state.empty


def test_the_night_total_is_reported_once_when_nothing_is_parked_any_more():
    cursor = book(Cursor(), parked(), T0).cursor
    cursor = run(cursor, parked(), 6).cursor
    end = run(cursor, State(), 12)
    assert end.night.saved == pytest.approx(2 * 12 * HOURLY) and end.night_since == T0
    assert run(end.cursor, State(), 13).night is None


def test_the_price_split_keeps_a_vcpu_and_its_memory_at_the_pool_price():
    rates = split_rates(0.048, 4.0)
    assert rates.per_vcpu_hour + 4.0 * rates.per_gib_hour == pytest.approx(0.048)
    assert rates.per_vcpu_hour / rates.per_gib_hour == pytest.approx(VCPU_IN_GIB)
    assert replica_hourly(0.5, 0.125, rates) == pytest.approx(0.5 * rates.per_vcpu_hour + 0.125 * rates.per_gib_hour)


def pool(name, taints=(), capacity="on-demand", weight=None):
    spec = {"template": {"spec": {"taints": list(taints), "requirements": [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity]}]}}}
    if weight is not None:
        spec["weight"] = weight
    return {"metadata": {"name": name}, "spec": spec}


def test_a_function_runs_on_the_pool_whose_taints_it_tolerates_and_whose_labels_it_requires():
    taint = {"key": "karpenter.sh/capacity-type", "value": "spot", "effect": "NoSchedule"}
    pools = [pool("default"), pool("spot", [taint], "spot")]
    spot_pod = {"tolerations": [{"key": "karpenter.sh/capacity-type", "operator": "Equal", "value": "spot",
                                 "effect": "NoSchedule"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "karpenter.sh/capacity-type", "operator": "In",
                                           "values": ["spot"]}]}]}}}}
    assert pool_for({}, pools) == "default"
    assert pool_for(spot_pod, pools) == "spot"
    assert pool_for({"nodeSelector": {"karpenter.sh/capacity-type": "reserved"}}, pools) is None
    assert pool_for({}, [pool("a"), pool("b", weight=10)]) == "b"


def test_requests_are_summed_over_containers():
    obj = {"metadata": {"name": "f", "namespace": "fn", "annotations": {
        "costguard.openfaas.com/original-replicas": "3"}}, "spec": {"replicas": 0, "template": {"spec": {
            "containers": [{"resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}},
                           {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}}}
    function = resources_from_object(obj)
    assert (function.cpu, function.memory_gib, function.original, function.replicas) == (1.25, 1.125, 3, 0)


def test_rows_group_by_function_namespace_and_nodepool():
    cursor = book(Cursor(), State({**parked(name="a").functions, **parked(name="b", original=1).functions}), T0)
    booking = run(cursor.cursor, cursor.cursor.state, 1)
    books = booking.days
    assert [row.key for row in rows(books, "function")] == ["fn/a", "fn/b"]
    assert [row.key for row in rows(books, "namespace")] == ["fn"]
    assert [row.key for row in rows(books, "nodepool")] == ["spot"]
    assert total(books).saved == pytest.approx(3 * HOURLY)
    with pytest.raises(ValueError):
        rows(books, "team")


def test_the_monday_morning_summary_carries_the_night_and_the_weekly_digest():
    from chalice_app.savings.hook import decorate
    from chalice_app.slack.message import SlackMessage

    cursor = book(Cursor(), parked(), T0).cursor
    ended = run(cursor, State(), 12)
    message = SlackMessage("t", [{"type": "header", "text": {"type": "plain_text", "text": "t"}},
                                 {"type": "context", "elements": []}])
    decorated = decorate(message, None, None, ended, None, {}, T0 + timedelta(hours=12), weekly="*week* $1.00")
    texts = [block.get("text", {}).get("text", "") for block in decorated.blocks]
    assert texts[1].startswith(":moneybag: Parking saved an estimated *$0.24* over 12.0 h")
    assert texts[2] == "*week* $1.00" and decorated.blocks[-1]["type"] == "context"
