"""Why one function is where it is: the policy source that decided, its state now, and when that next changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalice_app.offhours.model import ORIGINAL_REPLICAS, FunctionDeployment
from chalice_app.offhours.planner import Kind, decide
from chalice_app.offhours.policy import Defaults


@dataclass(frozen=True)
class Explanation:
    namespace: str
    name: str
    replicas: int
    state: str  # "uptime", "downtime" or "unknown" (invalid policy)
    action: str  # what the next tick would do: scale-down, restore, release, keep, skip, error
    desired: int
    reason: str
    schedule_source: str | None  # e.g. "function annotation costguard.openfaas.com/uptime", "stage defaults"
    uptime: str | None
    downtime: str | None
    excluded: bool
    original_replicas: str | None  # the annotation, when costguard holds replicas to restore
    next_change: datetime | None

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a table."""
        return [
            ("function", f"{self.namespace}/{self.name}"), ("replicas now", str(self.replicas)),
            ("state", self.state), ("next tick", f"{self.action} → {self.desired}"), ("why", self.reason),
            ("decided by", self.schedule_source or "-"), ("uptime", self.uptime or "-"),
            ("downtime", self.downtime or "-"), ("excluded", "yes" if self.excluded else "no"),
            ("replicas to restore", self.original_replicas or "-"),
            ("next change", self.next_change.isoformat() if self.next_change else "none ahead"),
        ]


def explain_function(function: FunctionDeployment, namespace_annotations: dict[str, str] | None, now: datetime,
                     defaults: Defaults, grace: timedelta) -> Explanation:
    """Pure: the explanation from the objects, the clock and the defaults."""
    decision = decide(function, namespace_annotations, now, defaults, grace)
    action, policy = decision.action, decision.policy
    state = "unknown" if decision.in_downtime is None else ("downtime" if decision.in_downtime else "uptime")
    return Explanation(
        namespace=function.namespace, name=function.name, replicas=function.replicas, state=state,
        action=action.kind.value, desired=action.desired, reason=action.reason,
        schedule_source=policy.schedule_source if policy else None,
        uptime=policy.uptime.spec if policy else None, downtime=policy.downtime.spec if policy else None,
        excluded=bool(policy and policy.excluded(now)) or function.scale_zero == "false",
        original_replicas=function.annotations.get(ORIGINAL_REPLICAS),
        next_change=policy.next_change(now) if policy and action.kind is not Kind.ERROR else None,
    )


def explain(name: str, namespace: str, now: datetime, settings=None, cluster=None) -> Explanation:
    """Read one function Deployment and its namespace, then explain it. Settings and cluster default to the app's."""
    from chalice_app.config import settings as current_settings
    from chalice_app.kube.client import api_client
    from chalice_app.offhours.cluster import OffhoursCluster
    from chalice_app.offhours.reconcile import OffhoursConfig

    settings = settings or current_settings()
    cluster = cluster or OffhoursCluster(api_client(settings))
    config = OffhoursConfig.from_settings(settings)
    function = cluster.function(namespace, name)
    annotations = cluster.namespace_annotations([namespace]).get(namespace)
    return explain_function(function, annotations, now, config.defaults, config.grace)
