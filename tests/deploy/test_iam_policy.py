"""The Lambda role policies: generated, up to date, least privilege, and clean under parliament."""
import json

import parliament
import pytest

from chalice_app import naming
from tests.deploy.scripts import PROJECT_DIR, iam_template

template = iam_template()
STAGES = sorted(template.stage_clusters())
# Actions AWS allows on "*" only; everything else must name a resource of the stage.
UNSCOPABLE = {"xray:PutTelemetryRecords", "xray:PutTraceSegments", "ce:GetCostAndUsage", "ec2:DescribeInstances",
              "ec2:DescribeInstanceTypes", "ec2:DescribeSpotPriceHistory", "pricing:GetProducts"}


def test_every_stage_in_chalice_config_has_a_policy_file_chalice_will_read():
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert STAGES == ["dev", "prod"]
    for stage in STAGES:
        declared = (PROJECT_DIR / ".chalice" / config["stages"][stage]["iam_policy_file"]).resolve()
        assert declared == template.policy_path(stage).resolve()


def test_committed_files_are_what_the_generator_writes():
    stale = [path.name for path, text in template.rendered_policies().items() if path.read_text() != text]
    assert stale == [], "run: .venv/bin/python policies/iam_template.py"


@pytest.mark.parametrize("stage", STAGES)
def test_parliament_finds_nothing(stage):
    text = template.policy_path(stage).read_text()
    policy = parliament.analyze_policy_string(text, include_community_auditors=True)
    assert [(finding.issue, finding.detail) for finding in policy.findings] == []


def test_parliament_would_flag_an_action_on_the_wrong_resource():
    # Guards the test above: a policy giving sqs actions on the table must not pass.
    document = template.policy_document("dev", "openfaas")
    document["Statement"][3]["Resource"] = [f"arn:aws:dynamodb:*:*:table/{naming.table('dev')}"]
    findings = parliament.analyze_policy_string(json.dumps(document)).findings
    assert "RESOURCE_MISMATCH" in {finding.issue for finding in findings}


@pytest.mark.parametrize("stage", STAGES)
def test_only_unscopable_actions_use_a_star_resource(stage):
    document = json.loads(template.policy_path(stage).read_text())
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= UNSCOPABLE, statement["Sid"]
        else:
            stage_names = (naming.prefix(stage), naming.parameter_path(stage) + "/")
            assert all(any(name in arn for name in stage_names) or arn.endswith(("cluster/openfaas", ":key/*"))
                       for arn in statement["Resource"]), statement["Sid"]


def test_a_stage_policy_never_names_another_stage():
    dev = template.policy_path("dev").read_text()
    prod = template.policy_path("prod").read_text()
    assert "costguard-prod" not in dev and "/costguard/prod/" not in dev
    assert "costguard-dev" not in prod and "/costguard/dev/" not in prod


def test_the_policy_grants_what_the_functions_need_on_the_stage_resources():
    document = template.policy_document("dev", "openfaas", account="123456789012", region="eu-west-2")
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
        "arn:aws:logs:eu-west-2:123456789012:log-group:/aws/lambda/costguard-dev-*:log-stream:*"]


def test_wildcard_region_turns_the_kms_condition_into_a_pattern():
    statement = {s["Sid"]: s for s in template.policy_document("dev", "openfaas")["Statement"]}
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
    assert "lambda-role-dev.json" in capsys.readouterr().err
    assert template.main([]) == 0
    assert template.main(["--check"]) == 0


def test_every_dynamodb_call_the_lambda_code_makes_is_allowed():
    """Scan the Lambda code for DynamoDB client/table calls, so a new call cannot ship without its permission."""
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    operator_only = {"provisioning.py", "cli"}  # run with the operator's credentials, not the Lambda role's
    calls = set()
    for path in (root / "chalice_app").rglob("*.py"):
        if operator_only & {path.name, *path.relative_to(root / "chalice_app").parts[:-1]}:
            continue
        calls |= set(re.findall(r"\.(batch_get_item|batch_write_item|delete_item|get_item|put_item|query|"
                                r"update_item|transact_write_items|scan)\(", path.read_text()))
    per_item = {"transact_write_items": ["put_item", "update_item", "delete_item"]}  # authorised per item action
    needed = {"dynamodb:" + "".join(part.title() for part in name.split("_"))
              for call in calls for name in per_item.get(call, [call])}
    policy = json.loads((root / "policies" / "lambda-role-dev.json").read_text())
    allowed = {action for statement in policy["Statement"] for action in statement["Action"]
               if action.startswith("dynamodb:")}
    assert "dynamodb:BatchWriteItem" in needed  # the scan really finds the interruption ledger's calls
    assert needed <= allowed, f"missing from the Lambda role: {sorted(needed - allowed)}"
