"""One budget run as a pure function: document + cluster objects + ledger + prices + clock → BudgetPlan.

The plan says, per budgeted NodePool, what was spent, what the limits should be and why, which alerts are due and
which status to write; the handler and the CLI only carry it out or print it.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Collection

from kubernetes.utils import parse_quantity

from chalice_app.budget.alerts import Alert, forecast_alert, threshold_alerts
from chalice_app.budget.catalog import InstanceType
from chalice_app.budget.costexplorer import closed_day_set, effective_spent
from chalice_app.budget.document import BudgetDocument, period_bounds, period_key, previous_period_bounds
from chalice_app.budget.estimate import PoolPricing, estimate_pricing
from chalice_app.budget.isolation import field_problem, pool_problem, undecided
from chalice_app.budget.limits import LimitDecision, decide_limits
from chalice_app.budget.metering import LedgerEntry, PoolMeter, RunningNode, carry_open, close_period, meter_pool
from chalice_app.budget.nodeclass import NodeClassCosts, nodeclass_of_pool
from chalice_app.budget.prices import PriceBook, PriceUnavailable
from chalice_app.budget.reconcile import day_error
from chalice_app.kube.names import BUDGET_STATUS, FUNCTION_LABEL, HEADROOM, ORIGINAL_LIMITS
from chalice_app.slack.text import escape_mrkdwn

if TYPE_CHECKING:  # loaded only for pools with headroom (schedules, holidays)
    from chalice_app.budget.headroom import HeadroomBudget

# the annotation name is shared with `costguard status` (chalice_app.status)


@dataclass(frozen=True)
class PeriodClose:
    """The last slice of the previous period, booked by this run: written before the current period's entry."""
    period: str
    end: datetime
    before: LedgerEntry
    after: LedgerEntry


@dataclass(frozen=True)
class PoolPlan:
    pool: str
    budget: float
    meter: PoolMeter
    decision: LimitDecision | None
    problem: str | None  # why the pool's limits are left as they are
    alerts: tuple[Alert, ...]
    status: dict  # the budget-status annotation, decoded
    resource_version: str  # of the NodePool as listed: a patch is refused if it changed since
    spent: float  # metered, or Cost Explorer's for the days it has closed plus metered for the rest
    ledger_before: LedgerEntry  # what the plan metered from: the ledger write is conditional on it
    closing: PeriodClose | None = None  # the previous period's tail, when this is the first run after its end
    assumed: tuple[str, ...] = ()  # capacity types, architectures, volumes, overhead: what the price rests on
    pricing: PoolPricing | None = None
    headroom: HeadroomBudget | None = None  # when the pool asks for warm headroom


@dataclass(frozen=True)
class BudgetPlan:
    period: str
    period_start: datetime
    period_end: datetime
    now: datetime
    mode: str
    pools: tuple[PoolPlan, ...]
    unbudgeted: tuple[str, ...]  # NodePools in the cluster the document does not name: left alone
    absent: tuple[str, ...]  # NodePools the document names that the cluster does not have


def status_annotation(*, spent: float, budget: float, now: datetime,
                      decision: LimitDecision | None, rate_now: float, problem: str | None, mode: str) -> dict:
    status = {"spent": round(spent, 2), "budget": round(budget, 2), "remaining": round(max(0.0, budget - spent), 2),
              "rate": round(rate_now, 4), "at": now.isoformat(timespec="seconds"), "mode": mode}
    if decision:
        status.update(price=round(decision.pricing.per_vcpu_hour, 5), allowed_rate=round(decision.allowed_rate, 4),
                      limit=decision.proposed.cpu if decision.change and mode == "enforce" else decision.current.cpu,
                      proposed=decision.proposed.cpu)
    if problem:
        status["problem"] = problem
    return status


def status_patch(plan: PoolPlan, apply_limits: bool) -> dict:
    """Merge patch: the status annotation, and the new limits when they change; resourceVersion guards the race."""
    patch: dict = {"metadata": {"resourceVersion": plan.resource_version,
                                "annotations": {BUDGET_STATUS: json.dumps(plan.status, sort_keys=True)}}}
    if apply_limits and plan.decision and plan.decision.change:
        patch["spec"] = {"limits": plan.decision.proposed.as_spec()}
    return patch


def _close_previous(name: str, document: BudgetDocument, running: list[RunningNode], previous: LedgerEntry | None,
                    now: datetime, book: PriceBook) -> PeriodClose | None:
    """For the first write of a period: the previous period's entry, with its last slice booked when a run has not
    done so yet. Written (conditionally) even when nothing changes, so a run that read a stale previous period
    cannot open the new one without closing the old."""
    if previous is None:
        return None
    start, end = previous_period_bounds(document.period, now)
    after = previous
    if previous.metered_at is not None and previous.metered_at < end:
        after = close_period(name, running, previous, start, end, book).entry  # unchanged when unpriced
    return PeriodClose(period_key(document.period, start), end, previous, after)


def _plan_pool(name: str, nodepool: dict, document: BudgetDocument, running: list[RunningNode], entry: LedgerEntry,
               catalog: list[InstanceType], book: PriceBook, start: datetime, end: datetime, now: datetime,
               closed: dict[str, dict[str, float]] | None, nodeclass: NodeClassCosts | None = None,
               previous: LedgerEntry | None = None, headroom_policy=None, parked: bool = False) -> PoolPlan:
    budget = document.pool_amount(name)
    closing = _close_previous(name, document, running, previous, now, book)
    if closing and entry.metered_at is None and closing.after.metered_at and closing.after.metered_at >= closing.end:
        entry = carry_open(closing.before, closing.after)  # a node gone since the period end is charged from the start
    meter = meter_pool(name, running, entry, start, now, book)
    spent = meter.entry.spent
    if closed:
        spent = effective_spent(meter.entry.daily, closed.get(name, {}), closed_day_set(closed))
    decision, problem, pricing = None, None, None
    alerts: list[Alert] = []
    if not meter.complete:
        types = sorted({n.instance_type for n in running if n.key in meter.unpriced})
        problem = f"no price for {', '.join(types)}: spend not metered this run, limits kept"
    else:
        try:
            pricing = estimate_pricing(nodepool, catalog, book, document.pool_estimator(name), running, nodeclass)
            decision = decide_limits(name, document, spent, now, end, pricing, nodepool, meter.usage_cpu)
        except PriceUnavailable as exc:
            problem = f"{exc}: limits kept"
    held = parked or ORIGINAL_LIMITS in (nodepool["metadata"].get("annotations") or {})
    if decision and (nodepool.get("spec") or {}).get("replicas") is not None:
        # A static NodePool accepts only limits.nodes (the NodePool CRD's CEL rule "only 'limits.nodes' is supported
        # on static NodePools"): a cpu limit would be refused with a 422 every run.
        decision = replace(decision, change=False, reasons=decision.reasons + (
            "static NodePool (spec.replicas): Karpenter accepts only limits.nodes there, so the budget leaves its "
            "limits alone; spend is still metered and alerted",))
    elif decision and decision.change and held:
        # off-hours parked this pool and restores its stored limits in the morning; two writers would fight
        decision = replace(decision, change=False, reasons=decision.reasons + (
            "off-hours holds this NodePool's limits until its uptime: not changed now",))
    if problem:
        alerts.append(_problem_alert(name, problem, now))
    alerts += threshold_alerts(name, budget, spent, document.thresholds)
    forecast = forecast_alert(name, budget, spent, start, end, now)
    if forecast:
        alerts.append(forecast)
    if closed:
        daily = {**(closing.after.daily if closing else {}), **meter.entry.daily}
        error = day_error(daily, closed, name)
        if error and abs(error.percent) > document.reconcile_alert_percent:
            alerts.append(Alert(name, "reconcile", f"*{name}* on {error.day}: metered {error.metered:.2f} USD, "
                                                   f"billed {error.billed:.2f} USD ({error.percent:+.1f} %, above "
                                                   f"{document.reconcile_alert_percent:g} %): the limits rest on "
                                                   f"the meter between bills", key=f"reconcile-{error.day}"))
    if decision and decision.change:
        verb = "lowered" if (decision.current.cpu or 0) > (decision.proposed.cpu or 0) else "raised"
        if document.mode == "advise":
            verb = f"would be {verb} (advise mode)"
        before = "none" if decision.current.cpu is None else f"{decision.current.cpu:g}"
        alerts.append(Alert(name, "limits", f"*{name}* cpu limit {verb}: {before} → {decision.proposed.cpu:g} "
                                            f"vCPU. " + "; ".join(decision.reasons)))
    if decision and decision.over_limit and not held:  # a parked pool is over its zero limit by design
        limit = decision.proposed.cpu if decision.change else decision.current.cpu
        alerts.append(Alert(name, "over-limit", f"*{name}* runs {decision.usage_cpu:g} vCPU, above its cpu limit "
                                                f"{limit:g}: Karpenter does not remove nodes for "
                                                f"limits, so spend falls only as demand does",
                            key=f"over-limit-{now:%Y-%m-%d}"))  # once a day, not every 15 minutes
    status = status_annotation(spent=spent, budget=budget, now=now, decision=decision, rate_now=meter.rate_now,
                               problem=problem, mode=document.mode)
    if closed:
        status["metered"] = round(meter.entry.spent, 2)
    headroom = _headroom(nodepool, headroom_policy, decision, meter.rate_now, now, end)
    if headroom:
        status.update(headroom.status())
        if headroom.cut and not headroom.was_cut:
            alerts.append(Alert(name, "headroom", f"*{name}*: warm headroom cut. {headroom.reason}",
                                key=f"headroom-cut-{now:%Y-%m-%d}"))
    assumed = pricing.assumed if pricing else ()
    wanted_class = nodeclass_of_pool(nodepool)
    if pricing and wanted_class and nodeclass is None:
        assumed += (f"EC2NodeClass {wanted_class} not listed: its EBS volumes are not counted",)
    if book.overhead_hourly:
        assumed += (f"per-node overhead: {book.overhead_hourly:.4f} USD/h (budget document)",)
    if book.discount_percent:
        assumed += (f"Savings Plans / RIs: on-demand compute at {100 - book.discount_percent:g} % of list",)
    return PoolPlan(name, budget, meter, decision, problem, tuple(alerts), status,
                    nodepool["metadata"].get("resourceVersion", ""), spent, entry, closing, assumed, pricing, headroom)


def _undecided_pool(name: str, nodepool: dict, document: BudgetDocument, running: list[RunningNode],
                    entry: LedgerEntry, book: PriceBook, start: datetime, end: datetime, now: datetime,
                    problem: str) -> PoolPlan:
    """A pool whose fields could not be decided on: still metered and alerted on its spend, its limits kept."""
    budget = document.pool_amount(name)
    meter = meter_pool(name, running, entry, start, now, book)
    alerts = [_problem_alert(name, problem, now), *threshold_alerts(name, budget, meter.entry.spent,
                                                                    document.thresholds)]
    status = status_annotation(spent=meter.entry.spent, budget=budget, now=now, decision=None,
                               rate_now=meter.rate_now, problem=problem, mode=document.mode)
    version = (nodepool.get("metadata") or {}).get("resourceVersion")
    return PoolPlan(name, budget, meter, None, problem, tuple(alerts), status,
                    version if isinstance(version, str) else "", meter.entry.spent, entry)


def _problem_alert(name: str, problem: str, now: datetime) -> Alert:
    # the problem may quote a value from the cluster: escaped here, where the alert's mrkdwn is made
    return Alert(name, "error", f"*{name}*: {escape_mrkdwn(problem)}",
                 key=f"error-{now:%Y-%m-%d}-{zlib.crc32(problem.encode()):08x}")


def _headroom(nodepool: dict, policy, decision: LimitDecision | None, rate_now: float, now: datetime,
              end: datetime):
    """The pool's warm headroom in its budget; None when it asks for none or its limits cannot be priced."""
    asked = HEADROOM in (nodepool["metadata"].get("annotations") or {}) or \
        nodepool["metadata"]["name"] in getattr(policy, "configured", {})
    if not asked or decision is None:
        return None
    from chalice_app.budget.headroom import headroom_budget  # only pools with headroom load schedules and holidays
    from chalice_app.headroom.policy import Policy

    return headroom_budget(nodepool, policy or Policy({}), decision.pricing.per_vcpu_hour, decision.remaining,
                           rate_now, decision.hours_left, now, end)


def document_prices(document: BudgetDocument, book: PriceBook) -> PriceBook:
    """The price book with what the document knows that the price lists do not."""
    return replace(book, discount_percent=document.savings_discount_percent,
                   overhead_hourly=document.node_overhead_hourly, reserved={**book.reserved, **document.reserved_prices})


def plan_budget(document: BudgetDocument, nodepools: list[dict], running: list[RunningNode],
                entries: dict[str, LedgerEntry], catalog: list[InstanceType], book: PriceBook,
                now: datetime, closed: dict[str, dict[str, float]] | None = None,
                nodeclasses: dict[str, NodeClassCosts] | None = None,
                previous: dict[str, LedgerEntry] | None = None, headroom_policy=None,
                parked: Collection[str] = ()) -> BudgetPlan:
    """`closed`: Cost Explorer's closed days per NodePool (costexplorer.closed_days), when the document asks;
    `nodeclasses`: EC2NodeClass costs by name; `previous`: the previous period's ledger entries, whose tail the
    first run after a period end books; `parked`: the pools off-hours holds (its stage table records)."""
    start, end = period_bounds(document.period, now)
    book = document_prices(document, book)
    by_name = {pool["metadata"]["name"]: pool for pool in nodepools}
    nodeclasses, previous = nodeclasses or {}, previous or {}
    plans = []
    for name in sorted(document.nodepools):
        if name not in by_name:
            continue
        entry = entries.get(name, LedgerEntry())
        malformed = field_problem(by_name[name])
        if malformed:  # decided only on fields shaped as the CRD says; the others are decided as without it
            plans.append(_undecided_pool(name, by_name[name], document, running, entry, book, start, end, now,
                                         undecided(malformed)))
            continue
        try:  # one NodePool's fields are that pool's problem, never the run's
            plans.append(_plan_pool(name, by_name[name], document, running, entry, catalog, book, start, end, now,
                                    closed, nodeclasses.get(nodeclass_of_pool(by_name[name]) or ""),
                                    previous.get(name), headroom_policy, name in parked))
        except Exception as error:  # noqa: BLE001 - reported as the pool's problem, its limits kept
            plans.append(_undecided_pool(name, by_name[name], document, running, entry, book, start, end, now,
                                         pool_problem(by_name[name], error)))
    return BudgetPlan(period=period_key(document.period, now), period_start=start, period_end=end, now=now,
                      mode=document.mode, pools=tuple(plans),
                      unbudgeted=tuple(sorted(set(by_name) - set(document.nodepools))),
                      absent=tuple(sorted(set(document.nodepools) - set(by_name))))


def functions_driving(pods: list[dict], node_names: set[str], top: int = 3) -> list[tuple[str, float]]:
    """OpenFaaS functions (pod label faas_function) on the given nodes, by the vCPU their pods request."""
    requested: dict[str, float] = {}
    for pod in pods:
        if pod.get("spec", {}).get("nodeName") not in node_names:
            continue
        labels = pod.get("metadata", {}).get("labels") or {}
        name = labels.get(FUNCTION_LABEL) or labels.get("app")
        if not name:
            continue
        cpu = sum(float(parse_quantity(c.get("resources", {}).get("requests", {}).get("cpu", "0")))
                  for c in pod["spec"].get("containers", []))
        key = f"{pod['metadata'].get('namespace', '?')}/{name}"
        requested[key] = requested.get(key, 0.0) + cpu
    return sorted(requested.items(), key=lambda item: (-item[1], item[0]))[:top]
