"""The few fields off-hours needs from Kubernetes objects, kept small so 10,000 functions fit in a 128 MB Lambda.

Where things live on a function Deployment (faas-netes pkg/handlers/deploy.go, read back in
pkg/k8s/function_status.go): the function's labels (`com.openfaas.scale.*`) and annotations are on the pod template
(`spec.template.metadata`); the Deployment's own labels carry only `faas_function`. A redeploy replaces the
Deployment's annotations (pkg/handlers/update.go). So OpenFaaS labels are read from the template, with the
Deployment's metadata as a fallback; costguard's policy annotations may be on either (the Deployment's, set by
`kubectl annotate`, win over the template's, set by `faas-cli deploy --annotation`). The restore count costguard
writes (`original-replicas`) is only a visible mirror of the stage table's record (see parked.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalice_app.counts import count_or_none
from chalice_app.kube.names import (ANNOTATION_PREFIX, LEGACY_ORIGINAL_REPLICAS, LEGACY_PREFIX, ORIGINAL_REPLICAS,
                                    SCALE_MAX_LABEL, SCALE_MIN_LABEL, SCALE_ZERO_LABEL)

MAX_REPLICAS = 10_000  # a bound on numbers read from annotations and labels (untrusted input)

# GitOps controllers that revert what costguard changes unless told to ignore it (README "GitOps"):
# Argo CD tracks resources by annotation `argocd.argoproj.io/tracking-id` (annotation tracking) or by the label
# `app.kubernetes.io/instance` (label tracking) - argo-cd docs user-guide/resource_tracking.md; Flux's
# kustomize-controller and helm-controller label what they apply with `kustomize.toolkit.fluxcd.io/name` and
# `helm.toolkit.fluxcd.io/name` - fluxcd.io docs components/kustomize/kustomizations.md, helm/helmreleases.md.
GITOPS_ANNOTATIONS = {"argocd.argoproj.io/tracking-id": "Argo CD"}
GITOPS_LABELS = {"kustomize.toolkit.fluxcd.io/name": "Flux (Kustomization {value})",
                 "helm.toolkit.fluxcd.io/name": "Flux (HelmRelease {value})",
                 "argocd.argoproj.io/instance": "Argo CD (application {value})"}


def _relevant(annotations: dict | None) -> dict[str, str]:
    return {key: value for key, value in (annotations or {}).items()
            if isinstance(key, str) and isinstance(value, str)
            and (key.startswith(ANNOTATION_PREFIX) or key.startswith(LEGACY_PREFIX))}


def _timestamp(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) and text else None
    except ValueError:
        return None


def gitops_manager(metadata: dict) -> str | None:
    """Which GitOps controller manages an object, from its tracking labels and annotations; None when none does."""
    annotations, labels = metadata.get("annotations") or {}, metadata.get("labels") or {}
    for key, who in GITOPS_ANNOTATIONS.items():
        if key in annotations:
            return f"{who} ({key}={str(annotations[key])[:120]})"
    for key, who in GITOPS_LABELS.items():
        if key in labels:
            return who.format(value=str(labels[key])[:120])
    return None


def _count(text: str | None) -> int | None:
    """A bounded whole number from a label or annotation; None when absent or not a number."""
    return count_or_none(text, MAX_REPLICAS)


@dataclass(frozen=True, slots=True)
class FunctionDeployment:
    name: str
    namespace: str
    replicas: int
    resource_version: str
    created: datetime | None
    annotations: dict[str, str]  # only costguard.openfaas.com/* and downscaler/*, template's then Deployment's
    scale_zero: str | None  # the com.openfaas.scale.zero label, if any (pod template, else Deployment)
    uid: str = ""
    mirror: str | None = None  # costguard.openfaas.com/original-replicas on the Deployment's own metadata
    scale_min: int | None = None  # com.openfaas.scale.min, if set and a sane number
    gitops: str | None = None  # "Argo CD (...)" / "Flux (...)" when a GitOps controller tracks the Deployment
    scale_max: int | None = None  # com.openfaas.scale.max (pod template, as faas-netes writes it), if sane
    kept_until: str | None = None  # a Slack keep from the stage table when its annotation is gone (offhours.keeps)

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    @property
    def legacy_original(self) -> str | None:
        return self.annotations.get(LEGACY_ORIGINAL_REPLICAS)


def function_from_object(obj: dict) -> FunctionDeployment:
    """A Deployment as the API returns it (dict) → the slim record; spec.replicas defaults to 1 as in Kubernetes."""
    metadata, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    template = (spec.get("template") or {}).get("metadata") or {}
    labels = {**(metadata.get("labels") or {}), **(template.get("labels") or {})}  # the template's win
    own_annotations = metadata.get("annotations") or {}
    replicas = spec.get("replicas")
    mirror = own_annotations.get(ORIGINAL_REPLICAS)
    return FunctionDeployment(
        name=metadata["name"], namespace=metadata.get("namespace", ""),
        replicas=1 if replicas is None else int(replicas),
        resource_version=str(metadata.get("resourceVersion", "")),
        created=_timestamp(metadata.get("creationTimestamp")),
        annotations={**_relevant(template.get("annotations")), **_relevant(own_annotations)},
        scale_zero=labels.get(SCALE_ZERO_LABEL),
        uid=str(metadata.get("uid", "")),
        mirror=mirror if isinstance(mirror, str) else None,
        scale_min=_count(labels.get(SCALE_MIN_LABEL)),
        gitops=gitops_manager(metadata),
        scale_max=_count(labels.get(SCALE_MAX_LABEL)),
    )


def patched_function(function: FunctionDeployment, patch: dict | None) -> FunctionDeployment:
    """The slim record as a merge patch of off-hours (FunctionAction.patch: replicas, the mirror annotation and
    kube-downscaler's) leaves it; a key set to None is removed (RFC 7386)."""
    if not patch:
        return function
    changed = (patch.get("metadata") or {}).get("annotations") or {}
    annotations = dict(function.annotations)
    for key, value in changed.items():
        if value is None:
            annotations.pop(key, None)
        else:
            annotations[key] = value
    mirror = changed[ORIGINAL_REPLICAS] if ORIGINAL_REPLICAS in changed else function.mirror
    replicas = (patch.get("spec") or {}).get("replicas", function.replicas)
    return replace(function, replicas=replicas, annotations=annotations, mirror=mirror)


@dataclass(frozen=True, slots=True)
class NodePoolLimits:
    name: str
    resource_version: str
    limits: dict[str, Any]  # spec.limits as stored, e.g. {"cpu": 100, "memory": "400Gi"}: kept raw to restore exactly
    annotations: dict[str, str]
    replicas: int | None = None  # spec.replicas: set only on static NodePools (karpenter.sh/v1 NodePool CRD)
    gitops: str | None = None
    source: dict | None = None  # the object as read (pools are few): template and disruption settings

    @property
    def static(self) -> bool:
        return self.replicas is not None


def nodepool_from_object(obj: dict) -> NodePoolLimits:
    metadata, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    limits = spec.get("limits") or {}
    replicas = spec.get("replicas")
    return NodePoolLimits(metadata["name"], str(metadata.get("resourceVersion", "")),
                          dict(limits), _relevant(metadata.get("annotations")),
                          None if replicas is None else int(replicas), gitops_manager(metadata), obj)


def namespace_annotations(obj: dict) -> tuple[str, dict[str, str]]:
    metadata = obj.get("metadata") or {}
    return metadata["name"], _relevant(metadata.get("annotations"))
