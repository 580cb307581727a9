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


SLACK_ROUTE = "slack-route"  # the Slack actions route's name in alarms (its Lambda is Chalice's API handler)


def api_function_name(stage: str) -> str:
    """The Lambda behind the app's routes (the Slack actions route): Chalice names its `api_handler` function
    `<app>-<stage>` (aws/chalice chalice/deploy/appgraph.py, `_create_rest_api_model`)."""
    return prefix(stage)


def watched_functions(stage: str) -> list[tuple[str, str]]:
    """(name in alarms and dashboards, Lambda function name) of every function the stage deploys."""
    return [(name, function_name(stage, name)) for name in FUNCTIONS] + [(SLACK_ROUTE, api_function_name(stage))]


def alarm(stage: str, suffix: str) -> str:
    return scoped(stage, suffix)


def alarm_prefix(stage: str) -> str:
    return scoped(stage, "")


def alarm_topic(stage: str) -> str:
    return scoped(stage, "alarms")


def dashboard(stage: str) -> str:
    return prefix(stage)
