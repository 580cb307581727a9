"""What a NodePool's EC2NodeClass says about cost: the EBS volumes every node gets and the capacity reservations
Karpenter may launch into. Pure functions over the EC2NodeClass as the API returns it (karpenter.k8s.aws/v1).

- Volumes: `spec.blockDeviceMappings[].ebs` (volumeSize in Gi/G/Ti/T, volumeType; EC2 defaults an unset volume type
  to gp2). Without mappings the AMI family's defaults apply, as aws/karpenter-provider-aws
  pkg/providers/amifamily defines them: resolver.go `DefaultEBS` (gp3, 20Gi) on /dev/xvda for AL2, AL2023 and Ubuntu;
  Bottlerocket a 4Gi gp3 OS volume plus DefaultEBS on /dev/xvdb; Windows 50Gi gp3; Custom: whatever the AMI has
  (not known here, so said, not counted).
- Reservations: `status.capacityReservations[]` (instanceType, availabilityZone, state) are the reserved offerings
  the provider builds for the NodeClass (pkg/providers/instancetype/offering); none selected means no reserved
  capacity, whatever the NodePool's requirements allow.
"""
from __future__ import annotations

from dataclasses import dataclass

from kubernetes.utils import parse_quantity

from chalice_app.counts import shown

from chalice_app.kube.names import NODECLASS_LABEL
EC2_DEFAULT_VOLUME_TYPE = "gp2"  # EC2 EbsBlockDevice VolumeType when none is given
_FAMILY_DEFAULTS = {
    "al2": (("gp3", 20.0),), "al2023": (("gp3", 20.0),), "ubuntu": (("gp3", 20.0),),
    "bottlerocket": (("gp3", 4.0), ("gp3", 20.0)),
    "windows2019": (("gp3", 50.0),), "windows2022": (("gp3", 50.0),),
}


@dataclass(frozen=True)
class NodeClassCosts:
    name: str
    volumes: tuple[tuple[str, float], ...]  # (EBS volume type, GiB) per node
    reserved: frozenset[tuple[str, str]]  # (instance type, zone) with a selected, usable capacity reservation
    notes: tuple[str, ...] = ()  # what could not be counted, for `budget plan`

    @property
    def volume_gib(self) -> float:
        return sum(gib for _, gib in self.volumes)


def ami_family(nodeclass: dict) -> str:
    spec = nodeclass.get("spec", {}) or {}
    if spec.get("amiFamily"):
        return str(spec["amiFamily"]).lower()
    for term in spec.get("amiSelectorTerms", []) or []:
        if term.get("alias"):
            return str(term["alias"]).split("@", 1)[0].lower()
    return "custom"


def _gib(size: str) -> float:
    return float(parse_quantity(size)) / 2**30


def nodeclass_costs(nodeclass: dict) -> NodeClassCosts:
    """Volumes and reservations of one EC2NodeClass; a malformed mapping is a note, never the run's error."""
    name = nodeclass.get("metadata", {}).get("name", "?")
    spec = nodeclass.get("spec", {}) or {}
    volumes, notes = [], []
    mappings = spec.get("blockDeviceMappings") or []
    for mapping in mappings:
        ebs = mapping.get("ebs") or {}
        try:
            size = _gib(ebs["volumeSize"])
        except (KeyError, ValueError, TypeError):
            notes.append(f"{mapping.get('deviceName', 'a mapping')}: size comes from its snapshot, not counted")
            continue
        volumes.append((str(ebs.get("volumeType") or EC2_DEFAULT_VOLUME_TYPE), size))
    if not mappings:
        family = ami_family(nodeclass)
        volumes = list(_FAMILY_DEFAULTS.get(family, ()))
        if family not in _FAMILY_DEFAULTS:
            notes.append(f"AMI family {family}: root volume comes from the AMI, not counted")
    reserved = set()
    for reservation in (nodeclass.get("status", {}) or {}).get("capacityReservations", []) or []:
        if reservation.get("state", "active") == "active" and reservation.get("instanceType"):
            reserved.add((reservation["instanceType"], reservation.get("availabilityZone", "")))
    return NodeClassCosts(name, tuple(volumes), frozenset(reserved), tuple(notes))


def nodeclass_of_pool(nodepool: dict) -> str | None:
    ref = nodepool.get("spec", {}).get("template", {}).get("spec", {}).get("nodeClassRef") or {}
    return ref.get("name")


def nodeclass_of_node(obj: dict) -> str | None:
    """A NodeClaim names its class in spec.nodeClassRef; a Node carries the karpenter.k8s.aws/ec2nodeclass label."""
    ref = (obj.get("spec", {}) or {}).get("nodeClassRef") or {}
    return ref.get("name") or (obj.get("metadata", {}).get("labels") or {}).get(NODECLASS_LABEL)


def costs_by_name(nodeclasses: list[dict]) -> dict[str, NodeClassCosts]:
    """One EC2NodeClass that cannot be read is a note on its own costs (its volumes not counted), never the run's."""
    costs = {}
    for nodeclass in nodeclasses:
        try:
            cost = nodeclass_costs(nodeclass)
        except Exception as error:  # noqa: BLE001 - cluster input: that class's error only
            name = str((nodeclass.get("metadata") or {}).get("name", "?")) if isinstance(nodeclass, dict) else "?"
            cost = NodeClassCosts(name, (), frozenset(), (
                f"EC2NodeClass {name} cannot be read ({type(error).__name__}: {shown(str(error), 120)}): "
                "its volumes and reservations are not counted",))
        costs[cost.name] = cost
    return costs
