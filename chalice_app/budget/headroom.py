"""A NodePool's warm headroom in its budget (pure): what keeping it costs until the period ends, and whether the
remaining budget can pay for it. Headroom is the first thing cut when money is tight — before the cpu limit, which
only drops when the pool's running rate alone outruns the budget. The cut is written in the budget-status annotation
(`headroom_cut`), which the headroom planner (chalice_app/headroom/planner.py) reads on its next run.

Tight: remaining budget < (the pool's rate now without the headroom) × hours left + the headroom's cost to the period
end. The headroom's share of the rate is taken out only while it is kept (inside its window and not cut), so a cut
does not flap back the next run once its nodes are gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalice_app.headroom.planner import Policy, budget_cut, parked, wanted
from chalice_app.headroom.spec import HeadroomSpec

MAX_WINDOWS = 400  # boundaries walked to the period end (a month of weekday windows is ~45)


@dataclass(frozen=True)
class HeadroomBudget:
    pool: str
    request: str
    vcpu: float
    hourly: float  # USD/h while it is kept
    hours_left: float  # inside its window from now to the period end
    cost_left: float
    cut: bool
    was_cut: bool
    reason: str

    def status(self) -> dict:
        return {"headroom_cut": self.cut, "headroom_cost_left": round(self.cost_left, 2)}


def hours_inside(spec: HeadroomSpec, start: datetime, end: datetime) -> float:
    """Hours of [start, end) inside the headroom's schedule."""
    total, moment = 0.0, start
    for _ in range(MAX_WINDOWS):
        if moment >= end:
            break
        change = spec.schedule.next_change(moment)
        until = min(change, end) if change else end
        if spec.schedule.contains(moment):
            total += (until - moment).total_seconds() / 3600
        moment = until
    return total


def headroom_budget(nodepool: dict, policy: Policy, per_vcpu_hour: float, remaining: float, rate_now: float,
                    hours_left: float, now: datetime, period_end: datetime) -> HeadroomBudget | None:
    """None when the pool asks for no headroom (or its request cannot be read: the headroom run reports that)."""
    want = wanted(nodepool, policy, now)
    if want is None or want.spec is None:
        return None
    spec = want.spec
    vcpu = spec.cpu_millis / 1000
    hourly = vcpu * per_vcpu_hour
    inside = hours_inside(spec, now, period_end)
    cost_left = hourly * inside
    was_cut = budget_cut(nodepool)
    kept_now = spec.schedule.contains(now) and not was_cut and not parked(nodepool)
    base_rate = max(0.0, rate_now - (hourly if kept_now else 0.0))
    needed = base_rate * hours_left + cost_left
    cut = cost_left > 0 and remaining < needed
    reason = (f"{spec.amount()} ({spec.schedule.spec}) costs {hourly:.3f} USD/h, {cost_left:.2f} USD for "
              f"{inside:.0f} h to the period end")
    if cut:
        reason += (f"; {remaining:.2f} USD left cannot pay it on top of the running {base_rate:.3f} USD/h "
                   f"({needed:.2f} USD): headroom cut before the cpu limit")
    return HeadroomBudget(nodepool["metadata"]["name"], spec.text, vcpu, hourly, inside, cost_left, cut, was_cut,
                          reason)
