"""Deliver a SlackMessage through an incoming webhook or a bot token, with Slack's own retry handlers.

- Retries: slack_sdk's RateLimitErrorRetryHandler (honours Retry-After), a ServerErrorRetryHandler widened to
  500/502/503/504 and a ConnectionErrorRetryHandler that also covers read timeouts; when they give up, `send`
  raises SlackDeliveryError.
- Pacing: Slack allows about one message per second per webhook or channel, so posts to the same destination
  are spaced at least `PACE_SECONDS` apart within a container (shared across notifier instances).
- Threading (bot only): the first message naming a thread key (e.g. an instance id) starts a thread; later
  messages with that key reply in it. Thread roots are remembered in memory and, when a store is given, in the
  stage's DynamoDB table (`thread#<key>`), so they survive Lambda containers.
- The webhook URL and the bot token are secrets: they are never logged nor put in an error message, and
  slack_sdk (which logs URLs on retries) gets a silenced logger.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Callable, Protocol
from urllib.error import URLError

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from chalice_app.config import Settings
from chalice_app.errors import ConfigError, CostguardError
from chalice_app.observability import logger
from chalice_app.slack.message import SlackMessage
from chalice_app.ssm import read_secret

PACE_SECONDS = 1.0
THREAD_TTL_SECONDS = 14 * 24 * 3600
THREAD_ID_PREFIX = "thread#"
REQUEST_TIMEOUT_SECONDS = 10
# Whitespace, control characters or non-ASCII in a webhook URL (a pasted newline, a smart quote) would make
# urllib raise an error that quotes the URL; refuse such a URL up front instead.
_UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f]|[^\x00-\x7f]")

# slack_sdk logs full request URLs (the webhook secret) when it retries; give it a logger that says nothing.
_SDK_LOGGER = logging.getLogger("costguard_slack_sdk_silenced")
_SDK_LOGGER.propagate = False
_SDK_LOGGER.disabled = True


class SlackDeliveryError(CostguardError):
    """Slack did not accept the message after the retries; the message says why, never where it was sent."""


@dataclass(frozen=True)
class SendResult:
    via: str  # "webhook" or "bot"
    ts: str | None = None  # bot only: the posted message's id
    thread_ts: str | None = None  # bot only: the thread it was posted in, if any
    channel: str | None = None


class Notifier(Protocol):
    def send(self, message: SlackMessage) -> SendResult: ...


# slack_sdk's defaults retry only URLError/ConnectionReset/RemoteDisconnected; a read that times out raises a bare
# TimeoutError (socket.timeout), which a spot warning with two minutes of life cannot afford to give up on.
RETRIED_CONNECTION_ERRORS = [URLError, ConnectionError, RemoteDisconnected, TimeoutError]
# slack_sdk's ServerErrorRetryHandler covers 500/503 only; 502/504 are the load balancer's transient answers.
RETRIED_SERVER_STATUSES = frozenset({500, 502, 503, 504})


class TransientServerErrorRetryHandler(ServerErrorRetryHandler):
    """ServerErrorRetryHandler (with its backoff) for gateway errors too."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code in RETRIED_SERVER_STATUSES


def retry_handlers(rate_limited: int = 3, server_errors: int = 2, connection_errors: int = 2) -> list[RetryHandler]:
    return [
        RateLimitErrorRetryHandler(max_retry_count=rate_limited),
        TransientServerErrorRetryHandler(max_retry_count=server_errors),
        ConnectionErrorRetryHandler(max_retry_count=connection_errors, error_types=RETRIED_CONNECTION_ERRORS),
    ]


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a webhook URL or token, safe to log."""
    return hashlib.sha256(secret.encode()).hexdigest()[:10]


def pause_before_next(last_finished: float | None, now: float, interval: float) -> float:
    """Seconds to wait so that a post starts at least `interval` after the previous one to the same place."""
    if last_finished is None:
        return 0.0
    return max(0.0, interval - (now - last_finished))


class Pacer:
    """Spaces posts per destination; measured from when the previous post finished, as Slack counts arrivals."""

    def __init__(self, interval: float = PACE_SECONDS, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._finished: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def wait(self, key: str) -> None:
        pause = pause_before_next(self._finished.get(key), self._clock(), self.interval)
        if pause:
            self._sleep(pause)

    def finished(self, key: str) -> None:
        self._finished[key] = self._clock()


_SHARED_PACER = Pacer()


class WebhookNotifier:
    """Posts to one incoming webhook. A webhook cannot thread: features name the thread key in the text."""

    def __init__(self, url: str, pacer: Pacer | None = None, handlers: list[RetryHandler] | None = None):
        if not url.startswith(("https://", "http://")):
            raise ConfigError("Slack webhook URL: expected an http(s) URL (value not shown)")
        if _UNSAFE_URL_CHARACTERS.search(url):
            raise ConfigError("Slack webhook URL: contains whitespace, control or non-ASCII characters "
                              "(value not shown)")
        self._client = WebhookClient(url, timeout=REQUEST_TIMEOUT_SECONDS, logger=_SDK_LOGGER,
                                     retry_handlers=handlers if handlers is not None else retry_handlers())
        self._key = "webhook:" + fingerprint(url)
        self._pacer = pacer or _SHARED_PACER

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


class ThreadStore(Protocol):
    def get(self, key: str, channel: str) -> str | None: ...

    def put(self, key: str, channel: str, ts: str) -> None: ...


class DynamoThreadStore:
    """Thread roots in the stage table as `thread#<key>` items, expiring after `ttl_seconds` (TTL `expiration`)."""

    def __init__(self, table_name: str, client=None, ttl_seconds: int = THREAD_TTL_SECONDS,
                 clock: Callable[[], float] = time.time):
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._ttl = ttl_seconds
        self._clock = clock

    def get(self, key: str, channel: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key={"id": {"S": THREAD_ID_PREFIX + key}},
                                     ConsistentRead=True).get("Item")
        if not item or item.get("channel", {}).get("S") != channel:
            return None
        if int(item.get("expiration", {}).get("N", "0")) <= self._clock():
            return None  # TTL deletion is lazy; an expired root is treated as gone
        return item["ts"]["S"]

    def put(self, key: str, channel: str, ts: str) -> None:
        item = {
            "id": {"S": THREAD_ID_PREFIX + key},
            "channel": {"S": channel},
            "ts": {"S": ts},
            "expiration": {"N": str(int(self._clock()) + self._ttl)},
        }
        try:
            # First writer wins, so concurrent containers agree on one thread per key.
            self._client.put_item(TableName=self._table, Item=item,
                                  ConditionExpression="attribute_not_exists(id) OR #expiration < :now",
                                  ExpressionAttributeNames={"#expiration": "expiration"},
                                  ExpressionAttributeValues={":now": {"N": str(int(self._clock()))}})
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def thread_for(keys: tuple[str, ...], known: Callable[[str], str | None]) -> str | None:
    """The thread root of the first key that has one."""
    for key in keys:
        ts = known(key)
        if ts:
            return ts
    return None


class BotNotifier:
    """Posts with a bot token through `chat.postMessage`, threading messages that share a thread key."""

    def __init__(self, token: str, channel: str, base_url: str | None = None, thread_store: ThreadStore | None = None,
                 pacer: Pacer | None = None, handlers: list[RetryHandler] | None = None):
        if not channel:
            raise ConfigError("Slack bot notifier: a channel is required (COSTGUARD_SLACK_CHANNEL)")
        options = {"base_url": base_url} if base_url else {}
        self._client = WebClient(token=token, timeout=REQUEST_TIMEOUT_SECONDS, logger=_SDK_LOGGER,
                                 retry_handlers=handlers if handlers is not None else retry_handlers(), **options)
        self.channel = channel
        self._store = thread_store
        self._threads: dict[str, str] = {}
        self._key = "channel:" + channel
        self._pacer = pacer or _SHARED_PACER

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


def _secret(name: str, settings: Settings) -> str:
    return read_secret(name, settings)  # i15-aws: the one SSM reader is chalice_app/ssm.py


def notifier_from_settings(settings: Settings, api_base_url: str | None = None,
                           dynamodb_client=None) -> Notifier | None:
    """The stage's notifier: a webhook if configured, else a bot token; None when Slack is off."""
    if settings.slack_webhook_parameter:
        return WebhookNotifier(_secret(settings.slack_webhook_parameter, settings))
    if settings.slack_bot_token_parameter:
        if not settings.slack_channel:
            raise ConfigError("COSTGUARD_SLACK_CHANNEL: required when COSTGUARD_SLACK_BOT_TOKEN_PARAMETER is set")
        store = DynamoThreadStore(settings.table_name, client=dynamodb_client or
                                  boto3.client("dynamodb", region_name=settings.region))
        return BotNotifier(_secret(settings.slack_bot_token_parameter, settings), settings.slack_channel,
                           base_url=api_base_url or settings.slack_api_base_url, thread_store=store)
    return None
