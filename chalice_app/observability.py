"""Powertools Logger (JSON, correlation id), Metrics (EMF) and Tracer, shared by every handler."""
from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "costguard"
NAMESPACE = "Costguard"
# Emitted once per successful run, with the handler's name as dimension `function`; alarms treat its absence as a
# failure (chalice_app.provisioning.alarms).
HEARTBEAT_METRIC = "Heartbeat"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_tracers: list = []


def _tracer():
    """The Tracer, made on the first invocation: making it loads and patches the X-Ray SDK (~0.25 s), which
    no import of a handler needs to pay for (benchmarks/bench_cold_start.py).

    Only AWS calls are traced: patching the HTTP libraries would record every URL, and a Slack webhook's URL is
    its secret. Kubernetes calls are covered by the handler's own segment."""
    if not _tracers:
        from aws_lambda_powertools import Tracer

        _tracers.append(Tracer(service=SERVICE, patch_modules=("boto3", "botocore")))
    return _tracers[0]


def __getattr__(name: str) -> Any:
    if name == "tracer":  # `from chalice_app.observability import tracer` still works, and makes it
        return _tracer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

Handler = Callable[[dict, Any], Any]


def function_of(handler: Handler) -> str:
    """`chalice_app.offhours.handler` -> `offhours`: the app.py handler name a feature's handler module serves."""
    parts = handler.__module__.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "chalice_app" else handler.__name__


def with_heartbeat(handler: Handler) -> Handler:
    """Every metric of the run carries dimension `function`; a run that returns adds one `Heartbeat`."""
    function = function_of(handler)

    @functools.wraps(handler)
    def run(event: dict, context: Any) -> Any:
        metrics.add_dimension(name="function", value=function)
        result = handler(event, context)
        metrics.add_metric(name=HEARTBEAT_METRIC, unit=MetricUnit.Count, value=1)
        return result

    return run


def instrumented(correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """Wrap a raw Lambda handler (event dict, context) with logging context, EMF flushing (with a heartbeat per
    successful run) and tracing.

    `correlation_id_path` is a JMESPath into the event (e.g. "id" for EventBridge/scheduled events).
    """

    def decorate(handler: Handler) -> Handler:
        wrapped: list[Handler] = []  # built on the first call, with the Tracer

        @functools.wraps(handler)
        def run(event: dict, context: Any) -> Any:
            if not wrapped:
                traced = _tracer().capture_lambda_handler(with_heartbeat(handler), capture_response=False)
                flushed = metrics.log_metrics(traced)
                wrapped.append(logger.inject_lambda_context(flushed, correlation_id_path=correlation_id_path,
                                                            clear_state=True))
            return wrapped[0](event, context)

        return run

    return decorate
