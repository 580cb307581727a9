"""What the features call to post a message: the `Notifier` port, its answer, its error, and the notifier used
when Slack is off for a stage (the log is then the alert)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalice_app.errors import CostguardError
from chalice_app.observability import logger
from chalice_app.slack.message import SlackMessage


class SlackDeliveryError(CostguardError):
    """Slack did not accept the message after the retries; the message says why, never where it was sent."""


@dataclass(frozen=True)
class SendResult:
    via: str  # "webhook", "bot" or "log"
    ts: str | None = None  # bot only: the posted message's id
    thread_ts: str | None = None  # bot only: the thread it was posted in, if any
    channel: str | None = None


class Notifier(Protocol):
    def send(self, message: SlackMessage) -> SendResult: ...


class LoggingNotifier:
    """Slack is off for this stage: every message is logged (a warning, so it is seen) and counts as sent."""

    def __repr__(self) -> str:
        return "LoggingNotifier()"

    def send(self, message: SlackMessage) -> SendResult:
        logger.warning("slack not configured; message logged instead",
                       extra={"slack_text": message.text, "thread_keys": list(message.thread_keys)})
        return SendResult(via="log")
