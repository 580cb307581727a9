"""Warm headroom in numbers: one working day in the time-stepped simulator, with and without headroom, same run.

    .venv/bin/python benchmarks/bench_headroom.py [--bursts 5] [--cpu 2]

A Monday 06:00-20:00 Europe/London on the guide's cluster (sandbox seed: 6 functions, 3 nodes). `sleep` (pinned to
the spot pool by its Profile, 500m a pod) bursts 1 → 5 replicas for 10 minutes, `--bursts` times during the working
hours, as the guide's demo scales it. With headroom the spot NodePool is annotated
`Mon-Fri 07:00-19:00 Europe/London: <cpu> vCPU` and costguard's headroom reconcile (the code the off-hours Lambda
runs after its own reconcile, as the app's RBAC identity against the fake API) runs every 5 minutes. Node start
45-50 s on-demand, ~70 s spot and pod start 4 s are the twin's (sandbox/cluster_timing.py). Printed: p50/p95 seconds
from pod creation to Ready for `sleep`'s new pods, pods never Ready, node-hours and the day's node cost (prices:
sandbox/demo_budget.py's per-vCPU list prices, spot at its zone's discount), and the extra cost of the headroom.
Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from chalice_app.budget.aws_prices import instance_catalog  # noqa: E402
from chalice_app.headroom import service  # noqa: E402
from chalice_app.headroom.cluster import HeadroomCluster  # noqa: E402
from chalice_app.headroom.planner import Policy  # noqa: E402
from sandbox import Sandbox, demo_headroom  # noqa: E402
from sandbox.demo_budget import PER_VCPU_HOUR, SPOT_DISCOUNT  # noqa: E402
from sandbox.working_day import Action, Burst, WorkingDay  # noqa: E402

LONDON = ZoneInfo("Europe/London")
DAY = datetime(2026, 11, 30, 6, 0, tzinfo=LONDON)  # a Monday
BURST_TIMES = ("07:30", "09:30", "11:30", "14:00", "16:30", "10:15", "15:15", "17:45")


def price_function(sb):
    catalog = {kind.name: kind for kind in instance_catalog(sb.session(), "us-east-1")}

    def price(instance_type: str, capacity_type: str, zone: str) -> float:
        kind = catalog[instance_type]
        hourly = kind.vcpus * PER_VCPU_HOUR.get(kind.labels.get("karpenter.k8s.aws/instance-category", ""), 0.05)
        return hourly * (SPOT_DISCOUNT.get(zone, 0.35) if capacity_type == "spot" else 1.0)
    return price


def one_day(with_headroom: bool, bursts: int, cpu: float) -> dict:
    started = time.monotonic()
    # seeded just before the day, so consolidateAfter counts from then (the seed stamps its pods' times)
    with Sandbox(functions=6, nodes=3, now=DAY - timedelta(minutes=10)) as sb, sb.activate():
        actions = []
        if with_headroom:
            demo_headroom.install(sb)
            demo_headroom.ask_for_headroom(sb, "spot", f"Mon-Fri 07:00-19:00 Europe/London: {cpu:g} vCPU")
            cluster, policy = HeadroomCluster(sb.app_kube_client()), Policy({})
            actions.append(Action(run=lambda now: service.reconcile(cluster, policy, now),
                                  every=timedelta(minutes=5)))
        day = WorkingDay(DAY, DAY.replace(hour=20), step=timedelta(seconds=60), actions=actions, bursts=[
            Burst(DAY.replace(hour=int(at[:2]), minute=int(at[3:])),
                  DAY.replace(hour=int(at[:2]), minute=int(at[3:])) + timedelta(minutes=10), "sleep", 5, 1)
            for at in sorted(BURST_TIMES[:bursts])])
        result = day.run(sb.sim)
        return {"headroom": f"{cpu:g} vCPU on spot 07:00-19:00" if with_headroom else "none",
                "new_pods": len(result.new_pods), "never_ready": len(result.never_ready),
                "p50_s": result.percentile(50), "p95_s": result.percentile(95),
                "node_hours": round(result.node_hours(), 2), "cost_usd": round(result.cost(price_function(sb)), 3),
                "wall_s": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=5, choices=range(1, len(BURST_TIMES) + 1))
    parser.add_argument("--cpu", type=float, default=2.0, help="vCPU of headroom on the spot pool")
    args = parser.parse_args()
    without = one_day(False, args.bursts, args.cpu)
    warm = one_day(True, args.bursts, args.cpu)
    print(json.dumps({"without": without, "with": warm,
                      "extra_cost_usd": round(warm["cost_usd"] - without["cost_usd"], 3)}, indent=2))


if __name__ == "__main__":
    main()
