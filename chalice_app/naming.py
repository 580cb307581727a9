"""Names of the AWS resources of a stage, in one place so app.py, provisioning, policies and the CLI agree."""
from __future__ import annotations

APP_NAME = "costguard"


def prefix(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def scoped(stage: str, name: str) -> str:
    """A resource of the stage: `<app>-<stage>-<name>` (queues, rules, alarms, functions, the alarm topic)."""
    return f"{prefix(stage)}-{name}"


def interruption_queue(stage: str) -> str:
    return scoped(stage, "interruptions")


def interruption_dlq(stage: str) -> str:
    return scoped(stage, "interruptions-dlq")


def table(stage: str) -> str:
    """One DynamoDB table (partition key `id`, TTL `expiration`); its keys live in chalice_app/table_keys.py."""
    return prefix(stage)


def rule_prefix(stage: str) -> str:
    return scoped(stage, "")


def parameter_path(stage: str) -> str:
    return f"/{APP_NAME}/{stage}"


def slack_webhook_parameter(stage: str) -> str:
    return f"{parameter_path(stage)}/slack-webhook"


def slack_bot_token_parameter(stage: str) -> str:
    return f"{parameter_path(stage)}/slack-bot-token"


def budget_parameter(stage: str) -> str:
    return f"{parameter_path(stage)}/budget"


def slack_signing_secret_parameter(stage: str) -> str:
    """The Slack app's signing secret (SecureString): verifies every request to the Slack actions route."""
    return f"{parameter_path(stage)}/slack-signing-secret"


def slack_allow_list_parameter(stage: str) -> str:
    """Who may act from Slack (JSON: users, user groups, optionally per namespace)."""
    return f"{parameter_path(stage)}/slack-allow-list"


# ---- costguard watching itself (alarms, their topic, the dashboard) -------------------------------------------
FUNCTIONS = ("interruptions", "offhours", "budget", "digests")  # app.py's handler names


def function_name(stage: str, name: str) -> str:
    """The Lambda function Chalice deploys for handler `name`: `<app>-<stage>-<name>`."""
    return scoped(stage, name)


# ---- one identity per Lambda: its IAM role and, through its EKS access entry, its Kubernetes group ----------
API_HANDLER = "api_handler"  # Chalice's name for the function behind the REST API (the Slack route)
LAMBDAS = (*FUNCTIONS, API_HANDLER)
_GROUP_SUFFIX = {API_HANDLER: "slack"}


def lambda_function_name(stage: str, name: str) -> str:
    """What Chalice deploys: `<app>-<stage>` for the API handler, `<app>-<stage>-<name>` for the others
    (chalice/deploy/appgraph.py, 1.34)."""
    return prefix(stage) if name == API_HANDLER else function_name(stage, name)


def role_name(stage: str, name: str) -> str:
    """The role Chalice makes per function when autogen_policy is false: `<app>-<stage>-<function>`."""
    return scoped(stage, name)


def kubernetes_group(name: str) -> str:
    """The Kubernetes group the Lambda's EKS access entry maps its role to (RBAC and admission bind these)."""
    return f"{APP_NAME}:{_GROUP_SUFFIX.get(name, name)}"


def alarm(stage: str, suffix: str) -> str:
    return scoped(stage, suffix)


def alarm_prefix(stage: str) -> str:
    return scoped(stage, "")


def alarm_topic(stage: str) -> str:
    return scoped(stage, "alarms")


def dashboard(stage: str) -> str:
    return prefix(stage)
