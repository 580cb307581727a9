"""Which parked NodePool a Pending function pod needs, and how much limit lets Karpenter launch just that (pure).

Karpenter launches a node for a Pending pod from a NodePool whose template the pod tolerates and whose
requirements and labels satisfy the pod's node selector and required node affinity (karpenter.sh docs
concepts/scheduling; taints and tolerations: kubernetes.io docs concepts/scheduling-eviction/taint-and-toleration),
preferring the highest `spec.weight`; and only while the pool's resources stay under `spec.limits`
(karpenter.sh docs concepts/nodepools, "Limits"). A parked pool (limits 0) therefore strands a woken function whose
Profile pins it there: such a pool gets a night allowance, the capacity of the nodes it still has plus the
configured CPU, and is parked again when nothing needs it.

The match is deliberately generous: `In` expressions must overlap what the pool offers; `NotIn`, `Exists` and
`DoesNotExist` pass, as do well-known Karpenter labels the pool does not constrain. A pod that also fits an
unparked pool needs no allowance: Karpenter launches there.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalice_app.kube.names import KARPENTER_AWS_GROUP, KARPENTER_GROUP, NODEPOOL_LABEL

WELL_KNOWN_PREFIXES = (KARPENTER_GROUP + "/", KARPENTER_AWS_GROUP + "/", "topology.kubernetes.io/",
                       "node.kubernetes.io/", "kubernetes.io/")
CPU_MEMORY_RATIO_GI = 8  # memory allowance per allowed CPU, when a pool also limits memory (m6i: 4 GiB/vCPU, ×2)


@dataclass(frozen=True)
class PoolTemplate:
    name: str
    labels: dict
    requirements: tuple[dict, ...]
    taints: tuple[dict, ...]
    weight: int = 0

    @classmethod
    def from_object(cls, obj: dict) -> "PoolTemplate":
        template = (obj.get("spec") or {}).get("template") or {}
        spec = template.get("spec") or {}
        return cls(obj["metadata"]["name"], dict((template.get("metadata") or {}).get("labels") or {}),
                   tuple(r for r in spec.get("requirements") or [] if isinstance(r, dict)),
                   tuple(t for t in spec.get("taints") or [] if isinstance(t, dict)),
                   int((obj.get("spec") or {}).get("weight") or 0))

    def offers(self, key: str, values: list[str]) -> bool:
        """Could a node of this pool carry `key` with one of `values`?"""
        wanted = {str(v) for v in values}
        if key == NODEPOOL_LABEL:
            return self.name in wanted
        if key in self.labels:
            return str(self.labels[key]) in wanted
        constrained = [r for r in self.requirements if r.get("key") == key]
        for requirement in constrained:
            operator, offered = requirement.get("operator"), {str(v) for v in requirement.get("values") or []}
            if operator == "In" and not offered & wanted:
                return False
            if operator == "NotIn" and wanted <= offered:
                return False
            if operator == "DoesNotExist":
                return False
        return bool(constrained) or key.startswith(WELL_KNOWN_PREFIXES)


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration.get("key") == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def fits(pod_spec: dict, pool: PoolTemplate) -> bool:
    """Could Karpenter launch a node of `pool` for a pod with this spec?"""
    tolerations = [t for t in pod_spec.get("tolerations") or [] if isinstance(t, dict)]
    for taint in pool.taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, taint):
            return False
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if not pool.offers(key, [value]):
            return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = [t for t in required.get("nodeSelectorTerms") or [] if isinstance(t, dict)]
    if not terms:
        return True
    return any(all(pool.offers(e.get("key", ""), e.get("values") or []) for e in term.get("matchExpressions") or []
                   if e.get("operator") == "In") for term in terms)


def pools_needed(pending_pod_specs: list[dict], parked: list[PoolTemplate], open_pools: list[PoolTemplate]) -> set[str]:
    """The parked pools Pending pods need: for each pod that fits no open pool, the parked pool Karpenter would
    pick (highest weight, then name)."""
    needed: set[str] = set()
    for spec in pending_pod_specs:
        if any(fits(spec, pool) for pool in open_pools):
            continue
        candidates = sorted((pool for pool in parked if fits(spec, pool)), key=lambda p: (-p.weight, p.name))
        if candidates:
            needed.add(candidates[0].name)
    return needed


def cpu_millis(quantity) -> int:
    """A Kubernetes CPU quantity ("2", "1500m", 4) in millicores; 0 when unreadable."""
    text = str(quantity).strip()
    try:
        return int(float(text[:-1])) if text.endswith("m") else int(float(text) * 1000)
    except ValueError:
        return 0


def allowance(original: dict, nodes_cpu_millis: int, allowance_cpu: str) -> dict:
    """Limits that let Karpenter launch about `allowance_cpu` more CPU beside the pool's remaining nodes; every key
    the pool limits is kept (cpu/memory sized, others as they were)."""
    cpu = nodes_cpu_millis + cpu_millis(allowance_cpu)
    limits = {key: value for key, value in original.items() if key not in ("cpu", "memory")}
    limits["cpu"] = f"{cpu}m"
    if "memory" in original:
        limits["memory"] = f"{-(-cpu * CPU_MEMORY_RATIO_GI // 1000)}Gi"
    return limits
