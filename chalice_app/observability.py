"""Powertools Logger (JSON, correlation id), Metrics (EMF) and Tracer, shared by every handler."""
from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "costguard"
NAMESPACE = "Costguard"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Only AWS calls are traced: patching the HTTP libraries would record every URL, and a Slack webhook's URL is
# its secret. Kubernetes calls are covered by the handler's own segment.
tracer = Tracer(service=SERVICE, patch_modules=("boto3", "botocore"))

Handler = Callable[[dict, Any], Any]


def instrumented(correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """Wrap a raw Lambda handler (event dict, context) with logging context, EMF flushing and tracing.

    `correlation_id_path` is a JMESPath into the event (e.g. "id" for EventBridge/scheduled events).
    """

    def decorate(handler: Handler) -> Handler:
        traced = tracer.capture_lambda_handler(handler, capture_response=False)
        flushed = metrics.log_metrics(traced)
        logged = logger.inject_lambda_context(flushed, correlation_id_path=correlation_id_path, clear_state=True)

        @functools.wraps(handler)
        def run(event: dict, context: Any) -> Any:
            return logged(event, context)

        return run

    return decorate
