"""The few fields off-hours needs from Kubernetes objects, kept small so 10,000 functions fit in a 128 MB Lambda."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The annotation names `costguard status` and the budget also read: defined once, in chalice_app.status.
from chalice_app.status import ANNOTATION_PREFIX as PREFIX
from chalice_app.status import ORIGINAL_REPLICAS  # noqa: F401 - re-exported for the off-hours modules
from chalice_app.status import STORED_LIMITS as ORIGINAL_LIMITS  # noqa: F401

LEGACY_PREFIX = "downscaler/"  # py-kube-downscaler's annotations, read as a fallback
NODEPOOL_OPT_IN = PREFIX + "offhours"
FUNCTION_LABEL = "faas_function"
SCALE_ZERO_LABEL = "com.openfaas.scale.zero"


def _relevant(annotations: dict | None) -> dict[str, str]:
    return {key: value for key, value in (annotations or {}).items()
            if key.startswith(PREFIX) or key.startswith(LEGACY_PREFIX)}


def _timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@dataclass(frozen=True, slots=True)
class FunctionDeployment:
    name: str
    namespace: str
    replicas: int
    resource_version: str
    created: datetime | None
    annotations: dict[str, str]  # only costguard.openfaas.com/* and downscaler/*
    scale_zero: str | None  # the com.openfaas.scale.zero label, if any

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name


def function_from_object(obj: dict) -> FunctionDeployment:
    """A Deployment as the API returns it (dict) → the slim record; spec.replicas defaults to 1 as in Kubernetes."""
    metadata, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    replicas = spec.get("replicas")
    return FunctionDeployment(
        name=metadata["name"], namespace=metadata.get("namespace", ""),
        replicas=1 if replicas is None else int(replicas),
        resource_version=str(metadata.get("resourceVersion", "")),
        created=_timestamp(metadata.get("creationTimestamp")),
        annotations=_relevant(metadata.get("annotations")),
        scale_zero=(metadata.get("labels") or {}).get(SCALE_ZERO_LABEL),
    )


@dataclass(frozen=True, slots=True)
class NodePoolLimits:
    name: str
    resource_version: str
    limits: dict[str, Any]  # spec.limits as stored, e.g. {"cpu": 100, "memory": "400Gi"}: kept raw to restore exactly
    annotations: dict[str, str]


def nodepool_from_object(obj: dict) -> NodePoolLimits:
    metadata = obj.get("metadata") or {}
    limits = (obj.get("spec") or {}).get("limits") or {}
    return NodePoolLimits(metadata["name"], str(metadata.get("resourceVersion", "")),
                          dict(limits), _relevant(metadata.get("annotations")))


def namespace_annotations(obj: dict) -> tuple[str, dict[str, str]]:
    metadata = obj.get("metadata") or {}
    return metadata["name"], _relevant(metadata.get("annotations"))
