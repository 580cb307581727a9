"""`costguard sandbox`: the shell it describes works with real clients — kubectl through the kubeconfig
`costguard kubeconfig` prints (HTTPS, the sandbox's CA, `aws eks get-token`), and every costguard command."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from sandbox.operator import OperatorSandbox
from tests.kubeapi.conftest import requires_crds

KUBECTL, AWS = shutil.which("kubectl"), shutil.which("aws")
COSTGUARD = shutil.which("costguard", path=str(Path(sys.executable).parent))
# The deploy guide's budget (README): both NodePools of the OpenFaaS EKS + Karpenter guide.
GUIDE_BUDGET = {"currency": "USD", "period": "monthly", "amount": 2000, "mode": "enforce", "estimator": "mix",
                "nodepools": {"default": {"share": 0.6, "min_cpu": 4, "max_cpu": 100},
                              "spot": {"amount": 800, "min_cpu": 0, "max_cpu": 100}}}


@pytest.fixture(scope="module")
def operator():
    with OperatorSandbox(functions=6, nodes=3, prices=False) as running:
        yield running


def test_the_shell_environment_finds_the_cluster_through_eks_not_an_override(operator):
    environment = operator.shell_environment({"AWS_PROFILE": "work", "COSTGUARD_KUBE_ENDPOINT": "https://x",
                                              "KUBECONFIG": "/home/me/.kube/config", "HOME": "/home/me"})
    assert environment["HOME"] == "/home/me" and "AWS_PROFILE" not in environment
    assert "COSTGUARD_KUBE_ENDPOINT" not in environment and environment["KUBECONFIG"] == str(operator.kubeconfig_path)
    assert environment["AWS_ENDPOINT_URL"] == operator.sandbox.aws.endpoint
    assert environment["AWS_ACCESS_KEY_ID"] == "sandbox-admin"
    cluster = operator.sandbox.session().client("eks").describe_cluster(name="openfaas")["cluster"]
    assert cluster["endpoint"] == operator.sandbox.kube.url.rstrip("/")
    assert cluster["certificateAuthority"]["data"] == operator.sandbox.kube.ca_data
    lines = operator.export_lines()
    assert lines[0].startswith("unset AWS_PROFILE AWS_SESSION_TOKEN") and "COSTGUARD_KUBE_ENDPOINT" in lines[0]
    assert f"export KUBECONFIG={operator.kubeconfig_path}" in lines
    assert {"created", "kept"} >= {outcome.action for outcome in operator.report.outcomes}


@pytest.mark.skipif(KUBECTL is None or AWS is None,
                    reason=f"needs kubectl and the AWS CLI on PATH (kubectl: {KUBECTL}, aws: {AWS})")
@requires_crds  # the NodePool CRD's scale subresource, printer columns and static mode come from ../shared/crds
def test_kubectl_with_the_kubeconfig_from_costguard_kubeconfig(operator, tmp_path):
    environment = {**operator.shell_environment(), "KUBECACHEDIR": str(tmp_path / "cache")}
    printed = CliRunner().invoke(cli_app, ["kubeconfig"], env={**environment, "AWS_SESSION_TOKEN": None})
    assert printed.exit_code == 0, printed.output
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(printed.output)
    assert yaml.safe_load(printed.output)["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    environment["KUBECONFIG"] = str(kubeconfig)

    def kubectl(*arguments: str) -> str:
        done = subprocess.run([KUBECTL, *arguments], env=environment, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    store, sb = operator.sandbox.kube.store, operator.sandbox
    # server-side printing: kube-apiserver's printer columns for built-ins, additionalPrinterColumns for CRDs
    listed = kubectl("get", "nodes,nodepools,nodeclaims")
    sections = [section.splitlines() for section in listed.strip().split("\n\n")]
    assert [section[0].split()[:3] for section in sections] == [
        ["NAME", "STATUS", "ROLES"], ["NAME", "NODECLASS", "NODES"], ["NAME", "TYPE", "CAPACITY"]]
    assert {line.split()[0] for line in sections[0][1:]} == {
        f"node/{node['metadata']['name']}" for node in store.list("v1", "Node")}
    assert {line.split()[0] for line in sections[1][1:]} == {"nodepool.karpenter.sh/default",
                                                             "nodepool.karpenter.sh/spot"}
    assert all(line.startswith("nodeclaim.karpenter.sh/") for line in sections[2][1:]) and sections[2][1:]
    table = kubectl("get", "deploy", "-n", "openfaas-fn").splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert any(line.split()[:2] == ["sleep", "1/1"] for line in table[1:])
    # `costguard sandbox up` installs policies/kubernetes-admission.yaml; kubectl lists it with kube-apiserver's columns
    policies = kubectl("get", "validatingadmissionpolicies").splitlines()
    assert policies[0].split() == ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]
    shipped = sorted(document["metadata"]["name"] for document in yaml.safe_load_all(
        (Path(__file__).resolve().parents[2] / "policies" / "kubernetes-admission.yaml").read_text())
        if document and document["kind"] == "ValidatingAdmissionPolicy")
    assert "costguard-function-deployments" in shipped and "costguard-nodepools" in shipped
    assert sorted(line.split()[0] for line in policies[1:]) == shipped
    kubectl("scale", "deployment/sleep", "--replicas=3", "-n", "openfaas-fn")
    kubectl("annotate", "deploy/sleep", "costguard.openfaas.com/exclude=true", "-n", "openfaas-fn")
    sleep = store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")
    assert sleep["spec"]["replicas"] == 3
    assert sleep["metadata"]["annotations"]["costguard.openfaas.com/exclude"] == "true"
    # every request was authenticated as the sandbox admin from a token `aws eks get-token` presigned
    assert {record.user for record in sb.kube.requests if record.path.startswith("/apis/apps")} == {"admin"}


@pytest.mark.skipif(COSTGUARD is None, reason="the costguard command is not installed in this venv (make install)")
def test_sandbox_exec_runs_the_operator_commands(tmp_path):
    (tmp_path / "budget.json").write_text(json.dumps(GUIDE_BUDGET))
    script = ("costguard budget plan --budget budget.json && echo '--- offhours' && costguard offhours plan "
              "&& echo '--- status' && costguard status && echo '--- kubectl' && echo \"$KUBECONFIG\"")
    done = subprocess.run([COSTGUARD, "sandbox", "exec", "--functions", "6", "--nodes", "3", "--", "sh", "-c", script],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200", "AWS_SESSION_TOKEN": "from-the-callers-shell"})
    assert done.returncode == 0, done.stdout + done.stderr
    budget, rest = done.stdout.split("--- offhours")
    offhours, rest = rest.split("--- status")
    status, kubeconfig = rest.split("--- kubectl")
    assert "│ default " in budget and "│ spot " in budget
    assert "off-hours plan" in offhours and "not opted in" in offhours
    assert "costguard sandbox: last runs" in status and "functions in downtime" in status
    assert kubeconfig.strip().endswith("/kubeconfig") and not Path(kubeconfig.strip()).exists()  # removed on exit


def test_status_shows_a_missing_heartbeat_alarm(operator):
    sb = operator.sandbox
    environment = {**operator.environment(), "AWS_SESSION_TOKEN": None, "COLUMNS": "220"}
    quiet = CliRunner().invoke(cli_app, ["status"], env=environment)
    assert quiet.exit_code == 0, quiet.output
    assert "alarms (0 in ALARM)" in quiet.output and "costguard-sandbox-offhours-heartbeat" in quiet.output
    # No offhours run has happened in this sandbox: CloudWatch would evaluate the missing heartbeat as breaching
    # after two periods. moto does not evaluate alarms, so the state CloudWatch would set is set here.
    sb.session().client("cloudwatch").set_alarm_state(
        AlarmName="costguard-sandbox-offhours-heartbeat", StateValue="ALARM",
        StateReason="Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were "
                    "treated as [Breaching].")
    firing = CliRunner().invoke(cli_app, ["status"], env=environment)
    assert firing.exit_code == 0, firing.output
    assert "alarms (1 in ALARM)" in firing.output
    line = next(row for row in firing.output.splitlines() if "costguard-sandbox-offhours-heartbeat" in row)
    assert "ALARM" in line and "Breaching" in line


def test_explain_and_events_parse_in_the_sandbox_shell(operator, tmp_path):
    environment = {**operator.environment(), "AWS_SESSION_TOKEN": None, "COLUMNS": "200"}
    explained = CliRunner().invoke(cli_app, ["explain", "function", "sleep"], env=environment)
    assert explained.exit_code == 0, explained.output
    assert "openfaas-fn/sleep" in explained.output and "decided by" in explained.output
    event = tmp_path / "spot.json"
    event.write_text(json.dumps({
        "version": "0", "id": "e-1", "detail-type": "EC2 Spot Instance Interruption Warning", "source": "aws.ec2",
        "account": "123456789012", "time": "2026-11-24T18:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890"],
        "detail": {"instance-id": "i-0abc1234def567890", "instance-action": "terminate"}}))
    parsed = CliRunner().invoke(cli_app, ["events", "parse", str(event)], env=environment)
    assert parsed.exit_code == 0, parsed.output
    assert json.loads(parsed.output.strip().splitlines()[0])["instance_ids"] == ["i-0abc1234def567890"]
