"""Does a pod's node selector and required node affinity fit a NodePool's template, as Karpenter decides it (pure).

Karpenter's own set algebra (kubernetes-sigs/karpenter pkg/scheduling/requirement.go and requirements.go): every
requirement is a set of values, possibly complemented, possibly bounded: `In` = the values, `NotIn` = all but the
values, `Exists` = all, `DoesNotExist` = none, `Gt`/`Lt` = all integers above/below the bound. A pod fits a pool when
(`Requirements.Compatible` with `AllowUndefinedWellKnownLabels`):
- every key both constrain intersects (`Intersects`), except that two "negative" requirements (NotIn/DoesNotExist)
  never conflict;
- a key only the pod constrains is allowed when it is a well-known label (the pool allows any value) or the pod's
  operator is NotIn/DoesNotExist; any other custom label the pool does not define has no known values: no fit.
The pool's requirements are its template's requirements, its template labels (each an `In` of one value) and
`karpenter.sh/nodepool` = its name. The pod's are its nodeSelector (each an `In`) and its first required
nodeSelectorTerm (`NewPodRequirements`); Karpenter relaxes to the next term when one cannot be met, so any term fits.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalice_app.kube.names import KARPENTER_AWS_GROUP, KARPENTER_GROUP, NODEPOOL_LABEL

# Karpenter's WellKnownLabels (pkg/apis/v1/labels.go) and the AWS provider's (karpenter.k8s.aws/*), by prefix.
WELL_KNOWN_PREFIXES = (KARPENTER_GROUP + "/", KARPENTER_AWS_GROUP + "/", "topology.kubernetes.io/",
                       "node.kubernetes.io/", "kubernetes.io/")
NEGATIVE = ("NotIn", "DoesNotExist")


@dataclass(frozen=True)
class ValueSet:
    """One key's requirement: `values` (or all but them when `complement`), within the open bounds (gt, lt)."""
    complement: bool
    values: frozenset[str] = frozenset()
    gt: int | None = None
    lt: int | None = None

    @classmethod
    def of(cls, operator: str, values) -> "ValueSet":
        texts = frozenset(str(v) for v in values or [])
        if operator == "In":
            return cls(False, texts)
        if operator == "NotIn":
            return cls(True, texts)
        if operator == "Exists":
            return cls(True)
        if operator in ("Gt", "Lt"):
            bound = _integer(next(iter(texts), None))
            if bound is None:
                return cls(False)  # an unreadable bound admits nothing (the API server would have refused it)
            return cls(True, gt=bound) if operator == "Gt" else cls(True, lt=bound)
        return cls(False)  # DoesNotExist, and operators Kubernetes does not know: nothing

    @property
    def operator(self) -> str:
        if self.complement:
            return "NotIn" if self.values else "Exists"
        return "In" if self.values else "DoesNotExist"

    def intersection(self, other: "ValueSet") -> "ValueSet":
        gt = max((b for b in (self.gt, other.gt) if b is not None), default=None)
        lt = min((b for b in (self.lt, other.lt) if b is not None), default=None)
        if gt is not None and lt is not None and gt + 1 > lt - 1:
            return ValueSet(False)  # no integer left: requirement.go keeps Gt N as Gte N+1, Lt N as Lte N-1
        complement = self.complement and other.complement
        if complement:
            values = self.values | other.values
        elif self.complement:
            values = other.values - self.values
        elif other.complement:
            values = self.values - other.values
        else:
            values = self.values & other.values
        values = frozenset(v for v in values if _within(v, gt, lt))
        return ValueSet(complement, values, gt, lt) if complement else ValueSet(False, values)

    def empty(self) -> bool:
        return not self.complement and not self.values


def _integer(text) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def _within(value: str, gt: int | None, lt: int | None) -> bool:
    if gt is None and lt is None:
        return True
    number = _integer(value)
    return number is not None and (gt is None or number > gt) and (lt is None or number < lt)


def requirements(expressions, labels: dict | None = None) -> dict[str, ValueSet]:
    """Expressions (key/operator/values dicts) and labels (each an In) as one ValueSet per key, intersected."""
    found: dict[str, ValueSet] = {}
    items = [(str(k), ValueSet.of("In", [v])) for k, v in (labels or {}).items()]
    items += [(str(e.get("key", "")), ValueSet.of(str(e.get("operator", "")), e.get("values")))
              for e in expressions or [] if isinstance(e, dict)]
    for key, value_set in items:
        found[key] = found[key].intersection(value_set) if key in found else value_set
    return found


def compatible(pool: dict[str, ValueSet], pod: dict[str, ValueSet]) -> bool:
    for key, wanted in pod.items():
        if key not in pool:
            if not key.startswith(WELL_KNOWN_PREFIXES) and wanted.operator not in NEGATIVE:
                return False
            continue
        offered = pool[key]
        if offered.intersection(wanted).empty() and not (wanted.operator in NEGATIVE and offered.operator in NEGATIVE):
            return False
    return True


def pool_requirements(name: str, labels: dict, expressions) -> dict[str, ValueSet]:
    return requirements(expressions, {**labels, NODEPOOL_LABEL: name})


def pod_requirement_options(pod_spec: dict) -> list[dict[str, ValueSet]]:
    """The pod's requirements, one per required nodeSelectorTerm (Karpenter tries them in order)."""
    selector = {k: v for k, v in (pod_spec.get("nodeSelector") or {}).items()}
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = [t for t in required.get("nodeSelectorTerms") or [] if isinstance(t, dict)]
    if not terms:
        return [requirements([], selector)]
    return [requirements(term.get("matchExpressions"), selector) for term in terms]
