"""End to end on the sandbox: a function woken at night, pinned to a parked spot pool, gets a night allowance sized
from the instance catalog the budget uses (ec2:DescribeInstanceTypes, here moto's), and the run says what it sized
it from."""
import re
from datetime import datetime, timedelta, timezone

from chalice_app.config import settings
from chalice_app.offhours.handler import run
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.offhours.placement import cpu_millis
from sandbox import Sandbox

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)  # Tuesday, 19:05 in London (GMT)
NIGHT = datetime(2026, 11, 24, 23, 10, tzinfo=timezone.utc)
ENV = {"COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London", "COSTGUARD_OFFHOURS_NODEPOOLS": "default,spot",
       "COSTGUARD_OPENFAAS_EDITION": "standard"}


def tick(at: datetime) -> dict:
    return run(settings(), at, OffhoursPorts.from_settings(settings()))


def smallest_spot_types(sb, cpu_m: int, memory_mib: int) -> tuple[int, set[str]]:
    """Read from moto apart from costguard: the fewest vCPUs of a type the seeded spot pool allows (categories c, m,
    r; generation > 2; amd64; sold as spot) that holds the pod, and the types with that many."""
    pages = sb.session().client("ec2").get_paginator("describe_instance_types").paginate()
    allowed = []
    for item in (item for page in pages for item in page["InstanceTypes"]):
        match = re.match(r"^([a-z]+)(\d+)[a-z0-9-]*\.", item["InstanceType"])
        if (match and match[1] in ("c", "m", "r") and int(match[2]) > 2
                and "x86_64" in item["ProcessorInfo"]["SupportedArchitectures"]
                and "spot" in item.get("SupportedUsageClasses", [])
                and item["VCpuInfo"]["DefaultVCpus"] * 1000 >= cpu_m and item["MemoryInfo"]["SizeInMiB"] >= memory_mib):
            allowed.append((item["VCpuInfo"]["DefaultVCpus"], item["InstanceType"]))
    fewest = min(vcpus for vcpus, _ in allowed)
    return fewest, {name for vcpus, name in allowed if vcpus == fewest}


def test_a_night_allowance_is_sized_from_the_catalog_and_the_run_says_so():
    with Sandbox(functions=10, nodes=4, now=SEEDED_AT) as sb, sb.activate(**ENV):
        tick(EVENING)
        sb.sim.settle(EVENING)
        sb.sim.consolidate()
        tick(EVENING + timedelta(minutes=35))
        assert sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "spot")["spec"]["limits"] == {"cpu": "0"}
        sb.openfaas.invoke("sleep", NIGHT)  # the gateway scales it from zero; its pod needs the parked spot pool
        sb.sim.settle(NIGHT)
        summary = tick(NIGHT + timedelta(minutes=5))
        assert summary["nodepools"]["spot"] == "allow"
        [note] = [n for n in summary["notes"] if n.startswith("night allowance for NodePool spot sized from ")]
        chosen, vcpus = re.search(r"sized from (\S+) \((\d+) vCPU", note).groups()
        fewest, smallest = smallest_spot_types(sb, 500, 128)  # `sleep` requests 500m CPU, 128 Mi
        assert int(vcpus) == fewest and chosen in smallest
        assert "ec2:DescribeInstanceTypes" in note
        remaining = sum(cpu_millis(n["status"]["capacity"]["cpu"]) for n in sb.kube.store.list("v1", "Node")
                        if n["metadata"].get("labels", {}).get("karpenter.sh/nodepool") == "spot")
        limits = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "spot")["spec"]["limits"]
        assert limits == {"cpu": f"{remaining + fewest * 1000}m"}  # one node of that type beside the remaining ones
