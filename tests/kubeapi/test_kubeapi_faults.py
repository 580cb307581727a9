"""Injected faults, and the app's retry policy riding them out."""
import pytest
import urllib3
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from chalice_app.kube.client import retry_policy
from sandbox.kubeapi import Fault
from tests.kubeapi.conftest import api_client, node, token


@pytest.fixture
def seeded(api):
    api.store.put(node("node-a"))
    return api


def statuses(api) -> list[int]:
    return [record.status for record in api.requests]


def test_429_carries_retry_after_and_a_status(seeded, app_client):
    seeded.faults.inject(Fault(status=429, retry_after=3, times=1))
    with pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(app_client).list_node()
    assert raised.value.status == 429 and raised.value.headers["Retry-After"] == "3"
    assert '"reason":"TooManyRequests"' in raised.value.body
    assert k8s.CoreV1Api(app_client).list_node().items  # the fault is spent


def test_retry_policy_rides_out_429s(seeded):
    seeded.faults.inject(Fault(status=429, retry_after=1, times=2))
    with api_client(seeded, token(), retries=retry_policy()) as client:
        assert [n.metadata.name for n in k8s.CoreV1Api(client).list_node().items] == ["node-a"]
    assert statuses(seeded) == [429, 429, 200]


def test_retry_policy_rides_out_500s_on_writes(seeded):
    seeded.faults.inject(Fault(status=500, retry_after=None, times=1, method="PATCH"))
    with api_client(seeded, token(), retries=retry_policy()) as client:
        core = k8s.CoreV1Api(client)
        core.read_node("node-a")
        assert core.patch_node("node-a", {"spec": {"unschedulable": True}}).spec.unschedulable
    assert [(r.method, r.status) for r in seeded.requests] == [("GET", 200), ("PATCH", 500), ("PATCH", 200)]


def test_faults_match_method_and_path(seeded, app_client):
    seeded.faults.inject(Fault(status=503, times=5, method="PATCH", path_contains="/api/v1/nodes/node-a"))
    core = k8s.CoreV1Api(app_client)
    assert core.read_node("node-a").metadata.name == "node-a"
    with pytest.raises(ApiException) as raised:
        core.patch_node("node-a", {"metadata": {"labels": {"a": "b"}}})
    assert raised.value.status == 503
    seeded.faults.clear()
    core.patch_node("node-a", {"metadata": {"labels": {"a": "b"}}})
    assert statuses(seeded) == [200, 503, 200]


def test_delay_holds_the_answer_back(seeded, app_client):
    seeded.faults.inject(Fault(status=0, delay=1.0, times=1))
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        k8s.CoreV1Api(app_client).list_node(_request_timeout=(1, 0.2))
    seeded.faults.inject(Fault(status=0, delay=0.1, times=1))
    assert k8s.CoreV1Api(app_client).list_node(_request_timeout=(1, 5)).items


def test_requests_are_recorded_and_reset(seeded, app_client):
    k8s.CoreV1Api(app_client).list_node(label_selector="a=b", limit=5)
    record = seeded.requests[-1]
    assert (record.method, record.path, record.user, record.status) == ("GET", "/api/v1/nodes", "costguard", 200)
    assert record.query == {"labelSelector": "a=b", "limit": "5"}
    seeded.reset_requests()
    assert seeded.requests == []
