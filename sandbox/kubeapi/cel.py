"""CRD validation rules (`x-kubernetes-validations`) evaluated as kube-apiserver does, with the cel-python library.

What is modelled (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
#validation-rules, and k8s.io/apiextensions-apiserver pkg/apiserver/schema/cel/validation.go):
- rules sit at any level of the schema; `self` is the value at that level, evaluated only where the value is present;
- transition rules (those naming `oldSelf`) run only on update, where the old value correlates (same property, same
  map key, same key of a `x-kubernetes-list-type: map` list); other list items never correlate;
- ratcheting (KEP-4008, on by default since 1.30): on update a value equal to its old value is not re-validated;
- a failed rule is a field error at the rule's path (+ `fieldPath`): `Invalid value: "<schema type>": <message>`
  (or Forbidden / Required / Duplicate per `reason`); `messageExpression` wins over `message` when it yields a
  non-empty string; without either the message is `failed rule: <rule>`.
Each rule is compiled once per CRD file content (schemas.py caches the registry). cel-python has CEL's standard
library; the Kubernetes extension functions that the shared CRDs' rules use are registered below.
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import celpy
from celpy import celtypes

MISSING: Any = object()
_TRANSITION = re.compile(r"\boldSelf\b")


# --- Kubernetes CEL libraries (only what the shared CRDs' rules call) ---------------------------------------------
# k8s.io/apiserver/pkg/cel/library/regex.go: `<string>.find(<regex>)` is the first match, or "" when none.
def _find(text: celtypes.StringType, pattern: celtypes.StringType) -> celtypes.StringType:
    match = re.search(str(pattern), str(text))
    return celtypes.StringType(match.group(0) if match else "")


# cel-go ext/strings.go (enabled in Kubernetes, k8s.io/apiserver/pkg/cel/environment/base.go):
# `<string>.split(<separator>)` -> list of strings.
def _split(text: celtypes.StringType, separator: celtypes.StringType) -> celtypes.ListType:
    return celtypes.ListType([celtypes.StringType(part) for part in str(text).split(str(separator))])


EXTENSIONS: dict[str, Callable] = {"find": _find, "split": _split}
_ENVIRONMENT = celpy.Environment()
_RULE_KEYS = itertools.count()


@dataclass(frozen=True)
class ValidationRule:
    text: str
    program: Any
    message: str
    message_program: Any | None
    field_path: str
    reason: str
    transition: bool  # names oldSelf: evaluated on update only, where an old value correlates
    key: int  # unique per compiled rule, for the memo of results


@dataclass(frozen=True)
class Site:
    """A schema node that carries rules, and how to reach it from the root: ("p", name) a property,
    ("a",) every value of a map (additionalProperties), ("i", map_keys) every item of a list."""

    steps: tuple[tuple, ...]
    schema_type: str
    rules: tuple[ValidationRule, ...]


class UnsupportedRule(Exception):
    """A rule cel-python cannot compile (kube-apiserver would have accepted the CRD): the sandbox refuses to start
    rather than skip it silently."""


def _compile(text: str) -> Any:
    try:
        return _ENVIRONMENT.program(_ENVIRONMENT.compile(text), functions=EXTENSIONS)
    except Exception as error:  # cel-python raises its own parse errors; any of them means "cannot evaluate"
        raise UnsupportedRule(f"cannot compile CEL rule {text!r}: {error}") from error


def compile_expression(text: str) -> Any:
    """One CEL expression compiled with the Kubernetes functions above (admission.py's policies use it too);
    UnsupportedRule when cel-python cannot compile it."""
    return _compile(text)


def compile_rules(schema: dict) -> tuple[Site, ...]:
    """Every rule of an openAPIV3Schema, compiled, with the path to its node."""
    sites: list[Site] = []
    _collect(schema, (), sites)
    return tuple(sites)


def _collect(node: Any, steps: tuple, sites: list[Site]) -> None:
    if not isinstance(node, dict):
        return
    rules = node.get("x-kubernetes-validations") or []
    if rules:
        compiled = tuple(ValidationRule(
            text=rule["rule"], program=_compile(rule["rule"]),
            message=rule.get("message") or f"failed rule: {rule['rule']}",
            message_program=_compile(rule["messageExpression"]) if rule.get("messageExpression") else None,
            field_path=rule.get("fieldPath", ""), reason=rule.get("reason", "FieldValueInvalid"),
            transition=bool(_TRANSITION.search(rule["rule"])), key=next(_RULE_KEYS)) for rule in rules)
        sites.append(Site(steps, str(node.get("type", "")), compiled))
    for name, child in (node.get("properties") or {}).items():
        _collect(child, steps + (("p", name),), sites)
    if isinstance(node.get("additionalProperties"), dict):
        _collect(node["additionalProperties"], steps + (("a",),), sites)
    if isinstance(node.get("items"), dict):
        keys = tuple(node.get("x-kubernetes-list-map-keys") or ()) if node.get("x-kubernetes-list-type") == "map" \
            else ()
        _collect(node["items"], steps + (("i", keys),), sites)


def _reach(value: Any, old: Any, steps: tuple, path: str) -> Iterator[tuple[Any, Any, str]]:
    """(value, correlated old value or MISSING, field path) of every node the steps lead to."""
    if not steps:
        yield value, old, path
        return
    step, rest = steps[0], steps[1:]
    if step[0] == "p":
        if isinstance(value, dict) and step[1] in value:
            old_child = old[step[1]] if isinstance(old, dict) and step[1] in old else MISSING
            yield from _reach(value[step[1]], old_child, rest, f"{path}.{step[1]}" if path else step[1])
    elif step[0] == "a":
        if isinstance(value, dict):
            for key, child in value.items():
                old_child = old[key] if isinstance(old, dict) and key in old else MISSING
                yield from _reach(child, old_child, rest, f"{path}[{key}]")
    elif isinstance(value, list):
        keys = step[1]
        old_items = {}
        if keys and isinstance(old, list):
            old_items = {tuple(item.get(k) for k in keys): item for item in old if isinstance(item, dict)}
        for index, item in enumerate(value):
            old_item = MISSING
            if keys and isinstance(item, dict):
                old_item = old_items.get(tuple(item.get(k) for k in keys), MISSING)
            yield from _reach(item, old_item, rest, f"{path}[{index}]")


def _holds(program: Any, activation: dict) -> Any:
    try:
        return program.evaluate(activation)
    except Exception as error:  # celpy raises CELEvalError and friends for runtime errors (e.g. no such key)
        return error


def _message(rule: ValidationRule, activation: dict) -> str:
    if rule.message_program is not None:
        text = _holds(rule.message_program, activation)
        if isinstance(text, str) and text.strip() and "\n" not in text:
            return str(text)
    return rule.message


def _field_error(path: str, schema_type: str, rule: ValidationRule, message: str) -> tuple[str, str, str]:
    field = path
    if rule.field_path:
        suffix = rule.field_path.lstrip(".")
        field = f"{path}.{suffix}" if path and not suffix.startswith("[") else f"{path}{suffix}"
    if rule.reason == "FieldValueForbidden":
        return field, f"Forbidden: {message}", rule.reason
    if rule.reason == "FieldValueRequired":
        return field, f"Required value: {message}", rule.reason
    if rule.reason == "FieldValueDuplicate":
        return field, f'Duplicate value: "{schema_type}"', rule.reason
    return field, f'Invalid value: "{schema_type}": {message}', "FieldValueInvalid"


_MEMO_LIMIT = 50_000
_memo: dict[tuple[int, str], Any] = {}


def _outcome(rule: ValidationRule, value: Any, old_value: Any) -> Any:
    """The rule's result (True/False or the evaluation error) for this value. A rule without oldSelf is a pure
    function of the value, so its results are remembered per (rule, value): cel-python's tree-walking evaluator
    costs milliseconds per rule, and most values (requirement keys, taints, nodeClassRefs) repeat across objects."""
    if rule.transition:
        return _holds(rule.program, {"self": celpy.json_to_cel(value), "oldSelf": celpy.json_to_cel(old_value)})
    key = (rule.key, json.dumps(value, sort_keys=True, separators=(",", ":")))
    if key not in _memo:
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[key] = _holds(rule.program, {"self": celpy.json_to_cel(value)})
    return _memo[key]


def violations(sites: tuple[Site, ...], obj: dict, old: dict | None) -> list[tuple[str, str, str]]:
    """(field, message, reason) for every rule the object breaks; `old` is the stored object on update."""
    found: list[tuple[str, str, str]] = []
    for site in sites:
        for value, old_value, path in _reach(obj, MISSING if old is None else old, site.steps, ""):
            if old_value is not MISSING and old_value == value:
                continue  # ratcheting: an unchanged value is not validated again
            for rule in site.rules:
                if rule.transition and old_value is MISSING:
                    continue
                result = _outcome(rule, value, old_value)
                if isinstance(result, Exception):
                    # validation.go: runtime errors (no such key, bad conversion, ...) read
                    # "<error> evaluating rule: <rule>"; the error text is cel-python's, not cel-go's.
                    detail = result.args[0] if result.args else result
                    found.append(_field_error(path, site.schema_type, rule, f"{detail} evaluating rule: {rule.text}"))
                elif not bool(result):
                    activation = {"self": celpy.json_to_cel(value)}
                    if old_value is not MISSING:
                        activation["oldSelf"] = celpy.json_to_cel(old_value)
                    found.append(_field_error(path, site.schema_type, rule, _message(rule, activation)))
    return found
