"""Price per vCPU-hour (and per accelerator-hour) of what a NodePool would launch, by a chosen estimator.

What Karpenter would launch: the instance types the requirements allow (catalog), in the capacity type
aws/karpenter-provider-aws pkg/providers/instance/instance.go `getCapacityType` picks — reserved when the pool allows
it and the EC2NodeClass selects a capacity reservation for an allowed type, else spot when allowed and priced, else
on-demand. A node costs its compute, its EBS volumes (from the EC2NodeClass) and the document's per-node overhead.

- cheapest: the lowest price per vCPU-hour among those offerings (largest limits, least safe);
- median: the median over them;
- mix: what the pool's running nodes cost per vCPU-hour now (falls back to median when nothing runs).

A limit is only ever computed from offerings the pool could launch: with no priced offering the pool keeps its
limits (PriceUnavailable names why).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Sequence

from chalice_app.budget.catalog import (InstanceType, allowed_instance_types, arches, capacity_types, requirements_of,
                                        why_assumed)
from chalice_app.budget.metering import RunningNode
from chalice_app.budget.nodeclass import NodeClassCosts
from chalice_app.budget.prices import PriceBook, PriceUnavailable
from chalice_app.kube.names import ARCH_LABEL, CAPACITY_TYPE_LABEL


@dataclass(frozen=True)
class PoolPricing:
    per_vcpu_hour: float
    gib_per_vcpu: float
    estimator: str
    candidates: int  # allowed instance types with a price in the chosen capacity type
    capacity_type: str = "on-demand"  # what Karpenter would launch now
    accelerators: dict[str, float] = field(default_factory=dict)  # extended resource → USD per device-hour
    assumed: tuple[str, ...] = ()  # what was assumed and why, one line each, for `budget plan`
    volume_hourly: float = 0.0  # USD/h of one node's EBS volumes
    overhead_hourly: float = 0.0  # USD/h per node from the document

    @property
    def per_gpu_hour(self) -> float | None:
        """The cheapest accelerator-hour the pool may buy, whatever the vendor; None when it allows none."""
        return min(self.accelerators.values()) if self.accelerators else None

    @property
    def per_gib_hour(self) -> float:
        """The node price attributed to memory alone (the counterpart of per_vcpu_hour; do not add the two)."""
        return self.per_vcpu_hour / self.gib_per_vcpu if self.gib_per_vcpu else 0.0


def _pick(values: list[float], estimator: str) -> float:
    return min(values) if estimator == "cheapest" else statistics.median(values)


def min_values_floor(nodepool: dict, per_vcpu: list[tuple[InstanceType, float]]) -> tuple[float, str] | None:
    """With `minValues` on a key, Karpenter launches only with at least that many distinct values of it among the
    instance types it sends to EC2 Fleet (kubernetes-sigs/karpenter pkg/scheduling/requirements.go, minValues), so
    the cheapest a pool can count on is the N-th cheapest distinct value's best price, not the single cheapest."""
    floor = None
    for requirement in requirements_of(nodepool):
        if not requirement.min_values:
            continue
        best: dict[str, float] = {}
        for instance, price in per_vcpu:
            value = instance.labels.get(requirement.key, instance.name if requirement.key.endswith("instance-type")
                                        else None)
            if value is not None:
                best[value] = min(price, best.get(value, price))
        ranked = sorted(best.values())
        if len(ranked) >= requirement.min_values:
            candidate = ranked[requirement.min_values - 1]
            if floor is None or candidate > floor[0]:
                floor = (candidate, f"minValues {requirement.min_values} on {requirement.key}: the cheapest "
                                    f"{requirement.min_values} distinct values must stay launchable")
    return floor


def launch_offerings(nodepool: dict, catalog: list[InstanceType], book: PriceBook,
                     nodeclass: NodeClassCosts | None) -> tuple[str, list[tuple[InstanceType, float]], list[str]]:
    """The capacity type Karpenter would launch and the allowed types priced in it, plus why (for `budget plan`)."""
    requirements = requirements_of(nodepool)
    kinds = capacity_types(requirements)
    allowed = [t for t in allowed_instance_types(nodepool, catalog) if t.vcpus]
    why = [f"capacity types: {why_assumed(requirements, CAPACITY_TYPE_LABEL, kinds)}",
           f"architectures: {why_assumed(requirements, ARCH_LABEL, arches(requirements))}"]
    reserved_types = {name for name, _ in nodeclass.reserved} if nodeclass else set()
    for kind in kinds:
        if kind == "reserved":
            candidates = [t for t in allowed if t.name in reserved_types]
            if not candidates:
                why.append("reserved: the EC2NodeClass selects no capacity reservation for an allowed type")
                continue
        else:
            candidates = allowed
        hourly = [(t, book.hourly(t.name, kind)) for t in candidates]
        priced = [(t, price) for t, price in hourly if price is not None]
        if priced:
            why.append(f"Karpenter launches {kind} first (reserved > spot > on-demand, getCapacityType): "
                       f"{len(priced)} priced instance types")
            return kind, priced, why
        why.append(f"{kind}: none of the {len(candidates)} allowed types has a {kind} price")
    return "", [], why


def estimate_pricing(nodepool: dict, catalog: list[InstanceType], book: PriceBook, estimator: str,
                     running: list[RunningNode], nodeclass: NodeClassCosts | None = None) -> PoolPricing:
    """Raises PriceUnavailable naming the pool when none of the offerings it may launch has a price."""
    name = nodepool["metadata"]["name"]
    kind, priced, why = launch_offerings(nodepool, catalog, book, nodeclass)
    if not priced:
        raise PriceUnavailable(f"NodePool {name}: no price for anything it may launch ({'; '.join(why[2:])})")
    volumes = nodeclass.volumes if nodeclass else ()
    volume_hourly = book.volumes_hourly(volumes)
    if volume_hourly is None:
        raise PriceUnavailable(f"NodePool {name}: no EBS price for {', '.join(sorted({v for v, _ in volumes}))}")
    extras = volume_hourly + book.overhead_hourly
    per_vcpu = [(price + extras) / t.vcpus for t, price in priced]
    gib_per_vcpu = statistics.median(t.gib_per_vcpu for t, _ in priced)
    by_resource: dict[str, list[float]] = {}
    for t, price in priced:
        if t.accelerator:
            resource, count = t.accelerator
            by_resource.setdefault(resource, []).append((price + extras) / count)
    accelerators = {resource: _pick(values, estimator) for resource, values in by_resource.items()}
    used = estimator
    per_vcpu_hour = _pick(per_vcpu, estimator)
    floor = min_values_floor(nodepool, [(t, p) for (t, _), p in zip(priced, per_vcpu)])
    if floor and floor[0] > per_vcpu_hour:
        per_vcpu_hour = floor[0]
        why.append(floor[1])
    if estimator == "mix":
        rated = [(node, book.node_hourly(node.instance_type, node.capacity_type, node.zone, node.volumes))
                 for node in running if node.pool == name and node.cpu > 0]
        mine = [(node, rate) for node, rate in rated if rate is not None]
        if mine:
            per_vcpu_hour = sum(rate for _, rate in mine) / sum(node.cpu for node, _ in mine)
            gib_per_vcpu = sum(node.memory_gib for node, _ in mine) / sum(node.cpu for node, _ in mine)
        else:
            used = "median (nothing runs yet)"
    if nodeclass:
        why.append(f"EBS per node: {nodeclass.volume_gib:g} GiB "
                   f"({', '.join(f'{gib:g} GiB {v}' for v, gib in volumes) or 'none'}) = {volume_hourly:.4f} USD/h")
        why.extend(nodeclass.notes)
    return PoolPricing(per_vcpu_hour=per_vcpu_hour, gib_per_vcpu=gib_per_vcpu, estimator=used,
                       candidates=len(priced), capacity_type=kind, accelerators=accelerators, assumed=tuple(why),
                       volume_hourly=volume_hourly, overhead_hourly=book.overhead_hourly)


def nodepool_unit_prices(nodepool: dict, catalog: list[InstanceType], book: PriceBook,
                         nodeclass: NodeClassCosts | None = None, estimator: str = "median",
                         running: Sequence[RunningNode] = ()) -> tuple[float, float]:
    """(USD per vCPU-hour, USD per GiB-hour) for a NodePool, as the budget prices it — the public entry point for
    other features (e.g. a savings ledger). Each figure attributes a whole node's price to that one resource."""
    pricing = estimate_pricing(nodepool, catalog, book, estimator, list(running), nodeclass)
    return pricing.per_vcpu_hour, pricing.per_gib_hour
