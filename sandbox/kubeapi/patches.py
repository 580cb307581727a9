"""The three patch formats the API server accepts, as pure functions (document, patch) -> new document.

Strategic merge follows the Kubernetes Go types' patch strategies for the list fields that have one (containers,
env, volumes, ports, taints, conditions, ...); every other list is replaced, as for JSON merge patch.
"""
from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from sandbox.kubeapi.errors import ApiError, bad_request, unsupported_media_type

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

# field name -> merge key, from the `patchMergeKey` tags of the core/apps Go types.
MERGE_KEYS: dict[str, str] = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "ports": "containerPort",
    "imagePullSecrets": "name", "taints": "key", "conditions": "type", "addresses": "type",
    "ownerReferences": "uid", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name", "podIPs": "ip", "hostIPs": "ip",
}
# lists of scalars merged as sets (patchStrategy "merge" without a key).
MERGED_SCALAR_LISTS = {"finalizers"}


def merge_patch(document: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(document: dict, operations: Any) -> dict:
    """RFC 6902 via the `jsonpatch` package; a failed operation is a 422 naming it, nothing is applied."""
    if not isinstance(operations, list):
        raise bad_request("json patch body must be a JSON array of operations")
    try:
        return jsonpatch.apply_patch(document, operations, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
        raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                       f"json patch failed: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise bad_request(f"invalid json patch: {error!r}") from None


def strategic_merge_patch(document: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch body must be a JSON object")
    return _merge_map(document if isinstance(document, dict) else {}, patch)


def _merge_map(document: dict, patch: dict) -> dict:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return {}
    result = dict(document)
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            removed = set(map(_hashable, value or []))
            result[field] = [item for item in result.get(field) or [] if _hashable(item) not in removed]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(result.get(key) if isinstance(result.get(key), dict) else {}, value)
            if value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    return result


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, (dict, list)) else value


def _merge_list(field: str, current: Any, patch: list) -> list:
    current = current if isinstance(current, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(item) for item in patch if not (isinstance(item, dict) and "$patch" in item)]
    if field in MERGED_SCALAR_LISTS:
        merged = list(current)
        merged.extend(item for item in patch if item not in merged)
        return merged
    merge_key = MERGE_KEYS.get(field)
    if merge_key is None or not all(isinstance(item, dict) for item in patch):
        return copy.deepcopy(patch)
    merged = [copy.deepcopy(item) for item in current]
    for item in patch:
        if merge_key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {merge_key}")
        position = next((i for i, existing in enumerate(merged)
                         if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if position is not None:
                del merged[position]
        elif position is None:
            merged.append({k: v for k, v in copy.deepcopy(item).items() if v is not None})
        else:
            merged[position] = _merge_map(merged[position], item)
    return merged


def apply(content_type: str, document: dict, body: Any, custom: bool) -> dict:
    """Dispatch on the request's Content-Type; custom resources have no strategic merge (415), like the real one."""
    media = (content_type or "").split(";")[0].strip().lower()
    accepted = [JSON_PATCH, MERGE_PATCH] + ([] if custom else [STRATEGIC_MERGE_PATCH])
    if media == JSON_PATCH:
        return json_patch(document, body)
    if media == MERGE_PATCH:
        if not isinstance(body, dict):
            raise bad_request("a JSON merge patch must be an object; to send JSON patch operations (a list), set "
                              "Content-Type application/json-patch+json (_content_type= in the Python client)")
        return merge_patch(document, body)
    if media == STRATEGIC_MERGE_PATCH and not custom:
        return strategic_merge_patch(document, body)
    raise unsupported_media_type(content_type, accepted)
