"""The budget against the sandbox: the real kubernetes client through the fake API server (EKS token auth, the
app's RBAC, NodePool patches validated against the real CRD), moto server, and the Slack receiver."""
import json
from datetime import datetime, timezone

import pytest
from rich.console import Console
from typer.testing import CliRunner

pytest.importorskip("sandbox.kubeapi")
from sandbox import Sandbox, crd_dir  # noqa: E402

from chalice_app.cli import app as cli_app  # noqa: E402

pytestmark = pytest.mark.skipif(crd_dir() is None, reason="../shared/crds is absent: NodePool patches cannot be validated")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from sandbox import demo_budget

    output = tmp_path_factory.mktemp("demo-output")
    console = Console(record=True, width=160)
    with Sandbox(functions=20, nodes=6) as sb, sb.activate() as environment:
        result = demo_budget.run(sb, console, output)
        pool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default")
        spot = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "spot")
        requests = list(sb.kube.requests)
        messages = list(sb.slack.messages)
        # the sandbox stage exists only in the environment, not in .chalice/config.json
        cli = CliRunner().invoke(cli_app, ["budget", "plan", "--from-ssm", "--json", "--at",
                                           datetime.now(timezone.utc).isoformat()], env=environment)
        after_cli = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default")
        patches_after_cli = sum(r.method == "PATCH" for r in sb.kube.requests)
        yield {"result": result, "pool": pool, "spot": spot, "requests": requests, "messages": messages,
               "console": console.export_text(), "cli": cli, "after_cli": after_cli,
               "patches_after_cli": patches_after_cli}


def test_crossing_80_percent_drops_the_limits_through_the_real_api(demo):
    first, second = demo["result"]["first"], demo["result"]["second"]
    assert first["patched"] == ["default"] and second["patched"] == ["default"]
    assert float(demo["pool"]["spec"]["limits"]["cpu"]) < float(first["pools"]["default"]["limit"]) < 100
    assert second["unbudgeted"] == ["spot"] and demo["spot"]["spec"]["limits"] == {"cpu": 100}
    status = json.loads(demo["pool"]["metadata"]["annotations"]["costguard.openfaas.com/budget-status"])
    assert status["spent"] / status["budget"] > 0.8


def test_patches_are_merge_patches_by_the_app_identity(demo):
    patches = [r for r in demo["requests"] if r.method == "PATCH"]
    assert patches and all(r.user == "costguard" and r.status == 200 for r in patches)
    assert all(r.content_type.startswith("application/merge-patch+json") for r in patches)
    assert all("/apis/karpenter.sh/v1/nodepools/default" == r.path for r in patches)


def test_slack_notice_shows_why(demo):
    last = demo["messages"][-1]
    blocks = json.dumps(last.payload["blocks"])
    assert "80 % threshold is crossed" in last.text
    assert "cpu limit lowered" in blocks and "USD per vCPU-hour" in blocks
    assert "above its cpu limit" in blocks and "Functions driving the spend" in blocks
    assert any(fn in blocks for fn in demo["result"]["functions"])


def test_chart_is_written(demo):
    chart = demo["result"]["chart"]
    with open(chart, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert chart in demo["console"]


def test_cli_plan_reads_and_changes_nothing(demo):
    assert demo["cli"].exit_code == 0, demo["cli"].output
    plan = json.loads(demo["cli"].stdout)
    [row] = plan["nodepools"]
    assert row["nodepool"] == "default" and row["spent"] > 0 and row["usd_per_vcpu_hour"] > 0
    assert plan["unbudgeted"] == ["spot"]
    assert demo["after_cli"]["spec"]["limits"] == demo["pool"]["spec"]["limits"]
    assert demo["patches_after_cli"] == sum(r.method == "PATCH" for r in demo["requests"])


def test_plan_prices_the_ec2nodeclass_volumes_and_says_what_it_assumed(demo):
    [row] = json.loads(demo["cli"].stdout)["nodepools"]
    # the sandbox's EC2NodeClass has no blockDeviceMappings: AL2023's default root volume, 20 GiB gp3
    assert any(line.startswith("EBS per node: 20 GiB (20 GiB gp3)") for line in row["assumed"])
    assert row["ebs_usd_per_node_hour"] == pytest.approx(20 * 0.08 / 730, abs=1e-5)
    assert row["capacity_type"] == "on-demand"
    assert "capacity types: on-demand (karpenter.sh/capacity-type In on-demand)" in row["assumed"]
    listed = [r for r in demo["requests"] if r.path == "/apis/karpenter.k8s.aws/v1/ec2nodeclasses"]
    assert listed and all(r.user == "costguard" and r.status == 200 for r in listed if r.user == "costguard")
    assert "simulated week against a simulated bill" in demo["console"]
