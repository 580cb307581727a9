"""The imperative shell of the savings ledger: read the cluster and the prices, observe, book, write.

Called once per off-hours run, after the reconcile (chalice_app.savings.hook). Prices are the budget feature's:
the instance catalog (EC2), on-demand and spot prices cached in the stage table, and its per-NodePool estimator.
When prices cannot be had, nothing is booked and the cursor stays: the next run books the whole slice.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

import boto3
from kubernetes import client as k8s

from chalice_app.budget.aws_prices import PriceSource, instance_catalog
from chalice_app.budget.catalog import requirements_of
from chalice_app.budget.cluster import BudgetCluster
from chalice_app.budget.estimate import estimate_pricing
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.metering import running_nodes
from chalice_app.budget.prices import PriceBook
from chalice_app.budget.service import priced_types
from chalice_app.config import Settings
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.model import FunctionDeployment, function_from_object, patched_function
from chalice_app.kube.lists import list_items
from chalice_app.kube.names import APPS, FUNCTION_LABEL
from chalice_app.kube.rest import resource_path
from chalice_app.savings.ledger import Booking, book
from chalice_app.savings.observe import (FunctionResources, observe, parked_pools, patched_resources, pools_of,
                                        resources_from_object)
from chalice_app.savings.pricing import PoolRates, split_rates
from chalice_app.savings.store import SavingsStore


@dataclass(frozen=True)
class _Budgeted:
    """What budget.service.priced_types reads of a budget document: the pools whose prices are needed."""
    nodepools: frozenset[str]


@dataclass(frozen=True)
class ClusterView:
    functions: list[FunctionResources]
    slim: list[FunctionDeployment]  # the same Deployments as off-hours sees them (for the Slack buttons)
    nodepools: list[dict]
    nodeclaims: list[dict]
    nodes: list[dict]
    namespaces: dict[str, dict[str, str]]  # costguard's annotations of each configured namespace


def read_cluster(api: k8s.ApiClient, namespaces: list[str]) -> ClusterView:
    raw = [item for namespace in namespaces
           for item in list_items(api, resource_path("deployments", APPS, namespace), label_selector=FUNCTION_LABEL)]
    return _view(api, namespaces, [resources_from_object(item) for item in raw],
                 [function_from_object(item) for item in raw])


def _view(api: k8s.ApiClient, namespaces: list[str], functions: list[FunctionResources],
          slim: list[FunctionDeployment]) -> ClusterView:
    budget = BudgetCluster(api)  # pools, NodeClaims and nodes are few: read after the run's writes
    return ClusterView(functions, slim, budget.nodepools(), budget.nodeclaims(), budget.nodes(),
                       OffhoursCluster(api).namespace_annotations(namespaces))


class ListedFunctions:
    """What the ledger needs of each function Deployment the reconcile lists (OffhoursCluster's `on_listed`), so
    that a run lists its 10,000 Deployments once: the second list cost ~2 s and doubled the Lambda's memory."""

    def __init__(self):
        self._resources: dict[tuple[str, str], FunctionResources] = {}

    def __call__(self, item: dict) -> None:
        resources = resources_from_object(item)
        self._resources[(resources.namespace, resources.name)] = resources

    def view_after(self, api: k8s.ApiClient, namespaces: list[str], report) -> ClusterView:
        """The cluster as the run left it: the listed functions with the run's applied patches (what a list after
        the run would show, but for changes made by others meanwhile, which the next run sees)."""
        patches = {(o.action.namespace, o.action.name): o.patch for o in report.outcomes if o.applied}
        resources = [patched_resources(r, patches.get(key)) for key, r in self._resources.items()]
        slim = [patched_function(f, patches.get(f.key)) for f in report.functions]
        return _view(api, namespaces, resources, slim)


_stores: dict[str, tuple[boto3.session.Session, SavingsStore]] = {}
# Pool rates change with prices, which the budget caches for 1 h (spot) to 12 h (on-demand): estimating them for
# every 5-minute run would cost seconds of catalog and price-book work each time.
RATES_CACHE_SECONDS = 3600
_rates: dict[tuple, tuple[float, dict[str, PoolRates], PriceBook]] = {}


def reset_caches() -> None:
    """Forget the per-container clients and rates (a new sandbox, new settings)."""
    _stores.clear()
    _rates.clear()


def session_and_store(settings: Settings, session: boto3.session.Session | None = None):
    if session is not None:
        return session, SavingsStore(settings.table_name, session)
    if settings.table_name not in _stores:  # per container, like the clients of the other adapters
        shared = boto3.session.Session()
        _stores[settings.table_name] = (shared, SavingsStore(settings.table_name, shared))
    return _stores[settings.table_name]


def pool_prices(settings: Settings, session, view: ClusterView, needed: set[str], now: datetime,
                catalog: list) -> tuple[dict[str, PoolRates], PriceBook]:
    """$/vCPU-hour and $/GiB-hour per needed NodePool, and the price book (for the parked pools' nodes)."""
    # what the estimate depends on: the pools' requirements, and for "mix" the nodes running now
    running_now = tuple(sorted(c["metadata"]["name"] for c in view.nodeclaims)) \
        if settings.savings_estimator == "mix" else ()
    key = (settings.table_name, settings.savings_estimator, frozenset(needed), running_now,
           json.dumps([(p["metadata"]["name"], requirements_of(p)) for p in view.nodepools], sort_keys=True,
                      default=repr))
    cached = _rates.get(key)
    if cached and time.monotonic() - cached[0] < RATES_CACHE_SECONDS:
        return cached[1], cached[2]
    running = running_nodes(view.nodeclaims, view.nodes, {t.name: t for t in catalog})
    on_demand, spot = priced_types(_Budgeted(frozenset(needed)), view.nodepools, running, catalog)
    prices = PriceSource(session, settings.region, Ledger(settings.table_name, session)).price_book(
        on_demand, spot, now)
    rates = {}
    for pool in view.nodepools:
        if pool["metadata"]["name"] in needed:
            pricing = estimate_pricing(pool, catalog, prices, settings.savings_estimator, running)
            rates[pool["metadata"]["name"]] = split_rates(pricing.per_vcpu_hour, pricing.gib_per_vcpu)
    _rates[key] = (time.monotonic(), rates, prices)
    return rates, prices


def book_run(settings: Settings, now: datetime, view: ClusterView,
             session: boto3.session.Session | None = None) -> Booking | None:
    """Book the slice since the last run; None when this run is not after the last booked one (a rerun), or another
    run booked it first."""
    session, store = session_and_store(settings, session)
    cursor, previous = store.cursor()
    if cursor.booked_until is not None and now <= cursor.booked_until:
        return None
    pools = pools_of(view.functions, view.nodepools)
    needed = {pool for pool in pools.values() if pool} | set(parked_pools(view.nodepools))
    rates: dict = {}
    prices, catalog = PriceBook(), []
    if needed:
        catalog = instance_catalog(session, settings.region)
        rates, prices = pool_prices(settings, session, view, needed, now, catalog)
    running = running_nodes(view.nodeclaims, view.nodes, {t.name: t for t in catalog})
    state = observe(view.functions, view.nodepools, pools, rates, running, prices)
    booking = book(cursor, state, now)
    if booking is None or (cursor.state.empty and booking.cursor.state.empty and cursor.booked_until):
        return booking  # nothing parked before or now: nothing to book, nothing to remember
    return booking if store.save(booking, previous, now) else None
