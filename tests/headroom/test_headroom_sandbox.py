"""Warm headroom end to end on the sandbox, as the app's identity: the off-hours Lambda's run makes the placeholders
in the morning, a burst preempts them and lands on their warm node, and at night they go to zero."""
from datetime import datetime, time, timezone

import pytest
from rich.console import Console
from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from sandbox import Sandbox, demo_headroom
from sandbox.demo_headroom import LONDON

MORNING = datetime(2026, 12, 7, 7, 10, tzinfo=LONDON)  # a Monday


@pytest.fixture(scope="module")
def story():
    with Sandbox(functions=6, nodes=3) as sb, sb.activate() as environment:
        shown = demo_headroom.run(sb, Console(file=open("/dev/null", "w")), at=MORNING)
        yield sb, environment, shown


def test_the_morning_run_makes_placeholders_and_the_burst_lands_on_their_warm_node(story):
    _, _, shown = story
    assert shown["morning"]["applied"] == ["spot: create to 2"]
    assert shown["warm_nodes"] and shown["new"] == 4
    assert shown["on_warm"] == 4  # every new `sleep` pod bound to a node that was already there


def test_at_night_the_placeholders_are_at_zero(story):
    _, _, shown = story
    assert shown["night_pods"] == 0


def test_the_cli_explains_the_pool_and_rejects_one_without_headroom(story):
    _, environment, _ = story
    runner = CliRunner()
    noon = datetime.combine(MORNING.date(), time(12, 0), tzinfo=LONDON).astimezone(timezone.utc).isoformat()
    result = runner.invoke(cli_app, ["headroom", "explain", "spot", "--at", noon], env=environment)
    assert result.exit_code == 0, result.output
    assert "annotation costguard.openfaas.com/headroom" in result.output and "2 vCPU" in result.output
    result = runner.invoke(cli_app, ["headroom", "plan", "--at", noon], env=environment)
    assert result.exit_code == 0 and "spot" in result.output and "scale" in result.output  # 0 now → 2 at noon
    result = runner.invoke(cli_app, ["headroom", "explain", "default"], env=environment)
    assert result.exit_code == 2 and "asks for no headroom" in result.output


def test_admission_lets_the_app_make_only_pause_placeholders_there(story):
    from kubernetes.client.exceptions import ApiException

    from chalice_app.headroom.planner import deployment
    from chalice_app.kube.rest import call, resource_path

    sb, _, _ = story
    nodepool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default")
    body = deployment("default", nodepool, 1, 1000, 0)
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/openfaas/sleep:latest"
    path = resource_path("deployments", ("apps", "v1"), "costguard-headroom")
    try:
        call(sb.app_kube_client(), "POST", path, body=body, content_type="application/json")
        raise AssertionError("a non-pause placeholder was admitted")
    except ApiException as error:
        assert error.status == 403 and "only pause containers" in error.body
