"""Whether a PodDisruptionBudget lets a pod go, computed from the pods it selects (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.kubeapi.errors import ApiError, bad_request
from sandbox.kubeapi.selectors import selector_from_label_selector


def is_ready(pod: dict) -> bool:
    """Ready condition True; pods seeded without conditions count as ready when Running."""
    status = pod.get("status") or {}
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    conditions = status.get("conditions")
    if conditions:
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return status.get("phase") == "Running"


def _scaled(value: int | str, total: int, field: str, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        fraction = int(value[:-1]) * total / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise bad_request(f"invalid PodDisruptionBudget {field}: {value!r}")


@dataclass(frozen=True)
class Budget:
    name: str
    expected: int
    healthy: int
    desired_healthy: int

    @property
    def disruptions_allowed(self) -> int:
        return max(0, self.healthy - self.desired_healthy)


def _controller_scale(selector, deployments: list[dict]) -> int | None:
    """Replicas the Deployments whose pod template the budget selects want; None when there are none."""
    owners = [d for d in deployments
              if selector({"metadata": ((d.get("spec") or {}).get("template") or {}).get("metadata") or {}})]
    return sum(int((d.get("spec") or {}).get("replicas", 1)) for d in owners) if owners else None


def budget(pdb: dict, pods: list[dict], deployments: list[dict] = ()) -> Budget:
    """PDB arithmetic over the pods in its namespace. As in the disruption controller, an integer minAvailable
    counts pods, while percentages and maxUnavailable count what the owning Deployments want (evicted pods are not
    replaced in the sandbox, so counting pods would let a drain take everything)."""
    spec = pdb.get("spec") or {}
    selector = selector_from_label_selector(spec.get("selector"))
    selected = [pod for pod in pods if selector(pod) and (pod.get("status") or {}).get("phase")
                not in ("Succeeded", "Failed")]
    healthy = sum(1 for pod in selected if is_ready(pod))
    expected = len(selected)
    if not isinstance(spec.get("minAvailable"), int):
        scale = _controller_scale(selector, list(deployments))
        expected = max(expected, scale) if scale is not None else expected
    if spec.get("minAvailable") is not None:
        desired = _scaled(spec["minAvailable"], expected, "minAvailable", round_up=True)
    elif spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _scaled(spec["maxUnavailable"], expected, "maxUnavailable", round_up=True))
    else:
        desired = 0
    return Budget(pdb["metadata"]["name"], expected, healthy, desired)


def pdb_status(pdb: dict, pods: list[dict], deployments: list[dict]) -> dict:
    """The counters of `PodDisruptionBudget.status`, as the disruption controller reports them."""
    current = budget(pdb, pods, deployments)
    return {"currentHealthy": current.healthy, "desiredHealthy": current.desired_healthy,
            "disruptionsAllowed": current.disruptions_allowed, "expectedPods": current.expected,
            "observedGeneration": pdb["metadata"].get("generation", 1)}


def check_eviction(pod: dict, pdbs: list[dict], namespace_pods: list[dict],
                   deployments: list[dict] = ()) -> Budget | None:
    """None if the pod may be evicted; raises 429 (the API server's wording) if its budget forbids it.

    Pods already finished, or not ready while the budget is met, go regardless, as with the default
    unhealthyPodEvictionPolicy (IfHealthyBudget).
    """
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Pending"):
        return None
    matching = [pdb for pdb in pdbs if selector_from_label_selector((pdb.get("spec") or {}).get("selector"))(pod)
                and (pdb.get("spec") or {}).get("selector") is not None]
    if not matching:
        return None
    if len(matching) > 1:
        raise ApiError(500, "InternalError",
                       "This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
                       "support.")
    current = budget(matching[0], namespace_pods, deployments)
    if not is_ready(pod):
        if current.healthy >= current.desired_healthy:
            return current
    elif current.disruptions_allowed > 0:
        return current
    raise ApiError(
        429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
        {"causes": [{"reason": "DisruptionBudget",
                     "message": f"The disruption budget {current.name} needs {current.desired_healthy} healthy "
                                f"pods and has {current.healthy} currently"}]})
