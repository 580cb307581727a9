"""The Slack route's answer time and the savings ledger's cost per off-hours run, on the loopback sandbox.

    .venv/bin/python benchmarks/bench_slack_actions.py [--functions 1000] [--requests 30]

Route: signed slash commands through Chalice's local API Gateway emulation as the app's identity — the first
request of a fresh container (SSM secret and allow-list, boto3 and Kubernetes clients made) and the median/p95 of
warm `keep` requests (replay put, rate counter, Deployment get + patch, audit append, answer). Savings: one
off-hours hook (list Deployments, NodePools, NodeClaims, Nodes; price; book; transaction) with every function
parked, prices already estimated (warm) and not (cold). Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

from chalice.test import Client  # noqa: E402

from chalice_app.config import load_settings  # noqa: E402
from chalice_app.offhours import handler  # noqa: E402
from chalice_app.offhours.ports import OffhoursPorts  # noqa: E402
from chalice_app.savings import service  # noqa: E402
from chalice_app.slackapp import route  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from sandbox.demo_budget import seed_prices  # noqa: E402
from sandbox.slack_user import SlackUser, _chalice_app_module, configure  # noqa: E402

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    options = parser.parse_args()
    nodes = max(6, options.functions // 12)  # room for the seeded pods, as bench_offhours sizes it
    # Without the admission policies (cel-python's cost, not kube-apiserver's: benchmarks/bench_admission.py).
    with Sandbox(functions=options.functions, nodes=nodes, now=SEEDED_AT, ec2_instances=False,
                 admission_policies=False) as sb, \
            sb.activate(COSTGUARD_DEFAULT_UPTIME="Mon-Fri 07:00-19:00 Europe/London",
                        COSTGUARD_OFFHOURS_NODEPOOLS="default,spot", COSTGUARD_SLACK_ACTIONS_PER_USER="1000"):
        configure(sb, ["U0ALEX0001"])
        slack = SlackUser("unused", sb.slack)
        app = _chalice_app_module().app
        with Client(app, stage_name=sb.stage) as client:
            timings = []
            for number in range(options.requests + 1):
                body = slack.slash_body(f"keep sleep {number % 20 + 1}h")
                started = time.perf_counter()
                response = client.http.post("/slack/actions", headers=slack.signed_headers(body), body=body.encode())
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.body
        warm = sorted(timings[1:])
        print(f"route: first request of a container {timings[0] * 1000:.0f} ms; warm median "
              f"{statistics.median(warm) * 1000:.0f} ms, p95 {warm[int(len(warm) * 0.95) - 1] * 1000:.0f} ms "
              f"({len(warm)} requests)")

        seed_prices(sb, EVENING - timedelta(hours=1))
        handler.run(load_settings(), EVENING - timedelta(minutes=10), OffhoursPorts.from_settings(load_settings()))  # the cursor
        handler.run(load_settings(), EVENING, OffhoursPorts.from_settings(load_settings()))  # parks every function
        from chalice_app.savings.hook import after_offhours_run

        for label, reset in (("cold prices", True), ("warm", False)):
            if reset:
                service._rates.clear()
            report = type("Report", (), {"applied": lambda self, kind: [], "dry_run": False})()
            started = time.perf_counter()
            after_offhours_run(load_settings(), report, EVENING + timedelta(minutes=5 if reset else 10), None)
            print(f"savings hook, {options.functions} functions parked ({label}): "
                  f"{time.perf_counter() - started:.2f} s")
        route.reset()


if __name__ == "__main__":
    main()
