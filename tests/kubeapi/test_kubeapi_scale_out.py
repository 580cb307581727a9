"""Large clusters and concurrent writers: every item exactly once across pages, no lost updates."""
import json
import threading

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.kubeapi.conftest import api_client, deployment, namespace, token


def test_ten_thousand_deployments_page_by_500(api, app_client):
    api.store.put_many([namespace("openfaas-fn")] + [deployment(f"fn-{i:05d}") for i in range(10_000)])
    apps = k8s.AppsV1Api(app_client)
    names, remaining, token_ = [], [], None
    while True:  # raw JSON: the point is the server's paging, not the client's model parsing
        response = apps.list_namespaced_deployment("openfaas-fn", limit=500, _continue=token_,
                                                   _preload_content=False)
        page = json.loads(response.data)
        names += [item["metadata"]["name"] for item in page["items"]]
        remaining.append(page["metadata"].get("remainingItemCount"))
        token_ = page["metadata"].get("continue")
        if not token_:
            break
    assert names == [f"fn-{i:05d}" for i in range(10_000)]
    assert remaining == list(range(9_500, 0, -500)) + [None]


def test_concurrent_read_modify_write_loses_no_update(api):
    api.store.put_many([namespace("fn"), deployment("counter", "fn", replicas=0)])
    conflicts = []

    def bump(times: int) -> None:
        with api_client(api, token("sandbox-admin")) as client:
            apps = k8s.AppsV1Api(client)
            done = 0
            while done < times:
                current = apps.read_namespaced_deployment("counter", "fn")
                current.spec.replicas += 1
                try:
                    apps.replace_namespaced_deployment("counter", "fn", current)
                    done += 1
                except ApiException as error:
                    assert error.status == 409
                    conflicts.append(1)

    workers = [threading.Thread(target=bump, args=(15,)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert api.store.get("apps/v1", "Deployment", "fn", "counter")["spec"]["replicas"] == 90
    puts = [r for r in api.requests if r.method == "PUT"]
    assert len(puts) == 90 + len(conflicts) and sum(r.status == 409 for r in puts) == len(conflicts)
