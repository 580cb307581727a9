"""Carry out a planned node action: cordon (conditional patch) and drain (Eviction API). Thin I/O only.

urllib3's retry policy (chalice_app.kube.client.retry_policy) already retries 429 and 5xx with Retry-After, so a
PodDisruptionBudget refusal that still comes back as 429 has been retried several times: it is reported as
blocked, not retried forever. A 404 means the pod or node is already gone, which is what a drain wants.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.interruptions.actions import Action, ActionOutcome, NodeAction, plan_drain
from chalice_app.interruptions.cluster import pods_on_node
from chalice_app.kube.rest import FIELD_MANAGER, REQUEST_TIMEOUT
from chalice_app.observability import logger

EVICTION_WORKERS = 8  # the ApiClient's connection pool size


def cordon(core: k8s.CoreV1Api, action: NodeAction) -> str | None:
    """Mark the node unschedulable; None when done, else why not. 409 (node changed) → re-read once, retry."""
    if action.already_cordoned:
        return None
    version = action.resource_version
    for _ in range(2):
        body: dict[str, dict] = {"spec": {"unschedulable": True}}
        if version:
            body["metadata"] = {"resourceVersion": version}
        try:
            core.patch_node(action.node, body, field_manager=FIELD_MANAGER, _request_timeout=REQUEST_TIMEOUT)
            return None
        except ApiException as error:
            if error.status == 404:
                return "node already gone"
            if error.status != 409:
                return f"cordon failed: HTTP {error.status} {error.reason}"
            current = core.read_node(action.node, _request_timeout=REQUEST_TIMEOUT)
            if current.spec is not None and current.spec.unschedulable:
                return None
            version = current.metadata.resource_version if current.metadata is not None else None
    return "cordon failed: node kept changing (409)"


def evict(core: k8s.CoreV1Api, namespace: str, name: str) -> str:
    """'evicted', 'blocked' (PDB, after the client's retries) or 'failed: why'."""
    body = k8s.V1Eviction(api_version="policy/v1", kind="Eviction",
                          metadata=k8s.V1ObjectMeta(name=name, namespace=namespace))
    try:
        core.create_namespaced_pod_eviction(name, namespace, body, field_manager=FIELD_MANAGER,
                                            _request_timeout=REQUEST_TIMEOUT)
        return "evicted"
    except ApiException as error:
        if error.status == 404:
            return "evicted"  # already gone
        if error.status == 429:
            return "blocked"
        return f"failed: HTTP {error.status} {error.reason}"


def apply_action(api: k8s.ApiClient, action: NodeAction) -> ActionOutcome:
    core = k8s.CoreV1Api(api)
    problem = cordon(core, action)
    if problem or action.action is Action.CORDON:
        return ActionOutcome(action.node, action.action, dry_run=False, cordoned=problem is None,
                             failed=(f"{action.node}: {problem}",) if problem else ())
    evicted, blocked, failed = [], [], []
    plan = plan_drain(pods_on_node(api, action.node))
    targets: list[tuple[str, str]] = []
    results: list[str] = []
    # Wave after wave (non-critical pods, then critical ones); in parallel within a wave: a PDB-blocked pod spends
    # seconds in the client's retries, and the warning gives two minutes.
    with ThreadPoolExecutor(EVICTION_WORKERS) as pool:
        for wave in plan.waves:
            targets += wave
            results += pool.map(lambda target: evict(core, *target), wave)
    for (namespace, name), result in zip(targets, results):
        pod = f"{namespace}/{name}"
        if result == "evicted":
            evicted.append(pod)
        elif result == "blocked":
            blocked.append(pod)
        else:
            failed.append(f"{pod}: {result}")
    logger.info("node drained", extra={"node": action.node, "evicted": len(evicted), "blocked": blocked,
                                       "failed": failed})
    return ActionOutcome(action.node, action.action, dry_run=False, cordoned=True, evicted=tuple(evicted),
                         blocked=tuple(blocked), failed=tuple(failed),
                         skipped=tuple(f"{ns}/{name}" for ns, name in plan.skipped))
