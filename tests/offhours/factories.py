"""Plain dicts shaped like the Kubernetes API's Deployments and NodePools, for the off-hours tests."""
from datetime import datetime, timezone

from chalice_app.offhours.model import function_from_object, nodepool_from_object

CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def deployment(name: str, replicas: int | None = 1, namespace: str = "openfaas-fn", annotations: dict | None = None,
               labels: dict | None = None, created: datetime = CREATED, version: str = "7") -> dict:
    spec = {"selector": {"matchLabels": {"faas_function": name}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": version,
                         "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "labels": {"faas_function": name, **(labels or {})},
                         "annotations": {"prometheus.io.scrape": "false", **(annotations or {})}},
            "spec": spec}


def function(name: str = "fn", replicas: int | None = 1, **kwargs):
    return function_from_object(deployment(name, replicas, **kwargs))


def nodepool(name: str = "default", limits: dict | None = None, annotations: dict | None = None):
    obj = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
           "metadata": {"name": name, "resourceVersion": "3", "annotations": annotations or {}},
           "spec": {"template": {}}}
    if limits is not None:
        obj["spec"]["limits"] = limits
    return nodepool_from_object(obj)
