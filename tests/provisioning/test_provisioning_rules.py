"""Pure parts of provisioning, and how AWS failures become one line, without any AWS."""
import json
import re
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from chalice_app.errors import CostguardError
from chalice_app.provisioning import (
    BATCHING_WINDOW_SECONDS, LAMBDA_TIMEOUT_SECONDS, Place, attributes_to_change, decide, ensure_stage,
    queue_attributes, teardown_stage,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
PLACE = Place(stage="dev", region="eu-west-2", account="123456789012")


def test_timeouts_match_what_chalice_deploys():
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert config["lambda_timeout"] == LAMBDA_TIMEOUT_SECONDS
    window = re.search(r"maximum_batching_window_in_seconds=(\d+)", (PROJECT_DIR / "app.py").read_text())
    assert int(window.group(1)) == BATCHING_WINDOW_SECONDS


def test_current_attributes_equal_in_meaning_need_no_change():
    desired = queue_attributes(PLACE)
    policy = json.loads(desired["Policy"])
    statement = policy["Statement"][0]
    # What AWS may hand back: keys reordered, numbers as strings, a one-element list as a scalar.
    current = {**desired,
               "RedrivePolicy": json.dumps({"maxReceiveCount": "5",
                                            "deadLetterTargetArn": json.loads(desired["RedrivePolicy"])[
                                                "deadLetterTargetArn"]}),
               "Policy": json.dumps({**policy, "Statement": [{**statement, "Action": ["sqs:SendMessage"]}]}),
               "ApproximateNumberOfMessages": "3"}
    assert attributes_to_change(current, desired) == {}


def test_changed_attributes_are_listed():
    desired = queue_attributes(PLACE)
    current = {**desired, "VisibilityTimeout": "30", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:eu-west-2:123456789012:other", "maxReceiveCount": 5})}
    assert sorted(attributes_to_change(current, desired)) == ["RedrivePolicy", "VisibilityTimeout"]


def test_a_customer_kms_key_counts_as_encrypted():
    desired = queue_attributes(PLACE)
    current = {**desired, "SqsManagedSseEnabled": "false", "KmsMasterKeyId": "alias/mine"}
    assert attributes_to_change(current, desired) == {}


def test_queue_policy_names_only_this_stage_rules():
    statement = json.loads(queue_attributes(PLACE)["Policy"])["Statement"][0]
    assert statement["Resource"] == "arn:aws:sqs:eu-west-2:123456789012:costguard-dev-interruptions"
    assert all(arn.startswith("arn:aws:events:eu-west-2:123456789012:rule/costguard-dev-")
               for arn in statement["Condition"]["ArnEquals"]["aws:SourceArn"])


@pytest.mark.parametrize("exists, differs, dry_run, action", [
    (False, False, False, "created"), (False, False, True, "would-create"), (True, False, False, "kept"),
    (True, False, True, "kept"), (True, True, False, "updated"), (True, True, True, "would-update"),
])
def test_decide(exists, differs, dry_run, action):
    assert decide(exists, differs, dry_run) == action


class RefusingSession:
    """A session whose every call is refused, as IAM would for a caller without permission."""
    region_name = "us-east-1"

    def get_available_regions(self, service, partition_name="aws"):
        return ["us-east-1"] if partition_name == "aws" else []

    def client(self, service):
        class Client:
            def __getattr__(self, operation):
                def refuse(**kwargs):
                    raise ClientError({"Error": {"Code": "AccessDenied", "Message": f"no {service} for you"}},
                                      "GetCallerIdentity")
                return refuse
        return Client()


def test_access_denied_is_one_line():
    with pytest.raises(CostguardError, match=r"^access denied for GetCallerIdentity: no sts for you$"):
        ensure_stage(RefusingSession(), "dev", cluster_name="openfaas")


def test_no_credentials_is_one_line(monkeypatch, tmp_path):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CostguardError, match="^no AWS credentials"):
        teardown_stage(boto3.session.Session(region_name="us-east-1"), "dev")


def test_no_region_is_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(CostguardError, match="^no AWS region"):
        ensure_stage(boto3.session.Session(), "dev", cluster_name="openfaas")


def test_unknown_region_is_named():
    with pytest.raises(CostguardError, match="unknown AWS region 'us-east-9'"):
        ensure_stage(boto3.session.Session(region_name="us-east-9"), "dev", cluster_name="openfaas")


def test_default_budget_document_is_valid_for_the_budget_feature():
    from chalice_app.budget.document import parse_budget
    from chalice_app.provisioning import DEFAULT_BUDGET_DOCUMENT

    document = parse_budget(DEFAULT_BUDGET_DOCUMENT)
    assert (document.currency, document.period, document.amount, document.mode) == ("USD", "monthly", 3000, "advise")
    assert list(document.thresholds) == [50, 80, 100]
