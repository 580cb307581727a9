"""The real deploy path against a moto server: bootstrap, `chalice deploy --stage dev`, check, `chalice delete`."""
import json

import boto3
import pytest

from chalice_app import naming
from chalice_app.provisioning import ensure_stage, teardown_stage
from sandbox.moto_fixes import import_apis_as_aws_does
from tests.deploy.project_copy import DUMMY_AWS, run_chalice
from tests.deploy.scripts import iam_template
from tests.moto_helpers import moto_server, reset_moto

pytestmark = pytest.mark.slow
# "costguard-dev" is Chalice's API handler: the Slack actions route behind API Gateway
FUNCTIONS = ["costguard-dev", "costguard-dev-budget", "costguard-dev-digests", "costguard-dev-interruptions",
             "costguard-dev-offhours"]


@pytest.fixture(scope="module")
def aws(monkeypatch_module):
    import_apis_as_aws_does()  # Swagger 2.0 as AWS imports it (sandbox/moto_fixes.py)
    with moto_server() as endpoint:
        reset_moto(endpoint)
        monkeypatch_module.setenv("AWS_ENDPOINT_URL", endpoint)
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"])
        session.client("eks").create_cluster(name="openfaas", roleArn="arn:aws:iam::123456789012:role/eks",
                                             resourcesVpcConfig={"subnetIds": []})
        yield endpoint, session


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def deployed(aws, built_project):
    endpoint, session = aws
    project, figures = built_project
    bootstrap = ensure_stage(session, "dev", cluster_name="openfaas")
    result = run_chalice(project, "deploy", "--stage", "dev", extra_env={"AWS_ENDPOINT_URL": endpoint})
    return session, project, figures, bootstrap, result.stdout + result.stderr


def test_bootstrap_made_the_queue_chalice_subscribes_to(deployed):
    _, _, _, bootstrap, log = deployed
    assert "costguard-dev-interruptions" in bootstrap.names("created")
    assert "Subscribing costguard-dev-interruptions to SQS queue costguard-dev-interruptions" in log
    assert "Reusing existing shared layer deployment package" in log


def test_the_three_functions_exist_with_the_layer_and_stage_settings(deployed):
    session, _, _, _, _ = deployed
    lam = session.client("lambda")
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert sorted(functions) == FUNCTIONS
    layers = lam.list_layer_versions(LayerName="costguard-dev-managed-layer")["LayerVersions"]
    assert len(layers) == 1
    for function in functions.values():
        assert function["Runtime"] == "python3.11"
        assert function["Timeout"] == 300
        assert [layer["Arn"] for layer in function["Layers"]] == [layers[0]["LayerVersionArn"]]
        assert function["Environment"]["Variables"]["COSTGUARD_STAGE"] == "dev"
        assert function["Environment"]["Variables"]["COSTGUARD_TABLE_NAME"] == "costguard-dev"


def test_the_schedules_fire_every_5_and_15_minutes(deployed):
    session, _, _, _, _ = deployed
    events, lam = session.client("events"), session.client("lambda")
    schedules = {}
    for rule in events.list_rules(NamePrefix="costguard-dev-")["Rules"]:
        if "ScheduleExpression" in rule:
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            for target in targets:
                schedules[target["Arn"].rsplit(":", 1)[1]] = rule["ScheduleExpression"]
    assert schedules == {"costguard-dev-offhours": "rate(5 minutes)", "costguard-dev-budget": "rate(15 minutes)",
                         "costguard-dev-digests": "cron(0 * * * ? *)"}
    for function in ("costguard-dev-offhours", "costguard-dev-budget", "costguard-dev-digests"):
        statements = json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"]
        assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in statements)


def test_the_queue_feeds_the_interruptions_function_in_large_batches(deployed):
    session, _, _, _, _ = deployed
    # moto's FunctionName filter matches nothing for a plain name, so filter here.
    mappings = [mapping for mapping in session.client("lambda").list_event_source_mappings()["EventSourceMappings"]
                if mapping["FunctionArn"].endswith(":function:costguard-dev-interruptions")]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["EventSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:costguard-dev-interruptions"
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (10000, 10)


def test_each_function_has_its_own_role_carrying_its_own_policy_inline(deployed):
    session, _, _, _, _ = deployed
    iam, lam = session.client("iam"), session.client("lambda")
    roles = set()
    for function in naming.LAMBDAS:
        expected = json.loads(iam_template().policy_path("dev", function).read_text())
        name = naming.lambda_function_name("dev", function)
        role_name = lam.get_function(FunctionName=name)["Configuration"]["Role"].rsplit("/", 1)[1]
        assert role_name == naming.role_name("dev", function)  # the principal its EKS access entry names
        roles.add(role_name)
        policies = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        assert len(policies) == 1
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policies[0])["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        assert document == expected
        assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    assert len(roles) == len(FUNCTIONS)


def test_chalice_delete_removes_what_deploy_made_and_teardown_the_rest(deployed, aws):
    endpoint, _ = aws
    session, project, _, _, _ = deployed
    run_chalice(project, "delete", "--stage", "dev", extra_env={"AWS_ENDPOINT_URL": endpoint})
    lam, iam, events = session.client("lambda"), session.client("iam"), session.client("events")
    assert lam.list_functions()["Functions"] == []
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    assert lam.list_layer_versions(LayerName="costguard-dev-managed-layer")["LayerVersions"] == []
    assert [role["RoleName"] for role in iam.list_roles()["Roles"] if role["RoleName"].startswith("costguard")] == []
    assert [rule["Name"] for rule in events.list_rules(NamePrefix="costguard-dev-")["Rules"]
            if "ScheduleExpression" in rule] == []
    teardown_stage(session, "dev", include_data=True)
    assert events.list_rules(NamePrefix="costguard-dev-")["Rules"] == []
    assert session.client("sqs").list_queues().get("QueueUrls", []) == []
