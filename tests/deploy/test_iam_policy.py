"""The Lambda role policies: one per stage and Lambda, generated, up to date, least privilege, clean under
parliament, and each exactly what its function's code calls (tests/deploy/lambda_calls.py reads the code)."""
import json

import parliament
import pytest
from chalice.config import Config

from chalice_app import naming
from tests.deploy.lambda_calls import lambdas_of_app, needed_actions
from tests.deploy.scripts import PROJECT_DIR, iam_template

template = iam_template()
STAGES = sorted(template.stage_clusters())
ROLES = [(stage, function) for stage in STAGES for function in naming.LAMBDAS]
LAMBDAS = lambdas_of_app()
# Actions AWS allows on "*" only; everything else must name a resource of the stage.
UNSCOPABLE = {"xray:PutTelemetryRecords", "xray:PutTraceSegments", "ce:GetCostAndUsage", "ec2:DescribeInstances",
              "ec2:DescribeInstanceTypes", "ec2:DescribeSpotPriceHistory", "pricing:GetProducts"}


def granted(stage: str, function: str) -> set[str]:
    document = json.loads(template.policy_path(stage, function).read_text())
    return {action for statement in document["Statement"] for action in statement["Action"]}


def test_the_lambdas_of_app_py_are_the_ones_named_and_configured():
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert sorted(LAMBDAS) == sorted(naming.LAMBDAS)
    for stage in STAGES:
        assert sorted(config["stages"][stage]["lambda_functions"]) == sorted(naming.LAMBDAS)


def test_every_stage_in_chalice_config_has_a_policy_file_chalice_will_read():
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert STAGES == ["dev", "prod"]
    for stage, function in ROLES:
        # Chalice's own lookup (stages.<stage>.lambda_functions.<function> first), as `chalice deploy` does it
        chalice = Config(chalice_stage=stage, function_name=function, config_from_disk=config)
        declared = (PROJECT_DIR / ".chalice" / chalice.iam_policy_file).resolve()
        assert declared == template.policy_path(stage, function).resolve()
    assert len({template.policy_path(stage, function) for stage, function in ROLES}) == 10


def test_committed_files_are_what_the_generator_writes():
    stale = [path.name for path, text in template.rendered_policies().items() if path.read_text() != text]
    assert stale == [], "run: .venv/bin/python policies/iam_template.py"


@pytest.mark.parametrize("stage, function", ROLES)
def test_parliament_finds_nothing(stage, function):
    text = template.policy_path(stage, function).read_text()
    policy = parliament.analyze_policy_string(text, include_community_auditors=True)
    assert [(finding.issue, finding.detail) for finding in policy.findings] == []


def test_parliament_would_flag_an_action_on_the_wrong_resource():
    # Guards the test above: a policy giving sqs actions on the table must not pass.
    document = template.policy_document("dev", "openfaas", "interruptions")
    queue = next(statement for statement in document["Statement"] if statement["Sid"] == "InterruptionQueue")
    queue["Resource"] = [f"arn:aws:dynamodb:*:*:table/{naming.table('dev')}"]
    findings = parliament.analyze_policy_string(json.dumps(document)).findings
    assert "RESOURCE_MISMATCH" in {finding.issue for finding in findings}


@pytest.mark.parametrize("stage, function", ROLES)
def test_only_unscopable_actions_use_a_star_resource(stage, function):
    document = json.loads(template.policy_path(stage, function).read_text())
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= UNSCOPABLE, statement["Sid"]
        else:
            stage_names = (naming.prefix(stage), naming.parameter_path(stage) + "/")
            assert all(any(name in arn for name in stage_names) or arn.endswith(("cluster/openfaas", ":key/*"))
                       for arn in statement["Resource"]), statement["Sid"]


@pytest.mark.parametrize("function", naming.LAMBDAS)
def test_a_stage_policy_never_names_another_stage(function):
    dev = template.policy_path("dev", function).read_text()
    prod = template.policy_path("prod", function).read_text()
    assert "costguard-prod" not in dev and "/costguard/prod/" not in dev
    assert "costguard-dev" not in prod and "/costguard/dev/" not in prod


def test_the_policy_grants_what_the_functions_need_on_the_stage_resources():
    document = template.policy_document("dev", "openfaas", "interruptions", account="123456789012",
                                        region="eu-west-2")
    by_sid = {statement["Sid"]: statement for statement in document["Statement"]}
    assert by_sid["InterruptionQueue"]["Resource"] == ["arn:aws:sqs:eu-west-2:123456789012:costguard-dev-interruptions"]
    assert set(by_sid["InterruptionQueue"]["Action"]) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl"}
    assert by_sid["StageTable"]["Resource"] == ["arn:aws:dynamodb:eu-west-2:123456789012:table/costguard-dev"]
    assert by_sid["StageParameters"]["Resource"] == ["arn:aws:ssm:eu-west-2:123456789012:parameter/costguard/dev/*"]
    assert by_sid["Cluster"]["Resource"] == ["arn:aws:eks:eu-west-2:123456789012:cluster/openfaas"]
    assert by_sid["DecryptSecureStringsThroughSsm"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "ssm.eu-west-2.amazonaws.com"}}
    assert by_sid["LogStreams"]["Resource"] == [
        "arn:aws:logs:eu-west-2:123456789012:log-group:/aws/lambda/costguard-dev-interruptions:log-stream:*"]


def test_each_role_writes_only_its_own_function_log_group():
    for function in naming.LAMBDAS:
        by_sid = {s["Sid"]: s for s in template.policy_document("dev", "openfaas", function)["Statement"]}
        # Chalice names the API handler's function after the app and stage alone
        name = "costguard-dev" if function == naming.API_HANDLER else f"costguard-dev-{function}"
        assert by_sid["LogGroups"]["Resource"] == [f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}"]


def test_wildcard_region_turns_the_kms_condition_into_a_pattern():
    statement = {s["Sid"]: s for s in template.policy_document("dev", "openfaas", "digests")["Statement"]}
    assert statement["DecryptSecureStringsThroughSsm"]["Condition"] == {
        "StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}}


def test_a_stage_without_a_cluster_name_is_named_in_the_error(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"stages": {"qa": {"environment_variables": {}}}}))
    with pytest.raises(ValueError, match="stage 'qa' has no COSTGUARD_CLUSTER_NAME"):
        template.stage_clusters(config)


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(template, "POLICIES_DIR", tmp_path)
    monkeypatch.setattr(template, "PROJECT_DIR", tmp_path)
    original = template.rendered_policies
    monkeypatch.setattr(template, "rendered_policies",
                        lambda account, region: original(account, region, directory=tmp_path))
    assert template.main(["--check"]) == 1
    assert "lambda-role-dev-interruptions.json" in capsys.readouterr().err
    assert template.main([]) == 0
    assert template.main(["--check"]) == 0


def test_the_scan_finds_the_calls_of_each_feature():
    # Guards the two tests below: the scan really sees the interruption ledger's batch writes, the handler's SQS
    # batch calls, the budget's prices and the Slack route's conditional writes.
    interruptions = needed_actions(*LAMBDAS["interruptions"])
    assert {"dynamodb:BatchWriteItem", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"} <= interruptions
    assert {"pricing:GetProducts", "ec2:DescribeSpotPriceHistory"} <= needed_actions(*LAMBDAS["budget"])
    assert "dynamodb:PutItem" in needed_actions(*LAMBDAS[naming.API_HANDLER])
    assert "eks:DescribeCluster" not in needed_actions(*LAMBDAS["digests"])  # digests never touch the cluster


@pytest.mark.parametrize("function", naming.LAMBDAS)
def test_every_call_a_function_makes_is_granted_to_its_own_role(function):
    needed = needed_actions(*LAMBDAS[function])
    for stage in STAGES:
        missing = needed - granted(stage, function)
        assert missing == set(), f"add to {function} in policies/iam_template.py GRANTS: {sorted(missing)}"


@pytest.mark.parametrize("function", naming.LAMBDAS)
def test_a_role_grants_nothing_its_function_does_not_call(function):
    needed = needed_actions(*LAMBDAS[function])
    for stage in STAGES:
        unused = granted(stage, function) - needed
        assert unused == set(), f"remove from {function} in policies/iam_template.py GRANTS: {sorted(unused)}"


def test_a_grant_moved_to_another_role_fails_both_checks():
    # Guards the two tests above with a real difference: off-hours' code sends nothing to the interruption queue,
    # and the digests' role has no cluster to describe.
    assert "sqs:ChangeMessageVisibility" not in needed_actions(*LAMBDAS["offhours"])
    assert "sqs:ChangeMessageVisibility" not in granted("dev", "offhours")
    assert "eks:DescribeCluster" not in granted("dev", "digests")
