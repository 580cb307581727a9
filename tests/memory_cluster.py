"""The one in-memory cluster for tests: objects as dicts, patched the way the sandbox's API server patches them.

Writes follow kube-apiserver as the fake API server models it: an RFC 7386 merge patch (sandbox/kubeapi/patches.py),
409 Conflict when the patch names a stale metadata.resourceVersion (absent: unconditional), resourceVersion bumped
on every write. `MemoryCluster` answers the off-hours port (OffhoursCluster); `BudgetView` and `SnapshotReader`
answer the budget's and the interruptions' ports over the same objects.
"""
from __future__ import annotations

import copy
import threading
from typing import Callable, Sequence

from kubernetes.client.exceptions import ApiException

from chalice_app.interruptions.actions import ActionOutcome, NodeAction, dry_run_outcome
from chalice_app.interruptions.cluster import ClusterSnapshot
from chalice_app.offhours.model import function_from_object, nodepool_from_object
from sandbox.kubeapi.patches import merge_patch  # RFC 7386, as the fake API server applies it


class MemoryCluster:
    def __init__(self, deployments: list[dict] = (), namespaces: dict[str, dict] | None = None,
                 nodepools: list[dict] | None = None, nodeclaims=(), nodeclasses=()):
        self.deployments = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in deployments}
        self.namespaces = namespaces or {}
        self.pools = {p["metadata"]["name"]: p for p in nodepools or []}
        self.nodeclaims: list[dict] = list(nodeclaims)
        self.nodeclasses: list[dict] = list(nodeclasses)
        self.patches: list[tuple[str, dict]] = []
        self.fail: set[str] = set()  # names whose patches answer 500
        self._lock = threading.Lock()
        self.gateway: dict | None = None  # the OpenFaaS gateway / autoscaler Deployments (edition detection)
        self.autoscaler: dict | None = None
        self.metrics: bytes | None = None  # the Prometheus query answer; None: the service proxy fails
        self.nodes: list[dict] = []  # Karpenter nodes
        self.pods: list[dict] = []  # every pod (node placement in spec.nodeName; Pending ones have none)

    def functions(self, namespace):
        return [function_from_object(d) for (ns, _), d in sorted(self.deployments.items()) if ns == namespace]

    def function(self, namespace, name):
        return function_from_object(self.deployments[(namespace, name)])

    def namespace_annotations(self, names):
        return {name: dict(self.namespaces.get(name, {})) for name in names}

    def _write(self, store: dict, key, patch: dict, label: str) -> None:
        with self._lock:
            self.patches.append((label, copy.deepcopy(patch)))
            if label in self.fail:
                raise ApiException(status=500, reason="Internal Server Error")
            current = store[key]
            expected = patch.get("metadata", {}).get("resourceVersion")  # absent: unconditional, as in the API
            if expected is not None and expected != current["metadata"]["resourceVersion"]:
                raise ApiException(status=409, reason="Conflict")
            updated = merge_patch(current, patch)
            updated["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
            store[key] = updated

    def patch_function(self, namespace, name, patch):
        self._write(self.deployments, (namespace, name), patch, name)

    def nodepools(self):
        return [nodepool_from_object(p) for _, p in sorted(self.pools.items())]

    def patch_nodepool(self, name, patch):
        self._write(self.pools, name, patch, name)

    def openfaas_deployments(self, namespace):
        return self.gateway, self.autoscaler

    def service_proxy(self, namespace, service, path, query=None):
        if self.metrics is None:
            raise ApiException(status=503, reason="Service Unavailable")
        return self.metrics

    def scale_nodepool(self, name, patch):
        with self._lock:
            self.patches.append((name + "/scale", patch))
            current = self.pools[name]
            self.pools[name] = merge_patch(current, patch)

    def list_nodeclaims(self):
        return list(self.nodeclaims)

    def delete_nodeclaim(self, name, uid):
        """Karpenter's finalizer keeps a deleted NodeClaim, marked deleting (the uid as precondition: 409)."""
        with self._lock:
            self.patches.append((name + " DELETE", {"uid": uid}))
            if name in self.fail:
                raise ApiException(status=500, reason="Internal Server Error")
            claim = next(c for c in self.nodeclaims if c["metadata"]["name"] == name)
            if uid and claim["metadata"].get("uid") != uid:
                raise ApiException(status=409, reason="Conflict")
            claim["metadata"].setdefault("deletionTimestamp", "deleting")

    def karpenter_nodes(self):
        return [node for node in self.nodes if "karpenter.sh/nodepool" in node["metadata"].get("labels", {})]

    def pods_on(self, node):
        return [pod for pod in self.pods if pod["spec"].get("nodeName") == node]

    def all_pods(self):
        return list(self.pods)

    def function_pods(self, namespace, name):
        return [pod for pod in self.pods if pod["metadata"]["namespace"] == namespace
                and pod["metadata"].get("labels", {}).get("faas_function") == name]

    def pending_function_pods(self, namespace):
        return [pod for pod in self.pods if pod["metadata"]["namespace"] == namespace
                and "faas_function" in pod["metadata"].get("labels", {}) and pod["status"]["phase"] == "Pending"]

    def human_scale(self, namespace, name, replicas):
        with self._lock:
            current = self.deployments[(namespace, name)]
            current["spec"]["replicas"] = replicas
            current["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)


class BudgetView:
    """The budget's port (BudgetCluster) over a MemoryCluster: raw objects, copies as the API returns them."""

    def __init__(self, cluster: MemoryCluster):
        self.cluster = cluster
        self.pools = cluster.pools
        self.patches = cluster.patches

    def nodepools(self):
        return copy.deepcopy(list(self.cluster.pools.values()))

    def nodeclaims(self):
        return copy.deepcopy(self.cluster.nodeclaims)

    def nodeclasses(self):
        return copy.deepcopy(self.cluster.nodeclasses)

    def nodes(self):
        return copy.deepcopy(self.cluster.nodes)

    def pods(self, namespaces):
        return [pod for pod in self.cluster.pods if pod["metadata"]["namespace"] in namespaces]

    def patch_nodepool(self, name, patch):
        self.cluster.patch_nodepool(name, patch)
        return self.cluster.pools[name]


def budget_cluster(nodepools, nodeclaims=(), nodes=(), pods=(), nodeclasses=()) -> BudgetView:
    cluster = MemoryCluster(nodepools=[copy.deepcopy(pool) for pool in nodepools], nodeclaims=nodeclaims,
                            nodeclasses=nodeclasses)
    cluster.nodes, cluster.pods = list(nodes), list(pods)
    return BudgetView(cluster)


class SnapshotReader:
    """The interruptions' cluster port (InterruptionClusterPort) over a MemoryCluster: nodes, NodeClaims and pods in
    one snapshot, reads counted; `fail`: the API server is unreachable. `act`: what acting on a node does (default:
    the dry run's outcome); Event bodies are kept in `events`."""

    def __init__(self, cluster: MemoryCluster, fail: bool = False, requests: int = 3,
                 act: Callable[[NodeAction], ActionOutcome] = dry_run_outcome):
        self.cluster, self.fail, self.requests, self._act = cluster, fail, requests, act
        self.reads = 0
        self.events: list[dict] = []

    def act(self, action: NodeAction) -> ActionOutcome:
        return self._act(action)

    def record_events(self, bodies: Sequence[dict]) -> list[str]:
        self.events.extend(bodies)
        return []

    def read_snapshot(self) -> ClusterSnapshot:
        self.reads += 1
        if self.fail:
            raise RuntimeError("Kubernetes API 503")
        return ClusterSnapshot(self.cluster.nodes, self.cluster.nodeclaims, self.cluster.pods, requests=self.requests)


def snapshot_of(nodes=(), claims=(), pods=(), requests: int = 3,
                act: Callable[[NodeAction], ActionOutcome] = dry_run_outcome) -> SnapshotReader:
    """The interruptions' cluster port over these objects as they are."""
    cluster = MemoryCluster(nodeclaims=claims)
    cluster.nodes, cluster.pods = list(nodes), list(pods)
    return SnapshotReader(cluster, requests=requests, act=act)


class FreshLedger:
    """The interruptions' ledger port for tests that are not about idempotency: every notice is new."""

    def claim_all(self, notices: Sequence) -> list:
        from chalice_app.interruptions.ledger import Claim

        return [Claim.NEW] * len(notices)

    def done_all(self, notices: Sequence) -> None:
        return None

    def release_all(self, notices: Sequence, reason: Exception) -> None:
        return None
