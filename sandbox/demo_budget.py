"""Demo, budget: the month's spend passes 80 % of the budget in SSM, the `default` NodePool's limits drop, and the
Slack notice says why (threshold, the arithmetic behind the new limit, the functions driving the spend).

The Lambda's own code runs (chalice_app.budget.handler.run) as the app identity against the sandbox; only the clock
is chosen, so two runs a few hours apart take seconds. The Pricing API is not in moto: prices are put into the
ledger table's price cache, exactly where a real run would have cached them.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chalice_app import naming
from chalice_app.budget import handler
from chalice_app.budget.ports import BudgetPorts
from chalice_app.budget.aws_prices import ON_DEMAND_CACHE_HOURS, instance_catalog
from sandbox.budget_chart import write_burn_chart
from chalice_app.budget.cluster import BudgetCluster
from chalice_app.budget.document import parse_budget
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.service import gather_plan
from sandbox.budget_simulation import scenarios, simulate
from sandbox.budget_simulation_bill import bill_scenarios, simulate_bill
from sandbox.budget_status import budget_statuses
from chalice_app.config import load_settings
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.render import to_text
from chalice_app.kube.names import BUDGET_STATUS, ORIGINAL_LIMITS

POOL = "default"
# USD per vCPU-hour by instance category, near us-east-1's list prices; spot at about a third of on-demand.
PER_VCPU_HOUR = {"c": 0.0425, "m": 0.048, "r": 0.063}
SPOT_DISCOUNT = {"us-east-1a": 0.34, "us-east-1b": 0.36, "us-east-1c": 0.38}
EBS_GB_MONTH = {"gp3": 0.08, "gp2": 0.10}  # us-east-1 list prices, USD per GB-month
SPENT_SO_FAR = 0.78  # of the budget, when the demo starts: on track for the 24th of a 30-day month
BURST_REPLICAS = 24
MAX_QUARTERS = 96  # the second run is at most a day later, whatever the burn


def seed_prices(sb, now: datetime) -> int:
    """Put on-demand and spot prices for every instance type of the region into the ledger's price cache."""
    session = sb.session()
    ledger = Ledger(sb.table_name, session)
    on_demand, spot = {}, {}
    for kind in instance_catalog(session, "us-east-1"):
        category = kind.labels.get("karpenter.k8s.aws/instance-category", "")
        hourly = round(kind.vcpus * PER_VCPU_HOUR.get(category, 0.05) + 0.5 * kind.gpus, 4)
        on_demand[kind.name] = hourly
        for zone, discount in SPOT_DISCOUNT.items():
            spot[f"{kind.name}|{zone}"] = round(hourly * discount, 4)
    ledger.cache_prices("on-demand", "us-east-1", on_demand, now, ON_DEMAND_CACHE_HOURS)
    ledger.cache_prices("spot", "us-east-1", spot, now, ON_DEMAND_CACHE_HOURS)
    ledger.cache_prices("storage", "us-east-1", EBS_GB_MONTH, now, ON_DEMAND_CACHE_HOURS)
    return len(on_demand)


def _limits(sb, name: str) -> dict:
    pool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, name)
    return pool["spec"].get("limits", {})


def _scale_burst(sb) -> list[str]:
    """Load arrives: on-demand functions scale out and Karpenter (the sandbox's) adds nodes within the limit."""
    names = []
    for deployment in sb.kube.store.list("apps/v1", "Deployment", "openfaas-fn"):
        template = deployment["spec"]["template"]["metadata"].get("annotations", {})
        if "com.openfaas.profile" not in template and len(names) < 3:
            names.append(deployment["metadata"]["name"])
    for name in names:
        sb.sim.scale_function(name, BURST_REPLICAS)
    sb.sim.settle()
    return names


def _show_messages(messages, console: Console) -> None:
    for message in messages:
        console.print(f"[bold]Slack[/bold] ({message.target}):")
        rendered = to_text(SlackMessage(text=message.text, blocks=message.payload.get("blocks", [])))
        console.print("  " + rendered.replace("\n", "\n  "))


def run(sb, console: Console, output_dir: Path | str = Path("demo-output")) -> dict:
    """The story; returns the two runs' summaries and the chart path (the tests read them)."""
    output_dir = Path(output_dir)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    t0 = now - timedelta(minutes=now.minute % 15)
    settings = load_settings()
    admin = sb.session()
    console.print(f"prices cached for {seed_prices(sb, t0)} instance types and EBS "
                  f"{', '.join(EBS_GB_MONTH)} (moto has no Pricing API)")
    if ORIGINAL_LIMITS in (sb.kube.store.get("karpenter.sh/v1", "NodePool", None, POOL)["metadata"]
                         .get("annotations") or {}):
        console.print(f"[yellow]{POOL} is parked by off-hours: the budget will report but not change its limits")

    # The budget: sized so that what the month has run so far is 78 % of it, as on the 24th of a steady month.
    probe = parse_budget({"amount": 1000, "nodepools": {POOL: {"share": 1}}})
    cluster = BudgetCluster(sb.app_kube_client())
    ledger = Ledger(sb.table_name, admin)  # empty yet: the probe meters from the start of the month
    metered = {p.pool: p for p in gather_plan(settings, probe, t0, cluster, admin, ledger).pools}
    amount = max(round(metered[POOL].meter.cost / SPENT_SO_FAR, 2), 5.0) if POOL in metered else 5.0
    # only `default` is budgeted here: the spot pool is left alone (and the run says so)
    document = {"currency": "USD", "period": "monthly", "amount": amount, "mode": "enforce", "estimator": "mix",
                "max_step_percent": 75, "nodepools": {POOL: {"amount": amount, "min_cpu": 2, "max_cpu": 100}}}
    admin.client("ssm").put_parameter(Name=naming.budget_parameter(sb.stage), Value=json.dumps(document),
                                      Type="SecureString", Overwrite=True)
    console.print(f"budget in SSM {naming.budget_parameter(sb.stage)}: {amount:.2f} USD this month for {POOL}")

    before = len(sb.slack.messages)
    console.print(f"[bold]{t0:%H:%M}[/bold] first budget run (meters the month so far), {POOL} limits "
                  f"{_limits(sb, POOL)}")
    first = handler.run(settings, t0, BudgetPorts.from_settings(settings))
    console.print(f"→ {POOL} limits now {_limits(sb, POOL)}")

    functions = _scale_burst(sb)
    plan = gather_plan(settings, parse_budget(document), t0, cluster, admin, ledger)
    pool_plan = next(p for p in plan.pools if p.pool == POOL)
    rate = max(pool_plan.meter.rate_now, 0.01)
    # the hours of this burn it takes to pass 80 %, rounded up to whole 15-minute runs
    needed = amount * 0.805 - pool_plan.spent
    quarters = min(max(1, int(needed / rate * 4) + 1), MAX_QUARTERS)
    t1 = t0 + timedelta(minutes=15 * quarters)
    console.print(f"load: {', '.join(functions)} scale to {BURST_REPLICAS} replicas; Karpenter runs "
                  f"{pool_plan.meter.usage_cpu:g} vCPU in {POOL}, {rate:.3f} USD/h")
    for line in pool_plan.assumed:  # what `costguard budget plan` prints under its table
        console.print(f"  {POOL} price assumes: {line}")
    console.print(f"[bold]{t1:%H:%M}[/bold] ({quarters * 15 / 60:.2f} h later; missed runs are caught up from the "
                  f"ledger) the budget run:")
    second = handler.run(settings, t1, BudgetPorts.from_settings(settings))
    console.print(f"→ {POOL} limits now {_limits(sb, POOL)}")
    annotation = json.loads(sb.kube.store.get("karpenter.sh/v1", "NodePool", None, POOL)["metadata"]
                            .get("annotations", {}).get(BUDGET_STATUS, "{}"))
    console.print(f"{BUDGET_STATUS}: {json.dumps(annotation)}")
    _show_messages(sb.slack.messages[before:], console)

    table = Table(title="budget status (sandbox.budget_status.budget_statuses, for `costguard status`)")
    for column in ("nodepool", "spent", "budget", "remaining", "cpu limit", "last run"):
        table.add_column(column)
    for status in budget_statuses(settings, now=t1):
        if status.spent is None:
            console.print(status.line())
            continue
        table.add_row(status.pool, f"{status.spent:.2f}", f"{status.budget:.2f}", f"{status.remaining:.2f}",
                      "-" if status.limit is None else f"{status.limit:g}", status.last_run)
    console.print(table)

    chart = write_burn_chart([simulate(s) for s in scenarios(30)], output_dir / "budget-month.png")
    console.print(f"simulated month, burn against budget: {chart}")
    week = simulate_bill(bill_scenarios(7)[0])
    console.print(f"simulated week against a simulated bill ({week.scenario.name}): billed {week.ratio * 100:.1f} % "
                  f"of budget, meter {week.error_percent:+.2f} % off the bill, {week.spot_share * 100:.0f} % spot, "
                  f"{week.arm64_share * 100:.0f} % arm64 node-hours")
    return {"first": first, "second": second, "chart": str(chart), "functions": functions,
            "assumed": list(pool_plan.assumed), "bill_week": week}
