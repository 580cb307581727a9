"""Speed figures for the fake API server: `python -m sandbox.kubeapi.bench` (prints, asserts nothing)."""
from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import boto3
from kubernetes import client as k8s

from chalice_app.kube.auth import make_token
from sandbox.kubeapi import FakeKubeApi
from sandbox.kubeapi.resources import DEPLOYMENTS

POLICY = Path(__file__).resolve().parents[2] / "policies" / "kubernetes-rbac.yaml"


def _objects(deployments: int, nodes: int, pods_per_node: int) -> list[dict]:
    objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openfaas-fn"}}]
    for i in range(deployments):
        name = f"fn-{i:05d}"
        labels = {"faas_function": name}
        objs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": {"name": name, "namespace": "openfaas-fn", "labels": labels,
                                  "annotations": {"com.openfaas.scale.zero": "true"}},
                     "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                              "template": {"metadata": {"labels": labels},
                                           "spec": {"containers": [{"name": name, "image": f"ghcr.io/x/{name}",
                                                                    "resources": {"requests": {"cpu": "50m"}}}]}}},
                     "status": {"replicas": 1, "readyReplicas": 1}})
    for n in range(nodes):
        node = f"ip-10-0-{n // 250}-{n % 250}.ec2.internal"
        objs.append({"apiVersion": "v1", "kind": "Node",
                     "metadata": {"name": node, "labels": {"karpenter.sh/nodepool": "default",
                                                           "karpenter.sh/capacity-type": "spot"}},
                     "spec": {"providerID": f"aws:///us-east-1a/i-{n:017x}"},
                     "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        for p in range(pods_per_node):
            index = (n * pods_per_node + p) % max(deployments, 1)
            objs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": f"fn-{index:05d}-{n}-{p}", "namespace": "openfaas-fn",
                                      "labels": {"faas_function": f"fn-{index:05d}"}},
                         "spec": {"nodeName": node, "containers": [{"name": "fn", "image": "x"}]},
                         "status": {"phase": "Running"}})
    return objs


def main() -> None:
    objs = _objects(10_000, 5_000, 2)
    with FakeKubeApi(cluster_name="openfaas", rbac_file=POLICY) as api:
        started = time.perf_counter()
        api.store.put_many(objs)
        load = time.perf_counter() - started
        tracemalloc.start()
        sample = FakeKubeApi()
        sample.store.put_many(objs[:5000])
        memory = tracemalloc.get_traced_memory()[0] / 2**20 * len(objs) / 5000
        tracemalloc.stop()
        print(f"put_many: {len(objs):,} objects in {load:.2f} s (~{memory:.0f} MiB held, extrapolated)")
        session = boto3.Session(aws_access_key_id="costguard-app", aws_secret_access_key="sandbox-secret",
                                region_name="us-east-1")
        configuration = k8s.Configuration()
        configuration.host = api.url
        configuration.ssl_ca_cert = api.ca_file
        configuration.api_key_prefix["authorization"] = "Bearer"
        configuration.api_key["authorization"] = make_token("openfaas", session, "us-east-1")
        with k8s.ApiClient(configuration) as client:
            apps, core = k8s.AppsV1Api(client), k8s.CoreV1Api(client)
            for label, call in (
                ("deployments, pages of 500", lambda token: apps.list_namespaced_deployment(
                    "openfaas-fn", limit=500, _continue=token)),
                ("pods on one node (field selector), pages of 500", lambda token: core.list_pod_for_all_namespaces(
                    field_selector="spec.nodeName=ip-10-0-3-7.ec2.internal", limit=500, _continue=token)),
            ):
                started, token, pages, items = time.perf_counter(), None, 0, 0
                while True:
                    page = call(token)
                    pages, items = pages + 1, items + len(page.items)
                    token = page.metadata._continue
                    if not token:
                        break
                elapsed = time.perf_counter() - started
                print(f"list {label}: {items:,} items in {pages} pages, {elapsed:.2f} s "
                      f"({elapsed / pages * 1000:.0f} ms/page, real client deserialising)")
            started = time.perf_counter()
            for i in range(200):
                apps.patch_namespaced_deployment_scale(f"fn-{i:05d}", "openfaas-fn", {"spec": {"replicas": 0}})
            print(f"200 scale patches: {(time.perf_counter() - started) / 200 * 1000:.1f} ms each")
        started = time.perf_counter()
        page = api.store.page(DEPLOYMENTS, "openfaas-fn", None, 500, None)
        page = api.store.page(DEPLOYMENTS, "openfaas-fn", None, 500, page.continue_token)
        print(f"server-side second page of 500 (no HTTP): {(time.perf_counter() - started) / 2 * 1000:.2f} ms, "
              f"{sum(map(len, page.raws)) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
