"""URL paths -> (resource, namespace, name, subresource) and RBAC verbs, plus the discovery documents."""
from __future__ import annotations

from dataclasses import dataclass

from sandbox.kubeapi import proxy
from sandbox.kubeapi.resources import RESOURCES, ResourceType, by_path, group_versions
from sandbox.kubeapi.rbac import Attributes


@dataclass(frozen=True)
class Route:
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None

    def verb(self, method: str, query: dict[str, str]) -> str:
        if method == "GET":
            if self.name:
                return "get"
            return "watch" if query.get("watch") in ("true", "1") else "list"
        if method == "DELETE":
            return "delete" if self.name else "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())

    def attributes(self, method: str, query: dict[str, str]) -> Attributes:
        namespace = self.namespace or ""
        if self.resource.plural == "namespaces" and self.name:
            namespace = self.name  # the API server authorizes a namespace's own object within it
        return Attributes(self.verb(method, query), self.resource.group, self.resource.plural,
                          self.subresource or "", self.name or "", namespace)


def request_attributes(method: str, path: str, query: dict[str, str]) -> Attributes | None:
    """What the authorizer checks for any request the server serves (resources, subresources, the service proxy);
    None for paths it does not serve. The one mapping the server and the least-privilege test share."""
    proxied = proxy.parse(path)
    if proxied is not None:
        return proxied.attributes(method)
    route = parse(path)
    return route.attributes(method, query) if route is not None else None


def parse(path: str) -> Route | None:
    """None when the path names no served resource (the caller answers 404)."""
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) >= 2 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    if not rest:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = by_path(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    resource = by_path(group, version, rest[0])
    if resource is None or len(rest) > 3:
        return None
    if namespace is None and resource.namespaced and len(rest) > 1:
        return None  # a namespaced object needs its namespace in the path
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and subresource not in resource.subresources:
        return None
    return Route(resource, namespace, name, subresource)


def discovery(path: str) -> dict | None:
    """`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`, `/version`, or None for any other path."""
    path = "/" + path.strip("/")
    versions = group_versions()
    if path == "/version":
        return {"major": "1", "minor": "33", "gitVersion": "v1.33.0-sandbox", "gitCommit": "sandbox",
                "gitTreeState": "clean", "buildDate": "2025-04-23T00:00:00Z", "goVersion": "go1.24.2",
                "compiler": "gc", "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": versions.get("", []), "serverAddressByClientCIDRs": []}
    if path == "/apis":
        groups = [{"name": group, "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in served],
                   "preferredVersion": {"groupVersion": f"{group}/{served[0]}", "version": served[0]}}
                  for group, served in versions.items() if group]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    for group, served in versions.items():
        for version in served:
            prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
            if path == prefix:
                return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": prefix.split("/", 2)[2],
                        "resources": _resource_list(group, version)}
    return None


def _resource_list(group: str, version: str) -> list[dict]:
    verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update"]
    listed = []
    for resource in RESOURCES:
        if (resource.group, resource.version) != (group, version):
            continue
        listed.append({"name": resource.plural, "singularName": resource.kind.lower(), "kind": resource.kind,
                       "namespaced": resource.namespaced, "verbs": verbs})
        for sub in resource.subresources:
            kind = {"scale": "Scale", "eviction": "Eviction"}.get(sub, resource.kind)
            sub_verbs = ["create"] if sub == "eviction" else ["get", "patch", "update"]
            listed.append({"name": f"{resource.plural}/{sub}", "singularName": "", "kind": kind,
                           "namespaced": resource.namespaced, "verbs": sub_verbs})
    return listed
