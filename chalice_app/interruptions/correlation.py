"""Instance ids → Nodes → NodePool / NodeClaim → OpenFaaS functions with pods there. Pure: objects in, facts out.

Inputs are the plain dicts the Kubernetes API returns for one batch: every Node, every NodeClaim and the function
pods of the configured namespaces, listed once. Instances that are not nodes of this cluster are returned apart.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

from chalice_app.interruptions.notice import Notice

NODEPOOL_LABEL = "karpenter.sh/nodepool"
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
EKS_CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"  # managed node groups: ON_DEMAND / SPOT
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
ZONE_LABEL = "topology.kubernetes.io/zone"
FUNCTION_LABEL = "faas_function"
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class NodeFacts:
    name: str
    instance_id: str
    nodepool: str | None  # None: not Karpenter's (a static node group)
    nodeclaim: str | None
    capacity_type: str
    instance_type: str
    zone: str
    created: datetime | None
    unschedulable: bool
    resource_version: str | None


@dataclass(frozen=True)
class FunctionKey:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class NodeImpact:
    notice: Notice
    node: NodeFacts
    replicas: tuple[tuple[FunctionKey, int], ...]  # function pods on this node, by function, most first


@dataclass(frozen=True)
class FunctionRisk:
    function: FunctionKey
    on_affected: int  # pods on the batch's affected nodes
    ready_total: int  # ready pods anywhere
    ready_on_affected: int

    @property
    def unavailable_until_rescheduled(self) -> bool:
        # Every ready replica is on a node that is going: the function has nothing left to serve from.
        return self.ready_total == self.ready_on_affected and self.on_affected > 0


@dataclass(frozen=True)
class Correlation:
    impacts: tuple[NodeImpact, ...]
    not_in_cluster: tuple[tuple[Notice, str], ...]  # (notice, instance id) with no Node in this cluster
    risks: dict[FunctionKey, FunctionRisk]


def instance_id_of(provider_id: str | None) -> str | None:
    """`aws:///us-east-1a/i-0abc...` → `i-0abc...`; anything else → None."""
    if not provider_id or not provider_id.startswith("aws://"):
        return None
    tail = provider_id.rsplit("/", 1)[-1]
    return tail if tail.startswith("i-") else None


def _zone_of(provider_id: str | None) -> str:
    parts = (provider_id or "").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def node_facts(node: dict, claim_by_node: dict[str, str]) -> NodeFacts | None:
    meta = node.get("metadata", {})
    labels = meta.get("labels") or {}
    provider_id = (node.get("spec") or {}).get("providerID")
    instance_id = instance_id_of(provider_id)
    if instance_id is None:
        return None
    capacity = labels.get(CAPACITY_TYPE_LABEL) or labels.get(EKS_CAPACITY_TYPE_LABEL, "on-demand")
    return NodeFacts(
        name=meta["name"],
        instance_id=instance_id,
        nodepool=labels.get(NODEPOOL_LABEL),
        nodeclaim=claim_by_node.get(meta["name"]) or _owner_claim(meta),
        capacity_type=capacity.lower().replace("_", "-"),
        instance_type=labels.get(INSTANCE_TYPE_LABEL, "unknown"),
        zone=labels.get(ZONE_LABEL) or _zone_of(provider_id),
        created=parse_time(meta.get("creationTimestamp")),
        unschedulable=bool((node.get("spec") or {}).get("unschedulable")),
        resource_version=meta.get("resourceVersion"),
    )


def _owner_claim(meta: dict) -> str | None:
    for owner in meta.get("ownerReferences") or []:
        if owner.get("kind") == "NodeClaim":
            return owner.get("name")
    return None


def claims_by_node(claims: Iterable[dict]) -> dict[str, str]:
    """Node name → NodeClaim name, from each NodeClaim's status.nodeName."""
    found = {}
    for claim in claims:
        node_name = (claim.get("status") or {}).get("nodeName")
        if node_name:
            found[node_name] = claim["metadata"]["name"]
    return found


def index_nodes(nodes: Iterable[dict], claims: Iterable[dict]) -> dict[str, NodeFacts]:
    """Instance id → NodeFacts for every node with an AWS providerID."""
    by_node = claims_by_node(claims)
    index = {}
    for node in nodes:
        facts = node_facts(node, by_node)
        if facts is not None:
            index[facts.instance_id] = facts
    return index


def is_ready(pod: dict) -> bool:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    conditions = status.get("conditions")
    if not conditions:  # a pod reported without conditions: trust its phase
        return status.get("phase") == "Running"
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def function_of(pod: dict) -> FunctionKey | None:
    meta = pod.get("metadata", {})
    name = (meta.get("labels") or {}).get(FUNCTION_LABEL)
    return FunctionKey(meta.get("namespace", ""), name) if name else None


def correlate(notices: Iterable[Notice], nodes: Iterable[dict], claims: Iterable[dict],
              pods: Iterable[dict]) -> Correlation:
    index = index_nodes(nodes, claims)
    impacts_by_pair: list[tuple[Notice, NodeFacts]] = []
    missing: list[tuple[Notice, str]] = []
    for notice in notices:
        for instance_id in notice.instance_ids:
            facts = index.get(instance_id)
            if facts is None:
                missing.append((notice, instance_id))
            else:
                impacts_by_pair.append((notice, facts))

    affected = {facts.name for _, facts in impacts_by_pair}
    per_node: dict[str, Counter] = defaultdict(Counter)
    ready_total: Counter = Counter()
    ready_affected: Counter = Counter()
    on_affected: Counter = Counter()
    for pod in pods:
        function = function_of(pod)
        if function is None or (pod.get("status") or {}).get("phase") in FINISHED_PHASES:
            continue
        node_name = (pod.get("spec") or {}).get("nodeName")
        ready = is_ready(pod)
        ready_total[function] += ready
        if node_name in affected:
            per_node[node_name][function] += 1
            on_affected[function] += 1
            ready_affected[function] += ready

    impacts = tuple(
        NodeImpact(notice, facts, tuple(sorted(per_node[facts.name].items(), key=lambda item: (-item[1], str(item[0])))))
        for notice, facts in impacts_by_pair
    )
    risks = {function: FunctionRisk(function, on_affected[function], ready_total[function], ready_affected[function])
             for function in on_affected}
    return Correlation(impacts=impacts, not_in_cluster=tuple(missing), risks=risks)


def node_age(facts: NodeFacts, now: datetime) -> timedelta | None:
    return now - facts.created if facts.created else None
