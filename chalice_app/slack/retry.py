"""slack_sdk's own retry handlers, widened to the transient failures a two-minute spot warning cannot give up on,
and the silenced logger the SDK clients get (slack_sdk logs full request URLs, i.e. the webhook secret, on retries).
"""
from __future__ import annotations

import logging
from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

REQUEST_TIMEOUT_SECONDS = 10

# slack_sdk logs full request URLs (the webhook secret) when it retries; give it a logger that says nothing.
SDK_LOGGER = logging.getLogger("costguard_slack_sdk_silenced")
SDK_LOGGER.propagate = False
SDK_LOGGER.disabled = True

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
