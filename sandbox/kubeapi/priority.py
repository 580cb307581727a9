"""PriorityClasses (scheduling.k8s.io/v1) and the Priority admission plugin, as kube-apiserver applies them (pure).

- A PriorityClass's `value` is at most 1,000,000,000 unless it is one of the two system classes, whose names
  (prefix `system-`) are reserved; `value` and `preemptionPolicy` may not change in an update; `preemptionPolicy`
  defaults to PreemptLowerPriority (kubernetes/kubernetes pkg/apis/scheduling/validation/validation.go
  ValidatePriorityClass / ValidatePriorityClassUpdate, pkg/apis/scheduling/v1/defaults.go).
- At most one class is `globalDefault`: a second one is Forbidden (plugin/pkg/admission/priority/admission.go
  validatePriorityClass: "PriorityClass %v is already marked as default. Only one default can exist").
- A pod's `priorityClassName` is resolved when the pod is created: `spec.priority` and `spec.preemptionPolicy` are
  set from the class; a missing class is Forbidden ("no PriorityClass with name %v was found"); no name means the
  globalDefault class, or priority 0 when there is none; a `spec.priority` that differs from the class's value is
  Forbidden (admission.go admitPod). Kubernetes docs, "Pod Priority and Preemption" (kubernetes/website
  content/en/docs/concepts/scheduling-eviction/pod-priority-preemption.md).
- kube-apiserver creates `system-node-critical` (2000001000) and `system-cluster-critical` (2000000000) at start
  (pkg/apis/scheduling/v1/helpers.go SystemPriorityClasses).
"""
from __future__ import annotations

from sandbox.kubeapi import errors

HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
SYSTEM_PREFIX = "system-"
SYSTEM_CLASSES = {"system-node-critical": SYSTEM_CRITICAL_PRIORITY + 1000,
                  "system-cluster-critical": SYSTEM_CRITICAL_PRIORITY}
PREEMPT_LOWER = "PreemptLowerPriority"
PREEMPT_NEVER = "Never"
GROUP = "scheduling.k8s.io"


def system_classes() -> list[dict]:
    descriptions = {"system-node-critical": "Used for system critical pods that must not be moved from their "
                                            "current node.",
                    "system-cluster-critical": "Used for system critical pods that must run in the cluster, but "
                                               "can be moved to another node if necessary."}
    return [{"apiVersion": f"{GROUP}/v1", "kind": "PriorityClass",
             "metadata": {"name": name},
             "value": value, "globalDefault": False, "description": descriptions[name],
             "preemptionPolicy": PREEMPT_LOWER} for name, value in SYSTEM_CLASSES.items()]


def admit_priority_class(obj: dict, others: list[dict], old: dict | None = None) -> dict:
    """Defaults and validation of a PriorityClass being created (`old` None) or updated; `others`: the stored
    classes other than this one. Raises the API server's 422 / 403."""
    name = obj["metadata"].get("name", "")
    obj.setdefault("preemptionPolicy", PREEMPT_LOWER)
    value = obj.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.invalid("PriorityClass", GROUP, name, [("value", "Required value: must be an integer")])
    causes: list[tuple[str, str, str]] = []
    if name.startswith(SYSTEM_PREFIX):
        if SYSTEM_CLASSES.get(name) != value:
            causes.append(("metadata.name", f"Forbidden: priority class names with '{SYSTEM_PREFIX}' prefix are "
                                            f"reserved for system use only", "FieldValueForbidden"))
    elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
        causes.append(("value", f"Forbidden: maximum allowed value of a user defined priority is "
                                f"{HIGHEST_USER_DEFINABLE_PRIORITY}", "FieldValueForbidden"))
    if obj["preemptionPolicy"] not in (PREEMPT_LOWER, PREEMPT_NEVER):
        causes.append(("preemptionPolicy", f'Unsupported value: "{obj["preemptionPolicy"]}": supported values: '
                                           f'"{PREEMPT_LOWER}", "{PREEMPT_NEVER}"', "FieldValueNotSupported"))
    if old is not None:
        for field in ("value", "preemptionPolicy"):
            if obj.get(field) != old.get(field):
                causes.append((field, "Forbidden: may not be changed in an update.", "FieldValueForbidden"))
    if causes:
        raise errors.invalid("PriorityClass", GROUP, name, causes)
    if obj.get("globalDefault"):
        holder = next((c for c in others if c.get("globalDefault")), None)
        if holder is not None:
            raise forbidden("priorityclasses", name, f'PriorityClass {holder["metadata"]["name"]} is already '
                                                     f"marked as default. Only one default can exist")
    return obj


def admit_pod(pod: dict, classes: list[dict]) -> dict:
    """The Priority admission plugin on pod creation: `spec.priority`, `spec.preemptionPolicy` (and the default
    class's name) filled in, or 403 Forbidden."""
    spec = pod.setdefault("spec", {})
    name = spec.get("priorityClassName") or ""
    if name:
        chosen = next((c for c in classes if c["metadata"]["name"] == name), None)
        if chosen is None:
            raise forbidden("pods", pod["metadata"].get("name", ""), f"no PriorityClass with name {name} was found")
    else:
        chosen = next((c for c in classes if c.get("globalDefault")), None)
    value = chosen["value"] if chosen else 0
    if spec.get("priority") is not None and spec["priority"] != value:
        raise forbidden("pods", pod["metadata"].get("name", ""),
                        f"the integer value of priority ({spec['priority']}) must not be provided in pod spec; "
                        f"priority admission controller computed {value} from the given PriorityClass name")
    if chosen is not None:
        spec["priorityClassName"] = chosen["metadata"]["name"]
    spec["priority"] = value
    spec["preemptionPolicy"] = (chosen or {}).get("preemptionPolicy") or PREEMPT_LOWER
    return pod


def pod_priority(pod: dict) -> int:
    """corev1helpers.PodPriority: `spec.priority`, 0 when unset."""
    return (pod.get("spec") or {}).get("priority") or 0


def forbidden(plural: str, name: str, reason: str) -> errors.ApiError:
    """An admission plugin's refusal, worded as admission.NewForbidden does."""
    group = GROUP if plural == "priorityclasses" else ""
    return errors.ApiError(403, "Forbidden", f'{errors.qualified(plural, group)} "{name}" is forbidden: {reason}',
                           errors.details(name, group, plural))
