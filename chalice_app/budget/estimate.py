"""Price per vCPU-hour (and per GPU-hour) of what a NodePool may launch, by a chosen estimator.

- cheapest: the lowest price per vCPU-hour among the allowed instance types (largest limits, least safe);
- median: the median over the allowed types;
- mix: what the pool's running nodes cost per vCPU-hour now (falls back to median when nothing runs).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from chalice_app.budget.catalog import InstanceType, allowed_instance_types, capacity_types, requirements_of
from chalice_app.budget.metering import RunningNode
from chalice_app.budget.prices import PriceBook, PriceUnavailable


@dataclass(frozen=True)
class PoolPricing:
    per_vcpu_hour: float
    per_gpu_hour: float | None  # None when the pool's requirements allow no GPU instance
    gib_per_vcpu: float
    estimator: str
    candidates: int  # allowed instance types with a price


def _pick(values: list[float], estimator: str) -> float:
    return min(values) if estimator == "cheapest" else statistics.median(values)


def estimate_pricing(nodepool: dict, catalog: list[InstanceType], book: PriceBook, estimator: str,
                     running: list[RunningNode]) -> PoolPricing:
    """Raises PriceUnavailable naming the pool when none of its allowed types has a price."""
    name = nodepool["metadata"]["name"]
    kinds = capacity_types(requirements_of(nodepool))
    allowed = allowed_instance_types(nodepool, catalog)
    priced = [(t, book.planning_price(t.name, kinds)) for t in allowed if t.vcpus]
    priced = [(t, price) for t, price in priced if price is not None]
    if not priced:
        raise PriceUnavailable(f"NodePool {name}: no price for any of the {len(allowed)} instance types its "
                               f"requirements allow")
    per_vcpu = [price / t.vcpus for t, price in priced]
    gib_per_vcpu = statistics.median(t.gib_per_vcpu for t, _ in priced)
    gpu_priced = [price / t.gpus for t, price in priced if t.gpus]
    per_gpu = _pick(gpu_priced, estimator) if gpu_priced else None
    used = estimator
    per_vcpu_hour = _pick(per_vcpu, estimator)
    if estimator == "mix":
        mine = [(node, book.hourly(node.instance_type, node.capacity_type, node.zone)) for node in running
                if node.pool == name and node.cpu > 0]
        mine = [(node, rate) for node, rate in mine if rate is not None]
        if mine:
            per_vcpu_hour = sum(rate for _, rate in mine) / sum(node.cpu for node, _ in mine)
            gib_per_vcpu = sum(node.memory_gib for node, _ in mine) / sum(node.cpu for node, _ in mine)
        else:
            used = "median (nothing runs yet)"
    return PoolPricing(per_vcpu_hour=per_vcpu_hour, per_gpu_hour=per_gpu, gib_per_vcpu=gib_per_vcpu, estimator=used,
                       candidates=len(priced))
