"""The limits a NodePool may have so that the rest of its budget pays for the rest of the period.

allowed rate (USD/h) = remaining budget ÷ hours left; cpu limit = rate ÷ price per vCPU-hour, then clamped to the
pool's min/max and to the maximum step per run. Changes under the minimum change are not patched, so the
NodePool is not rewritten every 15 minutes for noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from kubernetes.utils import parse_quantity

from chalice_app.budget.catalog import ACCELERATOR_RESOURCES, GPU_RESOURCE
from chalice_app.budget.document import BudgetDocument, hours_between
from chalice_app.budget.estimate import PoolPricing

MIN_HOURS_LEFT = 0.25  # one run's worth, so the last minutes of a period do not divide by ~0
MIN_STEP_CPU = 4.0  # a limit at or near zero can still grow by this much in one run


@dataclass(frozen=True)
class Limits:
    cpu: float | None
    memory_gib: float | None = None
    accelerators: dict[str, float] = field(default_factory=dict)  # extended resource (by vendor) → devices

    @property
    def gpus(self) -> float | None:
        return self.accelerators.get(GPU_RESOURCE)

    def as_spec(self) -> dict[str, str]:
        spec = {"cpu": _quantity(self.cpu)}
        if self.memory_gib is not None:
            spec["memory"] = _quantity(self.memory_gib) + "Gi"
        for resource, count in sorted(self.accelerators.items()):
            spec[resource] = _quantity(count)
        return spec


def _quantity(value: float | None) -> str:
    """A Kubernetes quantity without an exponent: `1e+06Gi` (what `:g` writes for large values) mixes an exponent
    with a suffix, which the NodePool CRD's `limits` pattern refuses."""
    if value is None or not math.isfinite(value):
        raise ValueError(f"limit {value!r} is not a finite number")
    return f"{value:.0f}" if value == int(value) else f"{value:.3f}".rstrip("0").rstrip(".")


def current_limits(nodepool: dict) -> Limits:
    limits = nodepool.get("spec", {}).get("limits", {}) or {}

    def read(key: str, scale: float = 1.0) -> float:
        return float(parse_quantity(limits[key])) / scale

    return Limits(cpu=read("cpu") if "cpu" in limits else None,
                  memory_gib=read("memory", 2**30) if "memory" in limits else None,
                  accelerators={r: read(r) for r in ACCELERATOR_RESOURCES if r in limits})


@dataclass(frozen=True)
class LimitDecision:
    pool: str
    budget: float
    spent: float
    remaining: float
    hours_left: float
    allowed_rate: float  # USD/h
    pricing: PoolPricing
    current: Limits
    target_cpu: float  # before clamps and step
    proposed: Limits
    change: bool  # worth a patch
    reasons: tuple[str, ...]
    usage_cpu: float

    @property
    def over_limit(self) -> bool:
        return self.proposed.cpu is not None and self.usage_cpu > self.proposed.cpu


def _step_bounds(current: float | None, step_percent: float) -> tuple[float, float]:
    if current is None:
        return 0.0, math.inf
    step = step_percent / 100
    return current * max(0.0, 1 - step), max(current * (1 + step), current + MIN_STEP_CPU)


def decide_limits(pool: str, document: BudgetDocument, spent: float, now: datetime, period_end: datetime,
                  pricing: PoolPricing, nodepool: dict, usage_cpu: float) -> LimitDecision:
    settings = document.nodepools[pool]
    budget = document.pool_amount(pool)
    usable = budget * (1 - document.reserve_percent / 100)
    remaining = max(0.0, usable - spent)
    hours_left = max(hours_between(now, period_end), MIN_HOURS_LEFT)
    rate = remaining / hours_left
    target = rate / pricing.per_vcpu_hour
    reasons = [f"{remaining:.2f} USD left for {hours_left:.1f} h allows {rate:.3f} USD/h; at "
               f"{pricing.per_vcpu_hour:.4g} USD per vCPU-hour ({pricing.estimator}) that is {target:.1f} vCPU"]
    cpu = target
    if cpu < settings.min_cpu:
        cpu = settings.min_cpu
        reasons.append(f"raised to min_cpu {settings.min_cpu:g}")
    elif cpu > settings.max_cpu:
        cpu = settings.max_cpu
        reasons.append(f"capped at max_cpu {settings.max_cpu:g}")
    current = current_limits(nodepool)
    low, high = _step_bounds(current.cpu, document.max_step_percent)
    if cpu < low or cpu > high:
        cpu = min(max(cpu, low), high)
        reasons.append(f"moved at most {document.max_step_percent:g} % from {current.cpu:g} this run")
    cpu = float(math.floor(cpu))
    memory = float(math.floor(cpu * pricing.gib_per_vcpu))
    accelerators = {}
    for resource, price in sorted(pricing.accelerators.items()):
        accelerators[resource] = float(math.floor(rate / price))
        reasons.append(f"{resource}: {price:.3f} USD per device-hour allows {accelerators[resource]:g}")
    proposed = Limits(cpu=cpu, memory_gib=memory, accelerators=accelerators)
    change = _worth_patching(current, proposed, document.min_change_percent)
    if not change:
        reasons.append(f"change under {document.min_change_percent:g} %: limits stay")
    return LimitDecision(pool=pool, budget=budget, spent=spent, remaining=remaining, hours_left=hours_left,
                         allowed_rate=rate, pricing=pricing, current=current, target_cpu=target, proposed=proposed,
                         change=change, reasons=tuple(reasons), usage_cpu=usage_cpu)


def _worth_patching(current: Limits, proposed: Limits, min_change_percent: float) -> bool:
    def moved(old: float | None, new: float | None) -> bool:
        if new is None:
            return False
        if old is None:
            return True
        if old == 0:
            return new != 0
        return abs(new - old) / old * 100 >= min_change_percent

    return moved(current.cpu, proposed.cpu) or any(
        moved(current.accelerators.get(resource), count) for resource, count in proposed.accelerators.items())
