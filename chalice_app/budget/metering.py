"""Spend of each NodePool since the last run, from the NodeClaims and Nodes the cluster lists now.

Every run charges each running node for the slice of its lifetime between the last metered time (or the period's
start, or the node's creation, whichever is latest) and now. Nodes that were running at the last run and are gone
now are charged up to now at their last rate: the cluster no longer says when they went, and overcounting a few
minutes keeps the budget on the safe side where undercounting would not.

One machine, one meter: a NodeClaim and its Node are the same machine whichever is listed first. Karpenter's
NodeClaim names its Node (status.nodeName) and instance (status.providerID); the Node names its NodeClaim through an
ownerReference (kubernetes-sigs/karpenter pkg/controllers/nodeclaim/lifecycle/registration.go) and its instance in
spec.providerID. Every name a machine is known by is an alias, and a key metered before under any alias is the same
machine, never a vanished one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dateutil.parser import isoparse
from kubernetes.utils import parse_quantity

from chalice_app.budget.catalog import ACCELERATOR_RESOURCES, InstanceType
from chalice_app.kube.names import CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL, NODEPOOL_LABEL, ZONE_LABEL
from chalice_app.budget.document import hours_between
from chalice_app.budget.nodeclass import nodeclass_of_node
from chalice_app.budget.prices import PriceBook


@dataclass(frozen=True)
class RunningNode:
    key: str  # NodeClaim name, or "node/<name>" for a Karpenter node without a NodeClaim
    pool: str
    instance_type: str
    capacity_type: str
    zone: str | None
    started: datetime
    cpu: float
    memory_gib: float
    gpus: float = 0  # accelerator devices, whatever the vendor's resource name
    node_name: str | None = None
    volumes: tuple[tuple[str, float], ...] = ()  # (EBS volume type, GiB) from its EC2NodeClass
    aliases: tuple[str, ...] = ()  # every key this machine may have been metered under, its own included

    @property
    def names(self) -> tuple[str, ...]:
        return self.aliases or (self.key,)


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger holds for one NodePool and period."""
    spent: float = 0.0
    metered_at: datetime | None = None
    open_rates: dict[str, float] = field(default_factory=dict)  # node key → USD/h at the last run
    daily: dict[str, float] = field(default_factory=dict)  # UTC day (YYYY-MM-DD) → USD metered on it
    # open node key → every name that machine was listed under at the last run (its providerID among them), so a
    # machine listed next as another object (a NodeClaim before registration, then only its Node) is not gone
    open_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PoolMeter:
    pool: str
    since: datetime
    until: datetime
    cost: float  # USD added by this run
    entry: LedgerEntry  # the ledger entry after this run
    rate_now: float  # USD/h of what runs now
    usage_cpu: float
    usage_memory_gib: float
    usage_gpus: float
    unpriced: tuple[str, ...] = ()  # node keys whose price is unknown: the pool is not metered this run
    node_names: tuple[str, ...] = ()  # Kubernetes node names of the pool, to find the pods on them

    @property
    def complete(self) -> bool:
        return not self.unpriced


def _quantity(value, default: float = 0.0) -> float:
    return float(parse_quantity(value)) if value not in (None, "") else default


def _accelerators(capacity: dict, known: InstanceType | None) -> float:
    listed = [_quantity(capacity.get(resource)) for resource in ACCELERATOR_RESOURCES if resource in capacity]
    if listed:
        return sum(listed)
    return float(known.accelerator[1]) if known and known.accelerator else 0.0


def running_nodes(nodeclaims: list[dict], nodes: list[dict], catalog: dict[str, InstanceType],
                  volumes: dict[str, tuple[tuple[str, float], ...]] | None = None) -> list[RunningNode]:
    """NodeClaims (and Karpenter-labelled Nodes without one) as priced-to-be units of capacity, one per machine.
    `volumes`: EC2NodeClass name → the EBS volumes each of its nodes has (nodeclass.nodeclass_costs)."""
    volumes = volumes or {}
    found: list[RunningNode] = []
    taken: set[str] = set()  # names of machines a NodeClaim already stands for
    for source, kind in [(nodeclaims, "claim"), (nodes, "node")]:
        for obj in source:
            meta = obj.get("metadata", {})
            labels = meta.get("labels", {}) or {}
            pool = labels.get(NODEPOOL_LABEL)
            instance_type = labels.get(INSTANCE_TYPE_LABEL)
            if not pool or not instance_type:
                continue  # not launched by Karpenter, or not yet resolved to an instance
            status = obj.get("status", {}) or {}
            if kind == "claim":
                node_name = status.get("nodeName")
                provider = status.get("providerID")
                key = meta["name"]
                names = {key, f"node/{node_name}" if node_name else None, provider}
            else:
                node_name = meta["name"]
                provider = (obj.get("spec", {}) or {}).get("providerID")
                owners = [o.get("name") for o in meta.get("ownerReferences", []) or [] if o.get("kind") == "NodeClaim"]
                key = f"node/{node_name}"
                names = {key, provider, *owners}
                if names & taken:
                    continue  # its NodeClaim is listed: the machine is metered once, under the claim
            names.discard(None)
            taken |= names
            capacity = status.get("capacity", {}) or {}
            known = catalog.get(instance_type)
            found.append(RunningNode(
                key=key, pool=pool, instance_type=instance_type,
                capacity_type=labels.get(CAPACITY_TYPE_LABEL, "on-demand"), zone=labels.get(ZONE_LABEL),
                started=isoparse(meta["creationTimestamp"]),
                cpu=_quantity(capacity.get("cpu"), known.vcpus if known else 0.0),
                memory_gib=_quantity(capacity.get("memory"), known.memory_gib * 2**30 if known else 0.0) / 2**30,
                gpus=_accelerators(capacity, known), node_name=node_name,
                volumes=volumes.get(nodeclass_of_node(obj) or "", ()), aliases=tuple(sorted(names)),
            ))
    return found


def day_slices(start: datetime, end: datetime) -> list[tuple[str, float]]:
    """[start, end) cut at UTC midnights: (day, hours) pairs, so spend can be booked per day."""
    slices = []
    while start < end:
        midnight = (start.astimezone(timezone.utc) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)
        stop = min(end, midnight)
        slices.append((start.astimezone(timezone.utc).date().isoformat(), hours_between(start, stop)))
        start = stop
    return slices


def meter_pool(pool: str, nodes: list[RunningNode], entry: LedgerEntry, period_start: datetime, now: datetime,
               book: PriceBook) -> PoolMeter:
    """Charge the pool's nodes for [last metered time, now); the new ledger entry is in the result."""
    since = max(entry.metered_at or period_start, period_start)
    mine = [node for node in nodes if node.pool == pool and node.started < now]
    # Open nodes of an entry metered in an earlier period are not this one's; a new period's entry may carry the
    # open nodes of the period it follows (carry_open), so a node gone since is still charged from the start.
    stale = entry.metered_at is not None and entry.metered_at < period_start
    previous_open = {} if stale else entry.open_rates
    known_as = {name for node in mine for name in node.names}
    previous_aliases = {} if stale else entry.open_aliases
    rates: dict[str, float] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    unpriced = []
    daily: dict[str, float] = {}

    def charge(rate: float, start: datetime) -> None:
        for day, hours in day_slices(start, now):
            daily[day] = daily.get(day, 0.0) + rate * hours

    for node in mine:
        rate = book.node_hourly(node.instance_type, node.capacity_type, node.zone, node.volumes)
        if rate is None:
            unpriced.append(node.key)
            continue
        rates[node.key] = rate
        aliases[node.key] = tuple(sorted(set(node.names)))
        charge(rate, max(node.started, since))
    for key, rate in previous_open.items():
        names = {key, *previous_aliases.get(key, ())}
        if not names & known_as:  # gone: the cluster no longer lists the machine under any of its names
            charge(rate, since)
    cost = sum(daily.values())
    usage = dict(cpu=sum(n.cpu for n in mine), memory=sum(n.memory_gib for n in mine), gpus=sum(n.gpus for n in mine))
    if unpriced or now <= since:
        after = entry  # nothing is written: the next run meters this slice once prices are known
    else:
        days = dict(entry.daily)
        for day, amount in daily.items():
            days[day] = days.get(day, 0.0) + amount
        after = LedgerEntry(spent=entry.spent + cost, metered_at=now, open_rates=rates, daily=days,
                            open_aliases=aliases)
    return PoolMeter(pool=pool, since=since, until=now, cost=0.0 if after is entry else cost, entry=after,
                     rate_now=sum(rates.values()), usage_cpu=usage["cpu"], usage_memory_gib=usage["memory"],
                     usage_gpus=usage["gpus"], unpriced=tuple(sorted(unpriced)),
                     node_names=tuple(sorted(n.node_name for n in mine if n.node_name)))


def close_period(pool: str, nodes: list[RunningNode], entry: LedgerEntry, period_start: datetime,
                 period_end: datetime, book: PriceBook) -> PoolMeter:
    """Book the last slice of a period that ended since its last run (the first run after the end does it), so no
    slice is lost at midnight UTC; nothing to do when the entry was metered up to the end already."""
    return meter_pool(pool, nodes, entry, period_start, period_end, book)


def carry_open(before: LedgerEntry, closed: LedgerEntry) -> LedgerEntry:
    """The first entry of a period: nothing spent yet, the previous period's open nodes still watched — those open
    at its last run too, so one gone since is charged on until the run that finds it gone, as within a period."""
    return LedgerEntry(open_rates={**before.open_rates, **closed.open_rates},
                       open_aliases={**before.open_aliases, **closed.open_aliases})
