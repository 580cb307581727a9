"""Warm headroom in the budget: counted in the plan for its pool, cut first when the remaining budget cannot pay."""
import json
from datetime import datetime, timezone

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.headroom import headroom_budget, hours_inside
from chalice_app.budget.metering import LedgerEntry
from chalice_app.budget.planner import plan_budget
from chalice_app.budget.prices import PriceBook
from chalice_app.headroom.planner import Policy
from chalice_app.headroom.spec import parse_headroom
from chalice_app.kube.names import BUDGET_STATUS, HEADROOM
from tests.budget.factories import BUDGET, EC2_TYPES, ON_DEMAND, nodepool

REQUEST = "Mon-Fri 07:00-19:00 UTC: 4 vCPU"
THURSDAY_20 = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)  # period (month) ends Tue 1 Dec 00:00


def test_hours_inside_counts_only_the_windows_to_the_period_end():
    spec = parse_headroom(REQUEST, "test")
    # Fri 27 and Mon 30 Nov: 2 × 12 h
    assert hours_inside(spec, THURSDAY_20, datetime(2026, 12, 1, tzinfo=timezone.utc)) == 24.0
    assert hours_inside(spec, datetime(2026, 11, 27, 12, tzinfo=timezone.utc),
                        datetime(2026, 11, 27, 13, tzinfo=timezone.utc)) == 1.0


def test_the_headroom_is_cut_when_the_remaining_budget_cannot_pay_for_it():
    pool = nodepool(annotations={HEADROOM: REQUEST})
    # 4 vCPU × 0.05 USD = 0.2 USD/h × 24 h = 4.80 USD; running 1 USD/h for 100 h = 100 USD
    kept = headroom_budget(pool, Policy({}), 0.05, 110.0, 1.0, 100.0, THURSDAY_20, datetime(2026, 12, 1,
                                                                                                 tzinfo=timezone.utc))
    assert (round(kept.cost_left, 2), kept.cut) == (4.8, False)
    cut = headroom_budget(pool, Policy({}), 0.05, 103.0, 1.0, 100.0, THURSDAY_20,
                          datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert cut.cut and "headroom cut before the cpu limit" in cut.reason
    assert cut.status() == {"headroom_cut": True, "headroom_cost_left": 4.8}


def test_a_pool_without_headroom_has_no_headroom_budget():
    assert headroom_budget(nodepool(), Policy({}), 0.05, 1.0, 1.0, 1.0, THURSDAY_20, THURSDAY_20) is None


def plan(pool, spent):
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    return plan_budget(parse_budget(BUDGET), [pool], [], {"default": LedgerEntry(spent=spent, metered_at=THURSDAY_20)},
                       catalog, PriceBook(on_demand=ON_DEMAND), THURSDAY_20).pools[0]


def test_budget_plan_counts_the_headroom_and_cuts_it_first_with_an_alert():
    roomy = plan(nodepool(annotations={HEADROOM: REQUEST}), spent=0.0)
    assert roomy.headroom is not None and roomy.headroom.cost_left > 0 and not roomy.headroom.cut
    assert roomy.status["headroom_cut"] is False
    assert not any(alert.kind == "headroom" for alert in roomy.alerts)
    budget = roomy.budget
    tight = plan(nodepool(annotations={HEADROOM: REQUEST}), spent=budget)  # nothing left
    assert tight.headroom.cut and tight.status["headroom_cut"] is True
    [alert] = [alert for alert in tight.alerts if alert.kind == "headroom"]
    assert "warm headroom cut" in alert.text and "before the cpu limit" in alert.text


def test_the_cut_is_announced_once_while_it_lasts():
    already = nodepool(annotations={HEADROOM: REQUEST, BUDGET_STATUS: json.dumps({"headroom_cut": True})})
    again = plan(already, spent=10_000.0)
    assert again.headroom.cut and not any(alert.kind == "headroom" for alert in again.alerts)


def test_the_slack_budget_message_says_the_headroom_was_cut():
    from chalice_app.budget.report import budget_message
    from chalice_app.slack.render import to_text

    tight = plan(nodepool(annotations={HEADROOM: REQUEST}), spent=10_000.0)
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    whole = plan_budget(parse_budget(BUDGET), [nodepool(annotations={HEADROOM: REQUEST})], [],
                        {"default": LedgerEntry(spent=10_000.0, metered_at=THURSDAY_20)}, catalog,
                        PriceBook(on_demand=ON_DEMAND), THURSDAY_20)
    message = budget_message(whole, list(tight.alerts), {})
    assert "warm headroom cut" in to_text(message)
