"""A run that fails as a whole (Kubernetes or the table unreachable, settings broken, a bug) is still seen: one run-log
line for `costguard status` and one Slack message naming the failure, after which the handler raises so the
function's errors alarm fires (issue 12). Both are best effort: the failure being reported is what the Lambda raises.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypeVar

from chalice_app.counts import shown

if TYPE_CHECKING:
    from chalice_app.config import Settings
    from chalice_app.slack.port import Notifier

T = TypeVar("T")
MAX_SALVAGE_ROUNDS = 8


def failure_text(feature: str, error: BaseException) -> str:
    """One bounded line: which run failed and why (the error's text shortened, never a traceback)."""
    return f"{feature} run failed: {type(error).__name__}: {shown(str(error), 300)}"


def report_failed_run(feature: str, error: BaseException, table_name: str | None, notifier: Notifier | None,
                      session=None) -> str:
    """Slack once and the run log; returns the text."""
    from chalice_app.observability import logger
    from chalice_app.runlog import record_run_quietly
    from chalice_app.slack.message import SlackMessage
    from chalice_app.slack.text import escape_mrkdwn

    problem = failure_text(feature, error)
    logger.error("run failed", extra={"feature": feature, "problem": problem})
    if notifier is not None:
        try:
            notifier.send(SlackMessage(text=f":x: costguard {escape_mrkdwn(problem)}",
                                       thread_keys=(f"{feature}-failed",)))
        except Exception:  # noqa: BLE001 - Slack may be what failed; the raise after this is the alarm
            logger.exception("could not send the failed run to Slack", extra={"feature": feature})
    if table_name:
        record_run_quietly(table_name, feature, {"failed": problem}, ok=False, alerts=[problem], session=session)
    return problem


def salvaged_settings(environ: dict[str, str] | None = None) -> Settings | None:
    """The settings without the variables that fail validation, so the failure can still reach the table and Slack;
    None when even that cannot be built (a required variable broken)."""
    from pydantic import ValidationError

    from chalice_app.config import Settings, setting_values

    values = setting_values(environ)
    for _ in range(MAX_SALVAGE_ROUNDS):
        try:
            return Settings.model_validate(values)
        except ValidationError as error:
            broken = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            if not broken & set(values):
                return None  # a required variable is missing: nothing left to drop
            for name in broken:
                values.pop(name, None)
    return None


def settings_and_ports(feature: str, load: Callable[[], Settings], build: Callable[[Settings], T],
                       environ: dict[str, str] | None = None) -> tuple[Settings, T]:
    """The handler's settings and ports; when either cannot be had, the failure is reported and raised."""
    try:
        settings = load()
    except Exception as error:
        from chalice_app.slack.notifier import LazyNotifier  # only on failure: Slack is built from what is left

        fallback = salvaged_settings(environ)
        report_failed_run(feature, error, fallback.table_name if fallback else None,
                          LazyNotifier(fallback) if fallback else None)
        raise
    try:
        return settings, build(settings)
    except Exception as error:
        from chalice_app.slack.notifier import LazyNotifier

        report_failed_run(feature, error, settings.table_name, LazyNotifier(settings))
        raise
