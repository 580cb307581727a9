"""The OpenFaaS chart's core Deployments per edition, as `helm install openfaas/openfaas` renders them (only the parts
a client can tell the editions apart by).

- CE: the gateway image is `ghcr.io/openfaas/gateway` and faas-netes `ghcr.io/openfaas/faas-netes` (openfaas/faas-netes
  chart/openfaas/values.yaml `gateway.image`, `faasnetes.image`); no autoscaler Deployment.
- Standard (`openfaasPro: true`): images from `ghcr.io/openfaasltd` (values.yaml `faasnetesPro.image`,
  `autoscaler.image`; `gatewayPro.image: .../openfaasltd/gateway` in openfaas/docs' air-gap guide), started with
  `-license-file=/var/secrets/license/license` (chart/openfaas/templates/autoscaler-dep.yaml renders it for the
  autoscaler; the sandbox renders the Pro gateway the same way — an assumption, the Pro gateway template was not in
  the sources available), and an `autoscaler` Deployment (autoscaler-dep.yaml, rendered only with openfaasPro and
  autoscaler.enabled). The autoscaler's env is what autoscaler-dep.yaml renders (gateway_url, prometheus_host,
  prometheus_port; default_target only when autoscaler.defaultTarget is set).
- `autoscaler.maintainMinimumReplicas` does not exist upstream: the newest autoscaler-dep.yaml in the sources
  (faas-netes commit 0140752) renders only gateway_url, prometheus_host/port, secret_mount_path, basic_auth,
  default_target and `-horizontal-scaling=false`, and no values.yaml, values-pro.yaml or chart README mentions it
  (re-checked 2026-12-02, issue 9). The twin's invented stand-in — an env `maintain_minimum_replicas: "true"` —
  is rendered ONLY when a sandbox turns the option on, the way the chart renders its optional values
  (`{{- if .Values.autoscaler.defaultTarget }}`), so a default Standard twin looks like a real chart.
Pure: objects in, objects out.
"""
from __future__ import annotations

import copy
from datetime import datetime

from sandbox import objects
from sandbox.objects import CORE_NAMESPACE, Workload

CE_IMAGES = {"gateway": "ghcr.io/openfaas/gateway:0.27.12", "faas-netes": "ghcr.io/openfaas/faas-netes:0.18.13"}
PRO_IMAGES = {"gateway": "ghcr.io/openfaasltd/gateway:0.4.38", "faas-netes": "ghcr.io/openfaasltd/faas-netes:0.5.62",
              "autoscaler": "ghcr.io/openfaasltd/autoscaler:0.3.6"}
LICENSE_FLAG = "-license-file=/var/secrets/license/license"


def _gateway_containers(edition: str) -> list[dict]:
    images = PRO_IMAGES if edition == "standard" else CE_IMAGES
    gateway: dict = {"name": "gateway", "image": images["gateway"],
                     "env": [{"name": "scale_from_zero", "value": "true"},
                             {"name": "function_namespace", "value": "openfaas-fn"}],
                     "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                     "resources": {"requests": {"cpu": "50m", "memory": "120Mi"}}}
    if edition == "standard":
        gateway["command"] = ["./gateway", LICENSE_FLAG]
    provider = {"name": "faas-netes", "image": images["faas-netes"],
                "env": [{"name": "port", "value": "8081"}, {"name": "function_namespace", "value": "openfaas-fn"}],
                "ports": [{"containerPort": 8081, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "50m", "memory": "120Mi"}}}
    return [gateway, provider]


def _autoscaler(created: datetime, maintain_minimum_replicas: bool, node: dict) -> list[dict]:
    work = Workload("autoscaler", CORE_NAMESPACE, PRO_IMAGES["autoscaler"], 50, 128, 1, {"app": "autoscaler"}, {})
    deployment = objects.deployment(work, created)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["/usr/bin/autoscaler", LICENSE_FLAG]
    container["env"] = [{"name": "gateway_url", "value": "http://gateway.openfaas:8080/"},
                        {"name": "prometheus_host", "value": "prometheus.openfaas"},
                        {"name": "prometheus_port", "value": "9090"}]
    if maintain_minimum_replicas:  # not upstream: see the module docstring
        container["env"].append({"name": "maintain_minimum_replicas", "value": "true"})
    ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    pod = objects.pod(work, objects.uid_for("autoscaler")[:5], created, node["metadata"]["name"], ip, "100.64.255.2")
    pod["spec"]["containers"] = copy.deepcopy(deployment["spec"]["template"]["spec"]["containers"])
    return [deployment, pod]


def chart_objects(seeded: list[dict], edition: str, maintain_minimum_replicas: bool, created: datetime
                  ) -> list[dict]:
    """The seeded objects with the gateway rendered for `edition` and, on Standard, the autoscaler added."""
    result = []
    nodegroup_node = None
    for obj in seeded:
        if obj["kind"] == "Deployment" and obj["metadata"]["namespace"] == CORE_NAMESPACE \
                and obj["metadata"]["name"] == "gateway":
            obj = copy.deepcopy(obj)
            obj["spec"]["template"]["spec"]["containers"] = _gateway_containers(edition)
        if obj["kind"] == "Pod" and obj["metadata"].get("labels", {}).get("app") == "gateway":
            obj = copy.deepcopy(obj)
            obj["spec"]["containers"] = _gateway_containers(edition)
        if obj["kind"] == "Node" and nodegroup_node is None \
                and "eks.amazonaws.com/nodegroup" in obj["metadata"].get("labels", {}):
            nodegroup_node = obj
        result.append(obj)
    if edition == "standard" and nodegroup_node is not None:
        result.extend(_autoscaler(created, maintain_minimum_replicas, nodegroup_node))
    return result
