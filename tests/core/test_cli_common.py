import json

import pytest
import typer
from botocore.exceptions import ClientError, NoCredentialsError
from kubernetes.client.exceptions import ApiException

from chalice_app.cli.common import describe_failure, one_line_errors, stage_environment
from chalice_app.errors import CostguardError
from chalice_app.kube.auth import ClusterEndpoint
from chalice_app.kube.kubeconfig import render_kubeconfig


def test_stage_environment_merges_global_and_stage(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"environment_variables": {"A": "1", "B": "1"},
                                  "stages": {"prod": {"environment_variables": {"B": "2"}}}}))
    assert stage_environment("prod", config) == {"A": "1", "B": "2"}
    with pytest.raises(CostguardError, match="unknown stage 'qa'"):
        stage_environment("qa", config)


def test_real_project_stages_give_valid_settings():
    for stage in ("dev", "prod"):
        environment = stage_environment(stage)
        assert environment["COSTGUARD_STAGE"] == stage
        assert environment["COSTGUARD_TABLE_NAME"] == f"costguard-{stage}"


@pytest.mark.parametrize("error, expected", [
    (NoCredentialsError(), "no AWS credentials"),
    (ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "No cluster found for name: x."}},
                 "DescribeCluster"), "unknown EKS cluster"),
    (ClientError({"Error": {"Code": "AccessDenied", "Message": "nope"}}, "GetParameter"),
     "access denied for GetParameter: nope"),
    (ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "GetParameter"),
     "GetParameter failed with Throttling: slow down"),
    (ApiException(status=403, reason="Forbidden"), "EKS access entry"),
    (CostguardError("budget document: amount must be > 0"), "amount must be > 0"),
])
def test_operator_errors_become_one_line(error, expected):
    assert expected in describe_failure(error)


def test_one_line_errors_exits_2_and_lets_bugs_raise(capsys):
    @one_line_errors
    def refused():
        raise NoCredentialsError()

    @one_line_errors
    def buggy():
        raise KeyError("bug")

    with pytest.raises(typer.Exit) as exit_info:
        refused()
    assert exit_info.value.exit_code == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    with pytest.raises(KeyError):
        buggy()


def test_kubeconfig_uses_eks_get_token():
    config = render_kubeconfig("openfaas", "eu-west-1", ClusterEndpoint("https://abc.eks.amazonaws.com", "Q0E="))
    user = config["users"][0]["user"]["exec"]
    assert user["command"] == "aws" and "get-token" in user["args"] and "openfaas" in user["args"]
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="
    assert config["current-context"] == config["contexts"][0]["name"]


def test_cli_settings_stage_from_environment_may_be_outside_the_config(monkeypatch):
    from chalice_app.cli.common import cli_settings

    monkeypatch.setenv("COSTGUARD_STAGE", "sandbox")
    monkeypatch.setenv("COSTGUARD_CLUSTER_NAME", "openfaas")
    monkeypatch.setenv("COSTGUARD_TABLE_NAME", "costguard-sandbox")
    assert cli_settings().stage == "sandbox"
    with pytest.raises(CostguardError, match="unknown stage 'sandbox'"):
        cli_settings("sandbox")
    assert cli_settings("prod").table_name == "costguard-sandbox"  # the environment still wins over the config
