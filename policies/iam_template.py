"""Generate the Lambda role policy of every stage (policies/lambda-role-<stage>.json) from one template.

Stages and their EKS cluster come from .chalice/config.json; resource names from chalice_app.naming. The files
are committed (Chalice reads them through `iam_policy_file`); a test fails when they are out of date.

Usage: python policies/iam_template.py [--account ID] [--region REGION] [--check]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(PROJECT_DIR))

from chalice_app import naming  # noqa: E402

POLICIES_DIR = PROJECT_DIR / "policies"
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"
WILDCARD = "*"


def policy_document(stage: str, cluster_name: str, account: str = WILDCARD, region: str = WILDCARD) -> dict:
    """Least privilege for the stage's three functions; names come from chalice_app.naming."""
    prefix = naming.prefix(stage)
    arn = f"{region}:{account}"
    log_group = f"arn:aws:logs:{arn}:log-group:/aws/lambda/{prefix}-*"
    # kms:ViaService is "ssm.<region>.amazonaws.com"; with a wildcard region the condition must be a pattern.
    operator = "StringLike" if region == WILDCARD else "StringEquals"
    via_ssm = {operator: {"kms:ViaService": f"ssm.{region}.amazonaws.com"}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "LogGroups", "Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": [log_group]},
            {"Sid": "LogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [f"{log_group}:log-stream:*"]},
            # X-Ray has no resource-level permissions.
            {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
             "Resource": ["*"]},
            {"Sid": "InterruptionQueue", "Effect": "Allow",
             # GetQueueUrl: the handler looks the queue up to delete a batch's handled messages.
             "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                        "sqs:ReceiveMessage"],
             "Resource": [f"arn:aws:sqs:{arn}:{naming.interruption_queue(stage)}"]},
            {"Sid": "StageTable", "Effect": "Allow",
             # TransactWriteItems is authorised per item action; the batch calls have actions of their own.
             "Action": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
                        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
             "Resource": [f"arn:aws:dynamodb:{arn}:table/{naming.table(stage)}"]},
            {"Sid": "StageParameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
             "Resource": [f"arn:aws:ssm:{arn}:parameter{naming.parameter_path(stage)}/*"]},
            {"Sid": "DecryptSecureStringsThroughSsm", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": [f"arn:aws:kms:{arn}:key/*"], "Condition": via_ssm},
            {"Sid": "Cluster", "Effect": "Allow", "Action": ["eks:DescribeCluster"],
             "Resource": [f"arn:aws:eks:{arn}:cluster/{cluster_name}"]},
            # The EC2 Describe calls, the Price List and Cost Explorer allow no resource scoping.
            {"Sid": "InstancesAndPrices", "Effect": "Allow",
             "Action": ["ce:GetCostAndUsage", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances",
                        "ec2:DescribeSpotPriceHistory", "pricing:GetProducts"],
             "Resource": ["*"]},
        ],
    }


def stage_clusters(config_path: Path = CHALICE_CONFIG) -> dict[str, str]:
    """{stage: EKS cluster name} from the stages' COSTGUARD_CLUSTER_NAME in .chalice/config.json."""
    config = json.loads(config_path.read_text())
    shared = config.get("environment_variables", {})
    clusters = {}
    for stage, settings in config.get("stages", {}).items():
        cluster = {**shared, **settings.get("environment_variables", {})}.get("COSTGUARD_CLUSTER_NAME")
        if not cluster:
            raise ValueError(f"{config_path}: stage {stage!r} has no COSTGUARD_CLUSTER_NAME")
        clusters[stage] = cluster
    return clusters


def policy_path(stage: str, directory: Path = POLICIES_DIR) -> Path:
    return directory / f"lambda-role-{stage}.json"


def render(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


def rendered_policies(account: str = WILDCARD, region: str = WILDCARD,
                      config_path: Path = CHALICE_CONFIG, directory: Path = POLICIES_DIR) -> dict[Path, str]:
    return {policy_path(stage, directory): render(policy_document(stage, cluster, account, region))
            for stage, cluster in stage_clusters(config_path).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account", default=WILDCARD, help="12-digit account id (default: *)")
    parser.add_argument("--region", default=WILDCARD, help="e.g. eu-west-2 (default: *)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file differs instead of writing it")
    options = parser.parse_args(argv)
    if options.account != WILDCARD and not (options.account.isdigit() and len(options.account) == 12):
        parser.error(f"--account must be 12 digits, got {options.account!r}")
    stale = []
    for path, text in rendered_policies(options.account, options.region).items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not options.check:
            path.write_text(text)
            print(f"wrote {path.relative_to(PROJECT_DIR)}")
    if options.check and stale:
        print("out of date: " + ", ".join(str(path.relative_to(PROJECT_DIR)) for path in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
