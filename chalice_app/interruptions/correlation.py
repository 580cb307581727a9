"""Instance ids → Nodes → NodePool / NodeClaim → OpenFaaS functions with pods there. Pure: objects in, facts out.

Inputs are the plain dicts the Kubernetes API returns for one batch: every Node, every NodeClaim and the function
pods of the configured namespaces, listed once, plus what was remembered of instances hit before (their node may be
gone by now). Every instance is one impact, whatever number of notices it has in the batch. A node Karpenter is
disrupting on purpose (its NodeClaim's `DisruptionReason` condition names a voluntary reason) that stops or
terminates is returned apart, for the digest: it is no interruption. Instances no one knows are returned apart.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping

from kubernetes.utils.duration import parse_duration

from chalice_app.interruptions.notice import KIND_ORDER, Notice, NoticeKind
from chalice_app.kube.names import (CAPACITY_TYPE_LABEL, DISRUPTED_TAINT, EKS_CAPACITY_TYPE_LABEL, FUNCTION_LABEL,
                                    INSTANCE_TYPE_LABEL, NODEPOOL_LABEL, ZONE_LABEL)

FINISHED_PHASES = frozenset({"Succeeded", "Failed"})
# Karpenter v1 (kubernetes-sigs/karpenter pkg/apis/v1): the taint put on a node it disrupts (DISRUPTED_TAINT), and
# the NodeClaim condition recording why; its voluntary reasons are the DisruptionReason constants (Empty,
# Underutilized, Drifted) plus expiry. Any other reason (e.g. the interruption controller's) is not Karpenter's choice.
DISRUPTION_CONDITION = "DisruptionReason"
# costguard's own off-hours deletion of an empty NodeClaim (offhours/reaper.py), recorded in the stage table first
OFFHOURS_DELETION = "CostguardOffhoursEmpty"
VOLUNTARY_REASONS = frozenset({"Empty", "Underutilized", "Drifted", "Expired", OFFHOURS_DELETION})
EXPIRED = "Expired"
STATE_CHANGE_KINDS = frozenset({NoticeKind.INSTANCE_TERMINATED, NoticeKind.INSTANCE_STOPPED})
STATE_KIND_VALUES = frozenset(kind.value for kind in STATE_CHANGE_KINDS) | {None}


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
    tainted_disrupted: bool = False
    deleting: bool = False  # Node or NodeClaim has a deletionTimestamp
    disruption_reason: str | None = None  # the NodeClaim's DisruptionReason condition, when True
    uid: str | None = None
    remembered: bool = False  # facts recalled from the stage table: Kubernetes no longer has the node
    first_kind: str | None = None  # remembered facts: the kind of the instance's first notice

    @property
    def going(self) -> bool:
        """Already on its way out: cordoned, tainted by Karpenter's disruption, or being deleted."""
        return self.unschedulable or self.tainted_disrupted or self.deleting

    @property
    def karpenter_reason(self) -> str | None:
        """The voluntary reason Karpenter is disrupting this node for, else None."""
        return self.disruption_reason if self.disruption_reason in VOLUNTARY_REASONS else None


@dataclass(frozen=True)
class FunctionKey:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class NodeImpact:
    notice: Notice  # the most urgent of the instance's notices in the batch
    node: NodeFacts
    replicas: tuple[tuple[FunctionKey, int], ...]  # function pods on this node, by function, most first
    event_ids: frozenset = frozenset()  # every notice of this instance in the batch

    @property
    def ids(self) -> frozenset:
        return self.event_ids or frozenset({self.notice.event_id})


@dataclass(frozen=True)
class FunctionRisk:
    function: FunctionKey
    on_affected: int  # pods on the batch's affected nodes
    ready_total: int  # ready pods anywhere
    ready_on_affected: int  # ready pods on affected nodes or on nodes already going (cordoned, disrupted, deleted)

    @property
    def unavailable_until_rescheduled(self) -> bool:
        # Every ready replica is on a node that is hit or already going: nothing is left to serve from.
        return self.ready_total == self.ready_on_affected and self.on_affected > 0


@dataclass(frozen=True)
class Correlation:
    impacts: tuple[NodeImpact, ...]
    not_in_cluster: tuple[tuple[Notice, str], ...]  # (notice, instance id) with no Node in this cluster
    risks: dict[FunctionKey, FunctionRisk]
    disrupted: tuple[NodeImpact, ...] = ()  # Karpenter's own disruptions: digest, never an alert
    closed: tuple[NodeImpact, ...] = ()  # AWS Health maintenance closed for a known instance


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
    moment = datetime.fromisoformat(value)  # Python ≥ 3.11 reads RFC 3339's "Z"
    return moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)


def _expired(claim: dict) -> bool:
    """Deleted at or after creation + its own `spec.expireAfter`: Karpenter v1's expiration deletes the NodeClaim
    without a DisruptionReason (kubernetes-sigs/karpenter pkg/controllers/nodeclaim/expiration/controller.go).
    A NodeClaim deleted for an interruption or by hand before that time is not expiry."""
    meta = claim.get("metadata") or {}
    try:
        lifetime = parse_duration(str((claim.get("spec") or {}).get("expireAfter") or ""))
        created, deleted = parse_time(meta.get("creationTimestamp")), parse_time(meta.get("deletionTimestamp"))
    except (TypeError, ValueError, OverflowError):  # "Never", or an unreadable value: not expiry
        return False
    if not (lifetime and created and deleted):
        return False
    try:
        return deleted >= created + lifetime
    except OverflowError:
        return False


def _disruption_reason(claim: dict | None) -> str | None:
    for condition in ((claim or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == DISRUPTION_CONDITION and condition.get("status") == "True":
            return str(condition.get("reason") or "")[:63] or None
    if claim and _expired(claim):
        return EXPIRED
    return None


def _tainted_disrupted(node: dict) -> bool:
    return any(taint.get("key") == DISRUPTED_TAINT for taint in (node.get("spec") or {}).get("taints") or [])


def node_facts(node: dict, claim_by_node: Mapping[str, dict]) -> NodeFacts | None:
    meta = node.get("metadata", {})
    spec = node.get("spec") or {}
    labels = meta.get("labels") or {}
    provider_id = spec.get("providerID")
    instance_id = instance_id_of(provider_id)
    if instance_id is None:
        return None
    capacity = labels.get(CAPACITY_TYPE_LABEL) or labels.get(EKS_CAPACITY_TYPE_LABEL, "on-demand")
    claim = claim_by_node.get(meta["name"])
    claim_meta = (claim or {}).get("metadata") or {}
    return NodeFacts(
        name=meta["name"],
        instance_id=instance_id,
        nodepool=labels.get(NODEPOOL_LABEL),
        nodeclaim=claim_meta.get("name") or _owner_claim(meta),
        capacity_type=capacity.lower().replace("_", "-"),
        instance_type=labels.get(INSTANCE_TYPE_LABEL, "unknown"),
        zone=labels.get(ZONE_LABEL) or _zone_of(provider_id),
        created=parse_time(meta.get("creationTimestamp")),
        unschedulable=bool(spec.get("unschedulable")),
        resource_version=meta.get("resourceVersion"),
        tainted_disrupted=bool(spec.get("taints")) and _tainted_disrupted(node),
        deleting=bool(meta.get("deletionTimestamp") or claim_meta.get("deletionTimestamp")),
        disruption_reason=_disruption_reason(claim) if claim else None,
        uid=meta.get("uid"),
    )


def _owner_claim(meta: dict) -> str | None:
    for owner in meta.get("ownerReferences") or []:
        if owner.get("kind") == "NodeClaim":
            return owner.get("name")
    return None


def claims_by_node(claims: Iterable[dict]) -> dict[str, dict]:
    """Node name → NodeClaim, from each NodeClaim's status.nodeName."""
    found = {}
    for claim in claims:
        node_name = (claim.get("status") or {}).get("nodeName")
        if node_name:
            found[node_name] = claim
    return found


def scan_nodes(nodes: Iterable[dict], claim_by_node: Mapping[str, dict],
               only: set[str]) -> tuple[dict[str, NodeFacts], set[str]]:
    """One pass over the cluster's nodes: instance id → NodeFacts for the batch's instances (`only`: a batch names a
    few of a large cluster's nodes, and facts cost more than the id), and the names of every AWS node already on its
    way out (NodeFacts.going, read straight from the objects for the others)."""
    index: dict[str, NodeFacts] = {}
    going: set[str] = set()
    for node in nodes:
        spec = node.get("spec") or {}
        instance_id = instance_id_of(spec.get("providerID"))
        if instance_id is None:
            continue
        if instance_id in only:
            facts = node_facts(node, claim_by_node)
            if facts is not None:
                index[instance_id] = facts
                if facts.going:
                    going.add(facts.name)
            continue
        meta = node.get("metadata") or {}
        if (spec.get("unschedulable") or (spec.get("taints") and _tainted_disrupted(node))
                or meta.get("deletionTimestamp")
                or ((claim_by_node.get(meta.get("name") or "") or {}).get("metadata") or {}).get("deletionTimestamp")):
            going.add(meta["name"])
    return index, going


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


_URGENCY = {kind: index for index, kind in enumerate(KIND_ORDER)}


def _most_urgent(notices: list[Notice]) -> Notice:
    if len(notices) == 1:
        return notices[0]
    return min(notices, key=lambda notice: _URGENCY.get(notice.kind, len(_URGENCY)))


def correlate(notices: Iterable[Notice], nodes: Iterable[dict], claims: Iterable[dict], pods: Iterable[dict],
              remembered: Mapping[str, "NodeFacts"] | None = None,
              remembered_replicas: Mapping[str, tuple] | None = None) -> Correlation:
    """`remembered`: instance id → facts recalled for instances Kubernetes may have forgotten (live facts win)."""
    nodes, notices = list(nodes), list(notices)
    by_node = claims_by_node(claims)
    index, going = scan_nodes(nodes, by_node, only={i for notice in notices for i in notice.instance_ids})
    remembered = remembered or {}
    by_instance: dict[str, list[Notice]] = defaultdict(list)
    closed_by_instance: dict[str, list[Notice]] = defaultdict(list)
    missing: list[tuple[Notice, str]] = []
    for notice in notices:
        for instance_id in dict.fromkeys(notice.instance_ids):
            if instance_id not in index and instance_id not in remembered:
                missing.append((notice, instance_id))
            elif notice.kind is NoticeKind.SCHEDULED_CHANGE_CLOSED:
                closed_by_instance[instance_id].append(notice)
            else:
                by_instance[instance_id].append(notice)

    chosen: list[tuple[Notice, NodeFacts, frozenset]] = []
    disrupted_pairs: list[tuple[Notice, NodeFacts, frozenset]] = []
    for instance_id, its_notices in by_instance.items():
        facts = index.get(instance_id) or remembered[instance_id]
        if instance_id in remembered and remembered[instance_id].disruption_reason == OFFHOURS_DELETION:
            facts = replace(facts, disruption_reason=OFFHOURS_DELETION)  # live facts have no reason for it
        ids = frozenset(notice.event_id for notice in its_notices)
        notice = _most_urgent(its_notices)
        # A reclaim that was warned about stays a reclaim, whatever Karpenter does with the node meanwhile.
        warned = instance_id in remembered and remembered[instance_id].first_kind not in STATE_KIND_VALUES
        if facts.karpenter_reason and not warned and all(n.kind in STATE_CHANGE_KINDS for n in its_notices):
            disrupted_pairs.append((notice, facts, ids))
        else:
            chosen.append((notice, facts, ids))

    affected = {facts.name for _, facts, _ in chosen if not facts.remembered}
    going |= {facts.name for _, facts, _ in disrupted_pairs}
    per_node: dict[str, Counter] = defaultdict(Counter)
    ready_total: Counter = Counter()
    ready_at_risk: Counter = Counter()
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
        if node_name in affected or node_name in going:
            ready_at_risk[function] += ready

    remembered_replicas = remembered_replicas or {}

    def impact(notice: Notice, facts: NodeFacts, ids: frozenset) -> NodeImpact:
        if facts.remembered:
            replicas = tuple(remembered_replicas.get(facts.instance_id, ()))
        else:
            on_node = per_node.get(facts.name)
            replicas = tuple(sorted(on_node.items(), key=lambda item: (-item[1], str(item[0])))) if on_node else ()
        return NodeImpact(notice, facts, replicas, ids)

    impacts = tuple(impact(*chosen_one) for chosen_one in chosen)
    risks = {function: FunctionRisk(function, on_affected[function], ready_total[function], ready_at_risk[function])
             for function in on_affected}
    closed = tuple(impact(_most_urgent(its), index.get(iid) or remembered[iid],
                          frozenset(n.event_id for n in its)) for iid, its in closed_by_instance.items())
    return Correlation(impacts=impacts, not_in_cluster=tuple(missing), risks=risks,
                       disrupted=tuple(impact(*pair) for pair in disrupted_pairs), closed=closed)


def node_age(facts: NodeFacts, now: datetime) -> timedelta | None:
    return now - facts.created if facts.created else None
