"""The stage's notifier, chosen from the settings: a webhook if configured, else a bot token, else (Slack off) a
notifier that logs. The parts live next door, one job each: `port` (the `Notifier` protocol, `SendResult`,
`SlackDeliveryError`, `LoggingNotifier`), `retry` (slack_sdk's retry handlers), `pacing`, `webhook`, `bot`,
`threads` (thread roots in the stage table) and `secrets` (the SSM read)."""
from __future__ import annotations

import threading

from chalice_app import aws_clients
from chalice_app.config import Settings
from chalice_app.errors import ConfigError
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.port import LoggingNotifier, Notifier, SendResult
from chalice_app.ssm import read_secret
from chalice_app.slack.threads import DynamoThreadStore


def slack_configured(settings: Settings) -> bool:
    return bool(settings.slack_webhook_parameter or settings.slack_bot_token_parameter)


def notifier_from_settings(settings: Settings, api_base_url: str | None = None, dynamodb_client=None) -> Notifier:
    """The stage's notifier: a webhook if configured, else a bot token; a LoggingNotifier when Slack is off."""
    # slack_sdk loads here, when a notifier is built, not when a handler module is imported (cold start)
    from chalice_app.slack.bot import BotNotifier
    from chalice_app.slack.webhook import WebhookNotifier

    if settings.slack_webhook_parameter:
        return WebhookNotifier(read_secret(settings.slack_webhook_parameter, settings))
    if settings.slack_bot_token_parameter:
        if not settings.slack_channel:
            raise ConfigError("COSTGUARD_SLACK_CHANNEL: required when COSTGUARD_SLACK_BOT_TOKEN_PARAMETER is set")
        store = DynamoThreadStore(settings.table_name, client=dynamodb_client or
                                  aws_clients.client("dynamodb", settings.region))  # once per container
        return BotNotifier(read_secret(settings.slack_bot_token_parameter, settings), settings.slack_channel,
                           base_url=api_base_url or settings.slack_api_base_url, thread_store=store)
    return LoggingNotifier()


class LazyNotifier:
    """The stage's notifier, built at the first send: a run with nothing to say never reads SSM."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._notifier: Notifier | None = None
        self._lock = threading.Lock()

    def send(self, message: SlackMessage) -> SendResult:
        with self._lock:
            if self._notifier is None:
                self._notifier = notifier_from_settings(self._settings)
        return self._notifier.send(message)
