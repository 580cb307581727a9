"""Demo step: Karpenter consolidates an empty node (quiet: it lands in the digest), then AWS reclaims a spot node
running `sleep` replicas: the alert reaches Slack, then the follow-up names the same node once.

`run(sb, console)` is called inside `Sandbox(...)` and `sb.activate()`. Events take the real path: EventBridge
(`put_events`) → the stage's rules → the interruption queue → the Lambda handler → the Slack receiver.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from rich.console import Console
from rich.panel import Panel

from chalice_app import naming
from chalice_app.interruptions import handler
from chalice_app.interruptions.digest import karpenter_digest
from chalice_app.interruptions.records import InterruptionRecords
from chalice_app.table_keys import disrupted_key
from chalice_app.provisioning import ensure_stage
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.render import to_text
from sandbox import CLUSTER_NAME

FUNCTION = "sleep"


class DemoContext:
    """What Lambda passes the handler, for logs and the idempotency in-progress expiry."""
    function_name = "costguard-dev-interruptions"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:costguard-dev-interruptions"
    aws_request_id = "demo"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def spot_node_running(sb, function: str = FUNCTION) -> tuple[str, str]:
    """(node name, instance id) of the spot node with the most replicas of `function`."""
    counts: dict[str, int] = {}
    for pod in sb.kube.store.list("v1", "Pod", "openfaas-fn"):
        if pod["metadata"].get("labels", {}).get("faas_function") == function and pod["spec"].get("nodeName"):
            counts[pod["spec"]["nodeName"]] = counts.get(pod["spec"]["nodeName"], 0) + 1
    spot = [node for node in sb.kube.store.list("v1", "Node")
            if node["metadata"]["labels"].get("karpenter.sh/capacity-type") == "spot"]
    if not spot:
        raise RuntimeError("the sandbox cluster has no spot node")
    best = max(spot, key=lambda node: counts.get(node["metadata"]["name"], 0))
    provider_id = best["spec"]["providerID"]
    return best["metadata"]["name"], provider_id.rsplit("/", 1)[-1]


def put_event(sb, detail_type: str, detail: dict) -> None:
    events = sb.session().client("events")
    response = events.put_events(Entries=[{"Source": "aws.ec2", "DetailType": detail_type,
                                           "Detail": json.dumps(detail), "Time": datetime.now(timezone.utc)}])
    if response["FailedEntryCount"]:
        raise RuntimeError(f"put_events refused the event: {response['Entries']}")


def receive_batch(sb, stage: str) -> list[dict]:
    """What Lambda's SQS poller would hand the function: the queue's messages as event records."""
    sqs = sb.session().client("sqs")
    url = sqs.get_queue_url(QueueName=naming.interruption_queue(stage))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in messages]


def deliver(sb, console: Console, stage: str, title: str) -> None:
    seen = len(sb.slack.messages)
    records = receive_batch(sb, stage)
    result = handler.handle({"Records": records}, DemoContext()) if records else {"alerts_sent": 0}
    console.print(f"[dim]{len(records)} SQS message(s) → handler → {result['alerts_sent']} Slack message(s)[/dim]")
    for received in sb.slack.messages[seen:]:
        message = SlackMessage(text=received.text, blocks=received.payload.get("blocks", []))
        console.print(Panel(to_text(message), title=title, expand=False))


def leave_an_empty_node(sb, function: str = FUNCTION) -> str | None:
    """A burst of `function` makes Karpenter launch a node; when the burst ends the node is empty."""
    original = sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", function)["spec"]["replicas"]
    sb.sim.scale_function(function, original + 12)
    added = sb.sim.settle().nodes_added
    sb.sim.scale_function(function, original)
    sb.sim.settle()
    return added[0] if added else None


def consolidation(sb, console: Console, stage: str) -> None:
    node = leave_an_empty_node(sb)
    if node is None:
        console.print("[dim]no node to consolidate in this cluster[/dim]")
        return
    at = sb.sim.now() + timedelta(minutes=2)
    report = sb.sim.disrupt(at)
    console.print(f"Karpenter consolidates node [bold]{node}[/bold] ({report.disrupted.get(node, '?')}): taint, "
                  f"DisruptionReason, drain, then EC2 `shutting-down`")
    deliver(sb, console, stage, "Slack")
    sb.sim.disrupt(at + timedelta(seconds=40))
    console.print("… and `terminated` after Kubernetes let the node go: still Karpenter's, still no alert")
    deliver(sb, console, stage, "Slack")
    table = InterruptionRecords(naming.table(stage), sb.session().client("dynamodb"))
    key = disrupted_key(at.date())
    counts = table.counts([key]).get(key)
    message = karpenter_digest(counts, at.date(), CLUSTER_NAME) if counts else None
    if message is not None:
        console.print(Panel(to_text(message), title="the day's digest (costguard interruptions digest --send)",
                            expand=False))


def run(sb, console: Console) -> None:
    stage = sb.stage
    ensure_stage(sb.session(), stage, cluster_name=CLUSTER_NAME)
    consolidation(sb, console, stage)
    node, _ = spot_node_running(sb)
    at = sb.sim.now()
    instance = sb.sim.reclaim(node, at)
    console.print(f"Meanwhile AWS reclaims spot instance [bold]{instance}[/bold] (node {node}): a two-minute warning")
    deliver(sb, console, stage, "Slack: spot interruption warning")

    for later in (timedelta(minutes=2), timedelta(minutes=2, seconds=30), timedelta(minutes=4, seconds=30)):
        sb.sim.disrupt(at + later)  # shutting-down, terminated, then Karpenter's garbage collection of the node
    console.print(f"EC2 reports `shutting-down` and `terminated` for {instance}, and by the time they are read "
                  f"Karpenter has garbage-collected {node}: costguard remembers it, one follow-up, one node")
    deliver(sb, console, stage, "Slack: follow-up")
