"""Plain dicts shaped like the Kubernetes API's Deployments and NodePools, for the off-hours tests."""
from datetime import datetime, timezone

from chalice_app.offhours.model import function_from_object, nodepool_from_object

CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def deployment(name: str, replicas: int | None = 1, namespace: str = "openfaas-fn", annotations: dict | None = None,
               labels: dict | None = None, created: datetime = CREATED, version: str = "7",
               template_labels: dict | None = None, template_annotations: dict | None = None,
               uid: str | None = None) -> dict:
    """`labels`/`annotations` on the Deployment's metadata; `template_*` on spec.template.metadata, where
    faas-netes puts a function's labels and annotations (pkg/handlers/deploy.go)."""
    spec = {"selector": {"matchLabels": {"faas_function": name}},
            "template": {"metadata": {"labels": {"faas_function": name, **(template_labels or {})},
                                      "annotations": dict(template_annotations or {})}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": version,
                         "uid": uid or f"uid-{namespace}-{name}",
                         "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "labels": {"faas_function": name, **(labels or {})},
                         "annotations": {"prometheus.io.scrape": "false", **(annotations or {})}},
            "spec": spec}


def function(name: str = "fn", replicas: int | None = 1, **kwargs):
    return function_from_object(deployment(name, replicas, **kwargs))


def nodepool_object(name: str = "default", limits: dict | None = None, annotations: dict | None = None,
                    replicas: int | None = None) -> dict:
    obj = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
           "metadata": {"name": name, "resourceVersion": "3", "annotations": annotations or {}},
           "spec": {"template": {}}}
    if limits is not None:
        obj["spec"]["limits"] = limits
    if replicas is not None:
        obj["spec"]["replicas"] = replicas
    return obj


def nodepool(name: str = "default", limits: dict | None = None, annotations: dict | None = None,
             replicas: int | None = None):
    return nodepool_from_object(nodepool_object(name, limits, annotations, replicas))
