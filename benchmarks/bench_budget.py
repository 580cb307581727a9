"""A full simulated month per scenario: spend ÷ budget (must be ≤ 1; ≥ 0.95 where demand saturates), how often
limits were patched, how long the simulation takes, and a PNG chart of burn against budget. Then the same against a
simulated AWS bill (unconstrained pools with spot + on-demand + arm64, a Savings Plan, EBS volumes): billed spend ÷
budget and the meter's error against the bill over the closed days (must be within 2 %), with its own chart.

    .venv/bin/python benchmarks/bench_budget.py [--out demo-output/budget-month.png] [--days 30]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalice_app.budget.catalog import instance_type_from_ec2  # noqa: E402
from sandbox.budget_chart import write_burn_chart  # noqa: E402
from chalice_app.budget.document import parse_budget  # noqa: E402
from chalice_app.budget.metering import running_nodes  # noqa: E402
from chalice_app.budget.planner import plan_budget  # noqa: E402
from chalice_app.budget.prices import PriceBook  # noqa: E402
from sandbox.budget_simulation import scenarios, simulate  # noqa: E402
from sandbox.budget_simulation_bill import bill_scenarios, simulate_bill  # noqa: E402

SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64,
         "24xlarge": 96}
PER_VCPU = {"c": 0.0425, "m": 0.048, "r": 0.063}


def plan_timing(nodeclaims: int = 300, rounds: int = 20) -> tuple[float, int]:
    """Milliseconds for one reconcile's pure part (meter + price + limits for 2 pools) on a realistic catalog."""
    catalog, on_demand = [], {}
    for category, per_vcpu in PER_VCPU.items():
        for generation in range(3, 9):
            for variant in ("", "a", "d", "n"):
                for size, vcpus in SIZES.items():
                    name = f"{category}{generation}{variant}.{size}"
                    catalog.append(instance_type_from_ec2({
                        "InstanceType": name, "VCpuInfo": {"DefaultVCpus": vcpus},
                        "MemoryInfo": {"SizeInMiB": vcpus * 1024 * {"c": 2, "m": 4, "r": 8}[category]},
                        "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}}))
                    on_demand[name] = per_vcpu * vcpus
    spot = {(name, zone): price * 0.35 for name, price in on_demand.items() for zone in ("us-east-1a", "us-east-1b")}
    pools = [{"metadata": {"name": name, "resourceVersion": "1"}, "spec": {"limits": {"cpu": "1000"}, "template": {
        "spec": {"requirements": [
            {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
            {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [kind]}]}}}}
        for name, kind in (("default", "on-demand"), ("spot", "spot"))]
    claims = [{"metadata": {"name": f"claim-{i}", "creationTimestamp": "2026-11-20T00:00:00Z", "labels": {
        "karpenter.sh/nodepool": ("default", "spot")[i % 2], "node.kubernetes.io/instance-type": catalog[i % 96].name,
        "karpenter.sh/capacity-type": ("on-demand", "spot")[i % 2], "topology.kubernetes.io/zone": "us-east-1a"}},
        "status": {"nodeName": f"node-{i}"}} for i in range(nodeclaims)]
    document = parse_budget({"amount": 20000, "nodepools": {"default": {"share": 0.6}, "spot": {"share": 0.4}}})
    book = PriceBook(on_demand, spot)
    now = datetime(2026, 11, 24, 18, tzinfo=timezone.utc)
    started = time.perf_counter()
    for _ in range(rounds):
        running = running_nodes(claims, [], {t.name: t for t in catalog})
        plan_budget(document, pools, running, {}, catalog, book, now)
    return (time.perf_counter() - started) / rounds * 1000, len(catalog)


def budget_failures(name: str, ratio: float, saturating: bool) -> list[str]:
    """Spend above budget anywhere, or under 95 % of it where demand saturates."""
    if ratio > 1.0:
        return [f"{name}: spend {ratio:.4f} of budget"]
    if saturating and ratio < 0.95:
        return [f"{name}: only {ratio:.4f} of budget used under saturating demand"]
    return []


def bill_month(days: int, chart_out: str) -> list[str]:
    """The bill scenarios: print their figures, write their chart next to the other one, return the failures."""
    failures, outcomes = [], []
    print(f"\n{'against a simulated bill':<36} {'billed/budget':>13} {'meter vs bill':>13} {'spot':>5} {'arm64':>5} "
          f"{'sim s':>6}")
    for scenario in bill_scenarios(days):
        started = time.perf_counter()
        outcome = simulate_bill(scenario)
        outcomes.append(outcome)
        print(f"{scenario.name:<36} {outcome.ratio:>13.4f} {outcome.error_percent:>+12.2f}% "
              f"{outcome.spot_share:>5.2f} {outcome.arm64_share:>5.2f} {time.perf_counter() - started:>6.2f}")
        failures += budget_failures(scenario.name, outcome.ratio, scenario.saturating)
        if abs(outcome.error_percent) > 2.0:
            failures.append(f"{scenario.name}: meter {outcome.error_percent:+.2f} % off the bill")
    path = write_burn_chart(outcomes, Path(chart_out).with_name("budget-bill.png"))
    print(f"chart: {path}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output/budget-month.png", help="where to write the PNG chart")
    parser.add_argument("--days", type=int, default=30, choices=(1, 7, 30), help="one period: daily, weekly, monthly")
    args = parser.parse_args(argv)

    outcomes, failures = [], []
    print(f"{'scenario':<36} {'spend/budget':>12} {'metered/budget':>14} {'patches':>8} {'peak vCPU':>9} {'sim s':>6}")
    for scenario in scenarios(args.days):
        started = time.perf_counter()
        outcome = simulate(scenario)
        elapsed = time.perf_counter() - started
        outcomes.append(outcome)
        print(f"{scenario.name:<36} {outcome.ratio:>12.4f} {outcome.metered_spend / scenario.budget:>14.4f} "
              f"{outcome.patches:>8} {max(outcome.usage):>9.0f} {elapsed:>6.2f}")
        failures += budget_failures(scenario.name, outcome.ratio, scenario.saturating)
    failures += bill_month(args.days if args.days in (7, 30) else 7, args.out)
    runs = sum(len(o.hours) * 4 for o in outcomes)
    print(f"reconciler runs simulated: {runs}")
    milliseconds, types = plan_timing()
    print(f"one reconcile's pure planning, 2 NodePools, {types} instance types, 300 NodeClaims: {milliseconds:.1f} ms")
    path = write_burn_chart(outcomes, args.out)
    print(f"chart: {path}")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
