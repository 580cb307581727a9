"""Off-hours at scale against the sandbox: seconds, Kubernetes requests and peak memory for one evening run
(every function scaled to zero), the idle tick after it, and one morning run (every function restored), at 1,000
and 10,000 functions; and, in the same run, a floor for the evening and morning runs.

    .venv/bin/python benchmarks/bench_offhours.py [--sizes 1000 10000] [--workers 8]

The sandbox (fake API server, moto, Slack receiver) runs in this process; each reconcile runs in a child process,
as the Lambda would, so its peak RSS (VmHWM) is the reconcile's alone, imports included; the RSS after the
imports shows what the run itself adds.

The floor: right after costguard's run, a child process sends the same patches (same objects, same body shape and
size, same fieldManager, conditional on the current resourceVersion) with a bare urllib3 loop and the same number of
workers, against the same sandbox. `vs_floor` is costguard's wall time over the floor's (whole run - lists, the
DynamoDB records, planning - against the patches alone); `cpu_ms_per_patch` is the child's process CPU over its
patches. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
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
from sandbox.objects import FUNCTION_NAMESPACE  # noqa: E402

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
ENV = {"COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London", "COSTGUARD_OFFHOURS_NODEPOOLS": "default",
       "COSTGUARD_OFFHOURS_MAX_CHANGES": "20000", "COSTGUARD_OPENFAAS_EDITION": "standard"}

# Runs in the child: imports (timed apart: a warm Lambda has them), then one reconcile, timed, and its memory.
CHILD = """
import dataclasses, json, sys, time
started = time.perf_counter()
import kubernetes.client.api.custom_objects_api
from datetime import datetime
from chalice_app.config import settings
from chalice_app.offhours import handler, reconcile
imported = time.perf_counter() - started
def status_mb(field):  # /proc, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1]) / 1024
baseline = status_mb("VmRSS:")
cpu_before = time.process_time()
config = dataclasses.replace(reconcile.OffhoursConfig.from_settings(settings()), workers=int(sys.argv[2]))
started = time.perf_counter()
summary = handler.run(settings(), datetime.fromisoformat(sys.argv[1]), config=config)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "cpu_seconds": time.process_time() - cpu_before, "import_seconds": imported,
                  "summary": summary, "rss_after_imports_mb": baseline,
                  "peak_rss_mb": status_mb("VmHWM:")}))
"""


# The floor, in a child too: the same PATCH requests through urllib3 alone, `workers` in flight.
FLOOR = """
import json, sys, time, urllib3
from concurrent.futures import ThreadPoolExecutor
spec = json.load(open(sys.argv[1]))
workers = spec["workers"]
pool = urllib3.PoolManager(maxsize=workers, ca_certs=spec["ca_file"])  # the sandbox API's own CA
headers = {"Authorization": "Bearer " + spec["token"], "Content-Type": "application/merge-patch+json",
           "Accept": "application/json"}
bodies = [(url, json.dumps(body).encode()) for url, body in spec["patches"]]
def send(item):
    response = pool.request("PATCH", item[0], body=item[1], headers=headers)
    return response.status
cpu_before, started = time.process_time(), time.perf_counter()
with ThreadPoolExecutor(max_workers=workers) as executor:
    statuses = list(executor.map(send, bodies))
print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_before,
                  "failed": sum(1 for status in statuses if status >= 300)}))
"""


def floor_patches(sb, patched_paths: list[str], label: str) -> list[tuple[str, dict]]:
    """The patches costguard just sent, rebuilt from the objects as they are now (same shape, same size)."""
    patches = []
    for path in patched_paths:
        name = path.rsplit("/", 1)[-1]
        obj = sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, name)
        annotation = (obj["metadata"].get("annotations") or {}).get(ORIGINAL_REPLICAS) if label == "evening" else None
        patches.append((f"{sb.kube.url}{path}?fieldManager=costguard",
                        {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"],
                                      "annotations": {ORIGINAL_REPLICAS: annotation}},
                         "spec": {"replicas": obj["spec"].get("replicas", 1)}}))
    return patches


def floor_in_child(sb, patches: list[tuple[str, dict]], workers: int) -> dict:
    token = make_token(CLUSTER_NAME, sb.aws.session(APP_ACCESS_KEY), REGION)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as spec:
        json.dump({"workers": workers, "token": token, "patches": patches, "ca_file": sb.kube.ca_file}, spec)
        spec.flush()
        result = subprocess.run([sys.executable, "-c", FLOOR, spec.name], cwd=ROOT, capture_output=True, text=True,
                                check=True, env={"PATH": "/usr/bin:/bin"})
    return json.loads(result.stdout.strip().splitlines()[-1])


def reconcile_in_child(environment: dict[str, str], at: datetime, workers: int) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, at.isoformat(), str(workers)], env=environment, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(size: int, workers: int) -> list[dict]:
    rows = []
    nodes = max(6, size // 12)  # enough room for the seeded pods (about 1.5 per function)
    # Without the admission policies: their CEL runs in cel-python at ~0.1 s per patch (benchmarks/bench_admission.py),
    # the twin's cost, not kube-apiserver's; it would swamp both costguard's figures and the floor's.
    with Sandbox(functions=size, nodes=nodes, now=SEEDED_AT, ec2_instances=False, admission_policies=False) as sb:
        environment = {**sb.app_environment(**ENV), "POWERTOOLS_LOG_LEVEL": "WARNING",
                       "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
        # The child's Kubernetes requests only: each run starts from a clean request log.
        # evening: every function down; idle: the next tick, nothing to change (the usual case); morning: restore.
        for label, at in (("evening", EVENING), ("idle", EVENING + timedelta(minutes=5)), ("morning", MORNING)):
            sb.kube.reset_requests()
            figures = reconcile_in_child(environment, at, workers)
            requests = list(sb.kube.requests)
            kinds = Counter(r.method for r in requests)
            lists = sum(1 for r in requests if r.method == "GET" and r.path.endswith("/deployments"))
            summary = figures["summary"]
            pools_changed = sum(1 for kind in summary["nodepools"].values() if kind in ("limit", "restore", "release"))
            changes = (summary["scaled_down"] + summary["restored"] + summary["released"] + summary["reparked"]
                       + pools_changed)
            patched = [r.path for r in requests if r.method == "PATCH" and "/deployments/" in r.path]
            floor = {"seconds": 0.0, "cpu_seconds": 0.0}
            if label != "idle" and patched:
                floor = floor_in_child(sb, floor_patches(sb, patched, label), workers)
            rows.append({"functions": size, "run": label, "seconds": round(figures["seconds"], 2),
                         "floor_seconds": round(floor["seconds"], 2),
                         "vs_floor": round(figures["seconds"] / floor["seconds"], 2) if floor["seconds"] else "-",
                         "cpu_ms_per_patch": round(1000 * figures["cpu_seconds"] / len(patched), 3) if patched else "-",
                         "floor_cpu_ms_per_patch": round(1000 * floor["cpu_seconds"] / len(patched), 3)
                         if patched else "-",
                         "requests": len(requests), "deployment_pages": lists, "patches": kinds.get("PATCH", 0),
                         "changes": changes, "other_gets": kinds.get("GET", 0) - lists,
                         "peak_rss_mb": round(figures["peak_rss_mb"], 1),
                         "client_cpu_seconds": round(figures["cpu_seconds"], 2),
                         "rss_after_imports_mb": round(figures["rss_after_imports_mb"], 1),
                         "import_seconds": round(figures["import_seconds"], 2),
                         "errors": len(summary["errors"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=WORKERS, help="patches in flight (default: the app's)")
    options = parser.parse_args()
    header = ("functions", "run", "seconds", "floor_seconds", "vs_floor", "cpu_ms_per_patch", "floor_cpu_ms_per_patch",
              "requests", "deployment_pages", "patches", "changes", "other_gets", "client_cpu_seconds",
              "import_seconds", "rss_after_imports_mb", "peak_rss_mb", "errors")
    print(" | ".join(header))
    for size in options.sizes:
        for row in measure(size, options.workers):
            print(" | ".join(str(row[key]) for key in header), flush=True)


if __name__ == "__main__":
    main()
