"""RBAC authorization from ClusterRoles/Roles and their bindings, with Kubernetes' matching rules and wording."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sandbox.kubeapi.auth import Identity
from sandbox.kubeapi.errors import ApiError, details

SUPERUSER_GROUP = "system:masters"


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do, as the authorizer sees it."""
    verb: str
    group: str
    resource: str
    subresource: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class PolicyRule:
    verbs: frozenset[str]
    groups: frozenset[str]
    resources: frozenset[str]
    names: frozenset[str]

    def allows(self, request: Attributes) -> bool:
        combined = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
        resource_ok = ("*" in self.resources or combined in self.resources
                       or (request.subresource and f"*/{request.subresource}" in self.resources))
        return (("*" in self.verbs or request.verb in self.verbs)
                and ("*" in self.groups or request.group in self.groups)
                and bool(resource_ok)
                and (not self.names or request.name in self.names))


@dataclass(frozen=True)
class Binding:
    users: frozenset[str]
    groups: frozenset[str]
    rules: tuple[PolicyRule, ...]
    namespace: str | None  # None: cluster-wide (ClusterRoleBinding)

    def applies_to(self, identity: Identity) -> bool:
        return identity.user in self.users or bool(self.groups.intersection(identity.groups))


def _rules(role: dict) -> tuple[PolicyRule, ...]:
    return tuple(PolicyRule(frozenset(rule.get("verbs") or []), frozenset(rule.get("apiGroups") or []),
                      frozenset(rule.get("resources") or []), frozenset(rule.get("resourceNames") or []))
                 for rule in role.get("rules") or [] if rule.get("resources"))


def load_policy(documents: list[dict]) -> tuple[Binding, ...]:
    """Bindings resolved against their roles; a binding naming a missing role grants nothing, as in Kubernetes."""
    cluster_roles = {d["metadata"]["name"]: _rules(d) for d in documents if d.get("kind") == "ClusterRole"}
    roles = {(d["metadata"].get("namespace", ""), d["metadata"]["name"]): _rules(d)
             for d in documents if d.get("kind") == "Role"}
    bindings = []
    for document in documents:
        kind = document.get("kind")
        if kind not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        namespace = document["metadata"].get("namespace", "") if kind == "RoleBinding" else None
        ref = document.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            rules = cluster_roles.get(ref.get("name"), ())
        else:
            rules = roles.get((namespace or "", ref.get("name")), ())
        subjects = document.get("subjects") or []
        users = frozenset(s["name"] for s in subjects if s.get("kind") == "User")
        users |= frozenset(f"system:serviceaccount:{s.get('namespace', '')}:{s['name']}"
                           for s in subjects if s.get("kind") == "ServiceAccount")
        groups = frozenset(s["name"] for s in subjects if s.get("kind") == "Group")
        bindings.append(Binding(users, groups, rules, namespace))
    return tuple(bindings)


def load_policy_file(path: Path | None) -> tuple[Binding, ...]:
    if path is None:
        return ()
    return load_policy([d for d in yaml.safe_load_all(Path(path).read_text()) if isinstance(d, dict)])


def is_allowed(bindings: tuple[Binding, ...], identity: Identity, request: Attributes) -> bool:
    if SUPERUSER_GROUP in identity.groups:
        return True
    return any(binding.applies_to(identity)
               and (binding.namespace is None or binding.namespace == request.namespace)
               and any(rule.allows(request) for rule in binding.rules)
               for binding in bindings)


def forbidden(identity: Identity, request: Attributes) -> ApiError:
    """403 worded like the API server: `nodes "n1" is forbidden: User "costguard" cannot patch resource ...`."""
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    if request.subresource:
        qualified += f"/{request.subresource}"
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    scope = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    message = (f'{subject} is forbidden: User "{identity.user}" cannot {request.verb} resource "{resource}" '
               f'in API group "{request.group}" {scope}')
    return ApiError(403, "Forbidden", message, details(request.name, request.group, request.resource))
