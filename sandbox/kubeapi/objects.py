"""Object-level rules of the API server that are not storage: metadata checks, what a write may change,
generation, the Scale view of a Deployment, and the few built-in validations the sandbox enforces (pure)."""
from __future__ import annotations

import json
import random
import re

from sandbox.kubeapi import errors
from sandbox.kubeapi.resources import ResourceType
from sandbox.kubeapi.selectors import label_selector_string

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SERVER_SET_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "deletionTimestamp",
                     "selfLink", "managedFields")


def generated_name(prefix: str) -> str:
    return prefix + "".join(random.choice(_GENERATE_ALPHABET) for _ in range(5))


def check_identity(resource: ResourceType, obj: dict, namespace: str | None, name: str | None) -> dict:
    """The body's apiVersion/kind/namespace/name against the URL: filled when absent, 400 when different."""
    if not isinstance(obj, dict):
        raise errors.bad_request(f"the body must be a JSON object describing a {resource.kind}")
    obj.setdefault("apiVersion", resource.api_version)
    obj.setdefault("kind", resource.kind)
    if (obj["apiVersion"], obj["kind"]) != (resource.api_version, resource.kind):
        raise errors.bad_request(f"the API version in the data ({obj['apiVersion']}) and kind ({obj['kind']}) do "
                                 f"not match the endpoint ({resource.api_version} {resource.kind})")
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise errors.bad_request("metadata must be an object")
    if resource.namespaced:
        if metadata.get("namespace") and namespace and metadata["namespace"] != namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        metadata["namespace"] = namespace or metadata.get("namespace")
    else:
        metadata.pop("namespace", None)
    if name is not None and metadata.get("name") and metadata["name"] != name:
        raise errors.bad_request(f"the name of the object ({metadata['name']}) does not match the name on the URL "
                                 f"({name})")
    if name is not None:
        metadata["name"] = name
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if values is not None and (not isinstance(values, dict)
                                   or not all(isinstance(v, str) for v in values.values())):
            raise errors.bad_request(f"metadata.{field} must map strings to strings: {json.dumps(values)[:200]}")
    return obj


def validate_builtin(resource: ResourceType, obj: dict) -> None:
    """422 for the built-in invariants costguard's code could break: names, replica counts, PDB fields."""
    name = obj["metadata"].get("name") or ""
    causes: list[tuple[str, str]] = []
    pattern = _LABEL if resource.kind == "Namespace" else _SUBDOMAIN
    if not pattern.match(name) or len(name) > 253:
        causes.append(("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 '
                                        f'{"label" if pattern is _LABEL else "subdomain"} must consist of lower case '
                                        "alphanumeric characters, '-' or '.'"))
    spec = obj.get("spec") or {}
    if resource.kind in ("Deployment", "Scale") and "replicas" in spec:
        replicas = spec["replicas"]
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise errors.bad_request(f"spec.replicas must be an integer, got {json.dumps(replicas)}")
        if replicas < 0:
            causes.append(("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0"))
    if resource.kind == "PodDisruptionBudget" and spec.get("minAvailable") is not None \
            and spec.get("maxUnavailable") is not None:
        causes.append(("spec", "Invalid value: minAvailable and maxUnavailable cannot be both set"))
    if resource.kind == "Event":
        causes.extend(event_problems(obj))
    if causes:
        raise errors.invalid(resource.kind, resource.group, name, causes)


def event_problems(event: dict) -> list[tuple[str, str]]:
    """core/v1 Event namespace rule of kubernetes/kubernetes pkg/apis/core/validation/events.go (legacyValidateEvent):
    an event about a namespaced object lives in that object's namespace; one about a cluster-scoped object (a
    Node) in `default`."""
    involved = event.get("involvedObject") or {}
    if not isinstance(involved, dict):
        return [("involvedObject", "Invalid value: must be an object reference")]
    namespace = event["metadata"].get("namespace") or ""
    if involved.get("namespace"):
        if involved["namespace"] != namespace:
            return [("involvedObject.namespace", f'Invalid value: "{involved["namespace"]}": does not match '
                                                 f"event.namespace")]
    elif namespace not in ("", "default"):
        return [("involvedObject.namespace", 'Invalid value: "": does not match event.namespace')]
    return []


def prepare_create(obj: dict) -> dict:
    metadata = obj["metadata"]
    for field in SERVER_SET_FIELDS:
        metadata.pop(field, None)
    if not metadata.get("name"):
        if not metadata.get("generateName"):
            raise errors.invalid(obj.get("kind", ""), "", "", [("metadata.name", "Required value: name or "
                                                                                 "generateName is required")])
        metadata["name"] = generated_name(metadata["generateName"])
    return obj


def _spec_part(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def merge_update(resource: ResourceType, stored: dict, new: dict, subresource: str | None) -> dict:
    """What a PUT/PATCH actually writes: server-set metadata kept, status only through /status (and only
    status there), generation bumped when the spec changes."""
    if subresource == "status":
        result = json.loads(json.dumps(stored))
        result["status"] = new.get("status")
        if result["status"] is None:
            result.pop("status")
        return result
    result = dict(new)
    metadata = dict(new.get("metadata") or {})
    for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
        if field in stored["metadata"]:
            metadata[field] = stored["metadata"][field]
        else:
            metadata.pop(field, None)
    metadata["resourceVersion"] = stored["metadata"].get("resourceVersion")
    result["metadata"] = metadata
    if resource.status_subresource:
        if "status" in stored:
            result["status"] = stored["status"]
        else:
            result.pop("status", None)
    if _spec_part(result) != _spec_part(stored):
        metadata["generation"] = int(stored["metadata"].get("generation") or 1) + 1
    return result


def check_resource_version(resource: ResourceType, stored: dict, sent: str | None) -> None:
    """409 when the write names a resourceVersion that is not the stored one."""
    if sent not in (None, "") and str(sent) != stored["metadata"].get("resourceVersion"):
        raise errors.conflict(resource.plural, resource.group, stored["metadata"]["name"])


def scale_of(deployment: dict) -> dict:
    """The autoscaling/v1 Scale view of a Deployment."""
    metadata = deployment["metadata"]
    return {
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                    "creationTimestamp") if key in metadata},
        "spec": {"replicas": (deployment.get("spec") or {}).get("replicas", 1)},
        "status": {"replicas": (deployment.get("status") or {}).get("replicas", 0),
                   "selector": label_selector_string((deployment.get("spec") or {}).get("selector"))},
    }


def apply_scale(deployment: dict, scale: dict) -> dict:
    if not isinstance(scale, dict):
        raise errors.bad_request("the body must be an autoscaling/v1 Scale object")
    replicas = (scale.get("spec") or {}).get("replicas")
    if replicas is None:
        replicas = 0  # an absent replicas field means 0, as in the Go type
    validate_builtin_scale(deployment["metadata"]["name"], replicas)
    updated = json.loads(json.dumps(deployment))
    updated.setdefault("spec", {})["replicas"] = replicas
    return updated


def validate_builtin_scale(name: str, replicas) -> None:
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise errors.bad_request(f"spec.replicas must be an integer, got {json.dumps(replicas)}")
    if replicas < 0:
        raise errors.invalid("Scale", "autoscaling", name,
                             [("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")])


def success_status(resource: ResourceType, obj: dict, code: int = 200) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code,
            "details": {**errors.details(obj["metadata"]["name"], resource.group, resource.plural),
                        "uid": obj["metadata"].get("uid")}}


