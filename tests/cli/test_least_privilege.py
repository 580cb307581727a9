"""The ClusterRole in policies/ is enough and no more: every feature and command runs as the app's identity on
the sandbox (whose API server enforces the role), and every permission the role grants is used by one of them."""
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from sandbox import Sandbox, demo_budget, demo_headroom, demo_interruptions, demo_offhours, demo_slack_actions
from sandbox.slack_user import serve_slack_actions
from sandbox.kubeapi import Fault
from sandbox.kubeapi.routing import request_attributes

RBAC = Path(__file__).resolve().parents[2] / "policies" / "kubernetes-rbac.yaml"
APP_USER = "costguard"


def granted() -> set[tuple[str, str, str]]:
    """(verb, apiGroup, resource[/subresource]) for every rule of the ClusterRole and of every Role."""
    roles = [doc for doc in yaml.safe_load_all(RBAC.read_text()) if doc["kind"] in ("ClusterRole", "Role")]
    return {(verb, group, resource) for role in roles for rule in role["rules"] for verb in rule["verbs"]
            for group in rule["apiGroups"] for resource in rule["resources"]}


def used(requests) -> set[tuple[str, str, str]]:
    seen = set()
    for request in requests:
        attributes = request_attributes(request.method, request.path, request.query)
        if request.user != APP_USER or attributes is None:
            continue
        resource = attributes.resource + (f"/{attributes.subresource}" if attributes.subresource else "")
        seen.add((attributes.verb, attributes.group, resource))
    return seen


@pytest.fixture(scope="module")
def everything_as_the_app(tmp_path_factory):
    console = Console(file=open("/dev/null", "w"))
    output = tmp_path_factory.mktemp("demo-output")
    # cordon-and-drain on spot, so the interruption path exercises cordon and eviction too
    with Sandbox(functions=20, nodes=6) as sb, \
            sb.activate(COSTGUARD_INTERRUPTION_ACTIONS='{"spot": "cordon-and-drain"}') as environment:
        sb.sim.scale_function("sleep", 5)
        sb.sim.settle()
        # one conflict on a node write, so cordon's re-read (get nodes) runs as it would in a busy cluster
        sb.kube.faults.inject(Fault(status=409, times=1, method="PATCH", path_contains="/api/v1/nodes/"))
        demo_interruptions.run(sb, console)
        demo_budget.run(sb, console, output)
        demo_slack_actions.prepare(sb)
        demo_offhours.evening(sb, console)
        demo_slack_actions.run(sb, console)  # the Slack route as the app: read and annotate a function
        demo_offhours.morning(sb, console)
        with serve_slack_actions(sb) as slack:  # and annotate a namespace
            heads_up = next(m for m in reversed(sb.slack.messages) if "park at" in m.text)
            assert slack.click(heads_up, "Keep openfaas-fn up tonight")[0] == 200
        demo_headroom.run(sb, console)  # placeholders made by the off-hours run, scaled to zero at night
        runner = CliRunner()
        for command in (["status"], ["explain", "function", "sleep"], ["offhours", "plan"],
                        ["budget", "plan", "--from-ssm"], ["savings", "--period", "week"], ["headroom", "plan"],
                        ["headroom", "explain", "spot"], ["headroom", "status"]):
            result = runner.invoke(cli_app, command, env=environment)
            assert result.exit_code == 0, (command, result.output)
        yield list(sb.kube.requests)


def test_every_feature_ran_without_a_refusal(everything_as_the_app):
    refused = sorted({(r.method, r.path) for r in everything_as_the_app if r.user == APP_USER and r.status == 403})
    assert refused == []


def test_every_granted_permission_is_used(everything_as_the_app):
    unused = granted() - used(everything_as_the_app)
    assert unused == set(), f"granted but never used, remove from {RBAC.name}: {sorted(unused)}"
