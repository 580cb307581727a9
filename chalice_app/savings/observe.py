"""What is parked now, with what it costs per hour (pure): function Deployments, NodePools and running nodes → State.

A function is parked while it carries off-hours' `original-replicas` annotation; a NodePool while it carries
`original-limits`. Requests are summed over the pod template's containers (init containers do not run alongside).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from kubernetes.utils import parse_quantity

from chalice_app.budget.metering import RunningNode
from chalice_app.budget.prices import PriceBook
from chalice_app.kube.names import ORIGINAL_LIMITS, ORIGINAL_REPLICAS
from chalice_app.savings.ledger import ParkedFunctionCost, ParkedPoolCost, State
from chalice_app.savings.pricing import PoolRates, pool_for, replica_hourly

GIB = 2 ** 30


@dataclass(frozen=True)
class FunctionResources:
    namespace: str
    name: str
    replicas: int
    original: int | None  # None: not parked (or an unreadable annotation, which off-hours reports)
    cpu: float  # vCPU requested per replica
    memory_gib: float
    pod_spec: dict  # only the scheduling fields: nodeSelector, affinity, tolerations


def _quantity(value, scale: float = 1.0) -> float:
    try:
        return _parsed(value) / scale if value not in (None, "") else 0.0
    except (ValueError, TypeError):  # TypeError also for an unhashable value (untrusted input): not a quantity
        return 0.0


@lru_cache(maxsize=1024)
def _parsed(value) -> float:
    """parse_quantity, once per distinct request ("100m", "128Mi"): 10,000 functions share a handful of them."""
    return float(parse_quantity(value))


def _original(text: str | None) -> int | None:
    return int(text) if isinstance(text, str) and text.strip().isdigit() else None


def resources_from_object(obj: dict) -> FunctionResources:
    metadata, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}
    requests = [(container.get("resources") or {}).get("requests") or {} for container in pod.get("containers") or []]
    replicas = spec.get("replicas")
    return FunctionResources(
        namespace=metadata.get("namespace", ""), name=metadata["name"],
        replicas=1 if replicas is None else int(replicas),
        original=_original((metadata.get("annotations") or {}).get(ORIGINAL_REPLICAS)),
        cpu=sum(_quantity(r.get("cpu")) for r in requests),
        memory_gib=sum(_quantity(r.get("memory"), GIB) for r in requests),
        pod_spec={key: pod[key] for key in ("nodeSelector", "affinity", "tolerations") if key in pod})


def patched_resources(function: FunctionResources, patch: dict | None) -> FunctionResources:
    """The function as an off-hours merge patch (FunctionAction.patch) leaves it: replicas and the mirror."""
    if not patch:
        return function
    changed = (patch.get("metadata") or {}).get("annotations") or {}
    original = function.original
    if ORIGINAL_REPLICAS in changed:
        original = _original(changed[ORIGINAL_REPLICAS])
    return replace(function, replicas=(patch.get("spec") or {}).get("replicas", function.replicas), original=original)


def parked_pools(nodepools: list[dict]) -> list[str]:
    return sorted(pool["metadata"]["name"] for pool in nodepools
                  if ORIGINAL_LIMITS in ((pool.get("metadata") or {}).get("annotations") or {}))


def pools_of(functions: list[FunctionResources], nodepools: list[dict]) -> dict[str, str | None]:
    """Function key → the NodePool its pods would run on (parked functions only: the others need no price)."""
    return {f"{f.namespace}/{f.name}": pool_for(f.pod_spec, nodepools) for f in functions if f.original is not None}


def observe(functions: list[FunctionResources], nodepools: list[dict], pools: dict[str, str | None],
            rates: dict[str, PoolRates], running: list[RunningNode], prices: PriceBook) -> State:
    """Parked functions and pools now, as first seen (floor = replicas now; the ledger keeps earlier floors)."""
    parked = {}
    for function in functions:
        if function.original is None:
            continue
        key = f"{function.namespace}/{function.name}"
        pool = pools.get(key)
        hourly = replica_hourly(function.cpu, function.memory_gib, rates[pool]) if pool in rates else 0.0
        parked[key] = ParkedFunctionCost(function.namespace, function.name, pool, function.original, function.replicas,
                                     min(function.replicas, function.original), hourly)
    parked_nodepools = {}
    for name in parked_pools(nodepools):
        mine = [node for node in running if node.pool == name]
        hourly = sum(prices.hourly(node.instance_type, node.capacity_type, node.zone) or 0.0 for node in mine)
        parked_nodepools[name] = ParkedPoolCost(name, len(mine), hourly, len(mine), hourly)
    return State(parked, parked_nodepools)
