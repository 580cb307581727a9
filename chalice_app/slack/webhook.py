"""Delivery through one incoming webhook. The URL is a secret: never logged nor put in an error message."""
from __future__ import annotations

import hashlib
import re
from urllib.error import URLError

from slack_sdk import WebhookClient
from slack_sdk.http_retry.handler import RetryHandler

from chalice_app.errors import ConfigError
from chalice_app.observability import logger
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.pacing import SHARED_PACER, Pacer
from chalice_app.slack.port import SendResult, SlackDeliveryError
from chalice_app.slack.retry import REQUEST_TIMEOUT_SECONDS, SDK_LOGGER, retry_handlers

# Whitespace, control characters or non-ASCII in a webhook URL (a pasted newline, a smart quote) would make
# urllib raise an error that quotes the URL; refuse such a URL up front instead.
_UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f]|[^\x00-\x7f]")


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a webhook URL or token, safe to log."""
    return hashlib.sha256(secret.encode()).hexdigest()[:10]


class WebhookNotifier:
    """Posts to one incoming webhook. A webhook cannot thread: features name the thread key in the text."""

    def __init__(self, url: str, pacer: Pacer | None = None, handlers: list[RetryHandler] | None = None):
        if not url.startswith(("https://", "http://")):
            raise ConfigError("Slack webhook URL: expected an http(s) URL (value not shown)")
        if _UNSAFE_URL_CHARACTERS.search(url):
            raise ConfigError("Slack webhook URL: contains whitespace, control or non-ASCII characters "
                              "(value not shown)")
        self._client = WebhookClient(url, timeout=REQUEST_TIMEOUT_SECONDS, logger=SDK_LOGGER,
                                     retry_handlers=handlers if handlers is not None else retry_handlers())
        self._key = "webhook:" + fingerprint(url)
        self._pacer = pacer or SHARED_PACER

    def __repr__(self) -> str:
        return f"WebhookNotifier({self._key})"

    def send(self, message: SlackMessage) -> SendResult:
        with self._pacer.lock(self._key):
            self._pacer.wait(self._key)
            try:
                response = self._client.send(text=message.text, blocks=message.blocks or None)
            except (URLError, OSError) as error:
                raise SlackDeliveryError(f"Slack webhook {self._key} unreachable: {type(error).__name__}") from None
            except Exception as error:  # noqa: BLE001 - str(error) may quote the URL: only the type name leaves
                raise SlackDeliveryError(f"Slack webhook {self._key} failed: {type(error).__name__}") from None
            finally:
                self._pacer.finished(self._key)
        if response.status_code != 200:
            reason = (response.body or "").strip()[:200] or "no body"
            raise SlackDeliveryError(f"Slack webhook {self._key} refused the message: HTTP {response.status_code} "
                                     f"{reason}")
        logger.info("slack message delivered", extra={"slack_via": "webhook", "slack_destination": self._key})
        return SendResult(via="webhook")
