"""Which parked NodePool a Pending function pod needs, and how much limit lets Karpenter launch just that (pure).

Karpenter launches a node for a Pending pod from a NodePool whose template the pod tolerates and whose
requirements and labels satisfy the pod's node selector and required node affinity (karpenter.sh docs
concepts/scheduling; taints and tolerations: kubernetes.io docs concepts/scheduling-eviction/taint-and-toleration),
preferring the highest `spec.weight`; and only while the pool's resources stay under `spec.limits`
(karpenter.sh docs concepts/nodepools, "Limits"). A parked pool (limits 0) therefore strands a woken function whose
Profile pins it there: such a pool gets a night allowance, the capacity of the nodes it still has plus the
configured CPU, and is parked again when nothing needs it.

The match is Karpenter's requirement algebra (offhours.matching: In, NotIn, Exists, DoesNotExist, Gt, Lt). A pod
that also fits an unparked pool needs no allowance: Karpenter launches there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from chalice_app.offhours.matching import ValueSet, compatible, pod_requirement_options, pool_requirements

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

    @property
    def offered(self) -> dict[str, ValueSet]:
        return pool_requirements(self.name, self.labels, self.requirements)


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
    offered = pool.offered
    return any(compatible(offered, wanted) for wanted in pod_requirement_options(pod_spec))


def pods_needing(pending_pod_specs: list[dict], parked: list[PoolTemplate],
                 open_pools: list[PoolTemplate]) -> dict[str, list[dict]]:
    """The parked pools Pending pods need, with those pods' specs: for each pod that fits no open pool, the parked
    pool Karpenter would pick (highest weight, then name)."""
    needed: dict[str, list[dict]] = {}
    for spec in pending_pod_specs:
        if any(fits(spec, pool) for pool in open_pools):
            continue
        candidates = sorted((pool for pool in parked if fits(spec, pool)), key=lambda p: (-p.weight, p.name))
        if candidates:
            needed.setdefault(candidates[0].name, []).append(spec)
    return needed


def pools_needed(pending_pod_specs: list[dict], parked: list[PoolTemplate], open_pools: list[PoolTemplate]) -> set[str]:
    return set(pods_needing(pending_pod_specs, parked, open_pools))


def pod_requests(pod_spec: dict) -> tuple[int, float]:
    """(CPU millicores, memory GiB) the scheduler reserves for a pod: the containers' requests summed, or the
    largest init container's when larger (kubernetes.io docs concepts/workloads/pods/init-containers, "Resource
    sharing within containers"); unreadable quantities count as 0."""
    from kubernetes.utils.quantity import parse_quantity  # only when a pool needs an allowance

    def of(containers) -> list[tuple[int, float]]:
        found = []
        for container in containers or []:
            requests = ((container or {}).get("resources") or {}).get("requests") or {}
            try:
                memory = float(parse_quantity(requests.get("memory", 0))) / 2**30
            except (ValueError, TypeError, ArithmeticError):
                memory = 0.0
            found.append((cpu_millis(requests.get("cpu", 0)), memory))
        return found

    main, init = of(pod_spec.get("containers")), of(pod_spec.get("initContainers"))
    cpu, memory = sum(c for c, _ in main), sum(m for _, m in main)
    return max([cpu, *(c for c, _ in init)]), max([memory, *(m for _, m in init)])


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


def sized_allowance(original: dict, nodes_cpu_millis: int, pod_specs: list[dict], instance_types: list,
                    allowance_cpu: str) -> dict:
    """Limits for the pods that need a parked pool: their requests rounded up to whole nodes of the smallest
    instance type the pool can launch that holds the largest of them (`instance_types`: budget.catalog's
    allowed_instance_types of the pool), beside the pool's remaining nodes. Without pods, or without a type
    that holds them (no catalog), the configured `allowance_cpu` as before."""
    requests = [pod_requests(spec) for spec in pod_specs]
    node = _smallest_holding(requests, instance_types)
    if node is None:
        return allowance(original, nodes_cpu_millis, allowance_cpu)
    total_cpu, total_memory = sum(c for c, _ in requests), sum(m for _, m in requests)
    count = max(1, -(-total_cpu // (node.vcpus * 1000)), math.ceil(total_memory / node.memory_gib - 1e-9))
    limits = {key: value for key, value in original.items() if key not in ("cpu", "memory")}
    limits["cpu"] = f"{nodes_cpu_millis + count * node.vcpus * 1000}m"
    if "memory" in original:
        # The remaining nodes' memory is not in the node list we keep; their CPU at the type's ratio stands in.
        memory_gib = (nodes_cpu_millis / 1000 + count * node.vcpus) * node.gib_per_vcpu
        limits["memory"] = f"{math.ceil(memory_gib)}Gi"
    return limits


def _smallest_holding(requests: list[tuple[int, float]], instance_types: list):
    """The smallest instance type (vCPUs, then memory, then name) that holds the largest of `requests`; None."""
    if not requests:
        return None
    biggest_cpu, biggest_memory = max(c for c, _ in requests), max(m for _, m in requests)
    holding = sorted((t for t in instance_types if t.vcpus * 1000 >= biggest_cpu and t.memory_gib >= biggest_memory),
                     key=lambda t: (t.vcpus, t.memory_gib, t.name))
    return holding[0] if holding else None


def sizing_basis(pool: str, pod_specs: list[dict], instance_types: list, catalog_read: str | None,
                 allowance_cpu: str) -> str:
    """What a night allowance was sized from, for the run's notes: the instance type chosen, out of how many the
    pool's requirements allow, for which requests, or why the configured CPU applied instead. `catalog_read`: None
    when there is no catalog, else how it was read ("N instance types (ec2:DescribeInstanceTypes)" or the error).
    Requests are the pods' own: DaemonSet overhead and kubelet reservations are not modelled."""
    requests = [pod_requests(spec) for spec in pod_specs]
    fixed = f"night allowance for NodePool {pool}: the configured {allowance_cpu} CPU (COSTGUARD_OFFHOURS_NIGHT_ALLOWANCE_CPU)"
    if not requests:
        return f"{fixed}: no Pending pod to size it from (an awake function's pods run there)"
    cpu, memory = sum(c for c, _ in requests), sum(m for _, m in requests)
    wanted = f"{len(requests)} pod(s) requesting {cpu}m CPU, {memory:.2f} GiB"
    if catalog_read is None or not instance_types:
        return f"{fixed}, for {wanted}: " + ("no instance catalog" if catalog_read is None else
                                             f"no instance type the pool allows ({catalog_read})")
    node = _smallest_holding(requests, instance_types)
    if node is None:
        return f"{fixed}, for {wanted}: none of the {len(instance_types)} types the pool allows holds the largest pod"
    return (f"night allowance for NodePool {pool} sized from {node.name} ({node.vcpus} vCPU, {node.memory_gib:g} GiB), "
            f"the smallest of the {len(instance_types)} types its requirements allow that holds the largest of "
            f"{wanted} (catalog: {catalog_read}; requests only, no DaemonSet overhead)")
