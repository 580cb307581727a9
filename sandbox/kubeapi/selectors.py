"""Label and field selectors as `kubectl get -l/--field-selector` send them, parsed once into predicates."""
from __future__ import annotations

import re
from typing import Callable

from sandbox.kubeapi.errors import bad_request

Predicate = Callable[[dict], bool]

# key, operator, value list; `in`/`notin` take a parenthesised set, `!key` and `key` test existence.
_SET_TERM = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


def _split_terms(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms, depth, current = [], 0, []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term for term in terms if term.strip()]


def _label_term(term: str) -> Callable[[dict], bool]:
    if match := _SET_TERM.match(term):
        key, operator, raw = match.groups()
        values = {value.strip() for value in raw.split(",") if value.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQ_TERM.match(term):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS_TERM.match(term):
        negated, key = match.groups()
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: invalid label selector term {term.strip()!r}")


def label_selector(selector: str | None) -> Predicate | None:
    """Predicate over whole objects, or None when the selector selects everything."""
    if not selector or not selector.strip():
        return None
    terms = [_label_term(term) for term in _split_terms(selector)]

    def matches(obj: dict) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(term(labels) for term in terms)
    return matches


def _field_getter(field: str, supported: dict[str, Callable[[dict], str]]) -> Callable[[dict], str]:
    try:
        return supported[field]
    except KeyError:
        raise bad_request(f'field label not supported: {field}') from None


_COMMON_FIELDS: dict[str, Callable[[dict], str]] = {
    "metadata.name": lambda obj: obj.get("metadata", {}).get("name", ""),
    "metadata.namespace": lambda obj: obj.get("metadata", {}).get("namespace", ""),
}
_POD_FIELDS: dict[str, Callable[[dict], str]] = {
    **_COMMON_FIELDS,
    "spec.nodeName": lambda obj: (obj.get("spec") or {}).get("nodeName") or "",
    "status.phase": lambda obj: (obj.get("status") or {}).get("phase") or "",
}
_NODE_FIELDS: dict[str, Callable[[dict], str]] = {
    **_COMMON_FIELDS,
    "spec.unschedulable": lambda obj: "true" if (obj.get("spec") or {}).get("unschedulable") else "false",
}


# kubernetes/kubernetes pkg/registry/core/event/strategy.go ToSelectableFields: what `kubectl describe` filters on.
_EVENT_FIELDS: dict[str, Callable[[dict], str]] = {
    **_COMMON_FIELDS,
    **{f"involvedObject.{key}": (lambda obj, k=key: str((obj.get("involvedObject") or {}).get(k) or ""))
       for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
    "reason": lambda obj: obj.get("reason") or "",
    "reportingComponent": lambda obj: obj.get("reportingComponent") or "",
    "source": lambda obj: (obj.get("source") or {}).get("component") or "",
    "type": lambda obj: obj.get("type") or "",
}


def field_selector(selector: str | None, kind: str) -> Predicate | None:
    if not selector or not selector.strip():
        return None
    supported = {"Pod": _POD_FIELDS, "Node": _NODE_FIELDS, "Event": _EVENT_FIELDS}.get(kind, _COMMON_FIELDS)
    terms = []
    for term in _split_terms(selector):
        match = _EQ_TERM.match(term)
        if not match:
            raise bad_request(f"invalid field selector term {term.strip()!r}: expected field=value or field!=value")
        field, operator, value = match.groups()
        getter = _field_getter(field, supported)
        if operator == "!=":
            terms.append(lambda obj, g=getter, v=value: g(obj) != v)
        else:
            terms.append(lambda obj, g=getter, v=value: g(obj) == v)

    def matches(obj: dict) -> bool:
        return all(term(obj) for term in terms)
    return matches


def combine(*predicates: Predicate | None) -> Predicate | None:
    active = [p for p in predicates if p is not None]
    if not active:
        return None
    if len(active) == 1:
        return active[0]
    return lambda obj: all(p(obj) for p in active)


def selector_from_label_selector(selector: dict | None) -> Predicate:
    """A `metav1.LabelSelector` (matchLabels + matchExpressions) as a predicate over objects; empty matches all."""
    selector = selector or {}
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []

    def expression(labels: dict, expr: dict) -> bool:
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if operator == "In":
            return labels.get(key) in values
        if operator == "NotIn":
            return labels.get(key) not in values
        if operator == "Exists":
            return key in labels
        if operator == "DoesNotExist":
            return key not in labels
        raise bad_request(f"invalid label selector operator {operator!r}")

    def matches(obj: dict) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return (all(labels.get(k) == v for k, v in match_labels.items())
                and all(expression(labels, expr) for expr in expressions))
    return matches


def label_selector_string(selector: dict | None) -> str:
    """`app=web,tier in (a,b)`: the string form `Scale.status.selector` carries."""
    selector = selector or {}
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        operator, key, values = expr.get("operator"), expr.get("key"), ",".join(expr.get("values") or [])
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(operator, key))
    return ",".join(terms)
