"""One off-hours run: list once → plan (pure) → apply the changes with bounded concurrency → a report.

Retries: 429/5xx are retried by the Kubernetes client (urllib3, Retry-After honoured). A 409 means the object
moved since we listed it: re-read that one object, decide again and retry with backoff. One function's failure is
recorded and never stops the others; nor does a failing list: a namespace whose read fails, or the NodePool
list, is reported as an error and the rest of the run goes on. Function changes are applied before the NodePools
are even listed, so a Karpenter outage cannot hold back scaling functions.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kubernetes.client.exceptions import ApiException

from chalice_app.offhours.nodepools import NodePoolAction, plan_nodepools
from chalice_app.offhours.planner import FunctionAction, FunctionPlan, Kind, decide, plan_functions
from chalice_app.offhours.policy import Defaults

CONFLICT_ATTEMPTS = 3
CONFLICT_BACKOFF_SECONDS = 0.2
BATCH = 256
# Patches in flight, one per slot of the client's connection pool: against a real API server each write waits
# ~10-20 ms on the network, so concurrency is what keeps 10,000 changes inside a Lambda's time.
WORKERS = 8


@dataclass(frozen=True)
class OffhoursConfig:
    namespaces: tuple[str, ...]
    defaults: Defaults
    grace: timedelta = timedelta(minutes=15)
    max_changes: int = 500
    dry_run: bool = False
    nodepools: tuple[str, ...] = ()
    workers: int = WORKERS

    @classmethod
    def from_settings(cls, settings) -> "OffhoursConfig":
        return cls(tuple(settings.function_namespaces), Defaults.from_settings(settings),
                   timedelta(minutes=settings.offhours_grace_minutes), settings.offhours_max_changes,
                   settings.dry_run, tuple(settings.offhours_nodepools))


@dataclass(frozen=True)
class Outcome:
    action: FunctionAction  # the action finally applied (after re-deciding on a conflict)
    error: str | None = None
    applied: bool = False


@dataclass
class RunReport:
    now: datetime
    dry_run: bool
    plan: FunctionPlan
    outcomes: list[Outcome] = field(default_factory=list)
    nodepools: list[tuple[NodePoolAction, str | None]] = field(default_factory=list)  # (action, error)
    read_errors: list[tuple[str, str]] = field(default_factory=list)  # (what could not be listed or read, why)

    def applied(self, kind: Kind) -> list[FunctionAction]:
        """The changes of `kind` made; in a dry run, the ones that would have been made."""
        if self.dry_run:
            return self.plan.of(kind)
        return [outcome.action for outcome in self.outcomes if outcome.applied and outcome.action.kind is kind]

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(object, message) for every function or NodePool that failed or has a bad annotation."""
        found = list(self.read_errors)
        found += [(f"{a.namespace}/{a.name}", a.reason) for a in self.plan.of(Kind.ERROR)]
        found += [(f"{o.action.namespace}/{o.action.name}", o.error) for o in self.outcomes if o.error]
        found += [(f"NodePool {action.name}", error or action.reason) for action, error in self.nodepools
                  if error or action.kind == "error"]
        return found

    @property
    def changed(self) -> bool:
        """Something changed (in a dry run: would have)."""
        if self.dry_run and self.plan.changes:
            return True
        return any(outcome.applied for outcome in self.outcomes) or any(
            action.writes and error is None for action, error in self.nodepools)

    @property
    def counts(self) -> dict[str, int]:
        counts = {kind.value: len(self.plan.of(kind)) for kind in Kind}
        counts["failed"] = sum(1 for outcome in self.outcomes if outcome.error)
        return counts


def _describe(error: Exception) -> str:
    if isinstance(error, ApiException):
        return f"Kubernetes API {error.status} {error.reason}"
    return f"{type(error).__name__}: {error}"


class Reconciler:
    def __init__(self, cluster, config: OffhoursConfig, sleep=time.sleep):
        self._cluster, self._config, self._sleep = cluster, config, sleep
        self._namespaces: dict[str, dict[str, str]] = {}

    def plan(self, now: datetime) -> FunctionPlan:
        """The function plan; raises the first namespace's read error (for the CLI, which shows it and stops)."""
        plan, failures = self._plan_tolerating_failures(now)
        if failures:
            raise failures[0][1]
        return plan

    def _plan_tolerating_failures(self, now: datetime) -> tuple[FunctionPlan, list[tuple[str, Exception]]]:
        """Plan the namespaces that could be read; (namespace, error) for each that could not."""
        self._namespaces, functions, failures = {}, [], []
        for namespace in self._config.namespaces:
            try:
                self._namespaces.update(self._cluster.namespace_annotations([namespace]))
                functions.extend(self._cluster.functions(namespace))
            except Exception as error:  # noqa: BLE001 - one unreadable namespace must not stop the others
                failures.append((namespace, error))
        return plan_functions(functions, self._namespaces, now, self._config.defaults, self._config.grace,
                              self._config.max_changes), failures

    def plan_nodepools(self, now: datetime) -> list[NodePoolAction]:
        return plan_nodepools(self._cluster.nodepools(), now, self._config.defaults, self._config.nodepools)

    def run(self, now: datetime) -> RunReport:
        plan, failures = self._plan_tolerating_failures(now)
        report = RunReport(now, self._config.dry_run, plan)
        report.read_errors = [(f"namespace {namespace}", _describe(error)) for namespace, error in failures]
        if not self._config.dry_run:
            changes = plan.changes
            with ThreadPoolExecutor(max_workers=self._config.workers) as pool:
                # In batches, so 10,000 changes never hold 10,000 pending futures at once.
                for start in range(0, len(changes), BATCH):
                    report.outcomes.extend(pool.map(lambda action: self._apply(action, now),
                                                    changes[start:start + BATCH]))
        try:
            pools = self.plan_nodepools(now)
        except Exception as error:  # noqa: BLE001 - the functions are done; report and try again next tick
            report.read_errors.append(("NodePools", _describe(error)))
            return report
        if self._config.dry_run:
            report.nodepools = [(action, None) for action in pools]
        else:
            report.nodepools = [(action, self._apply_nodepool(action)) for action in pools]
        return report

    def _apply(self, action: FunctionAction, now: datetime) -> Outcome:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self._cluster.patch_function(action.namespace, action.name, action.patch())
                return Outcome(action, applied=True)
            except ApiException as error:
                if error.status != 409 or attempt == CONFLICT_ATTEMPTS:
                    return Outcome(action, _describe(error))
            except Exception as error:  # noqa: BLE001 - one function's failure must not stop the others
                return Outcome(action, _describe(error))
            self._sleep(CONFLICT_BACKOFF_SECONDS * attempt)
            try:
                action = self._redecide(action, now)
            except Exception as error:  # noqa: BLE001
                return Outcome(action, f"re-read after conflict failed: {_describe(error)}")
            if not action.kind.writes:
                return Outcome(action)  # someone else already did it, or it is no longer ours to change
        return Outcome(action, "conflict")  # unreachable: the loop returns

    def _redecide(self, action: FunctionAction, now: datetime) -> FunctionAction:
        fresh = self._cluster.function(action.namespace, action.name)
        return decide(fresh, self._namespaces.get(action.namespace), now, self._config.defaults,
                      self._config.grace).action

    def _apply_nodepool(self, action: NodePoolAction) -> str | None:
        if not action.writes:
            return None
        try:
            self._cluster.patch_nodepool(action.name, action.patch)
            return None
        except Exception as error:  # noqa: BLE001 - reported; the next tick re-plans from a fresh list
            return _describe(error)
