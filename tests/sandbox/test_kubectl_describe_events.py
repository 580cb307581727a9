"""`kubectl describe node` lists the Events recorded about a Node (core/v1 Events in the fake API), through the
kubeconfig `costguard kubeconfig` prints (HTTPS, `aws eks get-token`)."""
import shutil
import subprocess
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from sandbox.k8s_events import record_event
from sandbox.operator import OperatorSandbox

KUBECTL, AWS = shutil.which("kubectl"), shutil.which("aws")


@pytest.mark.skipif(not (KUBECTL and AWS), reason=f"needs kubectl and the AWS CLI on PATH (kubectl: {KUBECTL}, "
                                                  f"aws: {AWS})")
def test_kubectl_describe_node_shows_its_events(tmp_path):
    with OperatorSandbox(functions=6, nodes=3, prices=False) as operator:
        environment = {**operator.shell_environment(), "KUBECACHEDIR": str(tmp_path / "cache")}
        printed = CliRunner().invoke(cli_app, ["kubeconfig"], env={**environment, "AWS_SESSION_TOKEN": None})
        assert printed.exit_code == 0, printed.output
        (tmp_path / "kubeconfig").write_text(printed.output)
        environment["KUBECONFIG"] = str(tmp_path / "kubeconfig")
        store = operator.sandbox.kube.store
        node = next(n for n in store.list("v1", "Node") if "karpenter.sh/nodepool" in n["metadata"]["labels"])
        record_event(store, node, "SpotInterruption", "Spot interruption warning: 2 minutes",
                     datetime.now(timezone.utc), component="costguard")
        done = subprocess.run([KUBECTL, "describe", "node", node["metadata"]["name"]], env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        events = done.stdout.split("Events:")[1].splitlines()
        assert any(line.split()[:2] == ["Normal", "SpotInterruption"] and "costguard" in line
                   and line.rstrip().endswith("Spot interruption warning: 2 minutes") for line in events)
