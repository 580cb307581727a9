"""Karpenter v1's disruption and termination, and EC2 taking instances away, over the fake API's store and moto.

Run only when called, with an explicit clock (`now`), never in threads. One `disrupt(now)` is what Karpenter's
controllers do by `now`:

1. nodeclaim.expiration: NodeClaims past `spec.expireAfter` are deleted (forceful: no budgets, no do-not-disrupt).
2. disruption controller, methods in order — drift, emptiness, consolidation — each command within the NodePool's
   budgets for its reason; for every candidate the orchestration queue taints the Node `karpenter.sh/disrupted:
   NoSchedule` and sets the NodeClaim condition `DisruptionReason` (reason = Drifted | Empty | Underutilized),
   pre-spins replacements, then deletes the NodeClaim (kubernetes-sigs/karpenter pkg/controllers/disruption/
   controller.go, queue.go).
3. nodeclaim lifecycle: a deleting NodeClaim deletes its Node; both keep the finalizer `karpenter.sh/termination`
   (pkg/controllers/nodeclaim/lifecycle/termination.go).
4. node termination: taint, drain through the eviction rules (PDBs; do-not-disrupt pods stay), then the instance is
   terminated in EC2 (`InstanceTerminating` condition) and EC2 reports `shutting-down`; Karpenter keeps the Node
   until the instance is `terminated` (aws/karpenter-provider-aws pkg/providers/instance/instance.go lists
   shutting-down instances as existing), then removes the finalizers (pkg/controllers/node/termination/controller.go).

Reclaims and human terminations are the other ways a node goes: EC2's own events, no Karpenter markings
(sandbox/instance_loss.py, mixed into `Karpenter`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sandbox import disruption_candidates as candidates
from sandbox import disruption_rules as rules
from sandbox import ec2_events
from sandbox.instance_loss import INSTANCE_SHUTDOWN, DisruptionReport, InstanceLoss, instance_of
from sandbox.k8s_events import record_event
from sandbox.karpenter_scheduling import fits_elsewhere, launch_for
from sandbox.kubeapi.errors import ApiError
from sandbox.kubeapi.eviction import check_eviction
from sandbox.objects import stamp

if TYPE_CHECKING:
    from sandbox.cluster_sim import ClusterSim


class Karpenter(InstanceLoss):
    def __init__(self, sim: "ClusterSim", publisher: ec2_events.EventPublisher):
        self.sim = sim
        self.store = sim.store
        self.publisher = publisher
        self._terminating: dict[str, datetime] = {}     # instance -> when TerminateInstances was called
        self._reclaims: dict[str, tuple[datetime, str]] = {}  # instance -> (when EC2 takes it, instance-action)
        self._gone: set[str] = set()                    # instances already terminated
        self._vanishing: dict[str, datetime] = {}       # instance -> when EC2 took it (not Karpenter's doing)
        self.last_now: datetime | None = None           # the latest `now` a pass ran at

    # --- hooks from the simulator ----------------------------------------------------------------------------------
    def launched(self, instance_id: str, at: datetime) -> None:
        """EC2 reports a new instance pending, then running."""
        self.publisher.publish(ec2_events.state_change(instance_id, "pending", at),
                               ec2_events.state_change(instance_id, "running", at))

    # --- commands ----------------------------------------------------------------------------------------------------
    def drift(self, node_name: str, at: datetime) -> None:
        """Mark the node's NodeClaim `Drifted` (what the drift check sets after a NodePool/EC2NodeClass change)."""
        claim = self._claim_of(node_name)
        _set_condition(claim, rules.CONDITION_DRIFTED, "NodePoolDrifted", "NodePoolDrifted", at)
        self.store.put(claim)

    # --- one pass --------------------------------------------------------------------------------------------------
    def disrupt(self, now: datetime, methods: tuple[str, ...] = (rules.DRIFTED, rules.EMPTY, rules.UNDERUTILIZED),
                ) -> DisruptionReport:
        report = DisruptionReport()
        self.last_now = max(self.last_now or now, now)
        with self.sim.clock_at(now):  # what the controllers write (launches, pod events) is stamped `now`
            self._finish_terminations(now, report)
            self._take_reclaimed(now, report)
            self._expire(now, report)
            while self._disrupt_once(now, methods, report):
                pass
            self._nodes_of_deleted_claims(now)
            self._run_terminations(now, report)
            # The ReplicaSet controller and the scheduler do not wait: evicted pods come back right away (and the
            # NodeClaims' lastPodEventTime follows, stamped `now`).
            self.sim.settle()
        return report

    def consolidate_empty(self, start: datetime | None) -> tuple[list[str], datetime]:
        """Emptiness run to its end: passes from `start` (None: once `consolidateAfter` has passed since the latest
        moment seen — the simulated clock, a pass, a pod event), one every INSTANCE_SHUTDOWN, until a pass finds
        nothing to do (budgets count the nodes still going); (the nodes removed, the time of the last pass)."""
        if start is None:
            pools = self.store.list("karpenter.sh/v1", "NodePool")
            after = max((rules.consolidate_after(p) or timedelta(0) for p in pools), default=timedelta(0))
            events = [rules.parse_time((c.get("status") or {}).get("lastPodEventTime"))
                      for c in self.store.list("karpenter.sh/v1", "NodeClaim")]
            start = max([self.sim.now(), self.last_now or self.sim.now(), *filter(None, events)]) + after
        now, removed = start, []
        for _ in range(200):
            report = self.disrupt(now, methods=(rules.EMPTY,))
            removed.extend(node for node, reason in report.disrupted.items() if reason == rules.EMPTY)
            if not report.disrupted and not report.shutting_down and not self.busy:
                break
            now += INSTANCE_SHUTDOWN
        return removed, now

    @property
    def busy(self) -> bool:
        """Instances still shutting down or due to be reclaimed."""
        return bool(self._terminating or self._reclaims or self._vanishing)

    # --- controllers -----------------------------------------------------------------------------------------------
    def _expire(self, now: datetime, report: DisruptionReport) -> None:
        for claim in self.store.list("karpenter.sh/v1", "NodeClaim"):
            expiry = rules.expires_at(claim)
            if not rules.is_deleting(claim) and expiry is not None and now >= expiry:
                self._delete_claim(claim, now)
                report.expired.append(claim["status"].get("nodeName", ""))

    def _disrupt_once(self, now: datetime, methods: tuple[str, ...], report: DisruptionReport) -> bool:
        """One disruption command: the first method (drift, emptiness, consolidation) with candidates within its
        budgets acts; False when nothing was done."""
        nodes = self.store.list("v1", "Node")
        pods = [p for p in self.store.list("v1", "Pod") if p["spec"].get("nodeName")]
        pool_list = self.store.list("karpenter.sh/v1", "NodePool")
        claim_list = self.store.list("karpenter.sh/v1", "NodeClaim")
        pools = {p["metadata"]["name"]: p for p in pool_list}
        claims = {c["status"].get("nodeName"): c for c in claim_list}
        by_node: dict[str, list[dict]] = {}
        for pod in pods:
            by_node.setdefault(pod["spec"]["nodeName"], []).append(pod)
        counts = rules.pool_counts(nodes, claim_list)
        for method in (rules.DRIFTED, rules.EMPTY, rules.UNDERUTILIZED):
            if method not in methods:
                continue
            if method == rules.EMPTY:  # emptiness deletes every allowed empty node at once
                plan = candidates.plan_consolidation(nodes, pods, pool_list, claim_list, now)
                pool_of = {n["metadata"]["name"]: n["metadata"].get("labels", {}).get(rules.NODEPOOL_LABEL, "")
                           for n in nodes}
                for name, blockers in plan.kept.items():
                    why = _empty_but_blocked(blockers, pool_of[name])
                    if why:
                        report.blocked.setdefault(name, why)
                command = [candidates.Candidate(name, claims[name]["metadata"]["name"], pool_of[name], rules.EMPTY, 0)
                           for name in plan.remove]
            else:  # drift and single-node consolidation: one node a command
                found = self._graceful_candidates(method, nodes, pools, claims, by_node, now, report)
                command = candidates.within_budgets(found, pools, counts, now)[:1]
                if not command:
                    for candidate in found:
                        report.blocked.setdefault(candidate.node, f"NodePool {candidate.pool} budget for {method}")
            if not command:
                continue
            for candidate in command:
                if method != rules.DRIFTED:
                    self._mark_consolidatable(self.store.get("karpenter.sh/v1", "NodeClaim", None, candidate.claim), now)
                self._start_disruption(candidate, by_node.get(candidate.node, []), now)
                report.disrupted[candidate.node] = method
            return True
        return False

    def _graceful_candidates(self, method: str, nodes: list[dict], pools: dict[str, dict], claims: dict[str, dict],
                             by_node: dict[str, list[dict]], now: datetime,
                             report: DisruptionReport) -> list[candidates.Candidate]:
        """The nodes whose reason is `method` (Drifted or Underutilized) and that may go, cheapest first."""
        found: list[tuple[tuple, candidates.Candidate]] = []
        for node in nodes:
            name = node["metadata"]["name"]
            pool = pools.get(node["metadata"].get("labels", {}).get(rules.NODEPOOL_LABEL, ""))
            claim = claims.get(name)
            if pool is None or claim is None or rules.is_deleting(node) or rules.has_disrupted_taint(node):
                continue
            on_node = by_node.get(name, [])
            reschedulable = [p for p in on_node if rules.is_reschedulable(p)]
            if candidates.graceful_reason(claim, pool, reschedulable, now) != method:
                continue
            why = candidates.blocked_by(node, on_node, now, claim)
            if why is not None:
                report.blocked[name] = why
                continue
            if method == rules.UNDERUTILIZED:
                self._mark_consolidatable(claim, now)
                if not fits_elsewhere(self.sim, reschedulable, exclude={name}):
                    report.blocked[name] = "its pods fit on no other node"
                    continue
            found.append((candidates.candidate_order(node, len(reschedulable)),
                          candidates.Candidate(name, claim["metadata"]["name"], pool["metadata"]["name"], method,
                                               len(reschedulable))))
        return [candidate for _, candidate in sorted(found, key=lambda item: item[0])]

    def _mark_consolidatable(self, claim: dict, now: datetime) -> None:
        if not rules.condition_true(claim, rules.CONDITION_CONSOLIDATABLE):
            _set_condition(claim, rules.CONDITION_CONSOLIDATABLE, rules.CONDITION_CONSOLIDATABLE, "", now)
            self.store.put(claim)

    def _start_disruption(self, candidate: candidates.Candidate, pods: list[dict], now: datetime) -> None:
        """Orchestration queue: taint, DisruptionReason, replacements first, then delete the NodeClaim."""
        node = self._node(candidate.node)
        self._taint(node)
        claim = self.store.get("karpenter.sh/v1", "NodeClaim", None, candidate.claim)
        _set_condition(claim, rules.CONDITION_DISRUPTION_REASON, candidate.reason, candidate.reason, now)
        self.store.put(claim)
        # pkg/controllers/disruption/events/events.go Terminating
        record_event(self.store, node, "DisruptionTerminating", f"Disrupting Node: {candidate.reason}", now)
        record_event(self.store, claim, "DisruptionTerminating", f"Disrupting NodeClaim: {candidate.reason}", now)
        # Replacements are simulated for the reschedulable pods (disruption/helpers.go SimulateScheduling).
        moving = [p for p in pods if rules.is_reschedulable(p)]
        if moving and not fits_elsewhere(self.sim, moving, exclude={candidate.node}):
            launch_for(self.sim, moving)
        self._delete_claim(claim, now)

    def _delete_claim(self, claim: dict, now: datetime) -> None:
        """DELETE of an object with finalizers: deletionTimestamp set, object kept; the lifecycle controller then
        deletes the Node the same way."""
        claim = self.store.get("karpenter.sh/v1", "NodeClaim", None, claim["metadata"]["name"])
        claim["metadata"]["deletionTimestamp"] = stamp(now)
        self.store.put(claim)
        node = self.store.get("v1", "Node", None, claim["status"].get("nodeName", ""))
        if node is not None and not rules.is_deleting(node):
            node["metadata"]["deletionTimestamp"] = stamp(now)
            self.store.put(node)

    def _nodes_of_deleted_claims(self, now: datetime) -> None:
        """A NodeClaim deleted through the API (`kubectl delete nodeclaim`, karpenter.sh docs concepts/disruption,
        "Manual Methods") keeps its finalizer; the lifecycle controller then deletes its Node, whose termination
        drains it and terminates the instance (kubernetes-sigs/karpenter pkg/controllers/nodeclaim/lifecycle/
        termination.go)."""
        for claim in self.store.list("karpenter.sh/v1", "NodeClaim"):
            if not rules.is_deleting(claim):
                continue
            node = self.store.get("v1", "Node", None, (claim.get("status") or {}).get("nodeName", ""))
            if node is not None and not rules.is_deleting(node):
                node["metadata"]["deletionTimestamp"] = stamp(now)
                self.store.put(node)

    def _run_terminations(self, now: datetime, report: DisruptionReport) -> None:
        """Node termination controller for every deleting Karpenter Node whose instance is still running."""
        for node in self.store.list("v1", "Node"):
            instance = instance_of(node)
            if not rules.is_deleting(node) or rules.TERMINATION_FINALIZER not in node["metadata"].get("finalizers", []) \
                    or instance in self._terminating:
                continue
            self._taint(node)
            left = self._drain(node, now)
            if left:
                report.blocked[node["metadata"]["name"]] = left
                continue
            claim = self._claim_of(node["metadata"]["name"], missing_ok=True)
            if claim is not None and not rules.is_deleting(claim):
                # A Node deleted by hand (`kubectl delete node`): termination deletes its NodeClaim as well
                # (pkg/controllers/node/termination/controller.go; docs: Manual Methods, Node Deletion).
                claim["metadata"]["deletionTimestamp"] = stamp(now)
            if claim is not None:
                _set_condition(claim, rules.CONDITION_INSTANCE_TERMINATING, "InstanceTerminating",
                               "Instance is terminating", now)
                self.store.put(claim)
            self._terminate_instance(instance, now)
            report.shutting_down.append(instance)

    def _drain(self, node: dict, now: datetime) -> str | None:
        """Evict in terminator.go's waves; None once drained, else what is left and why."""
        name = node["metadata"]["name"]
        pods = [p for p in self.store.list("v1", "Pod") if p["spec"].get("nodeName") == name and rules.drainable(p)]
        for wave in rules.drain_groups(pods):
            stuck = []
            for pod in wave:
                why = self._evict(pod, now)
                if why:
                    stuck.append(why)
            if stuck:
                return "; ".join(stuck)
        return None

    def _evict(self, pod: dict, now: datetime) -> str | None:
        meta = pod["metadata"]
        if rules.pod_do_not_disrupt(pod, now):
            return f"pod {meta['namespace']}/{meta['name']} has {rules.DO_NOT_DISRUPT}"
        pdbs = self.store.list("policy/v1", "PodDisruptionBudget", meta["namespace"])
        try:
            if pdbs:  # the eviction API's own check (sandbox.kubeapi.eviction), as `POST .../eviction` runs it
                check_eviction(pod, pdbs, self.store.list("v1", "Pod", meta["namespace"]),
                               self.store.list("apps/v1", "Deployment", meta["namespace"]))
        except ApiError as refused:
            return f"pod {meta['namespace']}/{meta['name']}: {refused}"
        self.store.delete("v1", "Pod", meta["namespace"], meta["name"])
        self.sim.pod_event(pod["spec"]["nodeName"])
        return None

    def _terminate_instance(self, instance: str, now: datetime) -> None:
        if self.sim.ec2 is not None:
            self.sim.ec2.terminate_instances(InstanceIds=[instance])
        self._terminating[instance] = now
        self.publisher.publish(ec2_events.state_change(instance, "shutting-down", now))

    def _finish_terminations(self, now: datetime, report: DisruptionReport) -> None:
        """Instances past shutting-down are terminated; Karpenter then lets the Node and NodeClaim go."""
        for instance, since in sorted(self._terminating.items()):
            if now < since + INSTANCE_SHUTDOWN:
                continue
            del self._terminating[instance]
            self._gone.add(instance)
            self.publisher.publish(ec2_events.state_change(instance, "terminated", since + INSTANCE_SHUTDOWN))
            report.terminated.append(instance)
            for node in self.store.list("v1", "Node"):
                if instance_of(node) == instance and rules.is_deleting(node):
                    self.store.delete("v1", "Node", None, node["metadata"]["name"])
            for claim in self.store.list("karpenter.sh/v1", "NodeClaim"):
                if instance_of(claim) == instance and rules.is_deleting(claim):
                    self.store.delete("karpenter.sh/v1", "NodeClaim", None, claim["metadata"]["name"])

    # --- helpers ---------------------------------------------------------------------------------------------------
    def _node(self, name: str) -> dict:
        node = self.store.get("v1", "Node", None, name)
        if node is None:
            raise KeyError(f"no Node {name}")
        return node

    def _claim_of(self, node_name: str, missing_ok: bool = False) -> dict | None:
        claim = next((c for c in self.store.list("karpenter.sh/v1", "NodeClaim")
                      if (c.get("status") or {}).get("nodeName") == node_name), None)
        if claim is None and not missing_ok:
            raise KeyError(f"no NodeClaim for Node {node_name}")
        return claim

    def _taint(self, node: dict) -> None:
        node = self.store.get("v1", "Node", None, node["metadata"]["name"])
        if not rules.has_disrupted_taint(node):
            node["spec"].setdefault("taints", []).append(dict(rules.DISRUPTED_TAINT))
            self.store.put(node)


def _empty_but_blocked(blockers: tuple[candidates.Blocker, ...], pool: str) -> str | None:
    """What keeps an empty, consolidatable node (do-not-disrupt, the budget), as the report says it; None for nodes
    that are not empty, not consolidatable yet or never (static, `Never`)."""
    kinds = {blocker.kind for blocker in blockers}
    if kinds & {"pods", "static", "consolidate-after", "consolidate-after-never"}:
        return None
    if "budget" in kinds:
        return f"NodePool {pool} budget for {rules.EMPTY}"
    if "do-not-disrupt-node" in kinds:
        return f"node has {rules.DO_NOT_DISRUPT}"
    pod = next(b.detail for b in blockers if b.kind == "do-not-disrupt-pod").split(", ")[0]
    return f"pod {pod} has {rules.DO_NOT_DISRUPT}"


def _set_condition(obj: dict, kind: str, reason: str, message: str, at: datetime) -> None:
    """Set a status condition True (operatorpkg status.ConditionSet.SetTrueWithReason), keeping the others."""
    conditions = [c for c in obj.setdefault("status", {}).get("conditions", []) if c.get("type") != kind]
    conditions.append({"type": kind, "status": "True", "reason": reason, "message": message,
                       "lastTransitionTime": stamp(at), "observedGeneration": obj["metadata"].get("generation", 1)})
    obj["status"]["conditions"] = conditions
