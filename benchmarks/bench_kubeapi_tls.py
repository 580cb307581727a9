"""What HTTPS costs the fake Kubernetes API: the same reads over HTTP and HTTPS in one run, and the ratio.

    .venv/bin/python benchmarks/bench_kubeapi_tls.py

Keep-alive connections (as the kubernetes client and kubectl use them): the handshake is paid once per connection,
so the per-request cost is what TLS adds to each exchange. A fresh connection per request shows the handshake.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import urllib3  # noqa: E402

from sandbox.kubeapi import FakeKubeApi  # noqa: E402
from tests.kubeapi.conftest import node, token  # noqa: E402

REQUESTS = 300


def per_request(servers: dict[str, FakeKubeApi], fresh: bool) -> dict[str, float]:
    """Mean seconds per request; HTTP and HTTPS alternate so both see the same machine load."""
    headers = {"Authorization": "Bearer " + token("sandbox-admin")}
    pools = {name: urllib3.PoolManager(maxsize=1, ca_certs=api.ca_file) for name, api in servers.items()}
    spent = dict.fromkeys(servers, 0.0)
    count = REQUESTS // 10 if fresh else REQUESTS
    for name, api in servers.items():
        pools[name].request("GET", api.url + "/api/v1/nodes", headers=headers)  # connect once
    for _ in range(count):
        for name, api in servers.items():
            started = time.perf_counter()
            if fresh:
                with urllib3.PoolManager(ca_certs=api.ca_file) as pool:
                    pool.request("GET", api.url + "/api/v1/nodes", headers=headers)
            else:
                pools[name].request("GET", api.url + "/api/v1/nodes", headers=headers)
            spent[name] += time.perf_counter() - started
    for pool in pools.values():
        pool.clear()
    return {name: total / count for name, total in spent.items()}


def main() -> None:
    with FakeKubeApi(https=False) as plain, FakeKubeApi(https=True) as secure:
        servers = {"http": plain, "https": secure}
        for api in servers.values():
            api.store.put_many([node(f"node-{i}") for i in range(50)])
        print(f"list of 50 nodes (13.6 kB), {REQUESTS} requests  {'http ms':>8} {'https ms':>9} {'ratio':>6}")
        for label, fresh in (("keep-alive connection", False), ("new connection each", True)):
            times = per_request(servers, fresh)
            print(f"{label:<42} {times['http'] * 1000:>8.2f} {times['https'] * 1000:>9.2f} "
                  f"{times['https'] / times['http']:>6.2f}")


if __name__ == "__main__":
    main()
