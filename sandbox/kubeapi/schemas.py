"""Validation of custom objects against the openAPIV3Schema of their CRD's served version, as the API server does:
prune unknown fields (422 instead with fieldValidation=Strict), apply `default`s, validate structurally, then
evaluate the CEL rules (`x-kubernetes-validations`, see cel.py) on create, update and patch. Seeding through the
store (`validate_in_place`: the sandbox's own fixtures and controllers) skips CEL to keep 10,000-object seeds fast;
tests/kubeapi prove the seeded objects pass every rule.
"""
from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sandbox.kubeapi import cel, errors
from sandbox.kubeapi.resources import ResourceType

_ROOT_FIELDS = {"apiVersion", "kind", "metadata"}


@dataclass(frozen=True)
class CrdSchema:
    group: str
    version: str
    kind: str
    schema: dict                       # as written in the CRD (with x-kubernetes-* hints)
    validator: jsonschema.Draft4Validator
    rules: tuple[cel.Site, ...] = ()   # compiled x-kubernetes-validations
    scale: dict | None = None          # the version's `subresources.scale` (specReplicasPath, ...), if any


def _to_json_schema(node: Any) -> Any:
    """OpenAPI v3 subset -> JSON Schema: int-or-string and nullable become types, extensions are dropped."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _to_json_schema(value) for key, value in node.items()
                 if not key.startswith("x-kubernetes-") and key not in ("nullable", "description", "default")}
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node and "type" not in node:
        converted["type"] = ["integer", "string"]
    if node.get("nullable"):
        if "type" in converted:
            types = converted["type"] if isinstance(converted["type"], list) else [converted["type"]]
            converted["type"] = types + ["null"]
        if "enum" in converted:
            converted["enum"] = list(converted["enum"]) + [None]
    return converted


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_crds(crd_dir: Path | None) -> dict[tuple[str, str, str], CrdSchema]:
    """(group, version, kind) -> schema for every served version of every CRD in `crd_dir` (none if absent).
    Parsed once per directory content: many sandboxes per test run share it."""
    if crd_dir is None or not Path(crd_dir).is_dir():
        return {}
    files = tuple((str(path.resolve()), path.stat().st_mtime_ns) for path in sorted(Path(crd_dir).glob("*.y*ml")))
    return _load_files(files)


@functools.lru_cache(maxsize=8)
def _load_files(files: tuple[tuple[str, int], ...]) -> dict[tuple[str, str, str], CrdSchema]:
    schemas: dict[tuple[str, str, str], CrdSchema] = {}
    for path, _ in files:
        for document in yaml.load_all(Path(path).read_text(), Loader=_LOADER):
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec.get("versions", []):
                raw = (version.get("schema") or {}).get("openAPIV3Schema")
                if not version.get("served") or raw is None:
                    continue
                validator = jsonschema.Draft4Validator(_to_json_schema(raw))
                key = (spec["group"], version["name"], spec["names"]["kind"])
                schemas[key] = CrdSchema(*key, raw, validator, cel.compile_rules(raw),
                                         (version.get("subresources") or {}).get("scale"))
    return schemas


def _preserves_unknown(schema: dict) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields")) or schema.get("additionalProperties") is True


def prune(value: Any, schema: dict, path: str, unknown: list[str], root: bool = False) -> Any:
    """Drop fields the schema does not declare (recording their paths), like structural-schema pruning."""
    if isinstance(value, dict) and schema.get("type", "object") == "object" and not _preserves_unknown(schema):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        result = {}
        for key, item in value.items():
            child_path = f"{path}.{key}" if path else key
            if root and key in _ROOT_FIELDS:
                result[key] = item
            elif properties is not None and key in properties:
                result[key] = prune(item, properties[key], child_path, unknown)
            elif isinstance(extra, dict):
                result[key] = prune(item, extra, child_path, unknown)
            elif properties is None and extra is None:
                result[key] = item
            else:
                unknown.append(child_path)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(item, schema["items"], f"{path}[{i}]", unknown) for i, item in enumerate(value)]
    return value


def apply_defaults(value: Any, schema: dict) -> None:
    """Fill missing properties that declare a `default`, recursing into what is present (in place)."""
    if isinstance(value, dict):
        for key, child in (schema.get("properties") or {}).items():
            if key not in value and "default" in child:
                value[key] = copy.deepcopy(child["default"])
            if key in value:
                apply_defaults(value[key], child)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if key not in (schema.get("properties") or {}):
                    apply_defaults(item, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def _field_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    field = _field_path(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return (f"{field}.{missing}" if field else missing), "Required value"
    if error.validator == "enum":
        supported = ", ".join(json.dumps(v) for v in error.validator_value)
        return field, f"Unsupported value: {json.dumps(error.instance)}: supported values: {supported}"
    return field, f"Invalid value: {json.dumps(error.instance)[:200]}: {field} in body {error.message}"


class SchemaRegistry:
    def __init__(self, crd_dir: Path | None):
        self.schemas = load_crds(crd_dir)

    def admit(self, resource: ResourceType, obj: dict, strict: bool = False, old: dict | None = None,
              rules: bool = True) -> dict:
        """Pruned, defaulted copy of `obj`; raises 422 naming each invalid (or, if strict, unknown) field, or each
        CEL rule it breaks (`old`: the stored object, for transition rules and ratcheting on update)."""
        crd = self.schemas.get((resource.group, resource.version, resource.kind))
        if crd is None:
            return obj
        unknown: list[str] = []
        admitted = prune(obj, crd.schema, "", unknown, root=True)
        name = (obj.get("metadata") or {}).get("name", "")
        if strict and unknown:
            raise errors.invalid(resource.kind, resource.group, name,
                                 [(path, f'unknown field "{path}"') for path in unknown])
        apply_defaults(admitted, crd.schema)
        problems = sorted(crd.validator.iter_errors(admitted), key=lambda e: list(map(str, e.absolute_path)))
        if problems:
            raise errors.invalid(resource.kind, resource.group, name, [_describe(e) for e in problems[:10]])
        if rules and crd.rules:
            broken = cel.violations(crd.rules, admitted, old)
            if broken:
                raise errors.invalid(resource.kind, resource.group, name, broken)
        return admitted

    def validate_in_place(self, resource: ResourceType, obj: dict) -> None:
        """Store hook for seeding: replaces `obj`'s content with its admitted form."""
        admitted = self.admit(resource, obj, rules=False)
        if admitted is not obj:
            obj.clear()
            obj.update(admitted)
