"""What an off-hours run is configured with and what it reports (plain data, shared by the reconcile, the handler,
the Slack report and the CLI)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kubernetes.client.exceptions import ApiException

from chalice_app.offhours import editions
from chalice_app.offhours.nodepools import NodePoolAction
from chalice_app.offhours.model import FunctionDeployment
from chalice_app.offhours.nodes import NodeStay
from chalice_app.offhours.planner import (DEFAULT_HOLD, DEFAULT_IDLE, DEFAULT_RESTORE_CAP, FunctionAction, FunctionPlan,
                                          Kind)
from chalice_app.offhours.policy import Defaults

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
    openfaas_namespace: str = "openfaas"
    edition: str | None = None  # setting: "ce" / "standard" overrides detection
    maintain_minimum_replicas: bool | None = None
    idle: timedelta = DEFAULT_IDLE
    hold: timedelta = DEFAULT_HOLD
    metrics_service: str = "openfaas/prometheus:9090"
    night_allowance_cpu: str = "2"
    restore_cap: int = DEFAULT_RESTORE_CAP
    delete_empty_nodeclaims: int = 0  # at most this many per run (offhours/reaper.py); 0: off

    @classmethod
    def from_settings(cls, settings) -> "OffhoursConfig":
        return cls(tuple(settings.function_namespaces), Defaults.from_settings(settings),
                   timedelta(minutes=settings.offhours_grace_minutes), settings.offhours_max_changes,
                   settings.dry_run, tuple(settings.offhours_nodepools),
                   openfaas_namespace=settings.openfaas_namespace, edition=settings.openfaas_edition,
                   maintain_minimum_replicas=settings.openfaas_maintain_minimum_replicas,
                   idle=timedelta(minutes=settings.offhours_idle_minutes),
                   hold=timedelta(minutes=settings.offhours_hold_minutes),
                   metrics_service=settings.offhours_metrics_service,
                   night_allowance_cpu=settings.offhours_night_allowance_cpu,
                   restore_cap=settings.offhours_restore_cap,
                   delete_empty_nodeclaims=settings.offhours_delete_empty_nodeclaims)


@dataclass(frozen=True)
class Outcome:
    action: FunctionAction  # the action finally applied (after re-deciding on a conflict)
    error: str | None = None
    applied: bool = False
    patch: dict | None = None  # the merge patch that was sent (None: none was needed, or none applied)


@dataclass
class RunReport:
    now: datetime
    dry_run: bool
    plan: FunctionPlan
    outcomes: list[Outcome] = field(default_factory=list)
    nodepools: list[tuple[NodePoolAction, str | None]] = field(default_factory=list)  # (action, error)
    read_errors: list[tuple[str, str]] = field(default_factory=list)  # (what could not be listed or read, why)
    capabilities: editions.Capabilities = editions.Capabilities()
    notes: list[str] = field(default_factory=list)  # what the run wants operators to know (metrics unreadable, ...)
    nodes: list[NodeStay] = field(default_factory=list)  # nodes of pools parked ≥ NODE_REPORT_AFTER, and why
    deleted_nodeclaims: list = field(default_factory=list)  # reaper.NodeClaimDeletion: empty, deleted (opt-in)
    nodeclaim_errors: list[tuple[str, str]] = field(default_factory=list)
    functions: list[FunctionDeployment] = field(default_factory=list)  # as listed, before the run's patches

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
        found += self.nodeclaim_errors
        return found

    @property
    def changed(self) -> bool:
        """Something changed (in a dry run: would have)."""
        if self.dry_run and self.plan.changes:
            return True
        return bool(self.deleted_nodeclaims) or any(outcome.applied for outcome in self.outcomes) or any(
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
