"""A full simulated month per scenario: spend ÷ budget (must be ≤ 1; ≥ 0.95 where demand saturates), how often
limits were patched, how long the simulation takes, and a PNG chart of burn against budget.

    .venv/bin/python benchmarks/bench_budget.py [--out demo-output/budget-month.png] [--days 30]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalice_app.budget.chart import write_burn_chart  # noqa: E402
from chalice_app.budget.simulation import scenarios, simulate  # noqa: E402


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
        if outcome.ratio > 1.0:
            failures.append(f"{scenario.name}: spend {outcome.ratio:.4f} of budget")
        if scenario.saturating and outcome.ratio < 0.95:
            failures.append(f"{scenario.name}: only {outcome.ratio:.4f} of budget used under saturating demand")
    runs = sum(len(o.hours) * 4 for o in outcomes)
    print(f"reconciler runs simulated: {runs}")
    path = write_burn_chart(outcomes, args.out)
    print(f"chart: {path}")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
