"""Why one function is where it is: the policy source that decided, its state now, and when that next changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalice_app.offhours.editions import Capabilities
from chalice_app.offhours.model import FunctionDeployment
from chalice_app.offhours.parked import ParkedFunction
from chalice_app.offhours.planner import Kind, NightRules, decide
from chalice_app.offhours.policy import Defaults


@dataclass(frozen=True)
class Explanation:
    namespace: str
    name: str
    replicas: int
    state: str  # "uptime", "downtime" or "unknown" (invalid policy)
    action: str  # what the next tick would do: scale-down, repark, restore, release, keep, awake, hold, skip, error
    desired: int
    reason: str
    schedule_source: str | None  # e.g. "function annotation costguard.openfaas.com/uptime", "stage defaults"
    uptime: str | None
    downtime: str | None
    excluded: bool
    original_replicas: str | None  # the annotation (the visible mirror), when costguard holds replicas to restore
    next_change: datetime | None
    recorded_replicas: int | None = None  # the stage table's record: what the morning restores
    openfaas: str = ""  # edition and where that came from
    gitops: str | None = None  # the GitOps controller that manages the Deployment, if any

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a table."""
        return [
            ("function", f"{self.namespace}/{self.name}"), ("replicas now", str(self.replicas)),
            ("state", self.state), ("next tick", f"{self.action} → {self.desired}"), ("why", self.reason),
            ("decided by", self.schedule_source or "-"), ("uptime", self.uptime or "-"),
            ("downtime", self.downtime or "-"), ("excluded", "yes" if self.excluded else "no"),
            ("replicas to restore", "-" if self.recorded_replicas is None else
             f"{self.recorded_replicas} (stage table)"),
            ("annotation mirror", self.original_replicas or "-"),
            ("OpenFaaS", self.openfaas or "-"),
            ("GitOps", f"managed by {self.gitops}: make it ignore spec.replicas (README, GitOps)" if self.gitops
             else "not managed by Argo CD or Flux"),
            ("next change", self.next_change.isoformat() if self.next_change else "none ahead"),
        ]


def explain_function(function: FunctionDeployment, namespace_annotations: dict[str, str] | None, now: datetime,
                     defaults: Defaults, grace: timedelta, record: ParkedFunction | None = None,
                     rules: NightRules = NightRules()) -> Explanation:
    """Pure: the explanation from the objects, the table's record, the clock and the rules."""
    decision = decide(function, namespace_annotations, now, defaults, grace, record, rules)
    action, policy = decision.action, decision.policy
    state = "unknown" if decision.in_downtime is None else ("downtime" if decision.in_downtime else "uptime")
    capabilities: Capabilities = rules.capabilities
    return Explanation(
        namespace=function.namespace, name=function.name, replicas=function.replicas, state=state,
        action=action.kind.value, desired=action.desired, reason=action.reason,
        schedule_source=policy.schedule_source if policy else None,
        uptime=policy.uptime.spec if policy else None, downtime=policy.downtime.spec if policy else None,
        excluded=bool(policy and policy.excluded(now)) or (function.scale_zero or "").lower() == "false",
        original_replicas=function.mirror,
        next_change=policy.next_change(now) if policy and action.kind is not Kind.ERROR else None,
        recorded_replicas=record.replicas if record else None,
        openfaas=f"{capabilities.edition}{' + maintainMinimumReplicas' if capabilities.maintain_minimum_replicas else ''}"
                 f" ({capabilities.source})",
        gitops=function.gitops,
    )


def explain(name: str, namespace: str, now: datetime, settings=None, cluster=None, store=None) -> Explanation:
    """Read one function Deployment, its namespace and its table record, then explain it. Settings, cluster and
    store default to the app's."""
    from chalice_app.config import settings as current_settings
    from chalice_app.kube.client import api_client
    from chalice_app import table_keys
    from chalice_app.offhours import keeps, parked
    from chalice_app.offhours.cluster import OffhoursCluster
    from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler

    settings = settings or current_settings()
    cluster = cluster or OffhoursCluster(api_client(settings))
    store = store or parked.DynamoParkedStore(settings.table_name, region=settings.region)
    config = OffhoursConfig.from_settings(settings)
    function = cluster.function(namespace, name)  # first: a bad name is refused before any other read
    annotations = cluster.namespace_annotations([namespace]).get(namespace)
    records = store.get_many([table_keys.function_id(namespace, name), *keeps.keep_item_ids([namespace])])
    function = keeps.with_keep(function, keeps.keeps_from_items(records, [namespace]).get((namespace, name)), now)
    found = records.get(table_keys.function_id(namespace, name))
    rules = NightRules(Reconciler(cluster, config, store=store).capabilities(), config.idle, config.hold,
                       restore_cap=config.restore_cap)
    return explain_function(function, annotations, now, config.defaults, config.grace,
                            parked.ParkedFunction.from_item(found) if found else None, rules)
