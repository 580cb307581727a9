"""EC2 taking instances away, and what Kubernetes and Karpenter then see: spot reclaims (the interruption warning,
the instance taken two minutes later, or stopped/hibernated), a person terminating an instance, the kubelet going
silent, Karpenter's NodeClaim garbage collection. Reclaims and human terminations carry no Karpenter markings
(no disrupted taint, no DisruptionReason): that is how a product tells them from Karpenter's own disruptions
(sandbox/karpenter.py). `InstanceLoss` is the part of the sandbox's Karpenter that plays EC2's side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox import ec2_events
from sandbox.k8s_events import record_event
from sandbox.karpenter_scheduling import forget_node
from sandbox.objects import stamp

# EC2 moves an instance from shutting-down to terminated once its OS has stopped; the sandbox takes this long.
INSTANCE_SHUTDOWN = timedelta(seconds=30)
# A spot instance is reclaimed two minutes after its interruption warning (AWS docs: Spot Instance interruptions).
SPOT_NOTICE = timedelta(minutes=2)
# NodeClaim garbage collection notices instances gone behind Karpenter's back on this period
# (kubernetes-sigs/karpenter pkg/controllers/nodeclaim/garbagecollection/controller.go: RequeueAfter 2 min).
GC_PERIOD = timedelta(minutes=2)


@dataclass
class DisruptionReport:
    expired: list[str] = field(default_factory=list)        # node names, per reason, in the order acted on
    disrupted: dict[str, str] = field(default_factory=dict)  # node -> DisruptionReason
    shutting_down: list[str] = field(default_factory=list)   # instances terminated in EC2 this pass
    terminated: list[str] = field(default_factory=list)      # instances gone, their Node and NodeClaim removed
    blocked: dict[str, str] = field(default_factory=dict)    # node -> why it is not disrupted / not drained yet
    collected: list[str] = field(default_factory=list)       # nodes garbage-collected after their instance vanished
    stopped: list[str] = field(default_factory=list)         # instances EC2 stopped or hibernated


def instance_of(obj: dict) -> str:
    provider = (obj.get("spec") or {}).get("providerID") or (obj.get("status") or {}).get("providerID") or ""
    return provider.rsplit("/", 1)[-1]


class InstanceLoss:
    """EC2's side of the sandbox's Karpenter (a mixin of sandbox.karpenter.Karpenter, sharing its state: `store`,
    `sim`, `publisher`, `_reclaims`, `_vanishing`, `_terminating`, `_gone`, and `_node`, `_claim_of`, `_delete_claim`)."""

    def reclaim(self, node_name: str, at: datetime, rebalance_first: bool = False,
                karpenter_handles_interruption: bool = False, action: str = "terminate") -> str:
        """AWS reclaims the node's spot instance: the two-minute warning now, the instance taken at `at + 2 min` (on
        a later `disrupt()`); `action` stop or hibernate stops it instead — hibernation at once, with no two minutes
        (AWS docs, Spot Instance interruption notices: "hibernation begins immediately"). With Karpenter's own
        interruption queue, Karpenter deletes the NodeClaim on the warning (no DisruptionReason;
        aws/karpenter-provider-aws pkg/controllers/interruption/controller.go deleteNodeClaim). The instance id."""
        if action not in ("terminate", "stop", "hibernate"):
            raise ValueError(f"instance-action {action!r}: expected terminate, stop or hibernate")
        node = self._node(node_name)
        instance = instance_of(node)
        if rebalance_first:
            self.publisher.publish(ec2_events.rebalance(instance, at))
        self.publisher.publish(ec2_events.spot_warning(instance, at, action))
        self._reclaims[instance] = (at if action == "hibernate" else at + SPOT_NOTICE, action)
        if karpenter_handles_interruption:
            claim = self._claim_of(node_name)
            record_event(self.store, node, "SpotInterrupted", "Spot interruption warning was triggered", at)
            record_event(self.store, node, "TerminatingOnInterruption",
                         "Interruption triggered termination for the Node", at)
            self._delete_claim(claim, at)
        return instance

    def terminate_by_hand(self, node_name: str, at: datetime) -> str:
        """Someone calls TerminateInstances on the node's instance (console, CLI): EC2's state changes only."""
        instance = instance_of(self._node(node_name))
        self._reclaims[instance] = (at, "terminate")
        return instance

    def _take_reclaimed(self, now: datetime, report: DisruptionReport) -> None:
        """Reclaims and human terminations that are due: EC2 stops the instance by itself, no drain; EC2 reports
        shutting-down, then terminated; the kubelet is gone, so the node controller marks the Node's Ready
        `Unknown`; Karpenter's NodeClaim garbage collection removes NodeClaim and Node (and the pods go with the
        Node) on its next period after the instance is gone."""
        for instance, (due, action) in sorted(self._reclaims.items()):
            if now < due:
                continue
            del self._reclaims[instance]
            if instance in self._terminating or instance in self._gone:
                continue  # Karpenter terminated it first (its own interruption handling): EC2 has nothing left
            if action != "terminate":
                self._stop(instance, due, report)
                continue
            if self.sim.ec2 is not None:
                self.sim.ec2.terminate_instances(InstanceIds=[instance])
            self.publisher.publish(ec2_events.state_change(instance, "shutting-down", due))
            self._vanishing[instance] = due
            report.shutting_down.append(instance)
        for instance, since in sorted(self._vanishing.items()):
            if instance not in self._gone and now >= since + INSTANCE_SHUTDOWN:
                self._gone.add(instance)
                self.publisher.publish(ec2_events.state_change(instance, "terminated", since + INSTANCE_SHUTDOWN))
                report.terminated.append(instance)
                self._kubelet_gone(instance, since + INSTANCE_SHUTDOWN)
            if now >= since + INSTANCE_SHUTDOWN + GC_PERIOD:
                del self._vanishing[instance]
                node = next((n for n in self.store.list("v1", "Node") if instance_of(n) == instance), None)
                if node is not None:
                    forget_node(self.store, node)
                    report.collected.append(node["metadata"]["name"])

    def _stop(self, instance: str, at: datetime, report: DisruptionReport) -> None:
        """A stopped or hibernated spot instance: stopping, then stopped; the kubelet is gone. Its NodeClaim stays:
        Karpenter still lists stopped instances (aws/karpenter-provider-aws pkg/providers/instance/instance.go)."""
        if self.sim.ec2 is not None:
            self.sim.ec2.stop_instances(InstanceIds=[instance])
        self.publisher.publish(ec2_events.state_change(instance, "stopping", at),
                               ec2_events.state_change(instance, "stopped", at + INSTANCE_SHUTDOWN))
        self._kubelet_gone(instance, at + INSTANCE_SHUTDOWN)
        report.stopped.append(instance)

    def _kubelet_gone(self, instance: str, at: datetime) -> None:
        """kubernetes/kubernetes pkg/controller/nodelifecycle: Ready → Unknown once the kubelet stops posting."""
        for node in self.store.list("v1", "Node"):
            if instance_of(node) == instance:
                node["status"]["conditions"] = [
                    c for c in node["status"].get("conditions", []) if c.get("type") != "Ready"] + [
                    {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                     "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": stamp(at),
                     "lastTransitionTime": stamp(at)}]
                self.store.put(node)
