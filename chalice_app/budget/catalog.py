"""Instance types as Karpenter sees them, and which of them a NodePool's requirements allow.

Instance types come from ec2:DescribeInstanceTypes; the well-known Karpenter labels (instance-category,
-generation, -family, arch, ...) are derived the way Karpenter derives them, so the NodePool's
`spec.template.spec.requirements` can be evaluated against them without asking the cluster.

Karpenter v1 semantics (kubernetes-sigs/karpenter pkg/scheduling/requirement.go and requirements.go,
pkg/apis/v1/nodepool.go for Gte/Lte): a key the NodePool does not constrain allows every value — so a pool without a
`karpenter.sh/capacity-type` requirement may launch reserved, spot and on-demand capacity, and one without
`kubernetes.io/arch` both amd64 and arm64; a well-known label an instance type does not have behaves as absent
(`NotIn`/`DoesNotExist` match, `In`/`Exists`/`Gt`/`Lt`/`Gte`/`Lte` do not); numeric operators compare integers and a
value that is not one matches nothing (requirement.go canonicalises Gt N to Gte N+1 and Lt N to Lte N-1).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from chalice_app.kube.names import (ARCH_LABEL, CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL, KARPENTER_AWS_GROUP,
                                    KARPENTER_GROUP, OS_LABEL, ZONE_LABEL)

GPU_RESOURCE = "nvidia.com/gpu"  # the NVIDIA resource; other vendors' are in GPU_RESOURCES
# Accelerator resources as aws/karpenter-provider-aws pkg/apis/v1/labels.go names them (WellKnownExoticResources),
# keyed by the lower-cased GpuInfo manufacturer of DescribeInstanceTypes.
GPU_RESOURCES = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu", "habana": "habana.ai/gaudi"}
NEURON_RESOURCE = "aws.amazon.com/neuron"
ACCELERATOR_RESOURCES = (*GPU_RESOURCES.values(), NEURON_RESOURCE)

# Karpenter v1 capacity types (kubernetes-sigs/karpenter pkg/apis/v1 labels.go: reserved, spot, on-demand), in the
# order aws/karpenter-provider-aws pkg/providers/instance/instance.go getCapacityType prefers them.
CAPACITY_PREFERENCE = ("reserved", "spot", "on-demand")
KNOWN_ARCHES = ("amd64", "arm64")
# kept for callers that ask for "what an unconstrained pool may launch"
DEFAULT_CAPACITY_TYPES = CAPACITY_PREFERENCE
DEFAULT_ARCHES = KNOWN_ARCHES
_ARCH_NAMES = {"x86_64": "amd64", "arm64": "arm64"}
_NAME = re.compile(r"^(?P<category>[a-z]+)(?P<generation>\d+)(?P<rest>[a-z0-9-]*)\.(?P<size>.+)$")


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: float
    arches: tuple[str, ...]
    gpus: int = 0
    gpu_manufacturer: str | None = None
    usage_classes: tuple[str, ...] = ("on-demand", "spot")
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    neuron_devices: int = 0

    @property
    def gib_per_vcpu(self) -> float:
        return self.memory_gib / self.vcpus if self.vcpus else 0.0

    @property
    def accelerator(self) -> tuple[str, int] | None:
        """(extended resource name, count) of the node's accelerators, as the AWS provider advertises them."""
        if self.gpus and self.gpu_manufacturer in GPU_RESOURCES:
            return GPU_RESOURCES[self.gpu_manufacturer], self.gpus
        if self.neuron_devices:
            return NEURON_RESOURCE, self.neuron_devices
        return None


def instance_type_from_ec2(item: dict) -> InstanceType:
    """One entry of DescribeInstanceTypes' `InstanceTypes` list."""
    name = item["InstanceType"]
    vcpus = int(item["VCpuInfo"]["DefaultVCpus"])
    memory_gib = item["MemoryInfo"]["SizeInMiB"] / 1024
    arches = tuple(sorted({_ARCH_NAMES[a] for a in item["ProcessorInfo"]["SupportedArchitectures"] if a in _ARCH_NAMES}))
    gpus = item.get("GpuInfo", {}).get("Gpus", [])
    gpu_count = sum(int(gpu.get("Count", 0)) for gpu in gpus)
    manufacturer = gpus[0].get("Manufacturer", "").lower() if gpus else None
    neurons = sum(int(d.get("Count", 0)) for d in item.get("NeuronInfo", {}).get("NeuronDevices", []))
    labels = {INSTANCE_TYPE_LABEL: name, f"{KARPENTER_AWS_GROUP}/instance-cpu": str(vcpus),
              f"{KARPENTER_AWS_GROUP}/instance-memory": str(item["MemoryInfo"]["SizeInMiB"])}
    match = _NAME.match(name)
    if match:
        labels[f"{KARPENTER_AWS_GROUP}/instance-category"] = match["category"]
        labels[f"{KARPENTER_AWS_GROUP}/instance-generation"] = match["generation"]
        labels[f"{KARPENTER_AWS_GROUP}/instance-family"] = name.split(".")[0]
        labels[f"{KARPENTER_AWS_GROUP}/instance-size"] = match["size"]
    if gpu_count:
        labels[f"{KARPENTER_AWS_GROUP}/instance-gpu-count"] = str(gpu_count)
        labels[f"{KARPENTER_AWS_GROUP}/instance-gpu-manufacturer"] = manufacturer or ""
    return InstanceType(name=name, vcpus=vcpus, memory_gib=memory_gib, arches=arches or ("amd64",), gpus=gpu_count,
                        gpu_manufacturer=manufacturer, neuron_devices=neurons,
                        usage_classes=tuple(item.get("SupportedUsageClasses", ("on-demand", "spot"))), labels=labels)


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()
    min_values: int | None = None  # Karpenter's minValues: at least this many distinct values must stay launchable

    def allows(self, value: str | None) -> bool:
        op = self.operator
        if op == "Exists":
            return value is not None
        if op == "DoesNotExist":
            return value is None
        if op == "In":
            return value is not None and value in self.values
        if op == "NotIn":
            return value is None or value not in self.values
        if op in ("Gt", "Lt", "Gte", "Lte"):
            if value is None or not self.values:
                return False
            try:
                have, bound = int(value), int(self.values[0])
            except ValueError:
                return False
            return {"Gt": have > bound, "Lt": have < bound, "Gte": have >= bound, "Lte": have <= bound}[op]
        raise ValueError(f"requirement {self.key}: unknown operator {op!r}")


def requirements_of(nodepool: dict) -> list[Requirement]:
    raw = nodepool.get("spec", {}).get("template", {}).get("spec", {}).get("requirements", []) or []
    return [Requirement(r["key"], r["operator"], tuple(str(v) for v in r.get("values", []) or []),
                        r.get("minValues")) for r in raw]


def _allowed_values(requirements: list[Requirement], key: str, known: Iterable[str]) -> tuple[str, ...]:
    """Known values the requirements on `key` allow; a key without a requirement allows them all."""
    relevant = [r for r in requirements if r.key == key]
    return tuple(v for v in known if all(r.allows(v) for r in relevant))


def capacity_types(requirements: list[Requirement]) -> tuple[str, ...]:
    """Capacity types the requirements allow, in Karpenter's order of preference (reserved, spot, on-demand).
    Whether reserved can actually be launched depends on the EC2NodeClass's capacity reservations (see offerings)."""
    return _allowed_values(requirements, CAPACITY_TYPE_LABEL, CAPACITY_PREFERENCE)


def arches(requirements: list[Requirement]) -> tuple[str, ...]:
    return _allowed_values(requirements, ARCH_LABEL, KNOWN_ARCHES)


def why_assumed(requirements: list[Requirement], key: str, allowed: tuple[str, ...]) -> str:
    """One phrase for `budget plan`: what the pool may launch for `key` and why."""
    relevant = [r for r in requirements if r.key == key]
    if not relevant:
        return f"{', '.join(allowed) or 'none'} (no {key} requirement: Karpenter v1 allows any)"
    said = "; ".join(f"{r.operator} {','.join(r.values)}".strip() for r in relevant)
    return f"{', '.join(allowed) or 'none'} ({key} {said})"


def allows_instance_type(requirements: list[Requirement], instance: InstanceType) -> bool:
    if not set(arches(requirements)) & set(instance.arches):
        return False
    for requirement in requirements:
        if (requirement.key in (ARCH_LABEL, CAPACITY_TYPE_LABEL, ZONE_LABEL, OS_LABEL)
                or requirement.key.startswith(KARPENTER_GROUP + "/")):
            continue
        # Only keys that describe the instance type narrow the choice; other labels are the pool's own.
        if requirement.key == INSTANCE_TYPE_LABEL or requirement.key.startswith(KARPENTER_AWS_GROUP + "/"):
            if not requirement.allows(instance.labels.get(requirement.key)):
                return False
    return True


def allowed_instance_types(nodepool: dict, catalog: Iterable[InstanceType]) -> list[InstanceType]:
    requirements = requirements_of(nodepool)
    # a capacity reservation holds on-demand capacity: a reserved-only pool needs types sold on-demand
    usage = {"on-demand" if kind == "reserved" else kind for kind in capacity_types(requirements)}
    return [t for t in catalog if allows_instance_type(requirements, t) and usage & set(t.usage_classes)]
