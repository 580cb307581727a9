"""One headroom run: list → plan (pure) → create or patch each pool's placeholders; one pool's failure is that pool's
error. Run by the off-hours Lambda after its own reconcile, so the placeholders follow the pool's parking."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kubernetes.client.exceptions import ApiException

from chalice_app.headroom.planner import HeadroomPlan, Policy, deployment_name, plan_headroom


@dataclass
class HeadroomRun:
    plan: HeadroomPlan
    applied: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {"pools": {pool.pool: f"{pool.replicas} × {pool.pod_cpu_millis}m ({pool.reason})"
                          for pool in self.plan.pools},
                "applied": self.applied, "errors": self.errors}


def plan(cluster, policy: Policy, now: datetime) -> HeadroomPlan:
    return plan_headroom(cluster.nodepools(), cluster.placeholders(), policy, now)


def reconcile(cluster, policy: Policy, now: datetime, dry_run: bool = False) -> HeadroomRun:
    run = HeadroomRun(plan(cluster, policy, now))
    run.errors += [f"{pool.pool}: {pool.error}" for pool in run.plan.pools if pool.error]
    for pool in run.plan.changes():
        if dry_run:
            continue
        try:
            if pool.action == "create":
                cluster.create(pool.body)
            else:
                cluster.patch(deployment_name(pool.pool), pool.body)
            run.applied.append(f"{pool.pool}: {pool.action} to {pool.replicas}")
        except ApiException as error:  # 409: the next run re-reads and decides again
            run.errors.append(f"{pool.pool}: {pool.action} failed ({error.status} {error.reason})")
    return run
