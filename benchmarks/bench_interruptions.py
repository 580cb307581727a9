"""Interruption throughput on the loopback sandbox, after Karpenter's interruption benchmark.

For 100, 1,000, 5,000 and 15,000 spot warnings against a cluster with as many nodes: the messages go through the
real handler path (Powertools idempotency on moto DynamoDB, the fake Kubernetes API as the app's identity, the
Slack receiver's webhook with its 1 message/s limit) in Lambda-sized batches. Prints messages/s, Kubernetes
requests per message, Slack messages sent and peak RSS. Goals: ≥ 2,000 msg/s at 15,000 on 2 cores,
≤ 0.01 Kubernetes requests per message, ≤ 20 Slack messages for the 15,000 burst.

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
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalice_app import config  # noqa: E402
from chalice_app.interruptions import handler  # noqa: E402
from chalice_app.interruptions.ports import InterruptionPorts  # noqa: E402
from chalice_app.interruptions import records as interruption_records  # noqa: E402
from chalice_app.interruptions.ledger import TRANSACTION_ITEMS, WRITE_BATCH_ITEMS, Claim  # noqa: E402
from sandbox import Sandbox  # noqa: E402

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


class MemoryLedger:
    """The ledger's batch interface on a dict, counting the DynamoDB requests the real one would send."""

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
    """InterruptionRecords' recall / remember / add_counts on dicts, counting the requests the real one sends."""

    def __init__(self, ledger: MemoryLedger):
        self.ledger = ledger  # one request counter for the whole table
        self.hits: dict[str, tuple] = {}

    def recall(self, instance_ids):
        self.ledger.requests += math.ceil(len(instance_ids) / interruption_records.GET_BATCH)
        return {i: interruption_records.remembered_facts(self.hits[i]) for i in instance_ids if i in self.hits}

    def remember(self, impacts):
        self.ledger.requests += math.ceil(len(impacts) / interruption_records.WRITE_BATCH)
        now = datetime.now(timezone.utc)
        for impact in impacts:  # items as the real adapter writes them; read back (parsed) only when recalled
            self.hits[impact.node.instance_id] = interruption_records.hit_item(impact, now)

    def add_counts(self, key, counts, lifetime):
        self.ledger.requests += math.ceil(len(counts) / interruption_records.COUNTERS_PER_UPDATE)


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


def warm_up() -> float:
    """Seconds spent on a Lambda container's one-off imports (the kubernetes client's API classes, boto3 models):
    a cold start, paid once per container, not per message, so it is printed apart and kept out of msg/s."""
    started = time.perf_counter()
    import boto3
    from kubernetes import client as k8s
    k8s.CoreV1Api, k8s.CustomObjectsApi  # noqa: B018 - the client imports these lazily, on first attribute access
    boto3.session.Session(region_name="us-east-1").resource("dynamodb", endpoint_url="http://127.0.0.1:9")
    return time.perf_counter() - started


def run(size: int, batch: int, ledger_kind: str = "memory") -> dict:
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with Sandbox(functions=20, nodes=6) as sb, sb.activate():
        nodes = [synthetic_node(n, created) for n in range(size)]
        pods = [synthetic_pod(n, nodes[n * 10 % size]["metadata"]["name"], created) for n in range(max(1, size // 10))]
        sb.kube.store.put_many(nodes + pods)
        records = [spot_record(n) for n in range(size)]
        settings = config.settings()
        memory = MemoryLedger()
        table = MemoryRecords(memory)
        before = len(sb.kube.requests)
        started = time.perf_counter()
        batches = 0
        for records_of_batch in lambda_batches(records, batch):
            batches += 1
            ports = InterruptionPorts.from_settings(settings)
            if ledger_kind == "memory":
                ports.ledger, ports.records = memory, table
            handler.run({"Records": records_of_batch}, None, settings, ports)
        elapsed = time.perf_counter() - started
        kube = [r for r in sb.kube.requests[before:] if r.user == "costguard"]
        return {"messages": size, "batches": batches, "seconds": elapsed, "messages_per_s": size / elapsed,
                "kube_requests": len(kube), "kube_per_message": len(kube) / size,
                "dynamodb_requests": memory.requests if ledger_kind == "memory" else None,
                "slack_messages": len(sb.slack.messages), "slack_rejections": len(sb.slack.rejections),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000,15000")
    parser.add_argument("--ledger", choices=("memory", "moto"), default="memory")
    parser.add_argument("--batch", type=int, default=10000,
                        help="most messages per Lambda batch (SQS allows 10,000 with a batching window)")
    args = parser.parse_args()
    import logging
    logging.getLogger("costguard").setLevel(logging.WARNING)
    print(f"ledger: {args.ledger}, batches of at most {args.batch} messages / 6 MB, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} (other processes share these cores)")
    print(f"cold-start imports (once per container, not in msg/s): {warm_up():.1f} s")
    print(f"{'messages':>9} {'batches':>7} {'seconds':>8} {'msg/s':>8} {'kube req':>9} {'req/msg':>8} {'ddb req':>8} {'slack':>6} "
          f"{'429s':>5} {'peak RSS MB':>12} {'load':>6}")
    for size in (int(value) for value in args.sizes.split(",")):
        figures = run(size, args.batch, args.ledger)
        ddb = "-" if figures["dynamodb_requests"] is None else figures["dynamodb_requests"]
        print(f"{figures['messages']:>9} {figures['batches']:>7} {figures['seconds']:>8.2f} {figures['messages_per_s']:>8.0f} "
              f"{figures['kube_requests']:>9} {figures['kube_per_message']:>8.4f} {ddb:>8} {figures['slack_messages']:>6} "
              f"{figures['slack_rejections']:>5} {figures['peak_rss_mb']:>12.0f} {os.getloadavg()[0]:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
