"""A deterministic period of a NodePool under the budget reconciler, with no I/O.

Hourly demand and prices; the reconciler (the same metering and limit functions the Lambda uses) runs every
15 minutes; Karpenter is modelled as it behaves: it launches nodes while demand is unmet and the NodePool's limit
allows one more node, never removes nodes because of limits, consolidates nodes away when demand falls, and
replaces interrupted spot nodes within the limit. True spend is the price in force times node time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from chalice_app.budget.document import BudgetDocument, period_bounds
from chalice_app.budget.estimate import estimate_pricing
from chalice_app.budget.catalog import InstanceType
from chalice_app.budget.limits import decide_limits
from chalice_app.budget.metering import LedgerEntry, RunningNode, meter_pool
from chalice_app.budget.prices import PriceBook

POOL = "default"
STEP = timedelta(minutes=15)
NODE = InstanceType("m5.xlarge", vcpus=4, memory_gib=16.0, arches=("amd64",),
                    labels={"node.kubernetes.io/instance-type": "m5.xlarge",
                            "karpenter.k8s.aws/instance-category": "m", "karpenter.k8s.aws/instance-generation": "5",
                            "karpenter.k8s.aws/instance-family": "m5"})
ZONE = "us-east-1a"


@dataclass(frozen=True)
class Scenario:
    name: str
    budget: float  # USD for the period
    demand: Callable[[int], float]  # hour index → vCPU wanted
    price: Callable[[int], float]  # hour index → USD per node-hour
    capacity_type: str = "on-demand"
    interruptions_every_hours: int = 0  # spot: the oldest node is reclaimed this often
    saturating: bool = True  # demand always above what the budget buys
    start: datetime = datetime(2026, 11, 1, tzinfo=timezone.utc)
    period: str = "monthly"
    estimator: str = "mix"
    initial_limit: float = 100.0


@dataclass
class Outcome:
    scenario: Scenario
    true_spend: float
    metered_spend: float
    hours: list[float] = field(default_factory=list)
    spend: list[float] = field(default_factory=list)  # true cumulative spend, hourly
    limit: list[float] = field(default_factory=list)
    usage: list[float] = field(default_factory=list)
    demand: list[float] = field(default_factory=list)
    patches: int = 0

    @property
    def ratio(self) -> float:
        return self.true_spend / self.scenario.budget


def _nodepool(scenario: Scenario, limit: float) -> dict:
    return {"metadata": {"name": POOL, "resourceVersion": "1"},
            "spec": {"limits": {"cpu": f"{limit:g}"}, "template": {"spec": {"requirements": [
                {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [scenario.capacity_type]},
                {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [NODE.name]}]}}}}


def _book(scenario: Scenario, hour: int) -> PriceBook:
    price = scenario.price(hour)
    if scenario.capacity_type == "spot":
        return PriceBook(spot={(NODE.name, ZONE): price})
    return PriceBook(on_demand={NODE.name: price})


def simulate(scenario: Scenario) -> Outcome:
    document = BudgetDocument(amount=scenario.budget, period=scenario.period, estimator=scenario.estimator,
                              nodepools={POOL: {"amount": scenario.budget, "min_cpu": 0, "max_cpu": 10000}})
    _, end = period_bounds(scenario.period, scenario.start)
    steps = int((end - scenario.start) / STEP)
    limit = scenario.initial_limit
    nodes: list[RunningNode] = []
    entry = LedgerEntry()
    outcome = Outcome(scenario, 0.0, 0.0)
    serial = 0
    for step in range(steps):
        now = scenario.start + step * STEP
        hour = step // 4
        book = _book(scenario, hour)
        # the reconciler: meter the slice that just ended, then set the limit for what follows
        metered = meter_pool(POOL, nodes, entry, scenario.start, now, book)
        entry = metered.entry
        pool = _nodepool(scenario, limit)
        pricing = estimate_pricing(pool, [NODE], book, document.pool_estimator(POOL), nodes)
        usage = sum(n.cpu for n in nodes)
        decision = decide_limits(POOL, document, entry.spent, now, end, pricing, pool, usage)
        if decision.change:
            limit = decision.proposed.cpu
            outcome.patches += 1
        # Karpenter over the next 15 minutes
        demand = scenario.demand(hour)
        if scenario.interruptions_every_hours and step % (4 * scenario.interruptions_every_hours) == 0 and nodes:
            nodes = nodes[1:]
        while nodes and usage - NODE.vcpus >= demand:  # consolidation when demand falls
            nodes, usage = nodes[:-1], usage - NODE.vcpus
        while usage < demand and usage + NODE.vcpus <= limit:
            serial += 1
            nodes.append(RunningNode(f"claim-{serial}", POOL, NODE.name, scenario.capacity_type, ZONE, now,
                                     NODE.vcpus, NODE.memory_gib))
            usage += NODE.vcpus
        outcome.true_spend += len(nodes) * scenario.price(hour) * STEP.total_seconds() / 3600
        if step % 4 == 3:
            outcome.hours.append((step + 1) / 4)
            outcome.spend.append(outcome.true_spend)
            outcome.limit.append(limit)
            outcome.usage.append(usage)
            outcome.demand.append(demand)
    outcome.metered_spend = meter_pool(POOL, nodes, entry, scenario.start, end, _book(scenario, steps // 4)).entry.spent
    return outcome


# --- the scenarios the tests (short) and the benchmark (a full month) run --------------------------------------


def _diurnal(peak: float, trough: float) -> Callable[[int], float]:
    return lambda hour: trough + (peak - trough) * max(0.0, math.sin(math.pi * ((hour % 24) - 6) / 12))


def _spot_walk(base: float) -> Callable[[int], float]:
    # deterministic moves: a slow wave, a weekly swing and a sharp 60 % spike on days 12-13
    def price(hour: int) -> float:
        spike = 1.6 if 12 * 24 <= hour < 14 * 24 else 1.0
        return base * (1 + 0.25 * math.sin(hour / 17.0) + 0.15 * math.sin(hour / 83.0)) * spike
    return price


def scenarios(days: int = 30) -> list[Scenario]:
    """One period (days 1: daily, 7: weekly, 30: November, monthly); budgets buy 15 nodes (60 vCPU) throughout."""
    if days not in (1, 7, 30):
        raise ValueError(f"scenarios cover one period: days must be 1, 7 or 30, got {days}")
    on_demand = 0.192  # m5.xlarge, USD per hour
    spot = 0.07
    hours = days * 24
    budget = 15 * on_demand * hours  # 15 nodes for the whole period
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    period = {1: "daily", 7: "weekly", 30: "monthly"}[days]
    if period != "monthly":
        start = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday
    base = Scenario("steady demand 3x", budget, lambda h: 180.0, lambda h: on_demand, start=start, period=period)
    return [
        base,
        replace(base, name="diurnal demand 4x peak", demand=_diurnal(240.0, 70.0)),
        replace(base, name="spot, prices move, interruptions", budget=15 * spot * hours, capacity_type="spot",
                price=_spot_walk(spot), demand=_diurnal(200.0, 60.0), interruptions_every_hours=3),
        replace(base, name="burst in the first week", demand=lambda h: 400.0 if h < 7 * 24 else 20.0,
                saturating=False),
        replace(base, name="demand below budget", demand=_diurnal(60.0, 20.0), saturating=False),
    ]
