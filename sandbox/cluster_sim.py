"""Tiny deterministic stand-ins for the cluster's controllers, run only when called (`settle()`), never in threads.

- ReplicaSet controller: function Deployments' `spec.replicas` → pods created or deleted, status updated.
- Scheduler: a pod goes to the Ready, schedulable Karpenter node it fits (taints tolerated, required node
  affinity met, CPU and pod slots free) with the most free CPU; otherwise it preempts lower-priority pods
  (sandbox/scheduler_sim.py) or stays Pending.
- Karpenter: Pending pods get a new node from the first NodePool that can host them, sized for them and kept
  within the pool's `limits.cpu`; the instance is launched in moto. Disruption (consolidation, drift, expiry) and
  instances taken away (reclaims, human terminations) are `sandbox.karpenter`'s, reached through `disrupt(now)`.
Deployments outside OpenFaaS' core namespace and kube-system are reconciled (sandbox/replicaset_sim.py); the core
stays where it was seeded. Time-stepped runs (node and pod start times) are sandbox/cluster_timing.py's.
The decisions live by role: where a pod fits (pod_fit.py), the scheduler's queue and preemption (scheduler_sim.py,
kube_scheduler.py), Karpenter's launches (karpenter_launch.py), static pools (karpenter_static.py, karpenter_sim.py)
and disruption (disruption_rules.py, disruption_candidates.py, karpenter.py); this module wires them.
"""
from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from sandbox import karpenter_sim, objects, replicaset_sim, scheduler_sim
from sandbox.aws import launch_instances, tag_instance
from sandbox.disruption_candidates import ConsolidationPlan, plan_consolidation
from sandbox.disruption_rules import is_static
from sandbox.ec2_events import EventPublisher
from sandbox.instance_loss import DisruptionReport
from sandbox.karpenter import Karpenter
from sandbox.karpenter_launch import choose_shape, pool_for
from sandbox.kubeapi.eviction import is_ready
from sandbox.objects import FUNCTION_NAMESPACE
from sandbox.pod_fit import cpu_m, pod_cpu_m
from sandbox.replicaset_sim import deletion_order, workload_of
from sandbox.seed import (
    DEFAULT_SEED,
    SHAPES,
    ZONES,
    Machine,
    fake_machine,
    instance_tags,
    random_suffix,
)

MAX_ROUNDS = 20
OFFLINE_INDEX_BASE = 1_000_000  # made-up instances of new nodes never collide with seeded ones


@dataclass
class SettleReport:
    pods_created: list[str] = field(default_factory=list)
    pods_deleted: list[str] = field(default_factory=list)
    pods_pending: list[str] = field(default_factory=list)
    nodes_added: list[str] = field(default_factory=list)
    openfaas: object = None  # the OpenFaaS twin's report (sandbox/openfaas.py OpenFaaSReport), if it ran


class ClusterSim:
    """The controllers over the fake API's store; `ec2` is moto's client, or None to make up new instances."""

    def __init__(self, store, ec2=None, cluster_name: str = "openfaas", seed: int = DEFAULT_SEED,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), events=None, openfaas=None):
        """`events` is moto's EventBridge client: EC2's state changes are put on its default bus. `openfaas`: the
        OpenFaaS twin (sandbox/openfaas.py) whose controllers run first in every `settle`."""
        self.store = store
        self.openfaas = openfaas
        self._last_settle: datetime | None = None
        self._acting_at: datetime | None = None  # while a controller acts at a simulated moment (clock_at)
        self.last_consolidation: ConsolidationPlan | None = None  # why the nodes kept by the latest pass stay
        self._pod_events: set[str] = set()  # nodes whose pods changed since their NodeClaim was stamped
        self.ec2 = ec2
        self.karpenter = Karpenter(self, EventPublisher(events))
        self.cluster_name = cluster_name
        self._rng = random.Random(seed + 1)
        self._clock = clock
        self._bound_pods = 0
        self._offline_launches = 0
        self.timeline = None  # sandbox.cluster_timing.Timeline while time-stepped; None: everything is instant

    # --- commands --------------------------------------------------------------------------------------------
    def scale_function(self, name: str, replicas: int, namespace: str = FUNCTION_NAMESPACE) -> None:
        """What load (or a person) does: set the function Deployment's replicas. `settle()` makes it so."""
        if replicas < 0:
            raise ValueError(f"replicas={replicas}: must be 0 or more")
        deployment = self.store.get("apps/v1", "Deployment", namespace, name)
        if deployment is None:
            raise KeyError(f"no Deployment {namespace}/{name}")
        deployment["spec"]["replicas"] = replicas
        self.store.put(deployment)

    def now(self) -> datetime:
        """The simulated time: the moment a controller acts at (`clock_at`), else that of the latest `settle(at)`,
        else the clock's."""
        return self._acting_at or self._last_settle or self._clock()

    def pod_event(self, node_name: str) -> None:
        """A pod was bound to or removed from the node: its NodeClaim's lastPodEventTime follows at the next stamp."""
        self._pod_events.add(node_name)

    def settle(self, at: datetime | None = None) -> SettleReport:
        """Run the controllers until nothing changes: OpenFaaS (at `at`, default the clock), replicas, scheduling,
        provisioning, Deployment status."""
        report = SettleReport()
        if at is not None:
            self._last_settle = at
        if self.openfaas is not None:
            report.openfaas = self.openfaas.reconcile(at or self.now())
        # One read per settle; the controllers keep `pods` current as they write.
        deployments = replicaset_sim.reconciled_deployments(self.store.list("apps/v1", "Deployment"))
        pods = {pod["metadata"]["name"]: pod for pod in replicaset_sim.reconciled(self.store.list("v1", "Pod"))}
        karpenter_sim.reconcile_static_pools(self, pods, report)
        for _ in range(MAX_ROUNDS):
            self._reconcile_replicas(deployments, pods, report)
            pending, preempted = scheduler_sim.schedule(self, pods)
            if not (pending and self._provision(pending, report)) and not preempted:
                break
        report.pods_pending = sorted(name for name, pod in pods.items() if not pod["spec"].get("nodeName"))
        self._update_statuses(deployments, pods)
        karpenter_sim.stamp_pod_events(self.store, self._pod_events, self.now())
        return report

    def consolidate(self, at: datetime | None = None) -> list[str]:
        """Karpenter's emptiness through its whole v1 sequence (sandbox/karpenter.py: taint, DisruptionReason,
        NodeClaim and Node deletion, termination, EC2's state changes), pass after pass from `at` until its budgets
        allow no more; the names removed. `at` None: once every consolidateAfter has passed. `last_consolidation.kept`
        says why the others stay (sandbox/disruption_candidates.py, the same rules)."""
        removed, last = self.karpenter.consolidate_empty(at)
        self.last_consolidation = plan_consolidation(
            self.store.list("v1", "Node"), self.store.list("v1", "Pod"), self.store.list("karpenter.sh/v1", "NodePool"),
            self.store.list("karpenter.sh/v1", "NodeClaim"), last)
        return removed

    def place_pod(self, node_name: str, name: str, namespace: str = "kube-system", do_not_disrupt: bool = False,
                  cpu_m: int = 100) -> dict:
        """Something other than a function on a node (a job, an agent), optionally annotated
        `karpenter.sh/do-not-disrupt: "true"`: what keeps a parked pool's node alive."""
        return karpenter_sim.place_pod(self, node_name, name, namespace, do_not_disrupt, cpu_m)

    @contextlib.contextmanager
    def clock_at(self, now: datetime):
        """Read the clock as `now` meanwhile (the controllers acting at a simulated moment)."""
        saved, acting = self._clock, self._acting_at
        self._clock, self._acting_at = (lambda: now), now
        try:
            yield
        finally:
            self._clock, self._acting_at = saved, acting

    def disrupt(self, now: datetime | None = None) -> DisruptionReport:
        """What Karpenter's disruption and termination controllers (and EC2) have done by `now`; see
        sandbox.karpenter. Evicted pods come back on the next `settle()`."""
        return self.karpenter.disrupt(now or self._clock())

    def drift(self, node_name: str, now: datetime | None = None) -> None:
        self.karpenter.drift(node_name, now or self._clock())

    def reclaim(self, node_name: str, now: datetime | None = None, **options) -> str:
        """AWS reclaims the node's spot instance (warning now, gone 2 min later); its instance id."""
        return self.karpenter.reclaim(node_name, now or self._clock(), **options)

    def terminate_by_hand(self, node_name: str, now: datetime | None = None) -> str:
        """A person terminates the node's instance in EC2; its instance id."""
        return self.karpenter.terminate_by_hand(node_name, now or self._clock())

    @property
    def published_events(self) -> list[dict]:
        """Every EventBridge entry the simulator put (PutEvents entries, in order)."""
        return self.karpenter.publisher.published

    def terminate_node(self, name: str) -> list[str]:
        """The instance goes away (e.g. a spot reclaim): its pods, Node, NodeClaim and instance; pods' names."""
        node = self.store.get("v1", "Node", None, name)
        if node is None:
            raise KeyError(f"no Node {name}")
        gone = [p for p in self.store.list("v1", "Pod") if p["spec"].get("nodeName") == name]
        for pod in gone:
            self.store.delete("v1", "Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
        self._remove_node(node)
        return [pod["metadata"]["name"] for pod in gone]

    # --- controllers -----------------------------------------------------------------------------------------
    def _reconcile_replicas(self, deployments: list[dict], pods: dict[str, dict], report: SettleReport) -> None:
        owned = replicaset_sim.owned_pods(deployments, [p for p in pods.values() if replicaset_sim.is_active(p)])
        classes = self.store.list("scheduling.k8s.io/v1", "PriorityClass")
        for deployment in deployments:
            work = workload_of(deployment)
            current = owned.get((work.namespace, work.name), [])
            for doomed in deletion_order(current)[:max(0, len(current) - work.replicas)]:
                name = doomed["metadata"]["name"]
                if doomed["spec"].get("nodeName"):
                    self.pod_event(doomed["spec"]["nodeName"])
                self.store.delete("v1", "Pod", work.namespace, name)
                del pods[name]
                report.pods_deleted.append(name)
            for _ in range(work.replicas - len(current)):
                new = replicaset_sim.new_pod(deployment, work, random_suffix(self._rng), self.now(), classes)
                if new is None:
                    continue
                self.store.put(new)
                pods[new["metadata"]["name"]] = new
                report.pods_created.append(new["metadata"]["name"])

    def _bind(self, pod: dict, node: dict) -> dict:
        """The scheduler binds `pod` to `node`; the kubelet starts it (at once, or after the timeline's pod start)."""
        self._bound_pods += 1
        pod_ip = f"100.65.{self._bound_pods // 250 % 256}.{self._bound_pods % 250 + 2}"
        pod = _bound(pod, node, pod_ip, self.now())
        if self.timeline is not None:
            pod = self.timeline.starting(pod)
        self.pod_event(node["metadata"]["name"])
        return self.store.put(pod)

    def _provision(self, pending: list[dict], report: SettleReport) -> bool:
        """Launch one node per NodePool that has pending pods; False when none could be launched."""
        pools = [pool for pool in self.store.list("karpenter.sh/v1", "NodePool") if not is_static(pool)]
        if self.timeline is not None:  # pods that will fit on nodes still starting need none
            pending = self.timeline.unclaimed(pending)
        by_pool: dict[str, tuple[dict, list[dict]]] = {}
        for pod in pending:
            pool = pool_for(pod, pools)
            if pool is not None:
                by_pool.setdefault(pool["metadata"]["name"], (pool, []))[1].append(pod)
        launched = False
        nodes = self.store.list("v1", "Node")
        for name, (pool, pods) in sorted(by_pool.items()):
            used = sum(cpu_m(n["status"]["capacity"]["cpu"]) for n in nodes
                       if n["metadata"].get("labels", {}).get("karpenter.sh/nodepool") == name)
            used += self.timeline.starting_cpu_m(name) if self.timeline is not None else 0
            shape_name = choose_shape(pool, [pod_cpu_m(p) for p in pods], used)
            if shape_name is not None:
                report.nodes_added.append(self._launch_node(pool, shape_name, len(nodes)))
                launched = True
        return launched

    def _launch_node(self, pool: dict, shape_name: str, ordinal: int) -> str:
        name = pool["metadata"]["name"]
        labels = {r["key"]: r["values"][0] for r in pool["spec"]["template"]["spec"].get("requirements", [])
                  if r["operator"] == "In" and r.get("values")}
        capacity_type = labels.get("karpenter.sh/capacity-type", "on-demand")
        shape, zone, now = SHAPES[shape_name], ZONES[ordinal % len(ZONES)], self.now().replace(microsecond=0)
        claim = f"{name}-{random_suffix(self._rng)}"
        machine = self._machine(name, shape_name, zone, claim)
        node_claim = objects.node_claim(claim, machine.private_dns, machine.instance_id, shape, name, capacity_type,
                                        zone, now)
        node = objects.node(machine.private_dns, machine.instance_id, machine.private_ip, shape, zone, now, name,
                            capacity_type, claim)
        if self.timeline is not None:  # the node registers and turns Ready after its start time
            self.timeline.launch(node_claim, node, capacity_type)
            return machine.private_dns
        self.store.put(node_claim)
        self.store.put(node)
        return machine.private_dns

    def _machine(self, pool: str, shape_name: str, zone: str, claim: str) -> Machine:
        """The instance for a new node: launched and tagged in moto, or made up when the sandbox has no EC2."""
        if self.ec2 is None:
            self._offline_launches += 1
            return fake_machine(OFFLINE_INDEX_BASE + self._offline_launches)
        instance = launch_instances(self.ec2, shape_name, zone, 1, instance_tags(self.cluster_name, pool))[0]
        machine = Machine(instance["InstanceId"], instance["PrivateIpAddress"], instance["PrivateDnsName"])
        self.karpenter.launched(machine.instance_id, self._clock())
        tag_instance(self.ec2, machine.instance_id, {"Name": machine.private_dns, "karpenter.sh/nodeclaim": claim})
        return machine

    def _remove_node(self, node: dict) -> None:
        if self.ec2 is not None:
            self.ec2.terminate_instances(InstanceIds=[node["spec"]["providerID"].rsplit("/", 1)[-1]])
        for claim in self.store.list("karpenter.sh/v1", "NodeClaim"):
            if claim.get("status", {}).get("nodeName") == node["metadata"]["name"]:
                self.store.delete("karpenter.sh/v1", "NodeClaim", None, claim["metadata"]["name"])
        self.store.delete("v1", "Node", None, node["metadata"]["name"])

    def _update_statuses(self, deployments: list[dict], pods: dict[str, dict]) -> None:
        owned = replicaset_sim.owned_pods(deployments, list(pods.values()))
        for deployment in deployments:
            name, namespace = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
            mine = owned.get((namespace, name), [])
            running = sum(is_ready(pod) for pod in mine)
            status = {"observedGeneration": deployment["metadata"].get("generation", 1),
                      "replicas": len(mine), "updatedReplicas": len(mine),
                      "readyReplicas": running, "availableReplicas": running}
            if any(deployment.get("status", {}).get(key) != value for key, value in status.items()):
                # Re-read so a status write never undoes a concurrent change to spec (e.g. the app's scaling).
                latest = self.store.get("apps/v1", "Deployment", namespace, name)
                if latest is not None:
                    latest["status"] = {**latest.get("status", {}), **status}
                    self.store.put(latest)


def _bound(pod: dict, node: dict, pod_ip: str, now: datetime) -> dict:
    container = pod["spec"]["containers"][0]
    host_ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    pod["spec"]["nodeName"] = node["metadata"]["name"]
    pod["status"] = objects.running_status(container["name"], container["image"], host_ip, pod_ip,
                                           objects.stamp(now))
    return pod
