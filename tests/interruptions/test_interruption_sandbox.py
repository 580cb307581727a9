"""End to end on the loopback sandbox: events.put_events → rules → queue → handler → fake Kubernetes → Slack."""
import json
from datetime import datetime, timezone

import pytest

from chalice_app import naming
from chalice_app.interruptions import handler
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.sqs_batch import BatchItemsFailed
from sandbox.slack_receiver import DEFAULT_BOT_TOKEN
from chalice_app import config
from chalice_app.slack.bot import BotNotifier
from sandbox.kubeapi.faults import Fault

ACCOUNT = "123456789012"


class LambdaContext:
    function_name = "costguard-test-interruptions"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:costguard-test-interruptions"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis():
        return 60_000


@pytest.fixture(autouse=True)
def clean(sb):
    sb.slack.clear()
    sb.kube.faults.clear()
    yield


def _spot_node(sb):
    """A Karpenter spot node that runs function pods."""
    pods = sb.kube.store.list("v1", "Pod", "openfaas-fn")
    busy = {pod["spec"].get("nodeName") for pod in pods}
    for node in sb.kube.store.list("v1", "Node"):
        labels = node["metadata"]["labels"]
        if labels.get("karpenter.sh/capacity-type") == "spot" and node["metadata"]["name"] in busy:
            return node["metadata"]["name"], node["spec"]["providerID"].rsplit("/", 1)[-1]
    pytest.skip("the seeded cluster has no spot node with function pods")


def _entry(detail_type, detail, source="aws.ec2", resources=()):
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail),
            "Resources": list(resources), "Time": datetime.now(timezone.utc)}


def _drain_queue(sb):
    sqs = sb.session().client("sqs")
    url = sqs.get_queue_url(QueueName=naming.interruption_queue(sb.stage))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    records = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not batch:
            return records
        records += [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                     "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(batch)])


def test_put_events_reach_the_queue_and_the_handler_alerts_once(sb):
    node, instance = _spot_node(sb)
    events = sb.session().client("events")
    response = events.put_events(Entries=[
        _entry("EC2 Spot Instance Interruption Warning", {"instance-id": instance, "instance-action": "terminate"}),
        _entry("EC2 Instance State-change Notification", {"instance-id": instance, "state": "running"}),
        _entry("AWS Health Event", {"service": "RDS", "eventTypeCategory": "scheduledChange"}, source="aws.health"),
    ])
    assert response["FailedEntryCount"] == 0
    records = _drain_queue(sb)
    assert len(records) == 1  # the rules let only the spot warning through
    with sb.activate():
        assert handler.handle({"Records": records}, LambdaContext())["alerts_sent"] == 1
        handler.handle({"Records": records}, LambdaContext())  # SQS redelivers: no second alert
    (message,) = sb.slack.messages
    assert instance in message.text
    rendered = json.dumps(message.payload)
    assert node in rendered and "spot" in rendered
    assert sb.slack.rejections == []


def test_only_one_list_per_kind_for_a_batch(sb):
    before = len(sb.kube.requests)
    events = sb.session().client("events")
    entries = [_entry("EC2 Instance Rebalance Recommendation", {"instance-id": instance})
               for instance in sb.cluster.instance_ids]
    events.put_events(Entries=entries)
    records = _drain_queue(sb)
    with sb.activate():
        handler.handle({"Records": records}, LambdaContext())
    reads = [r for r in sb.kube.requests[before:] if r.method == "GET"]
    assert sorted(r.path for r in reads) == ["/api/v1/namespaces/openfaas-fn/pods", "/api/v1/nodes",
                                             "/apis/karpenter.sh/v1/nodeclaims"]
    assert all(r.user == "costguard" for r in reads)


def test_kubernetes_5xx_is_retried_and_slack_5xx_is_reported_as_failed_items(sb):
    _, instance = _spot_node(sb)
    sb.kube.faults.inject(Fault(status=503, retry_after=0, times=2, path_contains="/api/v1/nodes"))
    sb.session().client("events").put_events(Entries=[
        _entry("EC2 Capacity Reservation Instance Interruption Warning", {"instance-id": instance})])
    records = _drain_queue(sb)
    sb.slack.fail_next(times=10, status=500)
    with sb.activate(), pytest.raises(BatchItemsFailed) as failure:
        handler.handle({"Records": records}, LambdaContext())
    assert failure.value.failed == [records[0]["messageId"]]
    sb.slack.clear()
    with sb.activate():
        handler.handle({"Records": records}, LambdaContext())  # the redelivery alerts
    assert len(sb.slack.messages) == 1


def test_cordon_and_drain_evicts_function_pods(sb):
    node, instance = _spot_node(sb)
    sb.session().client("events").put_events(Entries=[
        _entry("EC2 Spot Instance Interruption Warning", {"instance-id": instance, "instance-action": "terminate"})])
    records = _drain_queue(sb)
    with sb.activate(COSTGUARD_INTERRUPTION_ACTIONS='{"spot": "cordon-and-drain"}'):
        handler.handle({"Records": records}, LambdaContext())
    assert sb.kube.store.get("v1", "Node", None, node)["spec"].get("unschedulable") is True
    evictions = [r for r in sb.kube.requests if r.path.endswith("/eviction")]
    assert evictions and all(r.status == 201 and r.user == "costguard" for r in evictions)
    left = [p for p in sb.kube.store.list("v1", "Pod", "openfaas-fn") if p["spec"].get("nodeName") == node
            and not p["metadata"].get("deletionTimestamp")]
    assert left == []
    assert f"cordon-and-drain, {len(evictions)} pods evicted" in json.dumps(sb.slack.messages[-1].payload)


def test_with_a_bot_token_later_events_for_an_instance_thread_under_the_first(sb):
    _, instance = _spot_node(sb)
    bot = BotNotifier(DEFAULT_BOT_TOKEN, "#alerts", base_url=sb.slack.api_base_url)
    events = sb.session().client("events")
    for detail_type, detail in (("EC2 Instance Rebalance Recommendation", {"instance-id": instance}),
                                ("EC2 Spot Instance Interruption Warning", {"instance-id": instance}),
                                ("EC2 Instance State-change Notification",
                                 {"instance-id": instance, "state": "terminated"})):
        events.put_events(Entries=[_entry(detail_type, detail)])
        with sb.activate():
            settings = config.settings()
            ports = InterruptionPorts.from_settings(settings, LambdaContext())
            ports.notifier = bot
            handler.run({"Records": _drain_queue(sb)}, LambdaContext(), settings, ports)
    first, warning, terminated = sb.slack.messages_for("#alerts")
    assert first.thread_ts is None and warning.thread_ts == first.ts and terminated.thread_ts == first.ts


def _warn_and_handle(sb, instance, **overrides):
    sb.session().client("events").put_events(Entries=[
        _entry("EC2 Spot Instance Interruption Warning", {"instance-id": instance, "instance-action": "terminate"})])
    with sb.activate(**overrides):
        handler.handle({"Records": _drain_queue(sb)}, LambdaContext())
    return json.dumps(sb.slack.messages[-1].payload)


def _uncordon(sb, node):
    stored = sb.kube.store.get("v1", "Node", None, node)
    stored["spec"].pop("unschedulable", None)
    sb.kube.store.put(stored)


def test_dry_run_changes_nothing_and_says_what_it_would_do(sb):
    node, instance = _spot_node(sb)
    _uncordon(sb, node)
    before = len(sb.kube.requests)
    shown = _warn_and_handle(sb, instance, COSTGUARD_DRY_RUN="true",
                             COSTGUARD_INTERRUPTION_ACTIONS='{"spot": "cordon-and-drain"}')
    writes = [r for r in sb.kube.requests[before:] if r.method != "GET"]
    assert writes == []
    assert "Actions (dry run)" in shown and "pods to evict" in shown
    assert not sb.kube.store.get("v1", "Node", None, node)["spec"].get("unschedulable")


def test_cordon_conflict_is_reread_and_pdb_refusals_are_reported_as_blocked(sb):
    node, instance = _spot_node(sb)
    _uncordon(sb, node)
    sb.kube.faults.inject(Fault(status=409, retry_after=None, times=1, method="PATCH", path_contains="/nodes/"))
    sb.kube.faults.inject(Fault(status=429, retry_after=0, times=100, method="POST", path_contains="/eviction",
                                message="Cannot evict pod as it would violate the pod's disruption budget."))
    shown = _warn_and_handle(sb, instance, COSTGUARD_INTERRUPTION_ACTIONS='{"spot": "cordon-and-drain"}')
    assert sb.kube.store.get("v1", "Node", None, node)["spec"].get("unschedulable") is True
    patches = [r for r in sb.kube.requests if r.method == "PATCH" and r.path.endswith(node)]
    assert [r.status for r in patches[-2:]] == [409, 200]
    assert "blocked by PodDisruptionBudget" in shown
