"""Lambda entry for the budget, every 15 minutes: meter spend, keep NodePool limits within the SSM budget, alert.

A missing or invalid document, or prices that cannot be had, are reported (log and Slack) and no NodePool is
touched; so is any unexpected error while reading (AWS or Kubernetes), which then fails the invocation. One pool's
failure while applying is recorded and the others go on. Everything the run decided is returned and recorded in the run log for `costguard status`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from aws_lambda_powertools.metrics import MetricUnit

from chalice_app.budget.ports import BudgetPorts
from chalice_app.budget.document import BudgetDocumentError
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.prices import PriceUnavailable
from chalice_app.budget.service import apply_plan, gather_plan, load_document, report_problem
from chalice_app.config import Settings, settings as current_settings
from chalice_app.failed_run import settings_and_ports
from chalice_app.observability import instrumented, logger, metrics
from chalice_app.runlog import record_run_quietly


def run(settings: Settings, now: datetime, ports: BudgetPorts) -> dict:
    """One reconcile over `ports` (the stage's: BudgetPorts.from_settings; tests and the sandbox give their own)."""
    session, ledger, cluster, notifier = ports.session, ports.ledger, ports.cluster, ports.notifier
    try:
        document = load_document(settings, ports.document_session)
        plan = gather_plan(settings, document, now, cluster, session, ledger, ports.prices, ports.ce_client)
    except (BudgetDocumentError, PriceUnavailable) as problem:
        report_problem(str(problem), now, ledger, notifier)
        summary = {"applied": False, "problem": str(problem)}
        record_run_quietly(settings.table_name, "budget", summary, ok=False, alerts=[str(problem)], session=session)
        return summary
    except Exception as error:
        _report_failed_run(error, settings, now, ledger, notifier, session)
        raise  # the invocation shows as failed
    # apply_plan isolates each pool's failure; what it still raises is Slack being down: the run log says so
    try:
        outcome = apply_plan(plan, settings, cluster, ledger, notifier)
    except Exception as error:
        _report_failed_run(error, settings, now, ledger, notifier, session)
        raise
    summary = {
        "applied": True, "ok": not outcome.failures, "failures": outcome.failures,
        "period": plan.period, "mode": plan.mode, "dry_run": settings.dry_run,
        "patched": outcome.patched, "skipped": outcome.skipped, "unbudgeted": list(plan.unbudgeted),
        "absent": list(plan.absent), "alerts": [a.kind for a in outcome.alerts],
        "pools": {p.pool: p.status for p in plan.pools},
    }
    metrics.add_metric(name="BudgetLimitPatches", unit=MetricUnit.Count, value=len(outcome.patched))
    metrics.add_metric(name="BudgetAlerts", unit=MetricUnit.Count, value=len(outcome.alerts))
    logger.info("budget run", extra={"budget": summary})
    record_run_quietly(settings.table_name, "budget", summary, ok=not outcome.failures,
                       alerts=[a.text for a in outcome.alerts], session=session)
    return summary


def _report_failed_run(error: Exception, settings: Settings, now: datetime, ledger: Ledger, notifier,
                       session) -> None:
    """An unexpected error (AWS or Kubernetes down, a bug): Slack once a day through report_problem, and the run log."""
    problem = f"budget run failed: {type(error).__name__}: {error}"[:500]
    try:
        report_problem(problem, now, ledger, notifier)
    except Exception:  # noqa: BLE001 - the original error is the one to raise
        logger.exception("could not report the failed budget run")
    record_run_quietly(settings.table_name, "budget", {"applied": False, "problem": problem}, ok=False,
                       alerts=[problem], session=session)


@instrumented(correlation_id_path="id")
def handle(event: dict, context) -> dict:
    settings, ports = settings_and_ports("budget", current_settings, BudgetPorts.from_settings)
    return run(settings, datetime.now(timezone.utc), ports)
