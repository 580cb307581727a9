"""core/v1 Events in the fake API: created and listed with the real `kubernetes` client, filtered the way
`kubectl describe node` asks for them (kubectl describe.go: involvedObject fields, all namespaces)."""
from datetime import datetime, timezone

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.k8s_events import event
from tests.kubeapi.conftest import namespace, node

AT = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def seeded(api):
    api.store.put(namespace("default"))
    api.store.put(namespace("openfaas-fn"))
    return api.store.put(node("ip-10-0-0-1.ec2.internal"))


def test_events_about_a_node_are_created_in_default_and_found_by_kubectls_field_selector(seeded, admin_client):
    core = k8s.CoreV1Api(admin_client)
    body = event(seeded, "SpotInterruption", "Spot interruption warning", AT, component="costguard")
    created = core.create_namespaced_event("default", body)
    assert created.involved_object.name == "ip-10-0-0-1.ec2.internal" and created.metadata.resource_version
    core.create_namespaced_event("default", event({**seeded, "metadata": {**seeded["metadata"], "name": "other"}},
                                                  "Other", "not this node", AT))
    selector = ("involvedObject.kind=Node,involvedObject.name=ip-10-0-0-1.ec2.internal,"
                f"involvedObject.uid={seeded['metadata']['uid']},involvedObject.namespace=")
    found = core.list_event_for_all_namespaces(field_selector=selector).items
    assert [(e.reason, e.message, e.source.component, e.type) for e in found] == [
        ("SpotInterruption", "Spot interruption warning", "costguard", "Normal")]
    assert [e.reason for e in core.list_namespaced_event("default", field_selector="reason=Other").items] == [
        "Other"]


def test_an_event_about_a_cluster_scoped_object_must_live_in_default(seeded, admin_client):
    core = k8s.CoreV1Api(admin_client)
    with pytest.raises(ApiException) as refused:
        misplaced = event(seeded, "X", "wrong namespace", AT)
        misplaced["metadata"]["namespace"] = "openfaas-fn"
        core.create_namespaced_event("openfaas-fn", misplaced)
    assert refused.value.status == 422 and "involvedObject.namespace" in refused.value.body

