"""Delivery with a bot token through `chat.postMessage`, threading messages that share a thread key. The token is
a secret: never logged nor put in an error message."""
from __future__ import annotations

from urllib.error import URLError

from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler

from chalice_app.errors import ConfigError
from chalice_app.observability import logger
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.pacing import SHARED_PACER, Pacer
from chalice_app.slack.port import SendResult, SlackDeliveryError
from chalice_app.slack.retry import REQUEST_TIMEOUT_SECONDS, SDK_LOGGER, retry_handlers
from chalice_app.slack.threads import ThreadStore, thread_for


class BotNotifier:
    """Posts with a bot token through `chat.postMessage`, threading messages that share a thread key."""

    def __init__(self, token: str, channel: str, base_url: str | None = None, thread_store: ThreadStore | None = None,
                 pacer: Pacer | None = None, handlers: list[RetryHandler] | None = None):
        if not channel:
            raise ConfigError("Slack bot notifier: a channel is required (COSTGUARD_SLACK_CHANNEL)")
        self._client = WebClient(token=token, timeout=REQUEST_TIMEOUT_SECONDS, logger=SDK_LOGGER,
                                 retry_handlers=handlers if handlers is not None else retry_handlers(),
                                 base_url=base_url or WebClient.BASE_URL)
        self.channel = channel
        self._store = thread_store
        self._threads: dict[str, str] = {}
        self._key = "channel:" + channel
        self._pacer = pacer or SHARED_PACER

    def __repr__(self) -> str:
        return f"BotNotifier(channel={self.channel!r})"

    # A thread store that cannot be reached costs threading, never the message: warn and carry on.
    def _known_thread(self, key: str) -> str | None:
        if key not in self._threads and self._store is not None:
            try:
                ts = self._store.get(key, self.channel)
            except (ClientError, BotoCoreError) as error:
                logger.warning("slack thread root unreadable; posting unthreaded",
                               extra={"thread_key": key, "error": type(error).__name__})
                return None
            if ts:
                self._threads[key] = ts
        return self._threads.get(key)

    def _remember(self, keys: tuple[str, ...], ts: str) -> None:
        for key in keys:
            if key in self._threads:
                continue
            self._threads[key] = ts
            if self._store is None:
                continue
            try:
                self._store.put(key, self.channel, ts)
            except (ClientError, BotoCoreError) as error:
                logger.warning("slack thread root not stored; later containers start a new thread",
                               extra={"thread_key": key, "error": type(error).__name__})

    def send(self, message: SlackMessage) -> SendResult:
        thread_ts = thread_for(message.thread_keys, self._known_thread)
        with self._pacer.lock(self._key):
            self._pacer.wait(self._key)
            try:
                response = self._client.chat_postMessage(channel=self.channel, text=message.text,
                                                         blocks=message.blocks or None, thread_ts=thread_ts)
            except SlackApiError as error:
                reason = error.response.get("error", "unknown") if error.response is not None else "unknown"
                raise SlackDeliveryError(f"Slack refused the message to {self.channel}: {reason} "
                                         f"(HTTP {error.response.status_code})") from None
            except (URLError, OSError) as error:
                raise SlackDeliveryError(f"Slack API unreachable for {self.channel}: {type(error).__name__}") from None
            except Exception as error:  # noqa: BLE001 - str(error) may quote the token or URL: only the type name
                raise SlackDeliveryError(f"Slack API failed for {self.channel}: {type(error).__name__}") from None
            finally:
                self._pacer.finished(self._key)
        ts = response["ts"]
        if message.opens_thread:
            self._remember(message.thread_keys, thread_ts or ts)
        logger.info("slack message delivered", extra={"slack_via": "bot", "slack_destination": self._key,
                                                      "slack_threaded": bool(thread_ts)})
        return SendResult(via="bot", ts=ts, thread_ts=thread_ts, channel=response.get("channel", self.channel))
