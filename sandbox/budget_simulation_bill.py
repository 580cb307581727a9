"""A simulated period against a simulated AWS bill: unconstrained pools (spot + on-demand + arm64), a Savings Plan
and EBS volumes. No I/O.

Three parts that share nothing but the node records:
- Karpenter (a model written here, not the product's catalog): every 15 minutes, between two reconciler runs, it
  launches the cheapest offering per vCPU the pool's capacity types and architectures allow — spot first when spot
  capacity is there (getCapacityType's preference), on-demand when it is short — while the NodePool's cpu limit
  allows one more node; it consolidates nodes away when demand falls and loses the oldest spot node to an
  interruption every few hours.
- The reconciler: the product's own metering, estimator and limit functions, with Cost Explorer's figures for the
  days the bill has closed (a day closes the day after), as with `cost_explorer: true`.
- The bill: built from the nodes' lifetimes only — compute per second at the price of each hour (spot at that
  hour's spot price, on-demand at list minus the Savings Plan discount, net amortized), EBS prorated by the second
  over the calendar month as AWS bills it, summed per UTC day.
"""
from __future__ import annotations

import math
from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.costexplorer import effective_spent
from chalice_app.budget.document import BudgetDocument, period_bounds
from chalice_app.budget.estimate import estimate_pricing
from chalice_app.budget.limits import decide_limits
from chalice_app.budget.metering import LedgerEntry, RunningNode, meter_pool
from chalice_app.budget.nodeclass import NodeClassCosts
from chalice_app.budget.prices import PriceBook
from chalice_app.budget.reconcile import pool_totals, reconcile_rows

POOL = "general"
ZONE = "us-east-1a"
STEP = timedelta(minutes=15)
KARPENTER_AFTER = timedelta(minutes=7, seconds=30)  # Karpenter acts between two reconciler runs
GP3_GB_MONTH = 0.08
ON_DEMAND = {"m5.xlarge": 0.192, "c5.xlarge": 0.17, "m6g.xlarge": 0.154, "c6g.xlarge": 0.136}
_TYPES = {"m5.xlarge": (4, 16384, "x86_64"), "c5.xlarge": (4, 8192, "x86_64"), "m6g.xlarge": (4, 16384, "arm64"),
          "c6g.xlarge": (4, 8192, "arm64")}
CATALOG = [instance_type_from_ec2({"InstanceType": name, "VCpuInfo": {"DefaultVCpus": cpu},
                                   "MemoryInfo": {"SizeInMiB": mib}, "ProcessorInfo": {"SupportedArchitectures": [arch]},
                                   "SupportedUsageClasses": ["on-demand", "spot"]})
           for name, (cpu, mib, arch) in _TYPES.items()]
ARCH = {t.name: t.arches[0] for t in CATALOG}


@dataclass(frozen=True)
class BillScenario:
    name: str
    budget: float
    demand: Callable[[int], float]  # hour → vCPU wanted
    capacity_types: tuple[str, ...] = ("spot", "on-demand")  # () = no requirement: Karpenter v1 allows any
    arches: tuple[str, ...] = ()  # () = no requirement
    spot_share: Callable[[int, str], float] = lambda hour, name: 0.38  # spot price as a share of on-demand
    spot_short: Callable[[int], bool] = lambda hour: False  # no spot capacity this hour: on-demand instead
    savings_percent: float = 0.0  # Savings Plan discount on on-demand compute (net amortized)
    volume_gib: float = 20.0  # gp3 root volume per node
    interruptions_every_hours: int = 0
    saturating: bool = True
    start: datetime = datetime(2026, 11, 1, tzinfo=timezone.utc)
    period: str = "monthly"


@dataclass
class BillOutcome:
    scenario: BillScenario
    billed: float = 0.0
    metered: float = 0.0
    error_percent: float = 0.0  # metered vs billed over the closed days, the worst pool
    hours: list[float] = field(default_factory=list)
    spend: list[float] = field(default_factory=list)  # billed cumulative spend, hourly
    usage: list[float] = field(default_factory=list)
    arm64_share: float = 0.0  # of node-hours
    spot_share: float = 0.0

    @property
    def ratio(self) -> float:
        return self.billed / self.scenario.budget


@dataclass
class _Node:
    key: str
    instance_type: str
    capacity_type: str
    start: datetime
    end: datetime | None = None


def _requirements(scenario: BillScenario) -> list[dict]:
    found = []
    if scenario.capacity_types:
        found.append({"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(scenario.capacity_types)})
    if scenario.arches:
        found.append({"key": "kubernetes.io/arch", "operator": "In", "values": list(scenario.arches)})
    return found


def _spot_price(scenario: BillScenario, hour: int, name: str) -> float:
    return round(ON_DEMAND[name] * scenario.spot_share(hour, name), 5)


def _book(scenario: BillScenario, hour: int) -> PriceBook:
    return PriceBook(on_demand=ON_DEMAND, spot={(n, ZONE): _spot_price(scenario, hour, n) for n in ON_DEMAND},
                     storage={"gp3": GP3_GB_MONTH}, discount_percent=scenario.savings_percent)


def _karpenter_choice(scenario: BillScenario, hour: int) -> tuple[str, str] | None:
    """The cheapest offering per vCPU in the capacity type Karpenter prefers (reserved > spot > on-demand); None when
    the pool allows only spot and spot capacity is short."""
    kinds = scenario.capacity_types or ("spot", "on-demand")
    names = [n for n in ON_DEMAND if not scenario.arches or ARCH[n] in scenario.arches]
    kind = "spot" if "spot" in kinds and not scenario.spot_short(hour) else "on-demand"
    if kind not in kinds:
        return None
    price = (lambda n: _spot_price(scenario, hour, n)) if kind == "spot" else ON_DEMAND.get
    return min(names, key=lambda n: (price(n) / 4, n)), kind


def bill_by_day(nodes: list[_Node], scenario: BillScenario, until: datetime, bucket: str = "%Y-%m-%d") -> dict:
    """The simulated bill, per UTC day (or other strftime bucket): compute per second at each hour's price, EBS
    prorated over the month."""
    days: dict[str, float] = {}
    for node in nodes:
        moment, end = node.start, min(node.end or until, until)
        while moment < end:
            hour_start = moment.replace(minute=0, second=0, microsecond=0)
            stop = min(end, hour_start + timedelta(hours=1))
            seconds = (stop - moment).total_seconds()
            hour = int((hour_start - scenario.start).total_seconds() // 3600)
            if node.capacity_type == "spot":
                rate = _spot_price(scenario, hour, node.instance_type)
            else:
                rate = ON_DEMAND[node.instance_type] * (1 - scenario.savings_percent / 100)
            month_seconds = monthrange(moment.year, moment.month)[1] * 86400
            cost = rate * seconds / 3600 + scenario.volume_gib * GP3_GB_MONTH * seconds / month_seconds
            day = moment.date().isoformat() if bucket == "%Y-%m-%d" else moment.strftime(bucket)
            days[day] = days.get(day, 0.0) + cost
            moment = stop
    return days


def simulate_bill(scenario: BillScenario) -> BillOutcome:
    document = BudgetDocument(amount=scenario.budget, period=scenario.period, estimator="mix", cost_explorer=True,
                              savings_discount_percent=scenario.savings_percent,
                              nodepools={POOL: {"amount": scenario.budget, "min_cpu": 0, "max_cpu": 10000}})
    _, end = period_bounds(scenario.period, scenario.start)
    costs = NodeClassCosts("default", (("gp3", scenario.volume_gib),), frozenset())
    pool = {"metadata": {"name": POOL}, "spec": {"limits": {"cpu": "100"}, "template": {"spec": {
        "requirements": _requirements(scenario), "nodeClassRef": {"name": "default"}}}}}
    nodes: list[_Node] = []
    entry = LedgerEntry()
    outcome = BillOutcome(scenario)
    serial, closed = 0, {}
    for step in range(int((end - scenario.start) / STEP)):
        now = scenario.start + step * STEP
        hour = step // 4
        book = _book(scenario, hour)
        running = [RunningNode(n.key, POOL, n.instance_type, n.capacity_type, ZONE, n.start, 4, 16, 0,
                               volumes=costs.volumes) for n in nodes if n.end is None]
        entry = meter_pool(POOL, running, entry, scenario.start, now, book).entry
        # closed days come from the bill (Cost Explorer closes a day the day after)
        closed_until = (now - timedelta(days=1)).strftime("%Y-%m-%d")
        if step % 96 == 0:  # the bill of closed days changes once a day
            closed = {day: usd for day, usd in bill_by_day(nodes, scenario, now).items() if day < closed_until}
        closed_days = {d for d in entry.daily if d < closed_until} | set(closed)
        spent = effective_spent(entry.daily, closed, closed_days)
        pricing = estimate_pricing(pool, CATALOG, book, "mix", running, costs)
        usage = sum(4 for n in nodes if n.end is None)
        decision = decide_limits(POOL, document, spent, now, end, pricing, pool, usage)
        if decision.change:
            pool["spec"]["limits"]["cpu"] = f"{decision.proposed.cpu:g}"
        limit = float(pool["spec"]["limits"]["cpu"])
        # Karpenter, half-way to the next run
        at = now + KARPENTER_AFTER
        live = [n for n in nodes if n.end is None]
        demand = scenario.demand(hour)
        if scenario.interruptions_every_hours and step % (4 * scenario.interruptions_every_hours) == 0:
            spot = [n for n in live if n.capacity_type == "spot"]
            if spot:
                spot[0].end = at
                live.remove(spot[0])
        while live and (len(live) - 1) * 4 >= demand:
            live.pop().end = at
        choice = _karpenter_choice(scenario, hour)
        while choice and len(live) * 4 < demand and (len(live) + 1) * 4 <= limit:
            serial += 1
            name, kind = choice
            live.append(_Node(f"claim-{serial}", name, kind, at))
            nodes.append(live[-1])
        if step % 4 == 3:
            outcome.hours.append((step + 1) / 4)
            outcome.usage.append(len(live) * 4)
    running = [RunningNode(n.key, POOL, n.instance_type, n.capacity_type, ZONE, n.start, 4, 16, 0,
                           volumes=costs.volumes) for n in nodes if n.end is None]
    entry = meter_pool(POOL, running, entry, scenario.start, end, _book(scenario, int((end - scenario.start) / STEP) // 4)).entry
    bill = bill_by_day(nodes, scenario, end)
    outcome.billed, outcome.metered = sum(bill.values()), entry.spent
    hourly = bill_by_day(nodes, scenario, end, "%Y-%m-%dT%H")
    for hour in range(len(outcome.hours)):
        key = (scenario.start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H")
        outcome.spend.append((outcome.spend[-1] if outcome.spend else 0.0) + hourly.get(key, 0.0))
    [total] = pool_totals(reconcile_rows({POOL: entry.daily}, {POOL: bill})) or [None]
    outcome.error_percent = total.percent if total else 0.0
    node_hours = [((n.end or end) - n.start).total_seconds() for n in nodes]
    outcome.arm64_share = sum(h for n, h in zip(nodes, node_hours) if ARCH[n.instance_type] == "arm64") / max(
        sum(node_hours), 1)
    outcome.spot_share = sum(h for n, h in zip(nodes, node_hours) if n.capacity_type == "spot") / max(
        sum(node_hours), 1)
    return outcome


def bill_scenarios(days: int = 30) -> list[BillScenario]:
    """Three pools the issue names: unconstrained (spot + on-demand + arm64, spot short some hours), on-demand with a
    28 % Savings Plan, and large EBS volumes; each budget buys about 15 nodes for the period."""
    if days not in (7, 30):
        raise ValueError(f"bill scenarios cover one period: days must be 7 or 30, got {days}")
    period, start = ("weekly", datetime(2026, 11, 2, tzinfo=timezone.utc)) if days == 7 else (
        "monthly", datetime(2026, 11, 1, tzinfo=timezone.utc))
    hours = days * 24

    def wave(hour: int, name: str) -> float:
        return 0.36 + 0.06 * math.sin(hour / 11.0 + len(name)) + (0.05 if ARCH[name] == "arm64" else 0.0)

    unconstrained = BillScenario("unconstrained: spot+on-demand+arm64", budget=15 * 0.154 * 0.4 * hours,
                                 demand=lambda h: 200.0, capacity_types=(), spot_share=wave,
                                 spot_short=lambda h: (h // 24) % 5 == 2 and 8 <= h % 24 < 14,
                                 interruptions_every_hours=3, start=start, period=period)
    return [
        unconstrained,
        replace(unconstrained, name="on-demand, 28 % Savings Plan", capacity_types=("on-demand",),
                savings_percent=28.0, budget=15 * 0.136 * 0.72 * hours, interruptions_every_hours=0),
        replace(unconstrained, name="spot, 200 GiB gp3 volumes", capacity_types=("spot",), volume_gib=200.0,
                budget=15 * (0.136 * 0.4 + 200 * GP3_GB_MONTH / 730) * hours),
        replace(unconstrained, name="unconstrained, demand below budget", saturating=False,
                demand=lambda h: 20.0 + 20.0 * max(0.0, math.sin(math.pi * ((h % 24) - 6) / 12))),
    ]
