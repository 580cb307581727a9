"""What the stage's AWS resources should look like, and what to do about what exists: pure functions."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from chalice_app import naming
from chalice_app.budget.document import TEMPLATE_PATH
from chalice_app.errors import CostguardError
from chalice_app.interruptions.rules import EVENT_RULES


LAMBDA_TIMEOUT_SECONDS = 300  # .chalice/config.json lambda_timeout (a test keeps them equal)
BATCHING_WINDOW_SECONDS = 10  # app.py maximum_batching_window_in_seconds
# AWS: at least six times the function timeout, plus the batching window, so a slow batch is not redelivered.
VISIBILITY_TIMEOUT_SECONDS = 6 * LAMBDA_TIMEOUT_SECONDS + BATCHING_WINDOW_SECONDS
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # longer than the queue's, so nothing expires on its way to the DLQ
MAX_RECEIVE_COUNT = 5
TARGET_ID = "interruption-queue"
SSM_STANDARD_LIMIT = 4096
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,20}$")
WEBHOOK_PATTERN = re.compile(r"^https?://\S+$")
SIGNING_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9]{16,128}$")  # Slack's are 32 hex characters
EMPTY_ALLOW_LIST = json.dumps({"users": [], "usergroups": [], "namespaces": {}})

# The budget feature's default document, the one `costguard budget template` prints: one document, one home.
DEFAULT_BUDGET_DOCUMENT = TEMPLATE_PATH.read_text()


@dataclass(frozen=True)
class ResourceOutcome:
    kind: str
    name: str
    action: str  # created, kept, updated, deleted, absent, would-create, would-update, would-delete
    detail: str = ""


@dataclass(frozen=True)
class ProvisionReport:
    stage: str
    region: str
    dry_run: bool
    outcomes: tuple[ResourceOutcome, ...]

    def names(self, action: str) -> list[str]:
        return [outcome.name for outcome in self.outcomes if outcome.action == action]

    @property
    def changed(self) -> bool:
        return any(outcome.action not in ("kept", "absent") for outcome in self.outcomes)

    def summary(self) -> str:
        counts = Counter(outcome.action for outcome in self.outcomes)
        return ", ".join(f"{count} {action}" for action, count in counts.items())


@dataclass(frozen=True)
class Step:
    outcome: ResourceOutcome
    apply: Callable[[], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Place:
    """Where the stage lives: the ARNs of what is not made yet can be written down in advance."""
    stage: str
    region: str
    account: str
    partition: str = "aws"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def queue_arn(self, name: str) -> str:
        return self.arn("sqs", name)

    def rule_arn(self, name: str) -> str:
        return self.arn("events", f"rule/{name}")


# ---- functional core: desired state and decisions -------------------------------------------------------------

def rule_names(stage: str) -> list[str]:
    return [naming.rule_prefix(stage) + rule.suffix for rule in EVENT_RULES]


def dlq_attributes() -> dict[str, str]:
    return {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS), "SqsManagedSseEnabled": "true"}


def queue_attributes(place: Place) -> dict[str, str]:
    dlq_arn = place.queue_arn(naming.interruption_dlq(place.stage))
    return {"VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS), "SqsManagedSseEnabled": "true",
            "MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS), "Policy": json.dumps(queue_policy(place)),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})}


def queue_policy(place: Place) -> dict:
    """EventBridge may send to the queue, and only on behalf of this stage's rules."""
    sources = [place.rule_arn(name) for name in rule_names(place.stage)]
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "StageRulesSendInterruptions", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": place.queue_arn(naming.interruption_queue(place.stage)),
        "Condition": {"ArnEquals": {"aws:SourceArn": sources}},
    }]}


def _normalised(value):
    # AWS may hand a one-element list back as a scalar and numbers back as strings.
    if isinstance(value, list):
        items = [_normalised(item) for item in value]
        return items[0] if len(items) == 1 else sorted(items, key=json.dumps)
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    return str(value)


def attributes_to_change(current: dict[str, str], desired: dict[str, str]) -> dict[str, str]:
    """The desired queue attributes that differ from the current ones (JSON ones compared by meaning)."""
    changes = {}
    for key, wanted in desired.items():
        have = current.get(key)
        if key == "SqsManagedSseEnabled" and current.get("KmsMasterKeyId"):
            continue  # already encrypted with a customer KMS key: keep the operator's choice
        if key in ("Policy", "RedrivePolicy") and have is not None:
            if _normalised(json.loads(have)) == _normalised(json.loads(wanted)):
                continue
        elif have == wanted:
            continue
        changes[key] = wanted
    return changes


def decide(exists: bool, differs: bool, dry_run: bool) -> str:
    if not exists:
        return "would-create" if dry_run else "created"
    if differs:
        return "would-update" if dry_run else "updated"
    return "kept"


def validate_budget_template(text: str) -> str:
    from chalice_app.budget.document import parse_budget  # only the CLI needs it; keeps this module light

    parse_budget(text, source="budget template")
    if len(text.encode()) > SSM_STANDARD_LIMIT:
        raise CostguardError(f"budget template is {len(text.encode())} bytes; an SSM standard parameter holds at "
                             f"most {SSM_STANDARD_LIMIT}")
    return text


def validate_request(stage: str, cluster_name: str, slack_webhook_url: str | None) -> None:
    if not STAGE_PATTERN.match(stage):
        raise CostguardError(f"stage {stage!r}: expected lower-case letters, digits and '-', starting with a letter")
    if not cluster_name:
        raise CostguardError("cluster name is empty: pass the EKS cluster costguard manages")
    if slack_webhook_url is not None and not WEBHOOK_PATTERN.match(slack_webhook_url):
        raise CostguardError("Slack webhook URL must start with https:// (and contain no spaces)")


def validate_signing_secret(secret: str | None) -> None:
    if secret is not None and not SIGNING_SECRET_PATTERN.match(secret):
        raise CostguardError("Slack signing secret: expected the app's signing secret (letters and digits, as shown "
                             "under Basic Information → App Credentials); value not shown")
