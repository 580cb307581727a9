"""Server-side printing (kubectl get): Tables from the CRDs' additionalPrinterColumns and kube-apiserver's printers."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from sandbox.kubeapi.resources import by_path
from sandbox.kubeapi.tables import human_age, wants_table
from tests.kubeapi.conftest import deployment, namespace, node, requires_crds

KUBECTL_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                  "application/json")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("ago, shown", [
    (timedelta(seconds=5), "5s"), (timedelta(seconds=119), "119s"), (timedelta(minutes=7, seconds=3), "7m3s"),
    (timedelta(minutes=45), "45m"), (timedelta(hours=5, minutes=30), "5h30m"), (timedelta(hours=26), "26h"),
    (timedelta(days=6, hours=16), "6d16h"), (timedelta(days=30), "30d"), (timedelta(days=800), "2y70d"),
])
def test_ages_read_as_kubectl_shows_them(ago, shown):
    assert human_age((NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ"), NOW) == shown


def test_only_a_meta_table_accept_asks_for_a_table():
    assert wants_table(KUBECTL_ACCEPT) == "v1"
    assert wants_table("application/json") is None
    assert wants_table("application/json;as=Table;v=v1beta1;g=meta.k8s.io") == "v1beta1"


def get_table(api, admin_client, path: str) -> dict:
    response = admin_client.call_api(*admin_client.param_serialize(
        "GET", path, header_params={"Accept": KUBECTL_ACCEPT}, auth_settings=["BearerToken"]))
    response.read()
    assert response.status == 200
    return json.loads(response.data)


def test_builtin_printers_columns(api, admin_client):
    api.store.put_many([namespace("fn"), deployment("sleep", "fn", replicas=2),
                        node("ip-10-0-1-1.ec2.internal", {"node-role.kubernetes.io/worker": ""}, unschedulable=True)])
    table = get_table(api, admin_client, "/apis/apps/v1/namespaces/fn/deployments")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"] if not c.get("priority")] == [
        "Name", "Ready", "Up-to-date", "Available", "Age"]
    assert table["rows"][0]["cells"][:2] == ["sleep", "2/2"]  # status.readyReplicas / spec.replicas
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    nodes = get_table(api, admin_client, "/api/v1/nodes")
    assert nodes["rows"][0]["cells"][:3] == ["ip-10-0-1-1.ec2.internal", "Ready,SchedulingDisabled", "worker"]
    # the plain list is still what the kubernetes client gets
    plain = admin_client.call_api(*admin_client.param_serialize("GET", "/api/v1/nodes", auth_settings=["BearerToken"]))
    plain.read()
    assert json.loads(plain.data)["kind"] == "NodeList"


@requires_crds
def test_custom_resources_use_their_additional_printer_columns(api, admin_client):
    api.store.put_many([{"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim", "metadata": {
        "name": "spot-abc", "labels": {"karpenter.sh/nodepool": "spot", "karpenter.sh/capacity-type": "spot",
                                       "node.kubernetes.io/instance-type": "c6a.large",
                                       "topology.kubernetes.io/zone": "us-east-1c"}},
        "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                 "requirements": []},
        "status": {"nodeName": "ip-10-0-1-1", "conditions": [
            {"type": "Ready", "status": "True", "reason": "Ready", "message": "", "lastTransitionTime":
             "2026-12-01T00:00:00Z"}]}}])
    table = get_table(api, admin_client, "/apis/karpenter.sh/v1/nodeclaims")
    columns = [c["name"] for c in table["columnDefinitions"]]
    assert columns[:8] == ["Name", "Type", "Capacity", "Zone", "Node", "Ready", "Age", "ImageID"]
    assert table["rows"][0]["cells"][:6] == ["spot-abc", "c6a.large", "spot", "us-east-1c", "ip-10-0-1-1", "True"]


def test_a_custom_resource_without_columns_gets_age():
    from sandbox.kubeapi.tables import to_table

    profiles = by_path("openfaas.com", "v1", "profiles")
    body = json.dumps({"items": [{"metadata": {"name": "p", "creationTimestamp": "2026-12-02T11:00:00Z"}}],
                       "metadata": {"resourceVersion": "7"}}).encode()
    table = json.loads(to_table(profiles, body, "v1", {}, (), NOW))
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"] == ["p", "60m"] and table["metadata"] == {"resourceVersion": "7"}
