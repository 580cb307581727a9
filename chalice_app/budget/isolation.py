"""One NodePool's malformed fields are that pool's problem, never the run's (issue 12).

A NodePool is cluster input anyone with write access to it controls: when deciding it raises, the planner reports
the pool with the first field that does not have the shape the NodePool CRD gives it (karpenter.sh_nodepools.yaml:
`spec.limits` quantities, `requirements[]` of key/operator/values/minValues, `nodeClassRef.name`, `replicas`), its
value shortened, and keeps its limits; every other pool is decided as if it were not there.
"""
from __future__ import annotations

import math
from typing import Any

from kubernetes.utils import parse_quantity

from chalice_app.counts import shown

# NodeSelectorRequirement operators Karpenter v1 accepts (karpenter.sh_nodepools.yaml, requirements[].operator enum)
OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"})
MAX_PROBLEM = 400


def _quantity_problem(path: str, value: Any) -> str | None:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return f"{path}: {shown(value)} is not a quantity"
    try:
        number = float(parse_quantity(value))
    except (ValueError, TypeError, ArithmeticError):
        return f"{path}: {shown(value)} is not a quantity"
    if not math.isfinite(number) or number < 0:
        return f"{path}: {shown(value)} is not a finite, non-negative quantity"
    return None


def _requirement_problem(index: int, requirement: Any) -> str | None:
    path = f"spec.template.spec.requirements[{index}]"
    if not isinstance(requirement, dict):
        return f"{path}: {shown(requirement)} is not an object"
    if not isinstance(requirement.get("key"), str):
        return f"{path}.key: {shown(requirement.get('key'))} is not a label key"
    if requirement.get("operator") not in OPERATORS:
        return f"{path}.operator: {shown(requirement.get('operator'))} is not one of {', '.join(sorted(OPERATORS))}"
    values = requirement.get("values", [])
    if values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
        return f"{path}.values: {shown(values)} is not a list of strings"
    min_values = requirement.get("minValues")
    if min_values is not None and (not isinstance(min_values, int) or isinstance(min_values, bool)
                                   or not 1 <= min_values <= 50):
        return f"{path}.minValues: {shown(min_values)} is not a whole number from 1 to 50"
    return None


def field_problem(nodepool: dict) -> str | None:
    """The first field of `nodepool` the budget reads that is not shaped as the CRD says, named with its value."""
    metadata = nodepool.get("metadata") or {}
    for where in ("annotations", "labels"):
        value = metadata.get(where)
        if value is not None and not (isinstance(value, dict)
                                      and all(isinstance(v, str) for v in value.values())):
            return f"metadata.{where}: {shown(value)} is not a map of strings"
    spec = nodepool.get("spec")
    if not isinstance(spec, dict):
        return f"spec: {shown(spec)} is not an object"
    limits = spec.get("limits")
    if limits is not None and not isinstance(limits, dict):
        return f"spec.limits: {shown(limits)} is not a map of quantities"
    for key, value in (limits or {}).items():
        problem = _quantity_problem(f"spec.limits.{key}", value)
        if problem:
            return problem
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0):
        return f"spec.replicas: {shown(replicas)} is not a whole number"
    template = spec.get("template")
    template_spec = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(template_spec, dict):
        return f"spec.template.spec: {shown(template_spec)} is not an object"
    requirements = template_spec.get("requirements")
    if requirements is not None and not isinstance(requirements, list):
        return f"spec.template.spec.requirements: {shown(requirements)} is not a list"
    for index, requirement in enumerate(requirements or []):
        problem = _requirement_problem(index, requirement)
        if problem:
            return problem
    ref = template_spec.get("nodeClassRef")
    if ref is not None and not (isinstance(ref, dict) and isinstance(ref.get("name"), (str, type(None)))):
        return f"spec.template.spec.nodeClassRef: {shown(ref)} does not name an EC2NodeClass"
    return None


def undecided(said: str) -> str:
    return f"cannot be decided ({said}): limits kept"[:MAX_PROBLEM]


def pool_problem(nodepool: dict, error: BaseException) -> str:
    """Why deciding a pool raised: its malformed field when one is found, else the error; bounded."""
    return undecided(field_problem(nodepool) or f"{type(error).__name__}: {shown(str(error), 200)}")
