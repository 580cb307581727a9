"""The imperative shell of the budget: read the document, the cluster and the prices, plan, then carry the plan out.

`gather_plan` only reads (the CLI's `budget plan` uses it); `apply_plan` writes the ledger, patches NodePools in
enforce mode and sends the alerts the ledger lets this run send.
"""
from __future__ import annotations

import zlib
from typing import Collection, Protocol
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from kubernetes.client.exceptions import ApiException

from chalice_app import naming
from chalice_app.budget.alerts import Alert, newest_first
from chalice_app.budget.aws_prices import PriceSource, instance_catalog
from chalice_app.budget.catalog import allowed_instance_types, capacity_types, requirements_of
from chalice_app.budget.ports import BudgetClusterPort
from chalice_app.budget.costexplorer import CE_REGION, CostExplorerSource
from chalice_app.budget.document import (BudgetDocument, BudgetDocumentError, parse_budget, period_bounds, period_key,
                                         previous_period_bounds)
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.metering import RunningNode, running_nodes
from chalice_app.budget.nodeclass import costs_by_name
from chalice_app.budget.planner import BudgetPlan, PoolPlan, functions_driving, plan_budget, status_patch
from chalice_app.budget.prices import PriceUnavailable
from chalice_app.budget.reconcile import reconcile_rows
from chalice_app.budget.report import budget_message, problem_message
from chalice_app.config import Settings
from chalice_app.observability import logger
from chalice_app.slack.message import SlackMessage
from chalice_app.ssm import ParameterError, read_parameter

PROBLEM_PERIOD = "problems"  # ledger namespace for "budget not applied" alerts: once per day per distinct problem


def parameter_name(settings: Settings) -> str:
    return settings.budget_parameter or naming.budget_parameter(settings.stage)


def load_document(settings: Settings, session: boto3.session.Session | None = None) -> BudgetDocument:
    """The budget document from SSM (String or SecureString), validated; BudgetDocumentError says what is wrong.

    Without a session, Powertools' default provider reads it and caches it for the Lambda container."""
    name = parameter_name(settings)
    try:
        text = read_parameter(name, settings, session)
    except ParameterError as error:
        raise BudgetDocumentError(str(error)) from None
    return parse_budget(text, source=f"SSM parameter {name}")


class BudgetedPools(Protocol):
    """What priced_types reads of a budget document (savings passes just the pool names)."""

    @property
    def nodepools(self) -> Collection[str]: ...


def priced_types(document: BudgetedPools, nodepools: list[dict], running: list[RunningNode], catalog) -> tuple[set, set]:
    """The instance types whose on-demand and spot prices this run needs (running nodes and budgeted pools' choice)."""
    on_demand = {n.instance_type for n in running if n.capacity_type != "spot"}
    spot = {n.instance_type for n in running if n.capacity_type == "spot"}
    for pool in nodepools:
        if pool["metadata"]["name"] not in document.nodepools:
            continue
        try:
            kinds = capacity_types(requirements_of(pool))
            names = {t.name for t in allowed_instance_types(pool, catalog)}
        except Exception:  # noqa: BLE001 - the planner reports that pool's malformed fields; the others are priced
            continue
        if "spot" in kinds:
            spot |= names
        if "on-demand" in kinds or "reserved" in kinds:  # reservations are billed at the on-demand rate
            on_demand |= names
    return on_demand, spot


def gather_plan(settings: Settings, document: BudgetDocument, now: datetime, cluster: BudgetClusterPort,
                session: boto3.session.Session, ledger: Ledger | None, prices: PriceSource | None = None,
                ce_client=None) -> BudgetPlan:
    """Everything read, nothing written (except the price cache). Raises PriceUnavailable when prices are lacking."""
    nodepools = cluster.nodepools()
    nodeclasses = costs_by_name(cluster.nodeclasses())
    catalog = instance_catalog(session, settings.region)
    running = running_nodes(cluster.nodeclaims(), cluster.nodes(), {t.name: t for t in catalog},
                            {name: costs.volumes for name, costs in nodeclasses.items()})
    on_demand, spot = priced_types(document, nodepools, running, catalog)
    volume_types = {kind for costs in nodeclasses.values() for kind, _ in costs.volumes}
    book = (prices or PriceSource(session, settings.region, ledger)).price_book(on_demand, spot, now, volume_types)
    period = period_key(document.period, now)
    pools = [p["metadata"]["name"] for p in nodepools if p["metadata"]["name"] in document.nodepools]
    entries = ledger.entries(period, pools) if ledger else {}
    # the previous period's entries, for the first run after its end to book its last slice
    previous = ledger.entries(period_key(document.period, previous_period_bounds(document.period, now)[0]),
                              [p for p in pools if entries[p].metered_at is None]) if ledger else {}
    closed = closed_costs(document, session, ledger, period, now, ce_client) if document.cost_explorer else None
    from chalice_app.headroom.policy import Policy as HeadroomPolicy  # settings only: no schedules loaded

    parked = ledger.parked_by_offhours(pools) if ledger else set()
    return plan_budget(document, nodepools, running, entries, catalog, book, now, closed, nodeclasses, previous,
                       HeadroomPolicy.from_settings(settings), parked)


def closed_costs(document: BudgetDocument, session: boto3.session.Session, ledger: Ledger | None, period: str,
                 now: datetime, client=None) -> dict[str, dict[str, float]] | None:
    """Cost Explorer's closed days; None (metering only, with a warning) when it cannot be asked."""
    start, _ = period_bounds(document.period, now)
    source = CostExplorerSource(client or session.client("ce", region_name=CE_REGION), ledger)
    try:
        return source.closed(period, start, now)
    except (ClientError, BotoCoreError, PriceUnavailable) as error:
        logger.warning("Cost Explorer unavailable: metering only", extra={"error": str(error)})
        return None


def metered_by_day(ledger: Ledger, document: BudgetDocument, first: datetime, end: datetime) -> dict[str, dict]:
    """NodePool → {day: USD metered} over [first, end), from the ledger entries of every period it touches."""
    periods, moment = set(), first
    while moment < end:
        periods.add(period_key(document.period, moment))
        moment += timedelta(days=1)
    metered: dict[str, dict[str, float]] = {}
    wanted = {f"{first + timedelta(days=i):%Y-%m-%d}" for i in range((end - first).days)}
    for period in sorted(periods):
        for pool, entry in ledger.entries(period, sorted(document.nodepools)).items():
            for day, amount in entry.daily.items():
                if day in wanted:
                    metered.setdefault(pool, {})[day] = metered.get(pool, {}).get(day, 0.0) + amount
    return metered


def reconcile_report(settings: Settings, document: BudgetDocument, now: datetime, days: int,
                     session: boto3.session.Session, ce_client=None) -> list:
    """Metered against billed for the last `days` days Cost Explorer may have closed (reconcile.reconcile_rows)."""
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = end - timedelta(days=days)
    metered = metered_by_day(Ledger(settings.table_name, session), document, first, end)
    source = CostExplorerSource(ce_client or session.client("ce", region_name=CE_REGION))
    return reconcile_rows(metered, source.between(first.date(), end.date()))


@dataclass
class ApplyOutcome:
    patched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # another run metered first, or the NodePool changed under us
    alerts: list[Alert] = field(default_factory=list)
    message: SlackMessage | None = None
    failures: list[str] = field(default_factory=list)


def apply_plan(plan: BudgetPlan, settings: Settings, cluster: BudgetClusterPort, ledger: Ledger,
               notifier) -> ApplyOutcome:
    outcome = ApplyOutcome()
    enforce = plan.mode == "enforce" and not settings.dry_run
    due: list[Alert] = []
    for pool in plan.pools:
        try:
            _apply_pool(pool, plan, enforce, cluster, ledger, outcome, due)
        except Exception as error:  # noqa: BLE001 - one pool's failure must not stop the others
            logger.exception("budget pool not applied", extra={"pool": pool.pool})
            outcome.failures.append(f"{pool.pool}: {type(error).__name__}: {error}")
            outcome.skipped.append(pool.pool)
    outcome.alerts = newest_first(due)
    earlier = _pending(ledger)
    if outcome.failures:
        outcome.alerts.append(Alert("-", "error", "NodePools not applied: " + "; ".join(outcome.failures)))
    if not outcome.alerts and not earlier:
        return outcome
    outcome.alerts = earlier + outcome.alerts
    drivers = {}
    over = [a.pool for a in outcome.alerts if a.kind == "over-limit"]
    if over:
        try:
            pods = cluster.pods(settings.function_namespaces)
        except Exception:  # noqa: BLE001 - the alerts matter more than naming who drives the spend
            logger.exception("could not list pods to name the functions driving the spend")
            pods = []
        for pool in plan.pools:
            if pool.pool in over:
                drivers[pool.pool] = functions_driving(pods, set(pool.meter.node_names))
    outcome.message = budget_message(plan, outcome.alerts, drivers)
    _deliver(outcome.message, notifier, ledger, plan, due, outcome.alerts[len(earlier):], bool(earlier))
    return outcome


def _pending(ledger: Ledger) -> list[Alert]:
    """Limit-change notices an earlier run could not send (Slack refused): they go with this run's message."""
    try:
        notices = ledger.pending_notices()
    except Exception:  # noqa: BLE001 - this run's own alerts matter more; the notices stay for the next run
        logger.exception("could not read the pending budget notices")
        return []
    return [Alert(str(n.get("pool", "-")), str(n.get("kind", "limits")), f"(from an earlier run) {n.get('text', '')}")
            for n in notices]


def _apply_pool(pool: PoolPlan, plan: BudgetPlan, enforce: bool, cluster: BudgetClusterPort, ledger: Ledger,
                outcome: ApplyOutcome, due: list[Alert]) -> None:
    """Ledger, patch, alert claims for one pool; claimed alerts go into `due` at once, so a later error loses none."""
    # the ledger first: if another run metered this slice, this run must neither patch nor alert for it
    closing = pool.closing
    if closing and not ledger.save(closing.period, pool.pool, closing.before, closing.after, None, closing.end):
        outcome.skipped.append(pool.pool)  # another run is closing the previous period: it books this one too
        return
    if not ledger.save(plan.period, pool.pool, pool.ledger_before, pool.meter.entry, pool.status, plan.period_end):
        outcome.skipped.append(pool.pool)
        return
    if enforce:
        try:
            cluster.patch_nodepool(pool.pool, status_patch(pool, apply_limits=True))
            if pool.decision and pool.decision.change:
                outcome.patched.append(pool.pool)
        except ApiException as error:
            # 409: the NodePool changed since we listed it; the next run re-reads it and decides again
            outcome.failures.append(f"{pool.pool}: patch refused ({error.status} {error.reason})")
            outcome.skipped.append(pool.pool)
            return
    for alert in pool.alerts:
        if alert.key is None or ledger.claim_alert(plan.period, alert.pool, alert.key, plan.period_end, plan.now):
            due.append(alert)


def _deliver(message: SlackMessage, notifier, ledger: Ledger, plan: BudgetPlan, claimed: list[Alert],
             sent: list[Alert], had_pending: bool) -> None:
    logger.info("budget alert", extra={"slack_text": message.text})
    try:
        notifier.send(message)
    except Exception:
        # give the once-per-period alerts back, so the next run sends them instead of dropping them
        for alert in claimed:
            if alert.key:
                ledger.release_alert(plan.period, alert.pool, alert.key)
        # limit changes happen once: keep their notices for the next run's message (earlier ones are still kept)
        notices = [{"pool": a.pool, "kind": a.kind, "text": a.text} for a in sent
                   if a.key is None and a.kind == "limits"]
        if notices:
            ledger.keep_pending(notices, plan.now)
        raise
    for alert in claimed:
        if alert.key:
            ledger.mark_sent(plan.period, alert.pool, alert.key)
    if had_pending:
        ledger.clear_pending()


def report_problem(problem: str, now: datetime, ledger: Ledger | None, notifier) -> SlackMessage | None:
    """Log always; Slack once per day per distinct problem, so a broken document does not page every 15 minutes."""
    logger.error("budget not applied", extra={"problem": problem})
    key = f"{now:%Y-%m-%d}-{zlib.crc32(problem.encode()):08x}"
    try:
        if ledger and not ledger.claim_alert(PROBLEM_PERIOD, "-", key, now + timedelta(days=2), now):
            return None
    except Exception:  # noqa: BLE001 - the table is down: sent (perhaps once per run) rather than lost
        logger.exception("could not claim the budget problem alert: sending it unclaimed")
        ledger = None
    message = problem_message(problem, now.isoformat(timespec="minutes"))
    try:
        notifier.send(message)
    except Exception:
        if ledger:
            ledger.release_alert(PROBLEM_PERIOD, "-", key)
        raise
    if ledger:
        ledger.mark_sent(PROBLEM_PERIOD, "-", key)
    return message

