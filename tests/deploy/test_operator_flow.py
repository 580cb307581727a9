"""The deploy guide, as an operator runs it, on the sandbox: `costguard bootstrap` → `chalice deploy` →
`costguard status` → `chalice delete` → `costguard teardown`, through the real commands."""
import pytest
from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from sandbox import Sandbox
from tests.deploy.project_copy import run_chalice

pytestmark = pytest.mark.slow
FUNCTIONS = {"costguard-dev", "costguard-dev-budget", "costguard-dev-interruptions", "costguard-dev-offhours"}


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=6, nodes=3) as sandbox:
        yield sandbox


def operator_env(sb) -> dict:
    """The operator's shell: AWS credentials for the account and the dev stage from .chalice/config.json; the
    cluster's endpoint and CA come from eks:DescribeCluster, as on AWS."""
    return {**sb.aws.environment(), "COSTGUARD_STAGE": None,
            "COSTGUARD_TABLE_NAME": None, "COLUMNS": "200"}


def costguard(sb, *arguments):
    result = CliRunner().invoke(cli_app, list(arguments), env=operator_env(sb))
    assert result.exit_code == 0, result.output
    return result.output


def test_deploy_guide_end_to_end(sb, built_project):
    project, _ = built_project
    aws = sb.session()

    out = costguard(sb, "bootstrap", "--stage", "dev", "--slack-webhook", sb.slack.webhook_url("ops"))
    assert "costguard-dev-interruptions" in out and "created" in out
    assert "kept" in costguard(sb, "bootstrap", "--stage", "dev")  # idempotent: the second run keeps everything

    deploy = run_chalice(project, "deploy", "--stage", "dev", extra_env={"AWS_ENDPOINT_URL": sb.aws.endpoint})
    assert "Reusing existing shared layer deployment package" in deploy.stdout + deploy.stderr
    assert FUNCTIONS <= {f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]}

    status = costguard(sb, "status", "--stage", "dev")
    assert "costguard dev: last runs" in status
    assert "default" in status and "spot" in status  # NodePools read through the app's RBAC
    assert "functions in downtime (0)" in status

    run_chalice(project, "delete", "--stage", "dev", extra_env={"AWS_ENDPOINT_URL": sb.aws.endpoint})
    assert not FUNCTIONS & {f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]}

    costguard(sb, "teardown", "--stage", "dev", "--include-data")
    queues = aws.client("sqs").list_queues().get("QueueUrls", [])
    assert not [url for url in queues if "costguard-dev" in url]
    assert "costguard-dev" not in aws.client("dynamodb").list_tables()["TableNames"]
    assert not aws.client("events").list_rules(NamePrefix="costguard-dev-")["Rules"]
