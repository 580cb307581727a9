"""Off-hours at scale against the sandbox: seconds, Kubernetes requests and peak memory for one evening run
(every function scaled to zero), the idle tick after it, and one morning run (every function restored), at 1,000
and 10,000 functions; and, in the same run, a floor for the evening and morning runs.

    .venv/bin/python benchmarks/bench_offhours.py [--sizes 1000 10000] [--rounds 3] [--workers 8] [--plain-http]

The sandbox (fake API server, moto, Slack receiver) runs in this process; the app runs in one child process, one
warm Lambda container through the nights, as the 5-minute schedule keeps it, so its peak RSS (VmHWM) is the app's
alone, imports included; the RSS after the imports shows what the runs add.

The floor: right after costguard's run, a child process sends the same patches (same objects, same body shape and
size, same fieldManager, conditional on the current resourceVersion) with a bare urllib3 loop and the same number of
workers, against the same sandbox. `vs_floor` is costguard's wall time over the floor's (the whole handler run -
lists, the DynamoDB records, planning, and after the patches the Slack summary, the savings ledger, headroom and
the run log - against the patches alone); `reconcile_vs_floor` the same for the Reconciler's run alone (list to the
last patch and the NodePools). `cpu_ms_per_patch` is the child's process CPU over its patches (all of it);
`patching_cpu_ms_per_patch` only that of the patch phase (the records written before the patches, the patches).

What a warm container already holds is set up apart and timed on its own: the imports, the region's instance
catalog (the savings ledger caches it for 12 h; moto's DescribeInstanceTypes alone takes 5-15 s here) and what
`OffhoursPorts.from_settings` keeps for the container's life (the Kubernetes client with the endpoint
eks:DescribeCluster gave, the boto3 session and its DynamoDB client, the Slack secret Powertools caches), in
`import_seconds`, `catalog_seconds` and `warm_ports_seconds`; then the day's last uptime tick (18:55) runs untimed,
as the tick before 19:05 would (it fills the per-container price and rate caches, and books the day). Each timed run
builds its ports as a warm invocation does. Prices are put where a stage's runs cache them (moto has no Pricing API:
without them every run retried GetProducts against it and booked nothing). Prints figures; asserts
nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tempfile  # noqa: E402

from chalice_app.kube.auth import make_token  # noqa: E402
from chalice_app.kube.names import ORIGINAL_REPLICAS  # noqa: E402
from chalice_app.offhours.reconcile import WORKERS  # noqa: E402
from sandbox import CLUSTER_NAME, Sandbox  # noqa: E402
from sandbox.aws import APP_ACCESS_KEY, REGION  # noqa: E402
from sandbox.demo_budget import seed_prices  # noqa: E402
from sandbox.objects import FUNCTION_NAMESPACE  # noqa: E402

FUNCTION_DEPLOYMENTS = f"/namespaces/{FUNCTION_NAMESPACE}/deployments"  # the headroom's own list is "other"

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
ENV = {"COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London", "COSTGUARD_OFFHOURS_NODEPOOLS": "default",
       "COSTGUARD_OFFHOURS_MAX_CHANGES": "20000", "COSTGUARD_OPENFAAS_EDITION": "standard"}

# One child process is one warm Lambda container for the whole night, as the 5-minute schedule keeps it: first the
# imports, the instance catalog (the savings ledger caches it for 12 h; moto's DescribeInstanceTypes takes seconds)
# and what OffhoursPorts.from_settings keeps for the container's life (the Kubernetes client with the endpoint
# eks:DescribeCluster gave, the boto3 session, the Slack secret Powertools caches), each timed apart; then one line
# per tick on stdin ("<time> <workers> warm|timed"): the handler runs, and a timed tick answers its figures.
# `reconcile_seconds` is the Reconciler's run (list, records, plan, patches, pools) inside the handler's (which adds
# the run log, Slack, the savings ledger and headroom); `first_patch_seconds` is when the patches begin.
CHILD = """
import dataclasses, json, sys, time
started = time.perf_counter()
import boto3, kubernetes.client.api.custom_objects_api
from datetime import datetime
from chalice_app.budget.aws_prices import instance_catalog
from chalice_app.config import settings
from chalice_app.offhours import handler, reconcile
from chalice_app.offhours.ports import OffhoursPorts
imported = time.perf_counter() - started
started = time.perf_counter()
instance_catalog(boto3.session.Session(), settings().region)
catalog = time.perf_counter() - started
started = time.perf_counter()
OffhoursPorts.from_settings(settings())
warm_ports = time.perf_counter() - started
def status_mb(field):  # /proc, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1]) / 1024
phases = {}
def timed(name, method):
    def wrapper(*args, **kwargs):
        phases[name + "_at"], cpu = time.perf_counter(), time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            phases[name] = time.perf_counter() - phases[name + "_at"]
            phases[name + "_cpu"] = time.process_time() - cpu
    return wrapper
reconcile.Reconciler.run = timed("reconcile", reconcile.Reconciler.run)
reconcile.Reconciler._apply_functions = timed("patches", reconcile.Reconciler._apply_functions)
baseline = status_mb("VmRSS:")
print(json.dumps({"import_seconds": imported, "catalog_seconds": catalog, "warm_ports_seconds": warm_ports,
                  "rss_after_imports_mb": baseline}), flush=True)
for line in sys.stdin:
    at, workers, mode = line.split()
    phases.clear()
    cpu_before = time.process_time()
    config = dataclasses.replace(reconcile.OffhoursConfig.from_settings(settings()), workers=int(workers))
    started = time.perf_counter()
    summary = handler.run(settings(), datetime.fromisoformat(at), OffhoursPorts.from_settings(settings()),
                          config=config)
    seconds = time.perf_counter() - started
    if mode == "warm":
        print("{}", flush=True)
        continue
    print(json.dumps({"seconds": seconds, "cpu_seconds": time.process_time() - cpu_before,
                      "reconcile_seconds": phases["reconcile"],
                      "first_patch_seconds": phases.get("patches_at", started) - started,
                      "patches_cpu_seconds": phases.get("patches_cpu", 0.0),
                      "summary": summary, "peak_rss_mb": status_mb("VmHWM:")}), flush=True)
"""


# The floor, in a child too: the same PATCH requests through urllib3 alone, `workers` in flight. First (not timed)
# it undoes costguard's change, so that the timed patches make the same change costguard made (a patch that changes
# nothing would cost the API server less); each timed patch is conditional on the resourceVersion its undo returned.
FLOOR = """
import json, sys, time, urllib3
from concurrent.futures import ThreadPoolExecutor
spec = json.load(open(sys.argv[1]))
workers = spec["workers"]
pool = urllib3.PoolManager(maxsize=workers, ca_certs=spec["ca_file"])  # the sandbox API's own CA
headers = {"Authorization": "Bearer " + spec["token"], "Content-Type": "application/merge-patch+json",
           "Accept": "application/json"}
def undo(item):
    response = pool.request("PATCH", item[0], body=json.dumps(item[1]).encode(), headers=headers)
    return json.loads(response.data)["metadata"]["resourceVersion"]
with ThreadPoolExecutor(max_workers=workers) as executor:
    versions = list(executor.map(undo, spec["patches"]))
bodies = []
for (url, _, redo), version in zip(spec["patches"], versions):
    redo["metadata"]["resourceVersion"] = version
    bodies.append((url, json.dumps(redo).encode()))
def send(item):
    response = pool.request("PATCH", item[0], body=item[1], headers=headers)
    return response.status
cpu_before, started = time.process_time(), time.perf_counter()
with ThreadPoolExecutor(max_workers=workers) as executor:
    statuses = list(executor.map(send, bodies))
print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_before,
                  "failed": sum(1 for status in statuses if status >= 300)}))
"""


def floor_patches(sb, patched_paths: list[str]) -> list[tuple[str, dict, dict]]:
    """For each Deployment costguard just patched: (url, the patch undoing it, the patch redoing it) with the same
    shape and size as costguard's (fieldManager, annotation, replicas; the redo carries the resourceVersion)."""
    patches = []
    for path in patched_paths:
        name = path.rsplit("/", 1)[-1]
        obj = sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, name)
        now_annotation = (obj["metadata"].get("annotations") or {}).get(ORIGINAL_REPLICAS)
        now_replicas = obj["spec"].get("replicas", 1)
        if now_annotation is not None:  # parked by costguard: undo restores, redo parks again
            before = ({ORIGINAL_REPLICAS: None}, int(now_annotation))
        else:  # restored by costguard: undo parks, redo restores
            before = ({ORIGINAL_REPLICAS: str(now_replicas)}, 0)
        patches.append((f"{sb.kube.url}{path}?fieldManager=costguard",
                        {"metadata": {"annotations": before[0]}, "spec": {"replicas": before[1]}},
                        {"metadata": {"resourceVersion": "", "annotations": {ORIGINAL_REPLICAS: now_annotation}},
                         "spec": {"replicas": now_replicas}}))
    return patches


def floor_in_child(sb, patches: list[tuple[str, dict, dict]], workers: int) -> dict:
    token = make_token(CLUSTER_NAME, sb.aws.session(APP_ACCESS_KEY), REGION)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as spec:
        json.dump({"workers": workers, "token": token, "patches": patches, "ca_file": sb.kube.ca_file}, spec)
        spec.flush()
        result = subprocess.run([sys.executable, "-c", FLOOR, spec.name], cwd=ROOT, capture_output=True, text=True,
                                check=True, env={"PATH": "/usr/bin:/bin"})
    return json.loads(result.stdout.strip().splitlines()[-1])


class WarmContainer:
    """The CHILD process: `tick(at, workers)` runs one handler tick in it and answers its figures."""

    def __init__(self, environment: dict[str, str]):
        self._process = subprocess.Popen([sys.executable, "-c", CHILD], env=environment, cwd=ROOT, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.started = self._answer()

    def _answer(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the container exited ({self._process.wait()}); its stderr is above")
        return json.loads(line)

    def tick(self, at: datetime, workers: int, timed: bool = True) -> dict:
        self._process.stdin.write(f"{at.isoformat()} {workers} {'timed' if timed else 'warm'}\n")
        self._process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()


def measure(size: int, workers: int, rounds: int = 1, https: bool = True) -> list[dict]:
    rows = []
    nodes = max(6, size // 12)  # enough room for the seeded pods (about 1.5 per function)
    # Without the admission policies: their CEL runs in cel-python at ~0.1 s per patch (benchmarks/bench_admission.py),
    # the twin's cost, not kube-apiserver's; it would swamp both costguard's figures and the floor's.
    with Sandbox(functions=size, nodes=nodes, now=SEEDED_AT, ec2_instances=False, admission_policies=False,
                 kube_https=https) as sb:
        environment = {**sb.app_environment(**ENV), "POWERTOOLS_LOG_LEVEL": "WARNING",
                       "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
        # The child's Kubernetes requests only: each run starts from a clean request log.
        # evening: every function down; idle: the next tick, nothing to change (the usual case); morning: restore.
        # Rounds alternate costguard and the floor on the same sandbox, a week apart (same weekday, same rules).
        runs = [(label, at + timedelta(days=7 * week), week) for week in range(rounds)
                for label, at in (("evening", EVENING), ("idle", EVENING + timedelta(minutes=5)), ("morning", MORNING))]
        container = WarmContainer(environment)
        seed_prices(sb, EVENING)  # moto has no Pricing API: prices where a stage's runs cache them (sandbox.operator)
        container.tick(EVENING - timedelta(minutes=10), workers, timed=False)  # the last tick of the day, untimed
        for label, at, week in runs:
            seed_prices(sb, at)
            sb.kube.reset_requests()
            figures = {**container.started, **container.tick(at, workers)}
            requests = list(sb.kube.requests)
            kinds = Counter(r.method for r in requests)
            lists = sum(1 for r in requests if r.method == "GET" and r.path.endswith(FUNCTION_DEPLOYMENTS))
            summary = figures["summary"]
            pools_changed = sum(1 for kind in summary["nodepools"].values() if kind in ("limit", "restore", "release"))
            changes = (summary["scaled_down"] + summary["restored"] + summary["released"] + summary["reparked"]
                       + pools_changed)
            patched = [r.path for r in requests if r.method == "PATCH" and "/deployments/" in r.path]
            floor = {"seconds": 0.0, "cpu_seconds": 0.0}
            if label != "idle" and patched:
                floor = floor_in_child(sb, floor_patches(sb, patched), workers)
            rows.append({"functions": size, "run": label, "round": week + 1, "floor_failed": floor.get("failed", 0),
                         "seconds": round(figures["seconds"], 2),
                         "reconcile_seconds": round(figures["reconcile_seconds"], 2),
                         "first_patch_seconds": round(figures["first_patch_seconds"], 2),
                         "catalog_seconds": round(figures["catalog_seconds"], 2),
                         "floor_seconds": round(floor["seconds"], 2),
                         "vs_floor": round(figures["seconds"] / floor["seconds"], 2) if floor["seconds"] else "-",
                         "reconcile_vs_floor": round(figures["reconcile_seconds"] / floor["seconds"], 2)
                         if floor["seconds"] else "-",
                         "cpu_ms_per_patch": round(1000 * figures["cpu_seconds"] / len(patched), 3) if patched else "-",
                         "patching_cpu_ms_per_patch": round(1000 * figures["patches_cpu_seconds"] / len(patched), 3)
                         if patched else "-",
                         "floor_cpu_ms_per_patch": round(1000 * floor["cpu_seconds"] / len(patched), 3)
                         if patched else "-",
                         "requests": len(requests), "deployment_pages": lists, "patches": kinds.get("PATCH", 0),
                         "changes": changes, "other_gets": kinds.get("GET", 0) - lists,
                         "peak_rss_mb": round(figures["peak_rss_mb"], 1),
                         "client_cpu_seconds": round(figures["cpu_seconds"], 2),
                         "rss_after_imports_mb": round(figures["rss_after_imports_mb"], 1),
                         "import_seconds": round(figures["import_seconds"], 2),
                         "errors": len(summary["errors"])})
        container.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=1, help="evening/idle/morning cycles; medians printed after")
    parser.add_argument("--workers", type=int, default=WORKERS, help="patches in flight (default: the app's)")
    parser.add_argument("--plain-http", action="store_true",
                        help="serve the Kubernetes API without TLS (EKS never does): the client's CPU without TLS's")
    options = parser.parse_args()
    header = ("functions", "run", "round", "seconds", "reconcile_seconds", "first_patch_seconds", "floor_seconds",
              "vs_floor", "reconcile_vs_floor", "cpu_ms_per_patch", "patching_cpu_ms_per_patch",
              "floor_cpu_ms_per_patch",
              "catalog_seconds",
              "requests", "deployment_pages", "patches", "changes", "other_gets", "client_cpu_seconds",
              "import_seconds", "rss_after_imports_mb", "peak_rss_mb", "errors", "floor_failed")
    print(" | ".join(header))
    for size in options.sizes:
        rows = measure(size, options.workers, options.rounds, https=not options.plain_http)
        for row in rows:
            print(" | ".join(str(row[key]) for key in header), flush=True)
        for label in ("evening", "morning"):
            ratios = [row["vs_floor"] for row in rows if row["run"] == label and row["vs_floor"] != "-"]
            inner = [row["reconcile_vs_floor"] for row in rows if row["run"] == label and row["vs_floor"] != "-"]
            cpu = [row["cpu_ms_per_patch"] for row in rows if row["run"] == label and row["cpu_ms_per_patch"] != "-"]
            if ratios:
                print(f"median of {len(ratios)} round(s), {size} functions, {label}: vs_floor "
                      f"{statistics.median(ratios)} (reconcile alone {statistics.median(inner)}), "
                      f"client CPU/patch {statistics.median(cpu)} ms", flush=True)


if __name__ == "__main__":
    main()
