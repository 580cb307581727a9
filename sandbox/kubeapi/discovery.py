"""API discovery as kube-apiserver answers it: /version, /api, /apis, /apis/<group> and each group/version's
APIResourceList (verbs, namespaced, kind, shortNames, categories, subresources).

kubectl builds its REST mapping from these documents (`kubectl get deploy` resolves the short name, `kubectl scale`
looks for the `scale` subresource), so they follow kube-apiserver's (kubernetes/kubernetes
staging/src/k8s.io/apiserver/pkg/endpoints/installer.go: one entry per resource and per subresource, named
`<plural>/<sub>`). Short names and categories of built-ins are those of their REST storage (e.g.
pkg/registry/apps/deployment/storage/storage.go: `deploy`, category `all`); of custom resources, the CRD's
`spec.names` (apiextensions-apiserver's discovery controller). Aggregated discovery (`Accept: …;as=APIGroupDiscoveryList`)
is not served: kubectl then falls back to these legacy documents, as it does with older servers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from sandbox.kubeapi.resources import RESOURCES, ResourceType, group_versions

VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0-sandbox", "gitCommit": "sandbox",
           "gitTreeState": "clean", "buildDate": "2025-04-23T00:00:00Z", "goVersion": "go1.24.2",
           "compiler": "gc", "platform": "linux/amd64"}

# Short names and categories kube-apiserver's REST storage declares for the built-ins served here.
BUILTIN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "namespaces": (("ns",), ()),
    "nodes": (("no",), ()),
    "pods": (("po",), ("all",)),
    "deployments": (("deploy",), ("all",)),
    "poddisruptionbudgets": (("pdb",), ()),
    # pkg/registry/admissionregistration/validatingadmissionpolicy{,binding}/storage/storage.go: Categories()
    "validatingadmissionpolicies": ((), ("api-extensions",)),
    "validatingadmissionpolicybindings": ((), ("api-extensions",)),
}
# What the subresources are, as kube-apiserver lists them: (group, version, kind, verbs); None = the parent's kind.
SUBRESOURCES: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "status": ("", "", None, ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
}
# Every verb of the twin's handlers; `watch` is not listed because it is not served (405), so clients asking
# discovery what they can do are not told otherwise. Namespaces have no deletecollection in kube-apiserver.
VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update")


@dataclass(frozen=True)
class CrdNames:
    singular: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    printer_columns: tuple[dict, ...]  # additionalPrinterColumns of the served version


@functools.lru_cache(maxsize=8)
def _crd_names(crd_dir: str | None) -> dict[tuple[str, str, str], CrdNames]:
    names: dict[tuple[str, str, str], CrdNames] = {}
    if crd_dir is None or not Path(crd_dir).is_dir():
        return names
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(Path(crd_dir).glob("*.y*ml")):
        for document in yaml.load_all(path.read_text(), Loader=loader):
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec.get("versions", []):
                names[(spec["group"], version["name"], spec["names"]["plural"])] = CrdNames(
                    spec["names"].get("singular") or spec["names"]["kind"].lower(),
                    tuple(spec["names"].get("shortNames") or ()), tuple(spec["names"].get("categories") or ()),
                    tuple(version.get("additionalPrinterColumns") or ()))
    return names


class Discovery:
    def __init__(self, crd_dir: Path | None):
        self.crds = _crd_names(str(crd_dir) if crd_dir else None)

    def crd(self, resource: ResourceType) -> CrdNames | None:
        return self.crds.get((resource.group, resource.version, resource.plural))

    def document(self, path: str) -> dict | None:
        """The discovery document at `path`, or None when `path` is not a discovery path."""
        path = "/" + path.strip("/")
        versions = group_versions()
        if path == "/version":
            return dict(VERSION)
        if path == "/api":
            return {"kind": "APIVersions", "versions": versions.get("", []), "serverAddressByClientCIDRs": []}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [_group(name, served) for name, served in versions.items() if name]}
        segments = path.strip("/").split("/")
        if len(segments) == 2 and segments[0] == "apis" and segments[1] in versions:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group(segments[1], versions[segments[1]])}
        group, version = ("", segments[1]) if segments[0] == "api" and len(segments) == 2 else (
            (segments[1], segments[2]) if segments[0] == "apis" and len(segments) == 3 else (None, None))
        if group is None or version not in versions.get(group, []):
            return None
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": self.resource_list(group, version)}

    def resource_list(self, group: str, version: str) -> list[dict]:
        listed = []
        for resource in RESOURCES:
            if (resource.group, resource.version) != (group, version):
                continue
            crd = self.crd(resource) if resource.custom else None
            short_names, categories = ((crd.short_names, crd.categories) if crd
                                       else BUILTIN_NAMES.get(resource.plural, ((), ())))
            verbs = [verb for verb in VERBS if not (resource.plural == "namespaces" and verb == "deletecollection")]
            entry = {"name": resource.plural, "singularName": crd.singular if crd else resource.kind.lower(),
                     "namespaced": resource.namespaced, "kind": resource.kind, "verbs": verbs}
            if short_names:
                entry["shortNames"] = list(short_names)
            if categories:
                entry["categories"] = list(categories)
            listed.append(entry)
            for sub in resource.subresources:
                sub_group, sub_version, sub_kind, sub_verbs = SUBRESOURCES[sub]
                sub_entry = {"name": f"{resource.plural}/{sub}", "singularName": "",
                             "namespaced": resource.namespaced, "kind": sub_kind or resource.kind,
                             "verbs": list(sub_verbs)}
                if sub_group or sub_version:
                    sub_entry.update(group=sub_group, version=sub_version)
                listed.append(sub_entry)
        return listed


def _group(name: str, served: list[str]) -> dict:
    return {"name": name, "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in served],
            "preferredVersion": {"groupVersion": f"{name}/{served[0]}", "version": served[0]}}
