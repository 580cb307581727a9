"""Generate each Lambda's role policy per stage (policies/lambda-role-<stage>-<function>.json) from one template.

Stages and their EKS cluster come from .chalice/config.json; resource names from chalice_app.naming. The files
are committed (Chalice reads each through its function's `iam_policy_file`); a test fails when they are out of date.

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


# What each Lambda calls, by statement below; tests/deploy/test_iam_policy.py scans each function's code for its
# boto3 calls and fails on a call its role lacks and on a grant none of its code makes.
_TABLE_READS = ["dynamodb:GetItem"]
GRANTS: dict[str, dict[str, list[str]]] = {
    "interruptions": {
        # ReceiveMessage, DeleteMessage, GetQueueAttributes: Lambda's SQS event source polls with the function's
        # role; ChangeMessageVisibility, GetQueueUrl (and DeleteMessage): the handler's own batch calls.
        "InterruptionQueue": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                              "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        "StageTable": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", *_TABLE_READS,
                       "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "Cluster": ["eks:DescribeCluster"],
    },
    "offhours": {
        "StageTable": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", *_TABLE_READS,
                       "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "Cluster": ["eks:DescribeCluster"],
        # the savings ledger prices parked capacity with the budget's price sources
        "Prices": ["ce:GetCostAndUsage", "ec2:DescribeInstanceTypes", "ec2:DescribeSpotPriceHistory",
                   "pricing:GetProducts"],
    },
    "budget": {
        "StageTable": ["dynamodb:DeleteItem", *_TABLE_READS, "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "Cluster": ["eks:DescribeCluster"],
        "Prices": ["ce:GetCostAndUsage", "ec2:DescribeInstanceTypes", "ec2:DescribeSpotPriceHistory",
                   "pricing:GetProducts"],
    },
    "digests": {  # reads the interruption counters and claims each digest period; no cluster
        "StageTable": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", *_TABLE_READS,
                       "dynamodb:PutItem", "dynamodb:UpdateItem"],
    },
    naming.API_HANDLER: {  # the Slack route: replay guard, rate limit, audit; reads and annotates functions
        "StageTable": [*_TABLE_READS, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "Cluster": ["eks:DescribeCluster"],
    },
}


def policy_document(stage: str, cluster_name: str, function: str, account: str = WILDCARD,
                    region: str = WILDCARD) -> dict:
    """Least privilege for one Lambda of the stage; names come from chalice_app.naming."""
    arn = f"{region}:{account}"
    log_group = f"arn:aws:logs:{arn}:log-group:/aws/lambda/{naming.lambda_function_name(stage, function)}"
    # kms:ViaService is "ssm.<region>.amazonaws.com"; with a wildcard region the condition must be a pattern.
    operator = "StringLike" if region == WILDCARD else "StringEquals"
    via_ssm = {operator: {"kms:ViaService": f"ssm.{region}.amazonaws.com"}}
    resources = {
        "InterruptionQueue": [f"arn:aws:sqs:{arn}:{naming.interruption_queue(stage)}"],
        # TransactWriteItems is authorised per item action; the batch calls have actions of their own.
        "StageTable": [f"arn:aws:dynamodb:{arn}:table/{naming.table(stage)}"],
        "Cluster": [f"arn:aws:eks:{arn}:cluster/{cluster_name}"],
        # The EC2 Describe calls, the Price List and Cost Explorer allow no resource scoping.
        "Prices": ["*"],
    }
    # Every function logs (the Lambda runtime writes its own log group), traces, and reads its Slack and feature
    # settings from the stage's SecureString parameters.
    statements = [
        {"Sid": "LogGroups", "Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": [log_group]},
        {"Sid": "LogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [f"{log_group}:log-stream:*"]},
        # X-Ray has no resource-level permissions.
        {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
         "Resource": ["*"]},
        {"Sid": "StageParameters", "Effect": "Allow", "Action": ["ssm:GetParameter"],
         "Resource": [f"arn:aws:ssm:{arn}:parameter{naming.parameter_path(stage)}/*"]},
        {"Sid": "DecryptSecureStringsThroughSsm", "Effect": "Allow", "Action": ["kms:Decrypt"],
         "Resource": [f"arn:aws:kms:{arn}:key/*"], "Condition": via_ssm},
    ]
    statements += [{"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources[sid]}
                   for sid, actions in GRANTS[function].items()]
    return {"Version": "2012-10-17", "Statement": statements}


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


def policy_path(stage: str, function: str, directory: Path = POLICIES_DIR) -> Path:
    return directory / f"lambda-role-{stage}-{function}.json"


def render(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


def rendered_policies(account: str = WILDCARD, region: str = WILDCARD,
                      config_path: Path = CHALICE_CONFIG, directory: Path = POLICIES_DIR) -> dict[Path, str]:
    """One file per stage and Lambda: Chalice reads it through stages.<stage>.lambda_functions.<function>."""
    return {policy_path(stage, function, directory): render(policy_document(stage, cluster, function, account, region))
            for stage, cluster in stage_clusters(config_path).items() for function in naming.LAMBDAS}


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
