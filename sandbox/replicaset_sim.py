"""The simulator's ReplicaSet controller pieces that do not depend on time: which Deployments it reconciles, which pods
are a Deployment's, and a new pod from the Deployment's pod template.

- Every namespace but OpenFaaS' core (seeded where it stays) and kube-system is reconciled, so Deployments the app
  makes (e.g. headroom placeholders) get pods like functions do.
- A pod is its Deployment's when the Deployment's selector matches its labels; pods being deleted do not count
  (kubernetes/kubernetes pkg/controller/controller_utils.go FilterActivePods), so a preempted pod's replacement is
  made at once while it terminates.
- A new pod copies the template's labels and spec (priorityClassName, affinity, tolerations,
  terminationGracePeriodSeconds...)
  and passes the API server's Priority admission (sandbox/kubeapi/priority.py), as a pod the ReplicaSet controller
  POSTs would; a refused pod is not made (the controller's FailedCreate).
"""
from __future__ import annotations

import copy
from datetime import datetime

from kubernetes.utils.quantity import parse_quantity

from sandbox import objects
from sandbox.kubeapi.errors import ApiError
from sandbox.kubeapi.priority import admit_pod
from sandbox.kubeapi.selectors import selector_from_label_selector
from sandbox.objects import CORE_NAMESPACE, FUNCTION_NAMESPACE, Workload
from sandbox.pod_fit import cpu_m

UNMANAGED_NAMESPACES = (CORE_NAMESPACE, "kube-system")


def reconciled(objs: list[dict]) -> list[dict]:
    return [o for o in objs if o["metadata"].get("namespace") not in UNMANAGED_NAMESPACES]


def reconciled_deployments(deployments: list[dict]) -> list[dict]:
    """Deployments the controller can own pods for: functions (by `faas_function`), and others whose selector is
    not empty and selects their own template's labels (apps/v1 validation rejects any other; the sandbox's API
    does not check it, so the controller skips them rather than making pods without end)."""
    def selects_its_template(deployment: dict) -> bool:
        spec = deployment.get("spec") or {}
        selector = spec.get("selector") or {}
        template = {"metadata": {"labels": ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}}}
        return bool(selector.get("matchLabels") or selector.get("matchExpressions")) and \
            selector_from_label_selector(selector)(template)

    return [d for d in reconciled(deployments)
            if d["metadata"]["namespace"] == FUNCTION_NAMESPACE or selects_its_template(d)]


def is_active(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp")


def owned_pods(deployments: list[dict], pods: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """(namespace, Deployment name) -> its pods. Functions by their `faas_function` label (one look-up each), other
    Deployments by their selector."""
    owned: dict[tuple[str, str], list[dict]] = {}
    by_function: dict[str, list[dict]] = {}
    others = [d for d in deployments if d["metadata"]["namespace"] != FUNCTION_NAMESPACE]
    for pod in pods:
        namespace = pod["metadata"].get("namespace")
        if namespace == FUNCTION_NAMESPACE:
            by_function.setdefault((pod["metadata"].get("labels") or {}).get("faas_function", ""), []).append(pod)
            continue
        for deployment in others:
            if deployment["metadata"]["namespace"] == namespace and selector_from_label_selector(
                    deployment["spec"].get("selector"))(pod):
                owned.setdefault((namespace, deployment["metadata"]["name"]), []).append(pod)
                break
    for deployment in deployments:
        meta = deployment["metadata"]
        if meta["namespace"] == FUNCTION_NAMESPACE:
            owned[(meta["namespace"], meta["name"])] = by_function.get(meta["name"], [])
    return owned


def new_pod(deployment: dict, workload: objects.Workload, suffix: str, created: datetime,
            priority_classes: list[dict]) -> dict | None:
    """A Pending pod of the Deployment (None when admission refuses it)."""
    pod = objects.pod(workload, suffix, created)
    template = deployment["spec"]["template"]
    labels = (template.get("metadata") or {}).get("labels") or {}
    # The pod carries its template's labels (kubernetes/kubernetes pkg/controller/controller_utils.go
    # getPodsLabelSet) and the ReplicaSet's pod-template-hash; a function's also `faas_function`, which faas-netes
    # always puts on the template and by which the simulator counts a function's pods.
    function_label = workload.selector if workload.namespace == FUNCTION_NAMESPACE else {}
    pod["metadata"]["labels"] = {**labels, **function_label,
                                 "pod-template-hash": pod["metadata"]["labels"]["pod-template-hash"]}
    pod["spec"] = copy.deepcopy(template.get("spec") or {})
    pod["spec"].pop("nodeName", None)
    try:
        return admit_pod(pod, priority_classes)
    except ApiError:
        return None


def deletion_order(pods: list[dict]) -> list[dict]:
    """Which pods a ReplicaSet removes first when scaling down: unscheduled ones, then the newest."""
    newest_first = sorted(pods, key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]),
                          reverse=True)
    return sorted(newest_first, key=lambda p: bool(p["spec"].get("nodeName")))


def workload_of(deployment: dict) -> Workload:
    """What the ReplicaSet controller stamps pods from: the pod template (labels, annotations, containers)."""
    meta, template = deployment["metadata"], deployment["spec"]["template"]
    container = template["spec"]["containers"][0]
    requests = container.get("resources", {}).get("requests", {})
    template_meta = template.get("metadata") or {}
    annotations = template_meta.get("annotations") or {}
    return Workload(meta["name"], meta["namespace"], container["image"], cpu_m(requests.get("cpu", 0)),
                    int(parse_quantity(requests.get("memory", "0")) // (1024 * 1024)),
                    deployment["spec"].get("replicas", 1), template_meta.get("labels") or {}, annotations,
                    annotations.get("com.openfaas.profile"))
