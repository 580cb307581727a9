"""What the admission policies cost the fake Kubernetes API: off-hours' own merge patch of a function Deployment
(replicas + costguard's annotation) sent as costguard, to one server with policies/kubernetes-admission.yaml
installed and one without, alternating in one run; and the same patch sent by the admin (the policies' match
condition skips it). Prints milliseconds per patch and the ratio; asserts nothing.

    .venv/bin/python benchmarks/bench_admission.py

The policies' CEL runs in cel-python, a tree-walking interpreter: its cost is the twin's, not kube-apiserver's.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import urllib3  # noqa: E402

from sandbox.kubeapi import FakeKubeApi  # noqa: E402
from sandbox.kubeapi.admission import load_policy_file  # noqa: E402
from tests.kubeapi.conftest import RBAC_FILE, deployment, namespace, token  # noqa: E402

PATCHES = 100
PATH = "/apis/apps/v1/namespaces/openfaas-fn/deployments/sleep"


def seeded(policies: bool) -> FakeKubeApi:
    api = FakeKubeApi(rbac_file=RBAC_FILE).start()
    fn = deployment("sleep")
    fn["metadata"]["annotations"] = {"team": "a", "com.openfaas.scale.max": "10"}
    api.store.put_many([namespace("openfaas-fn"), fn])
    if policies:
        api.store.put_many(load_policy_file(ROOT / "policies" / "kubernetes-admission.yaml"))
    return api


def per_patch(servers: dict[str, FakeKubeApi], access_key: str) -> dict[str, float]:
    """Mean milliseconds per patch; the servers alternate so both see the same machine load."""
    headers = {"Authorization": "Bearer " + token(access_key), "Content-Type": "application/merge-patch+json"}
    pools = {name: urllib3.PoolManager(maxsize=1, ca_certs=api.ca_file) for name, api in servers.items()}
    spent = dict.fromkeys(servers, 0.0)
    for index in range(PATCHES):
        body = json.dumps({"metadata": {"annotations": {"costguard.openfaas.com/original-replicas": str(index)}},
                           "spec": {"replicas": index % 2}})
        for name, api in servers.items():
            started = time.perf_counter()
            response = pools[name].request("PATCH", api.url + PATH, body=body, headers=headers)
            spent[name] += time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"{name}: {response.status} {response.data[:300]!r}")
    return {name: seconds / PATCHES * 1000 for name, seconds in spent.items()}


def main() -> None:
    servers = {"policies": seeded(True), "none": seeded(False)}
    try:
        for who, key in (("costguard", "costguard-app"), ("admin", "sandbox-admin")):
            figures = per_patch(servers, key)
            print(json.dumps({"patched_by": who, "patches": PATCHES,
                              "ms_per_patch_with_policies": round(figures["policies"], 2),
                              "ms_per_patch_without": round(figures["none"], 2),
                              "ratio": round(figures["policies"] / figures["none"], 2)}))
    finally:
        for api in servers.values():
            api.stop()


if __name__ == "__main__":
    main()
