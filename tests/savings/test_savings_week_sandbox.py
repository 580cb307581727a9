"""Done when: after a simulated week in the sandbox, `costguard savings --period week` matches a hand computation
from the seeded functions' requests and the price table to the cent, and a rerun of any night changes nothing.

The week: Mon 30 Nov – Sun 6 Dec 2026 (London on GMT, so its 19:00 is 19:00 UTC), functions up Mon-Fri 07:00-19:00,
both NodePools opted in; runs at 07:05, 19:05 and 23:30 on weekdays (Thursday's 23:30 is missed), noon on the
weekend, and one at 02:00 on Wednesday after OpenFaaS Standard woke `nodeinfo` from zero to 1 replica.
"""
import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from chalice_app.budget.aws_prices import ON_DEMAND_CACHE_HOURS, instance_catalog
from chalice_app.budget.ledger import Ledger
from chalice_app.cli import app as cli_app
from chalice_app.config import load_settings
from chalice_app.offhours import handler
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.kube.names import NODEPOOL_OPT_IN
from sandbox import Sandbox
from sandbox.objects import FUNCTION_NAMESPACE
from sandbox.seed import NAMED_FUNCTIONS

MONDAY = datetime(2026, 11, 30, tzinfo=timezone.utc)
UPTIME = "Mon-Fri 07:00-19:00 Europe/London"
ON_DEMAND_PER_VCPU, SPOT_PER_VCPU = 0.05, 0.02  # the price table: USD per vCPU-hour, every type and zone
FAMILIES = {"default": "c6i", "spot": "c6a"}  # 2 GiB per vCPU in every size of both families
R = 0.04048 / 0.004445  # the README's vCPU-to-GiB price ratio (AWS Fargate list prices)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def ticks() -> list[datetime]:
    times = []
    for day in range(5):
        times += [at(day, 7, 5), at(day, 19, 5)] + ([at(day, 23, 30)] if day != 3 else [])
    times += [at(2, 2, 0), at(5, 12), at(6, 12), at(7, 7, 5)]
    return sorted(times)


def seed_price_table(sb, now: datetime) -> None:
    session = sb.session()
    on_demand, spot = {}, {}
    for kind in instance_catalog(session, "us-east-1"):
        on_demand[kind.name] = kind.vcpus * ON_DEMAND_PER_VCPU
        for zone in ("us-east-1a", "us-east-1b", "us-east-1c"):
            spot[f"{kind.name}|{zone}"] = kind.vcpus * SPOT_PER_VCPU
    ledger = Ledger(sb.table_name, session)
    ledger.cache_prices("on-demand", "us-east-1", on_demand, now, ON_DEMAND_CACHE_HOURS * 20)
    ledger.cache_prices("spot", "us-east-1", spot, now, ON_DEMAND_CACHE_HOURS * 20)


def prepare(sb) -> None:
    store = sb.kube.store
    namespace = store.get("v1", "Namespace", None, FUNCTION_NAMESPACE)
    namespace["metadata"].setdefault("annotations", {})["costguard.openfaas.com/uptime"] = UPTIME
    store.put(namespace)
    for name, family in FAMILIES.items():
        pool = store.get("karpenter.sh/v1", "NodePool", None, name)
        pool["metadata"].setdefault("annotations", {}).update({NODEPOOL_OPT_IN: "true",
                                                                 "costguard.openfaas.com/uptime": UPTIME})
        pool["spec"]["template"]["spec"]["requirements"].append(
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": [family]})
        store.put(pool)


def run_week(sb, times, wake_nodeinfo_at=at(2, 2, 0)) -> list[tuple[datetime, dict[str, float]]]:
    """Each run, then what the controllers do; the nodes of each pool right after each parking run."""
    baselines = []
    for moment in times:
        if moment == wake_nodeinfo_at:
            sb.sim.scale_function("nodeinfo", 1)  # a request woke it (OpenFaaS Standard scales from zero)
            sb.sim.settle()
        handler.run(load_settings(), moment, OffhoursPorts.from_settings(load_settings()))
        sb.sim.settle()
        if moment.hour == 19:
            baselines.append((moment, pool_node_prices(sb)))
            sb.sim.consolidate()
    return baselines


def pool_node_prices(sb) -> dict[str, float]:
    prices: dict[str, float] = {}
    for node in sb.kube.store.list("v1", "Node"):
        labels = node["metadata"]["labels"]
        pool = labels.get("karpenter.sh/nodepool")
        if pool:
            rate = SPOT_PER_VCPU if labels.get("karpenter.sh/capacity-type") == "spot" else ON_DEMAND_PER_VCPU
            prices[pool] = prices.get(pool, 0.0) + int(node["status"]["capacity"]["cpu"]) * rate
    return prices


def hand_computed_week(times, baselines) -> tuple[float, float]:
    """Σ parked replica-hours × (cpu × $/vCPU-h + GiB × $/GiB-h) per function, and Σ removed node-hours × price."""
    week_end = MONDAY + timedelta(days=7)

    def hours(start: datetime, end: datetime) -> float:
        return max(0.0, (min(end, week_end) - start).total_seconds() / 3600)

    nights = [(at(day, 19, 5), at(day + 1, 7, 5)) for day in range(4)] + [(at(4, 19, 5), at(7, 7, 5))]
    parked = sum(hours(start, end) for start, end in nights)  # 4 × 12 h + Fri 19:05 → Sun 24:00
    woken = hours(at(2, 2, 0), at(2, 7, 5))  # nodeinfo at 1 of 2 replicas from the 02:00 run to the restore
    rates = {}
    for pool, price in (("default", ON_DEMAND_PER_VCPU), ("spot", SPOT_PER_VCPU)):
        per_gib = price / (R + 2)
        rates[pool] = (R * per_gib, per_gib)
    saved = 0.0
    for name, _image, profile, replicas, cpu_m, memory_mi in NAMED_FUNCTIONS:
        per_vcpu, per_gib = rates["spot" if profile == "spot" else "default"]
        hourly = cpu_m / 1000 * per_vcpu + memory_mi / 1024 * per_gib
        replica_hours = replicas * parked - (woken if name == "nodeinfo" else 0)
        saved += replica_hours * hourly
    nodes = 0.0
    for parked_at, prices in baselines:
        # booked from the first run that sees the nodes gone to the run that restores the pool
        seen = next(moment for moment in times if moment > parked_at)
        end = next(moment for moment in times if moment > parked_at and moment.hour == 7)
        nodes += sum(prices.values()) * hours(seen, end)
    return saved, nodes


@pytest.fixture(scope="module")
def week():
    with Sandbox(functions=4, nodes=3, now=MONDAY - timedelta(days=1)) as sb, sb.activate() as environment:
        seed_price_table(sb, MONDAY)
        prepare(sb)
        times = ticks()
        baselines = run_week(sb, times)
        yield sb, environment, times, baselines


def savings_json(environment, *extra) -> dict:
    result = CliRunner().invoke(cli_app, ["savings", "--period", "week", "--at", "2026-12-02T12:00:00Z", "--json",
                                          *extra], env=environment)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_week_matches_the_hand_computation_to_the_cent(week):
    sb, environment, times, baselines = week
    report = savings_json(environment)
    saved, nodes = hand_computed_week(times, baselines)
    assert saved > 1 and nodes > 1
    assert round(report["total"]["saved"], 2) == round(saved, 2)
    assert round(report["total"]["node_saved"], 2) == round(nodes, 2)
    assert report["total"]["woken_replica_hours"] == pytest.approx(5 + 5 / 60)  # Wed 02:00 → 07:05, 1 replica
    by_function = {row["key"]: row for row in report["rows"]}
    assert set(by_function) == {f"{FUNCTION_NAMESPACE}/{name}" for name, *_ in NAMED_FUNCTIONS}


def test_a_rerun_of_any_night_changes_nothing(week):
    sb, environment, times, _ = week
    before = savings_json(environment)
    tuesday_night = [moment for moment in times if at(1, 19) <= moment <= at(2, 7, 5)]
    run_week(sb, tuesday_night + [times[-1]])  # the night again, then the last run again (restores the cluster)
    assert savings_json(environment) == before


def test_by_nodepool_and_the_chart(week, tmp_path):
    _, environment, _, _ = week
    report = savings_json(environment, "--by", "nodepool", "--chart", str(tmp_path / "savings.png"))
    assert {row["key"] for row in report["rows"]} == {"default", "spot"}
    assert (tmp_path / "savings.png").stat().st_size > 10_000
