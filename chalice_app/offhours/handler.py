"""Lambda entry for off-hours, every 5 minutes: converge function replicas and NodePool limits on their schedules.

Returns the run's counts; sends a Slack summary when something changed or failed, and an alert when the per-run
cap held changes back. Everything is logged and recorded in the run log for `costguard status`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from aws_lambda_powertools.metrics import MetricUnit

from chalice_app.config import Settings, settings as current_settings
from chalice_app.kube.client import api_client
from chalice_app.observability import instrumented, logger, metrics
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.parked import DynamoParkedStore
from chalice_app.offhours.planner import Kind
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler, RunReport
from chalice_app.offhours.report import cap_alert, held_note, summary_message
from chalice_app.runlog import record_run_quietly
from chalice_app.slack.notifier import notifier_from_settings

_FROM_SETTINGS = object()


def summarize(report: RunReport) -> dict:
    return {
        "dry_run": report.dry_run, "counts": report.counts, "capped": report.plan.capped,
        "scaled_down": len(report.applied(Kind.SCALE_DOWN)), "restored": len(report.applied(Kind.RESTORE)),
        "released": len(report.applied(Kind.RELEASE)), "reparked": len(report.applied(Kind.REPARK)),
        "awake": [f"{a.namespace}/{a.name}" for a in report.plan.of(Kind.AWAKE)][:50],
        "held": [f"{a.namespace}/{a.name}" for a in report.plan.of(Kind.HOLD)][:50],
        "held_because": sorted({a.reason.split(": ", 1)[-1] for a in report.plan.of(Kind.HOLD)}),
        "gitops": sorted({f"{a.namespace}/{a.name}: {a.gitops}" for a in report.plan.changes if a.gitops})[:50],
        "openfaas": f"{report.capabilities.edition}"
                    f"{' maintainMinimumReplicas' if report.capabilities.maintain_minimum_replicas else ''} "
                    f"({report.capabilities.source})",
        "notes": report.notes,
        "nodepools": {action.name: action.kind if error is None else f"error: {error}"
                      for action, error in report.nodepools if action.kind != "skip"},
        "errors": [f"{where}: {message}" for where, message in report.errors][:50],
    }


def run(settings: Settings, now: datetime, cluster=None, notifier=_FROM_SETTINGS,
        config: OffhoursConfig | None = None, store=None) -> dict:
    """One reconcile; `cluster`, `notifier`, `config` and `store` may be given (tests, benchmarks), else from the
    settings (the store: the stage's DynamoDB table)."""
    cluster = cluster or OffhoursCluster(api_client(settings))
    notifier = notifier_from_settings(settings) if notifier is _FROM_SETTINGS else notifier
    store = store or DynamoParkedStore(settings.table_name, region=settings.region)
    report = Reconciler(cluster, config or OffhoursConfig.from_settings(settings), store=store).run(now)
    summary = summarize(report)
    messages = [message for message in (cap_alert(report), summary_message(report)) if message]
    # Once a day (a dry run sends none): what cannot be parked, and why.
    daily = [] if report.dry_run else [(key, message) for key, message in (("held", held_note(report)),)
                                       if message and _claim(store, key, now)]
    for key, message in [(None, message) for message in messages] + daily:
        if notifier is None:
            logger.info("slack not configured", extra={"message": message.text})
            continue
        try:
            notifier.send(message)
        except Exception:  # noqa: BLE001 - a Slack outage must not undo or fail the reconcile
            logger.exception("could not send the off-hours message to Slack")
            if key is not None:
                _release(store, key, now)  # the next run tries again: a note is never lost
    messages += [message for _, message in daily]
    if not report.dry_run:  # in a dry run the counts say what would have happened
        metrics.add_metric(name="OffhoursScaledDown", unit=MetricUnit.Count, value=summary["scaled_down"])
        metrics.add_metric(name="OffhoursRestored", unit=MetricUnit.Count, value=summary["restored"])
    metrics.add_metric(name="OffhoursErrors", unit=MetricUnit.Count, value=len(report.errors))
    logger.info("offhours run", extra={"offhours": summary})
    alerts = [message.text for message in messages if message.text.startswith(":warning:")]
    record_run_quietly(settings.table_name, "offhours", summary, ok=not report.errors, alerts=alerts)
    return summary


def _claim(store, key: str, now: datetime) -> bool:
    try:
        return store.claim_note(key, now)
    except Exception:  # noqa: BLE001 - without the table the note is sent (possibly twice) rather than lost
        logger.exception("could not claim the daily off-hours note")
        return True


def _release(store, key: str, now: datetime) -> None:
    try:
        store.release_note(key, now)
    except Exception:  # noqa: BLE001
        logger.exception("could not release the daily off-hours note")


@instrumented(correlation_id_path="id")
def handle(event: dict, context) -> dict:
    return run(current_settings(), datetime.now(timezone.utc))
