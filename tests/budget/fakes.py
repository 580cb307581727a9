"""In-memory stand-ins for the budget's adapters where the sandbox is not needed."""
from __future__ import annotations

import copy

from kubernetes.client.exceptions import ApiException


def merge(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


class FakeCluster:
    def __init__(self, nodepools, nodeclaims=(), nodes=(), pods=(), nodeclasses=()):
        self.pools = {p["metadata"]["name"]: copy.deepcopy(p) for p in nodepools}
        self.classes = list(nodeclasses)
        self.claims = list(nodeclaims)
        self.node_list = list(nodes)
        self.pod_list = list(pods)
        self.patches: list[tuple[str, dict]] = []

    def nodepools(self):
        return copy.deepcopy(list(self.pools.values()))

    def nodeclaims(self):
        return copy.deepcopy(self.claims)

    def nodeclasses(self):
        return copy.deepcopy(self.classes)

    def nodes(self):
        return copy.deepcopy(self.node_list)

    def pods(self, namespaces):
        return [p for p in self.pod_list if p["metadata"]["namespace"] in namespaces]

    def patch_nodepool(self, name, patch):
        pool = self.pools[name]
        if patch["metadata"]["resourceVersion"] != pool["metadata"]["resourceVersion"]:
            raise ApiException(status=409, reason="Conflict")
        self.patches.append((name, copy.deepcopy(patch)))
        merge(pool, {k: v for k, v in patch.items()})
        pool["metadata"]["resourceVersion"] = str(int(pool["metadata"]["resourceVersion"]) + 1)
        return pool


