"""URL paths -> (resource, namespace, name, subresource) and RBAC verbs (discovery documents: discovery.py)."""
from __future__ import annotations

from dataclasses import dataclass

from sandbox.kubeapi import proxy
from sandbox.kubeapi.resources import ResourceType, by_path
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
