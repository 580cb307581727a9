"""The resource types the fake API server serves: one row each, so adding a resource is one line."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    group: str                      # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    custom: bool = False            # backed by a CRD: schema-validated, no strategic merge patch
    status_subresource: bool = True  # writes to the main resource keep the stored status
    subresources: tuple[str, ...] = ()
    returns_deleted_object: bool = False  # DELETE answers the object (pods) instead of a Status

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", namespaced=False, subresources=("status",)),
    ResourceType("", "v1", "nodes", "Node", namespaced=False, subresources=("status",)),
    ResourceType("", "v1", "pods", "Pod", namespaced=True, subresources=("status", "eviction"),
                 returns_deleted_object=True),
    ResourceType("apps", "v1", "deployments", "Deployment", namespaced=True, subresources=("status", "scale")),
    ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", namespaced=True,
                 subresources=("status",)),
    ResourceType("karpenter.sh", "v1", "nodepools", "NodePool", namespaced=False, custom=True,
                 subresources=("status", "scale")),  # the CRD's scale subresource (static NodePools)
    ResourceType("karpenter.sh", "v1", "nodeclaims", "NodeClaim", namespaced=False, custom=True,
                 subresources=("status",)),
    ResourceType("karpenter.k8s.aws", "v1", "ec2nodeclasses", "EC2NodeClass", namespaced=False, custom=True,
                 subresources=("status",)),
    ResourceType("openfaas.com", "v1", "functions", "Function", namespaced=True, custom=True,
                 subresources=("status",)),
    ResourceType("openfaas.com", "v1", "profiles", "Profile", namespaced=True, custom=True,
                 status_subresource=False),
    # core/v1 Events (kubernetes/kubernetes pkg/apis/core/types.go Event): no status, what `kubectl describe` lists.
    ResourceType("", "v1", "events", "Event", namespaced=True, status_subresource=False),
    # Enforced on every write by admission.py (kubernetes/kubernetes pkg/registry/admissionregistration/
    # validatingadmissionpolicy{,binding}/storage/storage.go: cluster-scoped, the policy has a status subresource).
    ResourceType("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy",
                 namespaced=False, subresources=("status",)),
    ResourceType("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
                 "ValidatingAdmissionPolicyBinding", namespaced=False, status_subresource=False),
)

NAMESPACES = RESOURCES[0]
PODS = RESOURCES[2]
DEPLOYMENTS = RESOURCES[3]
PDBS = RESOURCES[4]

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}


def by_path(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> ResourceType:
    try:
        return _BY_KIND[(api_version, kind)]
    except KeyError:
        served = ", ".join(f"{r.api_version} {r.kind}" for r in RESOURCES)
        raise ValueError(f"the sandbox API server does not serve {api_version} {kind}; it serves {served}") from None


def group_versions() -> dict[str, list[str]]:
    """Served versions per API group ("" for core), for the discovery endpoints."""
    versions: dict[str, list[str]] = {}
    for resource in RESOURCES:
        if resource.version not in versions.setdefault(resource.group, []):
            versions[resource.group].append(resource.version)
    return versions
