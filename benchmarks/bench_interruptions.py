"""Interruption throughput on the loopback sandbox, after Karpenter's interruption benchmark.

For 100, 1,000, 5,000 and 15,000 spot warnings against a cluster with as many nodes: the messages go through the
real handler path (the fake Kubernetes API as the interruptions Lambda's own identity, the Slack receiver's
webhook with its 1 message/s limit, the run log in moto) in Lambda-sized batches. Prints messages/s, the client's
CPU seconds (and per step), Kubernetes requests per message, Slack messages sent and peak RSS. Goals: ≥ 2,000 msg/s at 15,000 on 2 cores, ≤ 0.01
Kubernetes requests per message, ≤ 20 Slack messages for the 15,000 burst.

The twin (fake API server, moto, Slack receiver) runs in this process; costguard's batches run in a child process,
as in a Lambda container, so the twin's serving never shares the measured client's interpreter (CPU, GIL). The
child's imports and first clients are a cold start, paid once per container: timed apart, kept out of msg/s.

The peer, in the same run: right after costguard's run, the same child runs the same messages against the same
sandbox on `--peer` code (default: the `main` branch, exported with `git archive` into a temporary directory); the
ratios printed are this code's msg/s and client CPU over the peer's. `--peer none` skips it.

The idempotency table: moto's TransactWriteItems deep-copies the whole table for every item of a transaction,
so with thousands of records moto itself, not the app, would be measured. By default (`--ledger memory`) the
claims go to an in-memory table with the same semantics, and the DynamoDB requests the real ledger would make
are counted (100 claims per TransactWriteItems, 25 writes per BatchWriteItem); `--ledger moto` runs the real
ledger against moto (use it with small sizes).

The stage table's hit#/spot#/disrupted# records go, like the claims, to an in-memory stand-in by default that counts
the DynamoDB requests the real adapter would send (100 keys per BatchGetItem, 25 items per BatchWriteItem, one
UpdateItem per 50 counters); `--ledger moto` uses the real adapter too.

The extra nodes are written straight into the fake API's store (no moto EC2 instance behind them): correlation
only reads Nodes, NodeClaims and pods, and launching 15,000 moto instances would take minutes.

    .venv/bin/python benchmarks/bench_interruptions.py [--sizes 100,1000] [--batch 10000] [--ledger memory|moto]
        [--peer main|none|<git ref>] [--profile FILE]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:costguard-dev-interruptions"
POOLS = ("spot", "default")
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invoke payload limit: caps an SQS batch below 10,000 records
TYPES = ("m5.large", "c5.xlarge", "r6i.large", "m6i.xlarge")
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def synthetic_node(number: int, created: str) -> dict:
    zone, pool = ZONES[number % 3], POOLS[number % 2]
    name = f"ip-10-{100 + number // 65000}-{number // 250 % 250}-{number % 250}.ec2.internal"
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "creationTimestamp": created,
                         "labels": {"karpenter.sh/nodepool": pool, "karpenter.sh/capacity-type": "spot",
                                    "node.kubernetes.io/instance-type": TYPES[number % 4],
                                    "topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": name}},
            "spec": {"providerID": f"aws:///{zone}/i-b{number:016x}"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def synthetic_pod(number: int, node: str, created: str) -> dict:
    function = f"bench-{number % 40:02d}"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{function}-{number:06d}", "namespace": "openfaas-fn", "creationTimestamp": created,
                         "labels": {"faas_function": function},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": function,
                                              "uid": str(uuid.uuid4()), "controller": True}]},
            "spec": {"nodeName": node, "containers": [{"name": function, "image": "ghcr.io/openfaas/sleep"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


def spot_record(number: int) -> dict:
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "EC2 Spot Instance Interruption Warning",
             "source": "aws.ec2", "account": "123456789012", "time": datetime.now(timezone.utc).isoformat(),
             "region": "us-east-1", "resources": [], "detail": {"instance-id": f"i-b{number:016x}",
                                                                  "instance-action": "terminate"}}
    return {"messageId": str(uuid.uuid4()), "receiptHandle": "bench", "body": json.dumps(event),
            "eventSourceARN": QUEUE_ARN, "awsRegion": "us-east-1"}


def lambda_batches(records: list[dict], max_records: int, max_bytes: int = LAMBDA_PAYLOAD_BYTES):
    """Cut records the way Lambda's SQS poller does: at most `max_records`, and the invoke payload under 6 MB."""
    batch: list[dict] = []
    size = 0
    for record in records:
        record_size = len(json.dumps(record)) + 2
        if batch and (len(batch) == max_records or size + record_size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record_size
    if batch:
        yield batch


# --- the child: one Lambda container, on this code or the peer's --------------------------------------------------

def memory_stand_ins():
    """The ledger's and the hit records' batch interfaces on dicts, counting the DynamoDB requests the real ones send
    (defined here, in the child, against whichever code it runs)."""
    from chalice_app.interruptions import records as interruption_records
    from chalice_app.interruptions.ledger import TRANSACTION_ITEMS, WRITE_BATCH_ITEMS, Claim

    class MemoryLedger:
        def __init__(self):
            self.status: dict[str, str] = {}
            self.requests = 0

        def claim_all(self, notices):
            self.requests += math.ceil(len(notices) / TRANSACTION_ITEMS)
            claims = []
            for notice in notices:
                current = self.status.get(notice.event_id)
                claims.append(Claim.NEW if current is None else Claim.DONE if current == "COMPLETED" else Claim.BUSY)
                self.status.setdefault(notice.event_id, "INPROGRESS")
            return claims

        def done_all(self, notices):
            self.requests += math.ceil(len(notices) / WRITE_BATCH_ITEMS)
            self.status.update((notice.event_id, "COMPLETED") for notice in notices)

        def release_all(self, notices, reason):
            self.requests += math.ceil(len(notices) / WRITE_BATCH_ITEMS)
            for notice in notices:
                self.status.pop(notice.event_id, None)

    class MemoryRecords:
        def __init__(self, ledger: MemoryLedger):
            self.ledger = ledger  # one request counter for the whole table
            self.hits: dict[str, tuple] = {}

        def recall(self, instance_ids):
            self.ledger.requests += math.ceil(len(instance_ids) / interruption_records.GET_BATCH)
            return {i: interruption_records.remembered_facts(self.hits[i]) for i in instance_ids if i in self.hits}

        def remember(self, impacts):
            self.ledger.requests += math.ceil(len(impacts) / interruption_records.WRITE_BATCH)
            now = datetime.now(timezone.utc)
            # Items as the real adapter writes them (the peer's code may predate hit_items); parsed when recalled.
            many = getattr(interruption_records, "hit_items", None)
            items = many(impacts, now) if many else [interruption_records.hit_item(impact, now) for impact in impacts]
            for impact, item in zip(impacts, items):
                self.hits[impact.node.instance_id] = item

        def add_counts(self, key, counts, lifetime):
            self.ledger.requests += math.ceil(len(counts) / interruption_records.COUNTERS_PER_UPDATE)

    ledger = MemoryLedger()
    return ledger, MemoryRecords(ledger)


def status_mb(field: str) -> float:
    """/proc, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(field)).split()[1]) / 1024


def timed_phases() -> dict[str, float]:
    """Wrap the batch's steps (this code's names) so that each one's CPU seconds add up in the returned dict."""
    from chalice_app.interruptions import batch, handler, kube_cluster

    phases: dict[str, float] = {}

    def timed(owner, name: str, label: str) -> None:
        step = getattr(owner, name)

        def run(*args, **kwargs):
            started = time.process_time()
            try:
                return step(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.process_time() - started
        setattr(owner, name, run)

    for owner, name, label in ((batch, "decode_records", "decode"), (kube_cluster, "read_snapshot", "read cluster"),
                               (batch, "correlate", "correlate"), (batch, "plan_messages", "plan messages"),
                               (batch, "_deliver", "Slack"), (batch, "_after_alert", "after the alert"),
                               (handler, "record_run_quietly", "run log")):
        timed(owner, name, label)
    return phases


def timed_collections(phases: dict[str, float]) -> None:
    """The cyclic garbage collector's CPU seconds, apart (it runs inside whichever step allocates)."""
    import gc

    started = [0.0]

    def on_collection(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            phases["(garbage collection, in the steps above)"] = (
                phases.get("(garbage collection, in the steps above)", 0.0) + time.process_time() - started[0])

    gc.callbacks.append(on_collection)


def child(spec_file: str) -> None:
    """Run the batches of `spec_file` as one Lambda container would; print one JSON line of figures."""
    spec = json.loads(Path(spec_file).read_text())
    sys.path.insert(0, spec["code"])
    import logging
    started = time.perf_counter()
    from chalice_app import config
    from chalice_app.interruptions import handler
    from chalice_app.interruptions.ports import InterruptionPorts
    settings = config.settings()
    # The container's first boto3 clients; the Kubernetes client opens at the first batch's read, inside the timing.
    InterruptionPorts.from_settings(settings)
    from kubernetes import client as k8s
    k8s.CoreV1Api, k8s.CustomObjectsApi  # noqa: B018 - the client imports these lazily, on first attribute access
    cold_start = time.perf_counter() - started
    logging.getLogger("costguard").setLevel(logging.WARNING)
    # Lambda's poller cuts the batches (and decodes nothing): done before the clock starts.
    batches = list(lambda_batches(json.loads(Path(spec["records"]).read_text()), spec["batch"]))
    memory, table = memory_stand_ins()
    phases = timed_phases() if spec.get("phases") else None
    profiler = None
    if spec.get("profile"):
        import cProfile
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the load of other processes left out
        profiler.enable()
    if phases is not None:
        timed_collections(phases)
    cpu, started = time.process_time(), time.perf_counter()
    for records_of_batch in batches:
        ports = InterruptionPorts.from_settings(settings)
        if spec["ledger"] == "memory":
            ports.ledger, ports.records = memory, table
        handler.run({"Records": records_of_batch}, None, settings, ports)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    print(json.dumps({"phases": phases, "seconds": seconds, "cpu_seconds": cpu, "batches": len(batches),
                      "cold_start_seconds": cold_start,
                      "dynamodb_requests": memory.requests if spec["ledger"] == "memory" else None,
                      # every message settled (claimed, alerted, marked done) and every instance remembered once
                      "settled": sum(status == "COMPLETED" for status in memory.status.values())
                      if spec["ledger"] == "memory" else "-",
                      "remembered": len(table.hits) if spec["ledger"] == "memory" else "-",
                      "peak_rss_mb": status_mb("VmHWM:")}))


# --- the parent: the twin, and the children's figures --------------------------------------------------------------

def export_peer(ref: str, into: str) -> str:
    """`ref`'s tree (chalice_app only: the child needs nothing else) in a temporary directory; its short hash."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit, "chalice_app"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", into], input=archive.stdout, check=True)
    return commit


def run_child(sb, code: str, records_file: str, batch: int, ledger_kind: str, profile: str | None) -> dict:
    """One container's run of every message; its figures and what the twin saw of it."""
    from chalice_app import naming
    from sandbox.kubeapi.auth import lambda_access_key

    # As the interruptions Lambda's own role (its EKS access entry names user and group costguard:interruptions).
    identity = lambda_access_key("interruptions")
    environment = {**sb.app_environment(AWS_ACCESS_KEY_ID=identity), "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true",
                   "POWERTOOLS_METRICS_NAMESPACE": "costguard", "PATH": "/usr/bin:/bin"}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as spec:
        json.dump({"code": code, "records": records_file, "batch": batch, "ledger": ledger_kind,
                   "profile": profile, "phases": code == str(ROOT)}, spec)
        spec.flush()
        sb.kube.reset_requests()
        slack_before, rejections_before = len(sb.slack.messages), len(sb.slack.rejections)
        result = subprocess.run([sys.executable, __file__, "--child", spec.name], env=environment, cwd=code,
                                capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"the child on {code} failed:\n{result.stderr[-4000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["kube_requests"] = sum(1 for r in sb.kube.requests if r.user == naming.kubernetes_group("interruptions"))
    figures["slack_messages"] = len(sb.slack.messages) - slack_before
    figures["slack_rejections"] = len(sb.slack.rejections) - rejections_before
    return figures


def measure(size: int, batch: int, ledger_kind: str, peer_code: str | None, profile: str | None) -> dict:
    from sandbox import Sandbox

    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with Sandbox(functions=20, nodes=6) as sb, tempfile.NamedTemporaryFile("w", suffix=".json") as records_file:
        nodes = [synthetic_node(n, created) for n in range(size)]
        pods = [synthetic_pod(n, nodes[n * 10 % size]["metadata"]["name"], created) for n in range(max(1, size // 10))]
        sb.kube.store.put_many(nodes + pods)
        json.dump([spot_record(n) for n in range(size)], records_file)
        records_file.flush()
        ours = run_child(sb, str(ROOT), records_file.name, batch, ledger_kind, profile)
        # A new set of messages for the peer (new event ids), so its run is as fresh as ours.
        if peer_code is not None:
            records_file.seek(0)
            records_file.truncate()
            json.dump([spot_record(n) for n in range(size)], records_file)
            records_file.flush()
            ours["peer"] = run_child(sb, peer_code, records_file.name, batch, ledger_kind, None)
    return ours


def row(label: str, size: int, figures: dict) -> str:
    ddb = "-" if figures["dynamodb_requests"] is None else figures["dynamodb_requests"]
    return (f"{label:>6} {size:>9} {figures['batches']:>7} {figures['seconds']:>8.2f} {figures['cpu_seconds']:>8.2f} "
            f"{size / figures['seconds']:>8.0f} {figures['kube_requests']:>9} {figures['kube_requests'] / size:>8.4f} "
            f"{ddb:>8} {figures['slack_messages']:>6} {figures['slack_rejections']:>5} "
            f"{figures['cold_start_seconds']:>6.1f} {figures['peak_rss_mb']:>12.0f} {os.getloadavg()[0]:>6.1f} "
            f"{figures['settled']:>8} {figures['remembered']:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000,15000")
    parser.add_argument("--ledger", choices=("memory", "moto"), default="memory")
    parser.add_argument("--batch", type=int, default=10000,
                        help="most messages per Lambda batch (SQS allows 10,000 with a batching window)")
    parser.add_argument("--peer", default="main", help="git ref run as the peer in the same minutes, or 'none'")
    parser.add_argument("--profile", help="write a cProfile of this code's child (the batches only) to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as peer_dir:
        peer = None if args.peer == "none" else export_peer(args.peer, peer_dir)
        print(f"ledger: {args.ledger}, batches of at most {args.batch} messages / 6 MB, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f} (other processes share these cores); "
              + (f"peer: {args.peer} ({peer})" if peer else "peer: none"))
        print(f"{'code':>6} {'messages':>9} {'batches':>7} {'seconds':>8} {'cpu s':>8} {'msg/s':>8} {'kube req':>9} "
              f"{'req/msg':>8} {'ddb req':>8} {'slack':>6} {'429s':>5} {'cold s':>6} {'peak RSS MB':>12} {'load':>6} "
              f"{'settled':>8} {'remembered':>10}")
        for size in (int(value) for value in args.sizes.split(",")):
            figures = measure(size, args.batch, args.ledger, peer_dir if peer else None, args.profile)
            print(row("this", size, figures), flush=True)
            print(f"{'':>6} {size:>9} client CPU by step: " + ", ".join(
                f"{label} {seconds:.2f} s" for label, seconds in figures["phases"].items()), flush=True)
            if peer:
                print(row("peer", size, figures["peer"]), flush=True)
                print(f"{'':>6} {size:>9} against the peer: msg/s ×{figures['peer']['seconds'] / figures['seconds']:.2f}, "
                      f"client CPU ×{figures['cpu_seconds'] / figures['peer']['cpu_seconds']:.2f} "
                      f"({figures['cpu_seconds']:.2f} s against {figures['peer']['cpu_seconds']:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
