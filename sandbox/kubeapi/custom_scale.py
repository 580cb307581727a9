"""The scale subresource of a custom resource, as apiextensions-apiserver serves it from the CRD's
`subresources.scale` (specReplicasPath, statusReplicasPath, labelSelectorPath): an autoscaling/v1 Scale whose
spec.replicas reads and writes the path (k8s.io/apiextensions-apiserver pkg/registry/customresource/etcd.go
scaleFromCustomResource / ScaleREST.Update; https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/
custom-resource-definitions/#scale-subresource). Pure."""
from __future__ import annotations

import json

from sandbox.kubeapi import errors
from sandbox.kubeapi.objects import validate_builtin_scale


def _path(text: str) -> list[str]:
    return [part for part in text.split(".") if part]


def _read(obj: dict, path: str):
    value = obj
    for part in _path(path):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


INVALID_SPEC_REPLICAS = -2147483648  # etcd.go ScaleREST.Update: the old Scale's replicas when the field is absent


def scale_of(obj: dict, scale: dict, for_update: bool = False) -> dict:
    replicas = _read(obj, scale["specReplicasPath"])
    if replicas is None and for_update:
        replicas = INVALID_SPEC_REPLICAS  # the update goes on; the custom resource's validation decides
    elif replicas is None:
        # etcd.go scaleFromCustomResource: the spec replicas field must exist to be served as a Scale
        raise errors.ApiError(500, "InternalError",
                              f'Internal error occurred: the spec replicas field "{scale["specReplicasPath"]}" '
                              f"does not exist")  # apierrors.NewInternalError wording
    metadata = obj["metadata"]
    status: dict = {"replicas": int(_read(obj, scale.get("statusReplicasPath", "")) or 0)}
    selector = _read(obj, scale["labelSelectorPath"]) if scale.get("labelSelectorPath") else None
    if selector:
        status["selector"] = selector
    return {"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                        "creationTimestamp") if key in metadata},
            "spec": {"replicas": int(replicas)}, "status": status}


def apply_scale(obj: dict, new_scale: dict, scale: dict) -> dict:
    if not isinstance(new_scale, dict):
        raise errors.bad_request("the body must be an autoscaling/v1 Scale object")
    replicas = (new_scale.get("spec") or {}).get("replicas", 0)
    validate_builtin_scale(obj["metadata"]["name"], replicas)
    updated = json.loads(json.dumps(obj))
    target = updated
    parts = _path(scale["specReplicasPath"])
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = replicas
    return updated
