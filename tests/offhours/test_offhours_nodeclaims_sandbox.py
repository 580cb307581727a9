"""End to end on the sandbox: a parked NodePool with `consolidateAfter: Never` keeps its emptied nodes; with
COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS the off-hours run (as the app's identity) deletes their NodeClaims,
Karpenter's twin drains and terminates the instances, the interruptions Lambda raises no alert for them, and the
night's Slack note says so. A node kept by a do-not-disrupt pod is never touched."""
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from chalice_app.cli import app as costguard_cli
from chalice_app.config import settings
from chalice_app.interruptions import handler as interruptions
from chalice_app.offhours.handler import run
from chalice_app.offhours.ports import OffhoursPorts
from sandbox import CLUSTER_NAME, Sandbox
from tests.interruptions.test_interruption_sandbox import LambdaContext, _drain_queue

SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)  # Tuesday, 19:05 in London (GMT)
ENV = {"COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London", "COSTGUARD_OFFHOURS_NODEPOOLS": "default",
       "COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS": "5"}


@pytest.fixture
def sb():
    from chalice_app.provisioning import ensure_stage

    with Sandbox(functions=12, nodes=4, now=SEEDED_AT) as running:
        ensure_stage(running.session(), running.stage, cluster_name=CLUSTER_NAME)
        yield running


def default_nodes(sb) -> list[str]:
    return sorted(n["metadata"]["name"] for n in sb.kube.store.list("v1", "Node")
                  if n["metadata"].get("labels", {}).get("karpenter.sh/nodepool") == "default")


def tick(at: datetime) -> dict:
    return run(settings(), at, OffhoursPorts.from_settings(settings()))


def test_empty_nodeclaims_of_a_parked_pool_that_never_consolidates_are_deleted_and_terminate_quietly(sb):
    pool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default")
    pool["spec"]["disruption"]["consolidateAfter"] = "Never"
    sb.kube.store.put(pool)
    nodes = default_nodes(sb)
    assert len(nodes) >= 2, "the seeded default pool needs two nodes for this test"
    kept = nodes[0]
    sb.sim.place_pod(kept, "backup", namespace="kube-system", do_not_disrupt=True)
    _drain_queue(sb)
    with sb.activate(**ENV) as environment:
        evening = tick(EVENING)
        assert evening["nodepools"] == {"default": "limit"} and evening["nodeclaims_deleted"] == []
        sb.sim.settle(EVENING)  # the functions' pods are gone
        consolidated = sb.sim.disrupt(EVENING + timedelta(minutes=20)).disrupted  # spot's may go, not these:
        assert not set(consolidated) & set(nodes)  # consolidateAfter: Never
        sent = len(sb.slack.messages)
        later = tick(EVENING + timedelta(minutes=35))
        status = CliRunner().invoke(costguard_cli, ["status"], env=environment)
    assert status.exit_code == 0, status.output
    assert "empty NodeClaims the last off-hours run deleted" in status.output
    assert all(line.split(" ", 2)[1] in status.output for line in later["nodeclaims_deleted"])  # NodeClaim names
    deleted = {line.split(" (node ", 1)[1].split(",", 1)[0] for line in later["nodeclaims_deleted"]}
    assert deleted == set(nodes[1:])  # every empty one, never the do-not-disrupt one
    assert [line for line in later["nodes_staying"] if line.startswith(kept)]
    assert not [line for line in later["nodes_staying"] if line.split(" ", 1)[0] in deleted]
    claims = {c["status"]["nodeName"]: c for c in sb.kube.store.list("karpenter.sh/v1", "NodeClaim")}
    assert all(claims[name]["metadata"].get("deletionTimestamp") for name in deleted)
    assert not claims[kept]["metadata"].get("deletionTimestamp")
    note = [m.text for m in sb.slack.messages[sent:] if "node(s) of parked NodePools" in m.text]
    assert note and any("Empty NodeClaims deleted" in str(m.payload.get("blocks")) for m in sb.slack.messages[sent:])

    # Karpenter's termination: the Node is deleted, drained, the instance terminated (EC2 state changes); the
    # interruptions Lambda reads the queue while the Node is still there (shutting-down), then after it is gone
    at = EVENING + timedelta(minutes=36)
    assert len(sb.sim.disrupt(at).shutting_down) == len(deleted)
    assert quiet(sb)
    second = sb.sim.disrupt(at + timedelta(minutes=1))
    assert len(second.terminated) == len(deleted) and default_nodes(sb) == [kept]
    assert quiet(sb)
    assert not [m for m in sb.slack.messages if "interrupt" in m.text.lower()]


def quiet(sb) -> bool:
    """The interruption queue's notices (there are some) handled as Lambda would, without an alert."""
    records = _drain_queue(sb)
    with sb.activate(**ENV):
        result = interruptions.handle({"Records": records}, LambdaContext())
    return bool(records) and result["alerts_sent"] == 0
