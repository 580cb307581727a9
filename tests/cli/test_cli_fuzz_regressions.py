"""Tracebacks the CLI fuzz found when its command lines ran against a live loopback sandbox (test_cli_fuzz.py runs
them against endpoints that fail fast, so these sit behind a working cluster and table), pinned without one."""
import pytest
from typer.testing import CliRunner

from chalice_app.cli import app
from chalice_app.cli.savings import write_chart
from chalice_app.errors import CostguardError
from chalice_app.kube.names import APPS
from chalice_app.kube.rest import resource_path


@pytest.mark.parametrize("namespace,name", [("openfaas-fn", ""), ("", "sleep"), ("", None)])
def test_an_empty_name_never_addresses_a_collection(namespace, name):
    """`explain function ''` read /apis/apps/v1/namespaces/openfaas-fn/deployments/ — the list — as the function."""
    with pytest.raises(CostguardError, match="empty (name|namespace) for deployments"):
        resource_path("deployments", APPS, namespace, name)
    assert resource_path("deployments", APPS, "openfaas-fn", "sleep") == \
        "/apis/apps/v1/namespaces/openfaas-fn/deployments/sleep"


def test_explain_of_an_empty_function_name_is_one_line():
    env = {"COSTGUARD_CLUSTER_NAME": "guide", "COSTGUARD_TABLE_NAME": "costguard-test",
           "COSTGUARD_KUBE_ENDPOINT": "http://127.0.0.1:9"}  # never reached: the name is refused first
    result = CliRunner().invoke(app, ["explain", "function", ""], env=env)
    assert result.exit_code == 2 and result.stderr == \
        "costguard: empty name for deployments: a Kubernetes name is never empty\n", result.stderr


def test_the_chart_is_a_png_whatever_its_name_and_an_unwritable_path_is_one_line(tmp_path):
    """`savings --chart saved.json` raised matplotlib's ValueError; a path under a file raised OSError."""
    written = write_chart({"2026-11-30": 1.0}, {"2026-11-30": 2.0}, tmp_path / "saved.json", "t")
    assert written.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CostguardError, match="--chart .*cannot write it"):
        write_chart({"2026-11-30": 1.0}, None, blocker / "chart.png", "t")
