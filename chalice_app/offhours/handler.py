"""Lambda entry for off-hours, every 5 minutes: converge function replicas and NodePool limits on their schedules.

Returns the run's counts; sends a Slack summary when something changed or failed, and an alert when the per-run
cap held changes back. Everything is logged and recorded in the run log for `costguard status`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3

from aws_lambda_powertools.metrics import MetricUnit

from chalice_app.config import Settings, settings as current_settings
from chalice_app.errors import CostguardError
from chalice_app.failed_run import report_failed_run, settings_and_ports
from chalice_app.observability import instrumented, logger, metrics
from chalice_app.offhours.planner import Kind
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler, RunReport
from chalice_app.offhours.nodes import priced
from chalice_app.offhours.report import cap_alert, held_note, nodes_note, summary_message
from chalice_app.runlog import record_run_quietly


def summarize(report: RunReport) -> dict:
    return {
        "dry_run": report.dry_run, "counts": report.counts, "capped": report.plan.capped,
        "scaled_down": len(report.applied(Kind.SCALE_DOWN)), "restored": len(report.applied(Kind.RESTORE)),
        "restored_from_annotation": [f"{a.namespace}/{a.name} → {a.desired}" + (f" (capped from {a.capped_from})"
                                                                                 if a.capped_from else "")
                                     for a in report.applied(Kind.RESTORE) if a.unrecorded][:50],
        "released": len(report.applied(Kind.RELEASE)), "reparked": len(report.applied(Kind.REPARK)),
        "awake": [f"{a.namespace}/{a.name}" for a in report.plan.of(Kind.AWAKE)][:50],
        "held": [f"{a.namespace}/{a.name}" for a in report.plan.of(Kind.HOLD)][:50],
        "held_because": sorted({a.reason.split(": ", 1)[-1] for a in report.plan.of(Kind.HOLD)}),
        "gitops": sorted({f"{a.namespace}/{a.name}: {a.gitops}" for a in report.plan.changes if a.gitops})[:50],
        "openfaas": f"{report.capabilities.edition}"
                    f"{' maintainMinimumReplicas' if report.capabilities.maintain_minimum_replicas else ''} "
                    f"({report.capabilities.source})",
        "notes": report.notes,
        "nodes_staying": [stay.line() for stay in report.nodes][:50],
        "nodeclaims_deleted": [deletion.line() for deletion in report.deleted_nodeclaims][:50],
        "nodepools": {action.name: action.kind if error is None else f"error: {error}"
                      for action, error in report.nodepools if action.kind != "skip"},
        "errors": [f"{where}: {message}" for where, message in report.errors][:50],
    }


def run(settings: Settings, now: datetime, ports: OffhoursPorts, config: OffhoursConfig | None = None) -> dict:
    """One reconcile over `ports` (the stage's: OffhoursPorts.from_settings); `config` may be given (tests,
    benchmarks), else from the settings. A run that fails as a whole is reported (run log, Slack), then raised."""
    try:
        summary, read_errors = _run(settings, now, ports, config)
    except Exception as error:
        report_failed_run("offhours", error, settings.table_name, ports.notifier, session=ports.session)
        raise
    if read_errors:  # reported in the summary (Slack, run log) already; raised so the errors alarm fires
        raise OffhoursRunFailed("; ".join(f"{where}: {message}" for where, message in read_errors)[:1000])
    return summary


class OffhoursRunFailed(CostguardError):
    """The run could read nothing to act on (the stage table, or no function namespace): its summary says why."""


def _failed_whole(report: RunReport, namespaces: int) -> list[tuple[str, str]]:
    """The read errors when the run failed as a whole; [] when some of it could run (a missing namespace, the
    NodePools list: reported in the summary, the rest reconciled)."""
    places = [where for where, _ in report.read_errors]
    unread = sum(where.startswith("namespace ") for where in places)
    return report.read_errors if "stage table" in places or (namespaces and unread >= namespaces) else []


def _run(settings: Settings, now: datetime, ports: OffhoursPorts,
         config: OffhoursConfig | None) -> tuple[dict, list[tuple[str, str]]]:
    store, notifier = ports.store, ports.notifier
    # The instance catalog (ec2:DescribeInstanceTypes) is read only when an already parked pool needs a night
    # allowance: moto answers it in 5-15 s on the shared cores (~900 types in two large XML pages, ~3 s of botocore
    # parsing), once per cold container (cached for 12 h, as for the savings ledger).
    config = config or OffhoursConfig.from_settings(settings)
    report = Reconciler(ports.cluster, config, store=store,
                        catalog=ports.catalog).run(now)
    if report.nodes:
        report.nodes = _priced(report.nodes, settings, now, ports.prices)
    summary = summarize(report)
    if ports.stage_api is not None:  # warm headroom follows the pools' parking: after off-hours' own writes
        summary["headroom"] = _headroom(ports.stage_api, settings, now, report.dry_run)
    message = summary_message(report)
    if ports.stage_api is not None:  # savings are booked for the stage's own cluster and table
        # After the plan: the savings books through the budget's metering, which the reconcile itself never needs.
        from chalice_app.savings.hook import after_offhours_run

        message = after_offhours_run(settings, report, now, message, api=ports.stage_api, listed=ports.listed)
    messages = [message for message in (cap_alert(report), message) if message]
    # Once a day (a dry run sends none): what cannot be parked, and why.
    # The nodes note once a night (keyed on the evening's date, so one note spans midnight).
    night = now - timedelta(hours=12)
    daily = [] if report.dry_run else [
        (key, at, message) for key, at, message in (("held", now, held_note(report)), ("nodes", night, nodes_note(report)))
        if message and _claim(store, key, at)]
    for key, at, message in [(None, now, message) for message in messages] + daily:
        try:
            notifier.send(message)
        except Exception:  # noqa: BLE001 - a Slack outage must not undo or fail the reconcile
            logger.exception("could not send the off-hours message to Slack")
            if key is not None:
                _release(store, key, at)  # the next run tries again: a note is never lost
    messages += [message for _, _, message in daily]
    if not report.dry_run:  # in a dry run the counts say what would have happened
        metrics.add_metric(name="OffhoursScaledDown", unit=MetricUnit.Count, value=summary["scaled_down"])
        metrics.add_metric(name="OffhoursRestored", unit=MetricUnit.Count, value=summary["restored"])
    metrics.add_metric(name="OffhoursErrors", unit=MetricUnit.Count, value=len(report.errors))
    logger.info("offhours run", extra={"offhours": summary})
    alerts = [message.text for message in messages if message.text.startswith(":warning:")]
    record_run_quietly(settings.table_name, "offhours", summary, ok=not report.errors, alerts=alerts,
                       session=ports.session)
    return summary, _failed_whole(report, len(config.namespaces))


def _headroom(api, settings: Settings, now: datetime, dry_run: bool) -> dict:
    from chalice_app.headroom import service  # only the off-hours Lambda needs it
    from chalice_app.headroom.cluster import HeadroomCluster
    from chalice_app.headroom.planner import Policy

    try:
        return service.reconcile(HeadroomCluster(api), Policy.from_settings(settings), now, dry_run).summary()
    except Exception as error:  # noqa: BLE001 - headroom is extra: its failure must not fail the off-hours run
        logger.exception("headroom run failed")
        return {"errors": [f"headroom: {type(error).__name__}: {error}"]}


def _priced(stays, settings: Settings, now: datetime, prices=None):
    """The staying nodes with the budget feature's hourly prices; unpriced when prices cannot be had."""
    try:
        if prices is None:
            from chalice_app.budget.aws_prices import PriceSource  # only when nodes stay: keeps cold starts small
            from chalice_app.budget.ledger import Ledger

            session = boto3.session.Session()
            source = PriceSource(session, settings.region, Ledger(settings.table_name, session))
            prices = lambda on_demand, spot: source.price_book(on_demand, spot, now)  # noqa: E731
        book = prices({s.instance_type for s in stays if s.capacity_type != "spot"},
                      {s.instance_type for s in stays if s.capacity_type == "spot"})
        return priced(stays, book)
    except Exception:  # noqa: BLE001 - a price is a nicety: the nodes are reported without it
        logger.exception("could not price the nodes parked pools still run")
        return stays


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
    settings, ports = settings_and_ports("offhours", current_settings, OffhoursPorts.from_settings)
    return run(settings, datetime.now(timezone.utc), ports)
