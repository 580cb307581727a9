"""`costguard status` and `costguard kubeconfig` against the loopback sandbox, as the operator runs them."""
import json

import pytest
import yaml
from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from chalice_app.runlog import RunLog
from chalice_app.status import compact_summary
from chalice_app.kube.names import BUDGET_STATUS, ORIGINAL_REPLICAS, ORIGINAL_LIMITS
from sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=6, nodes=3) as sandbox:
        yield sandbox


def test_compact_summary_keeps_scalars_and_counts_lists():
    assert compact_summary({"restored": 3, "dry_run": False, "errors": [], "patched": ["a", "b"],
                            "pools": {"default": {}}}) == "dry_run=False patched=2 restored=3"


def test_status_shows_runs_pools_functions_in_downtime_and_alerts(sb):
    store = sb.kube.store
    sleep = store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")
    sleep["spec"]["replicas"] = 0
    sleep["metadata"].setdefault("annotations", {})[ORIGINAL_REPLICAS] = "3"
    store.put(sleep)
    spot = store.get("karpenter.sh/v1", "NodePool", None, "spot")
    spot["metadata"].setdefault("annotations", {})[ORIGINAL_LIMITS] = json.dumps({"cpu": 100})
    spot["spec"]["limits"] = {"cpu": "0"}
    store.put(spot)
    default = store.get("karpenter.sh/v1", "NodePool", None, "default")
    default["metadata"].setdefault("annotations", {})[BUDGET_STATUS] = json.dumps(
        {"spent": 812.5, "remaining": 187.5, "limit": 40, "at": "2026-11-24T19:00:00+00:00"})
    store.put(default)
    log = RunLog(sb.table_name, session=sb.session())
    log.record_run("offhours", {"scaled_down": 1, "restored": 0, "errors": []})
    log.record_alert("interruptions", "Spot interruption warning: i-0abc on spot")

    with sb.activate() as environment:
        result = CliRunner().invoke(cli_app, ["status"], env={**environment, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "scaled_down=1" in out
    assert "spent=812.5" in out and "remaining=187.5" in out
    assert '{"cpu": 100}' in out  # spot's stored off-hours limits
    assert "functions in downtime (1)" in out
    assert "sleep" in out and "openfaas-fn" in out
    assert "Spot interruption warning: i-0abc on spot" in out


def test_status_without_cluster_access_is_one_line_exit_2(sb):
    with sb.activate() as environment:
        broken = {**environment, "AWS_ACCESS_KEY_ID": "not-a-sandbox-identity", "COLUMNS": "200"}
        result = CliRunner().invoke(cli_app, ["status"], env=broken)
    assert result.exit_code == 2
    assert "Kubernetes refused costguard (401" in result.output
    assert "Traceback" not in result.output


def test_kubeconfig_points_at_the_cluster_with_eks_get_token(sb):
    with sb.activate() as environment:
        result = CliRunner().invoke(cli_app, ["kubeconfig"], env=environment)
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.output)
    # what eks:DescribeCluster says: the HTTPS endpoint and the sandbox's CA
    assert config["clusters"][0]["cluster"] == {"server": sb.kube.url, "certificate-authority-data": sb.kube.ca_data}
    user_exec = config["users"][0]["user"]["exec"]
    assert user_exec["args"][-3:] == ["openfaas", "--output", "json"]
    # the token is presigned for the STS host EKS accepts, whatever AWS_ENDPOINT_URL the shell has
    assert {"name": "AWS_ENDPOINT_URL_STS", "value": "https://sts.us-east-1.amazonaws.com"} in user_exec["env"]


def test_explain_function_names_the_deciding_source_and_next_change(sb):
    store = sb.kube.store
    figlet = store.get("apps/v1", "Deployment", "openfaas-fn", "figlet")
    figlet["metadata"].setdefault("annotations", {})["costguard.openfaas.com/uptime"] = \
        "Mon-Fri 07:00-19:00 Europe/London"
    store.put(figlet)
    with sb.activate() as environment:
        result = CliRunner().invoke(cli_app, ["explain", "function", "figlet", "--at", "2026-11-25T19:05:00Z"],
                                    env={**environment, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "downtime" in result.output and "scale-down" in result.output
    assert "Mon-Fri 07:00-19:00 Europe/London" in result.output
    assert "2026-11-26T07:00:00+00:00" in result.output  # next change: Thursday 07:00 London (GMT)


def test_explain_unknown_function_is_one_line_exit_2(sb):
    with sb.activate() as environment:
        result = CliRunner().invoke(cli_app, ["explain", "function", "no-such-function"], env=environment)
    assert result.exit_code == 2, result.output
    assert "no-such-function" in result.output and "Traceback" not in result.output


def test_status_shows_what_the_stage_table_holds_when_a_redeploy_removed_the_annotation(sb):
    """The table is the truth (issue 9): a function parked by off-hours whose Deployment a redeploy rewrote still
    shows, with the count the morning restores; a NodePool's stored limits come from the table too."""
    from chalice_app.offhours.parked import DynamoParkedStore, ParkedFunction, ParkedPool
    from chalice_app.table_keys import function_id, nodepool_id
    from datetime import datetime, timezone

    now = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
    records = DynamoParkedStore(sb.table_name, client=sb.session().client("dynamodb"))
    records.put_new({function_id("openfaas-fn", "figlet"): ParkedFunction(4, "uid", now.isoformat()).item(),
                     nodepool_id("default"): ParkedPool(limits={"cpu": "64"}, parked_at=now.isoformat()).item()}, now)
    figlet = sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "figlet")
    figlet["spec"]["replicas"] = 0
    sb.kube.store.put(figlet)  # no original-replicas annotation: the redeploy replaced them

    with sb.activate() as environment:
        result = CliRunner().invoke(cli_app, ["status"], env={**environment, "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "figlet" in line)
    assert "4" in row and "stage table (the annotation is gone" in row
    pool = next(line for line in result.output.splitlines() if "default" in line and "64" in line)
    assert "stage table" in pool


def test_status_shows_a_bad_annotation_as_that_functions_row_not_a_failure(sb):
    """`²` passes str.isdigit() and fails int(): the one count parser reads it (issue 12)."""
    for name, value in (("env", "²"), ("nodeinfo", "9" * 5000)):  # functions no other test of the module parks
        deployment = sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", name)
        deployment["spec"]["replicas"] = 0
        deployment["metadata"].setdefault("annotations", {})[ORIGINAL_REPLICAS] = value
        sb.kube.store.put(deployment)
    spot = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "spot")
    spot["metadata"].setdefault("annotations", {})[ORIGINAL_LIMITS] = "{not json"
    sb.kube.store.put(spot)

    with sb.activate() as environment:
        result = CliRunner().invoke(cli_app, ["status"], env={**environment, "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "unreadable annotation '²'" in result.output
    assert "unreadable annotation '{not json'" in result.output
    assert "nodeinfo" in result.output and "9" * 100 not in result.output
