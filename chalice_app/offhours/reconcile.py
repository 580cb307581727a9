"""One off-hours run: list once → read the stage table's records → plan (pure) → write records, then patch with
bounded concurrency → forget what was restored → a report.

Order of writes, so that nothing can lose an evening count: the table record of a function or NodePool is written
(conditionally: an existing record is never overwritten) BEFORE the patch that parks it, and deleted only AFTER the
patch that restores it. At uptime NodePools are restored before functions, so restored functions find capacity;
at downtime functions are parked first.

Retries: 429/5xx are retried by the Kubernetes client (urllib3, Retry-After honoured). A 409 means the object
moved since we listed it: re-read that one object, decide again and retry with backoff. One function's failure is
recorded and never stops the others; nor does a failing list: a namespace whose read fails, or the NodePool
list, is reported as an error and the rest of the run goes on. An unreadable stage table stops the function part
of the run (reported): without the records a restore could use a stale mirror.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from kubernetes.client.exceptions import ApiException

from chalice_app import table_keys
from chalice_app.offhours import editions
from chalice_app.offhours.nodepools import NodePoolAction, parked_during_downtime, plan_nodepools
from chalice_app.offhours.nodes import node_cpu_millis, nodes_staying
from chalice_app.kube.names import NODEPOOL_LABEL
from chalice_app.offhours.model import FunctionDeployment
from chalice_app.offhours.keeps import keep_item_ids, keeps_from_items, with_keeps
from chalice_app.offhours.placement import PoolTemplate, pods_needing, sized_allowance, sizing_basis
from chalice_app.offhours.reaper import reap
from chalice_app.offhours.parked import MemoryParkedStore, ParkedFunction, ParkedPool, WakeState
from chalice_app.offhours.ports import OffhoursClusterPort, ParkedStorePort
from chalice_app.offhours.planner import (
    Activity,
    FunctionAction,
    FunctionPlan,
    Kind,
    NightRules,
    decide,
    plan_functions,
)
from chalice_app.offhours.runreport import WORKERS, OffhoursConfig, Outcome, RunReport, _describe  # noqa: F401
from chalice_app.offhours.wakeups import QUERY, MetricsError, counter_for, next_activity, parse_query_result

CONFLICT_ATTEMPTS = 3
CONFLICT_BACKOFF_SECONDS = 0.2
# Nodes of a parked pool are reported once it has been parked this long: consolidation needs a few minutes.
NODE_REPORT_AFTER = timedelta(minutes=30)
PER_NODE_LISTS_UP_TO = 20


def _since(text: str, now: datetime) -> datetime:
    """When a pool was parked; long ago when unknown (parked before the table held it)."""
    try:
        return datetime.fromisoformat(text) if text else now - timedelta(days=1)
    except ValueError:
        return now - timedelta(days=1)


def _in_window(apply, actions: list, workers: int) -> list:
    """`apply` over `actions` on `workers` threads, results in order. Each thread takes the next action as it
    finishes one, so no worker idles behind a slow patch; no Future per patch and no wake-up of this thread per
    result (a ThreadPoolExecutor's per-item bookkeeping was ~15% of the client CPU of 10,000 patches). An exception
    `apply` lets out stops the run here, as Future.result() would."""
    results: list = [None] * len(actions)
    pending = iter(enumerate(actions))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        while not failures:
            with lock:
                item = next(pending, None)
            if item is None:
                return
            try:
                results[item[0]] = apply(item[1])
            except BaseException as error:  # noqa: BLE001 - re-raised below, in the caller's thread
                failures.append(error)

    threads = [threading.Thread(target=work, name=f"offhours-patch-{n}") for n in range(min(workers, len(actions)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


def _fid(action) -> str:
    return table_keys.function_id(action.namespace, action.name)


class Reconciler:
    def __init__(self, cluster: OffhoursClusterPort, config: OffhoursConfig, sleep=time.sleep,
                 store: ParkedStorePort | None = None, catalog=None):
        """`catalog`: a callable giving the region's instance types (budget.catalog.InstanceType), used to size
        night allowances; None: the configured CPU allowance."""
        self._cluster, self._config, self._sleep, self._catalog = cluster, config, sleep, catalog
        # Without a table (tests, `offhours plan` from a laptop) the records live as long as this reconciler.
        self._store = store if store is not None else MemoryParkedStore()
        self._namespaces: dict[str, dict[str, str]] = {}
        self._records: dict[tuple[str, str], ParkedFunction] = {}
        self._activity: dict[tuple[str, str], Activity] = {}
        self._rules = NightRules(idle=config.idle, hold=config.hold, restore_cap=config.restore_cap)
        self._adoptions: list[FunctionAction] = []
        self._last_plan: FunctionPlan | None = None
        self._wake_states: dict[str, WakeState] = {}
        self._listed: list[FunctionDeployment] = []
        self._reapable: tuple[dict, list, dict] = ({}, [], {})  # reaper.reap's pools, nodes, pods of this run
        self._sizing: list[str] = []  # what this run's night allowances were sized from (placement.sizing_basis)

    # ---- reading and planning -------------------------------------------------------------------------------
    def capabilities(self) -> editions.Capabilities:
        detected = editions.Capabilities(source="not detected")
        if self._config.edition is None or self._config.maintain_minimum_replicas is None:
            try:
                detected = editions.detect(*self._cluster.openfaas_deployments(self._config.openfaas_namespace))
            except Exception as error:  # noqa: BLE001 - a setting can say what detection cannot read
                detected = editions.Capabilities(source=f"not detected ({_describe(error)}); assumed Standard")
        return editions.resolve(detected, self._config.edition, self._config.maintain_minimum_replicas)

    def plan(self, now: datetime) -> FunctionPlan:
        """The function plan; raises the first namespace's read error (for the CLI, which shows it and stops)."""
        plan, failures, _ = self._plan_tolerating_failures(now)
        if failures:
            raise failures[0][1]
        return plan

    def _plan_tolerating_failures(self, now: datetime):
        """Plan the namespaces that could be read; (namespace, error) for each that could not; notes."""
        functions: list[FunctionDeployment] = []
        self._namespaces, failures, notes, self._listed = {}, [], [], functions
        for namespace in self._config.namespaces:
            try:
                self._namespaces.update(self._cluster.namespace_annotations([namespace]))
                functions.extend(self._cluster.functions(namespace))
            except Exception as error:  # noqa: BLE001 - one unreadable namespace must not stop the others
                failures.append((namespace, error))
        self._rules = NightRules(self.capabilities(), self._config.idle, self._config.hold,
                                 restore_cap=self._config.restore_cap)
        found = self._store.get_many([*(table_keys.function_id(*f.key) for f in functions),
                                      *keep_item_ids(self._config.namespaces)])
        functions[:] = with_keeps(functions, keeps_from_items(found, self._config.namespaces), now)  # the listed view
        self._records = {f.key: ParkedFunction.from_item(found[table_keys.function_id(*f.key)]) for f in functions
                         if table_keys.function_id(*f.key) in found}
        self._activity = {}
        plan = self._plan(functions, now)
        awake = plan.of(Kind.AWAKE)
        if awake:
            self._activity, notes = self._wake_activity(awake, now)
            plan = self._plan(functions, now)
        return plan, failures, notes

    def _plan(self, functions, now: datetime) -> FunctionPlan:
        return plan_functions(functions, self._namespaces, now, self._config.defaults, self._config.grace,
                              self._config.max_changes, self._records, self._rules, self._activity)

    def _counters(self, now: datetime) -> dict[str, float]:
        namespace, _, service = self._config.metrics_service.partition("/")
        body = self._cluster.service_proxy(namespace, service, "api/v1/query",
                                           [("query", QUERY), ("time", f"{now.timestamp():.3f}")])
        return parse_query_result(body)

    def _wake_activity(self, awake: list[FunctionAction], now: datetime):
        notes, counters = [], None
        try:
            counters = self._counters(now)
        except (MetricsError, Exception) as error:  # noqa: BLE001 - without metrics the fixed hold applies
            notes.append(f"gateway metrics unreadable ({_describe(error)}): woken functions are parked again "
                         f"after a fixed hold of {int(self._config.hold.total_seconds() // 60)} min")
        ids = {(a.namespace, a.name): table_keys.wake_id(a.namespace, a.name) for a in awake}
        stored = self._store.get_many(ids.values())
        activity, self._wake_states = {}, {}
        for key, wake in ids.items():
            previous = WakeState.from_item(stored[wake]) if wake in stored else None
            counter = None if counters is None else counter_for(counters, *key)
            activity[key], state = next_activity(previous, counter, now)
            if state != previous:
                self._wake_states[wake] = state
        return activity, notes

    def plan_nodepools(self, now: datetime, report: RunReport | None = None) -> list[NodePoolAction]:
        """The NodePool plan; during downtime also what woken functions need of parked pools (night allowances)
        and, into `report`, the nodes that parked pools still have and why."""
        pools = self._cluster.nodepools()
        found = self._store.get_many(table_keys.nodepool_id(pool.name) for pool in pools)
        records = {pool.name: ParkedPool.from_item(found[table_keys.nodepool_id(pool.name)]) for pool in pools
                   if table_keys.nodepool_id(pool.name) in found}
        plan = plan_nodepools(pools, now, self._config.defaults, self._config.nodepools, records)
        parked_pools = {a.name: pool for pool, a in zip(sorted(pools, key=lambda p: p.name), plan)
                        if parked_during_downtime(pool, a)}
        if not parked_pools:
            return plan
        nodes = self._cluster.karpenter_nodes()
        in_parked = [n for n in nodes if (n["metadata"].get("labels") or {}).get(NODEPOOL_LABEL) in parked_pools]
        settled = {name: pool.source for name, pool in parked_pools.items()
                   if name in records and now - _since(records[name].parked_at, now) >= NODE_REPORT_AFTER}
        # Pods only of the nodes that will be reported: right after parking a pool still has all its nodes.
        reported = [n for n in in_parked if n["metadata"]["labels"][NODEPOOL_LABEL] in settled]
        pods_by_node = self._pods_by_node(reported)
        self._sizing = []
        allowances = self._allowances(pools, parked_pools, records, in_parked)
        if allowances:
            plan = plan_nodepools(pools, now, self._config.defaults, self._config.nodepools, records, allowances)
        if report is not None:
            report.nodes = nodes_staying(settled, reported, pods_by_node)
            report.notes.extend(self._sizing)
            self._reapable = ({name: source for name, source in settled.items()
                               if not parked_pools[name].static and name not in allowances}, reported, pods_by_node)
        return plan

    def _pods_by_node(self, nodes: list[dict]) -> dict[str, list[dict]]:
        """Pods per node: one request per node when they are few, else one cluster-wide list."""
        names = {n["metadata"]["name"] for n in nodes}
        if len(names) <= PER_NODE_LISTS_UP_TO:
            return {name: self._cluster.pods_on(name) for name in sorted(names)}
        grouped: dict[str, list[dict]] = {name: [] for name in names}
        for pod in self._cluster.all_pods():
            node = (pod.get("spec") or {}).get("nodeName")
            if node in grouped:
                grouped[node].append(pod)
        return grouped

    def _allowances(self, pools, parked_pools, records, nodes) -> dict[str, dict]:
        """Limits for parked dynamic pools that a Pending function pod, or an awake function's pod, needs."""
        # Pools already parked (a record): one being parked by this very run has its capacity still, and no allowance.
        dynamic = {name: pool for name, pool in parked_pools.items() if not pool.static and name in records}
        if not dynamic:
            return {}
        pending = [pod.get("spec") or {} for namespace in self._config.namespaces
                   for pod in self._cluster.pending_function_pods(namespace)]
        open_pools = [PoolTemplate.from_object(p.source) for p in pools if p.name not in parked_pools and p.source]
        needing = pods_needing(pending, [PoolTemplate.from_object(p.source) for p in dynamic.values()], open_pools)
        # An awake function whose pods run on a parked pool keeps its allowance (it may scale or be rescheduled).
        pool_of = {n["metadata"]["name"]: n["metadata"]["labels"][NODEPOOL_LABEL] for n in nodes}
        for action in self._last_plan.of(Kind.AWAKE) if self._last_plan else []:
            for pod in self._cluster.function_pods(action.namespace, action.name):
                pool = pool_of.get((pod.get("spec") or {}).get("nodeName"))
                if pool:
                    needing.setdefault(pool, [])
        found = {}
        for name in set(needing) & set(dynamic):
            original = records[name].limits if name in records and records[name].limits is not None else {}
            cpu = sum(node_cpu_millis(n) for n in nodes if n["metadata"]["labels"].get(NODEPOOL_LABEL) == name)
            launchable, read = self._launchable(dynamic[name].source)
            found[name] = sized_allowance(original, cpu, needing[name], launchable, self._config.night_allowance_cpu)
            self._sizing.append(sizing_basis(name, needing[name], launchable, read, self._config.night_allowance_cpu))
        return found

    def _launchable(self, nodepool: dict) -> tuple[list, str | None]:
        """Instance types the pool can launch (budget.catalog) and how the catalog was read (None: no catalog);
        [] when it cannot be read."""
        if self._catalog is None or not nodepool:
            return [], None
        try:
            from chalice_app.budget.catalog import allowed_instance_types  # only when a pool needs an allowance

            catalog = self._catalog()
            return allowed_instance_types(nodepool, catalog), f"{len(catalog)} instance types (ec2:DescribeInstanceTypes)"
        except Exception as error:  # noqa: BLE001 - without the catalog the configured allowance applies
            return [], f"catalog unreadable: {_describe(error)}"

    # ---- the run ----------------------------------------------------------------------------------------------
    def run(self, now: datetime) -> RunReport:
        self._wake_states, self._reapable = {}, ({}, [], {})
        try:
            plan, failures, notes = self._plan_tolerating_failures(now)
        except Exception as error:  # noqa: BLE001 - the stage table (or detection) failed: change nothing
            report = RunReport(now, self._config.dry_run, FunctionPlan((), self._config.max_changes),
                               functions=self._listed)  # as listed (the savings view), though nothing changed
            report.read_errors.append(("stage table", f"{_describe(error)}; no function changed this run"))
            return report
        report = RunReport(now, self._config.dry_run, plan, capabilities=self._rules.capabilities, notes=notes,
                           functions=self._listed)
        report.read_errors = [(f"namespace {namespace}", _describe(error)) for namespace, error in failures]
        self._last_plan = plan
        try:
            pools = self.plan_nodepools(now, report)
        except Exception as error:  # noqa: BLE001 - functions go on; the pools are tried again next tick
            report.read_errors.append(("NodePools", _describe(error)))
            pools = []
        if self._config.delete_empty_nodeclaims:
            reap(self._cluster, self._store, self._config, self._reapable, report)
        if self._config.dry_run:
            report.nodepools = [(action, None) for action in pools]
            return report
        lifts = [action for action in pools if action.kind in ("restore", "release", "allow")]
        report.nodepools = [(action, self._apply_nodepool(action, now)) for action in lifts]  # capacity first
        self._adoptions = plan.of(Kind.KEEP)
        report.outcomes = self._apply_functions(plan.changes, now)
        report.nodepools += [(action, self._apply_nodepool(action, now)) for action in pools if action not in lifts]
        for key, state in self._wake_states.items():
            self._store.put(key, state.item(), now)
        return report

    def _apply_functions(self, changes: list[FunctionAction], now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        # KEEP actions may carry a record too: a count parked before the table held it, taken into the table.
        adopted = [a for a in self._adoptions if a.record is not None]
        new = {_fid(a): a.record.item() for a in [*changes, *adopted] if a.record is not None and a.record_is_new}
        written = self._store.put_new(new, now) if new else set()
        for action in changes:
            if action.record is not None and not action.record_is_new:
                self._store.put(_fid(action), action.record.item(), now)  # uid of a recreated function
        ready = []
        for action in changes:
            if action.record is not None and action.record_is_new and _fid(action) not in written:
                # Another run recorded it since we read: its count is the truer one. Next run re-plans.
                outcomes.append(Outcome(action, "a restore count was recorded meanwhile; re-planned next run"))
            else:
                ready.append(action)
        outcomes.extend(_in_window(lambda action: self._apply(action, now), ready, self._config.workers))
        forget = [_fid(o.action) for o in outcomes if o.applied and o.action.forget]
        woke = [table_keys.wake_id(o.action.namespace, o.action.name) for o in outcomes
                if o.applied and (o.action.namespace, o.action.name) in self._activity]
        if forget or woke:
            self._store.delete_many(forget + woke)
        for wake in woke:
            self._wake_states.pop(wake, None)
        return outcomes

    def _apply(self, action: FunctionAction, now: datetime) -> Outcome:
        recorded_now = action.record is not None and action.record_is_new  # by this run, just before
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                patch = action.patch()
                if patch is not None:
                    self._cluster.patch_function(action.namespace, action.name, patch)
                return Outcome(action, applied=True, patch=patch)
            except ApiException as error:
                if error.status != 409 or attempt == CONFLICT_ATTEMPTS:
                    return Outcome(action, _describe(error))
            except Exception as error:  # noqa: BLE001 - one function's failure must not stop the others
                return Outcome(action, _describe(error))
            self._sleep(CONFLICT_BACKOFF_SECONDS * attempt)
            try:
                action = self._redecide(action, now)
                if action.record is not None and action.record_is_new:
                    # The count this run recorded a moment ago never reached the cluster: the fresh one replaces it,
                    # still before the patch.
                    self._store.put(_fid(action), action.record.item(), now)
                    recorded_now = True
                elif not action.kind.writes and recorded_now:
                    self._store.delete_many([_fid(action)])  # nothing parked: the record would restore a stale count
            except Exception as error:  # noqa: BLE001
                return Outcome(action, f"re-read after conflict failed: {_describe(error)}")
            if not action.kind.writes:
                return Outcome(action)  # someone else already did it, or it is no longer ours to change
        return Outcome(action, "conflict")  # unreachable: the loop returns

    def _redecide(self, action: FunctionAction, now: datetime) -> FunctionAction:
        fresh = self._cluster.function(action.namespace, action.name)
        return decide(fresh, self._namespaces.get(action.namespace), now, self._config.defaults,
                      self._config.grace, self._records.get(fresh.key), self._rules,
                      self._activity.get(fresh.key)).action

    def _apply_nodepool(self, action: NodePoolAction, now: datetime) -> str | None:
        if not action.writes:
            return None
        key = table_keys.nodepool_id(action.name)
        try:
            if action.record is not None:
                if action.record_is_new:
                    if key not in self._store.put_new({key: action.record.item()}, now) and action.kind == "limit":
                        return "a restore count was recorded meanwhile; re-planned next run"
                else:
                    self._store.put(key, action.record.item(), now)
            writes = [("patch", action.patch), ("scale", action.scale)]
            if action.kind == "restore":
                writes.reverse()  # capacity back first, then the mirror
            for what, body in writes:
                if body is None:
                    continue
                if what == "scale":
                    self._cluster.scale_nodepool(action.name, body)
                else:
                    self._cluster.patch_nodepool(action.name, body)
            if action.forget:
                self._store.delete_many([key])
            return None
        except Exception as error:  # noqa: BLE001 - reported; the next tick re-plans from a fresh list
            return _describe(error)
