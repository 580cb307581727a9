"""What one replica of a function costs per hour on its NodePool (pure): an estimate, and the method is this.

1. The NodePool's price per vCPU-hour P and its GiB per vCPU G come from the budget feature's estimator
   (chalice_app.budget.estimate.estimate_pricing over the instance types the pool's requirements allow).
2. P is the price of a whole instance per vCPU, memory included. It is split into a $/vCPU-hour and a $/GiB-hour
   so that one vCPU plus its G GiB still cost exactly P, with a vCPU worth R GiB — R taken from AWS Fargate's
   Linux/x86 list prices in us-east-1 ($0.04048 per vCPU-hour, $0.004445 per GB-hour:
   https://aws.amazon.com/fargate/pricing/), the one AWS price list that prices the two separately:
       per GiB-hour = P / (R + G),  per vCPU-hour = R × per GiB-hour.
3. A replica costs requests.cpu × per vCPU-hour + requests.memory (GiB) × per GiB-hour.

Which NodePool: the one Karpenter could launch the pod template on — every pool taint tolerated and every required
node label (nodeSelector, required node affinity `In`) allowed by the pool's requirements or template labels; the
highest `spec.weight` first, then the name (https://karpenter.sh/docs/concepts/scheduling/ — weighted NodePools).
"""
from __future__ import annotations

from dataclasses import dataclass

FARGATE_VCPU_HOUR = 0.04048
FARGATE_GB_HOUR = 0.004445
VCPU_IN_GIB = FARGATE_VCPU_HOUR / FARGATE_GB_HOUR  # R ≈ 9.107


@dataclass(frozen=True)
class PoolRates:
    per_vcpu_hour: float
    per_gib_hour: float


def split_rates(per_vcpu_hour: float, gib_per_vcpu: float, vcpu_in_gib: float = VCPU_IN_GIB) -> PoolRates:
    """P (a whole instance per vCPU) → $/vCPU-hour and $/GiB-hour with one vCPU + G GiB costing P."""
    per_gib = per_vcpu_hour / (vcpu_in_gib + max(gib_per_vcpu, 0.0))
    return PoolRates(per_vcpu_hour=vcpu_in_gib * per_gib, per_gib_hour=per_gib)


def replica_hourly(cpu: float, memory_gib: float, rates: PoolRates) -> float:
    return cpu * rates.per_vcpu_hour + memory_gib * rates.per_gib_hour


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    for toleration in tolerations or []:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists" and (not toleration.get("key") or
                                                       toleration["key"] == taint.get("key")):
            return True
        if toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _required_labels(pod_spec: dict) -> list[dict[str, set[str]]]:
    """Alternatives (node selector terms), each: label → allowed values, with nodeSelector folded into each."""
    selector = {key: {str(value)} for key, value in (pod_spec.get("nodeSelector") or {}).items()}
    affinity = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = []
    for term in affinity.get("nodeSelectorTerms") or []:
        wanted = dict(selector)
        for expression in term.get("matchExpressions") or []:
            if expression.get("operator") == "In":
                wanted[expression["key"]] = set(map(str, expression.get("values") or []))
        terms.append(wanted)
    return terms or [selector]


def _pool_allows(pool: dict, wanted: dict[str, set[str]]) -> bool:
    template = (pool.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    requirements = (template.get("spec") or {}).get("requirements") or []
    for key, values in wanted.items():
        if key in labels and labels[key] not in values:
            return False
        for requirement in requirements:
            if requirement.get("key") != key:
                continue
            allowed = set(map(str, requirement.get("values") or []))
            if requirement.get("operator") == "In" and not allowed & values:
                return False
            if requirement.get("operator") == "NotIn" and values <= allowed:
                return False
    return True


def pool_for(pod_spec: dict, pools: list[dict]) -> str | None:
    """The NodePool a pod with this spec would run on, or None when no pool admits it."""
    taints_ok = [pool for pool in pools if all(
        _tolerates(pod_spec.get("tolerations") or [], taint)
        for taint in (((pool.get("spec") or {}).get("template") or {}).get("spec") or {}).get("taints") or [])]
    fitting = [pool for pool in taints_ok if any(_pool_allows(pool, wanted) for wanted in _required_labels(pod_spec))]
    if not fitting:
        return None
    best = sorted(fitting, key=lambda pool: (-int((pool.get("spec") or {}).get("weight") or 0),
                                             pool["metadata"]["name"]))[0]
    return best["metadata"]["name"]
