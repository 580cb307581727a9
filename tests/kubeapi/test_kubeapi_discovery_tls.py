"""Discovery as kube-apiserver answers it (what kubectl's REST mapper reads) and HTTPS with the server's own CA."""
import json
import ssl
import urllib.request

import pytest
import urllib3
from kubernetes import client as k8s

from tests.kubeapi.conftest import api_client, requires_crds, token


def get(admin_client, path: str) -> dict:
    response = admin_client.call_api(*admin_client.param_serialize("GET", path, auth_settings=["BearerToken"]))
    response.read()
    assert response.status == 200, path
    return json.loads(response.data)


def by_name(resource_list: dict) -> dict:
    return {entry["name"]: entry for entry in resource_list["resources"]}


def test_builtins_carry_kube_apiservers_short_names_categories_and_subresources(admin_client):
    apps = by_name(get(admin_client, "/apis/apps/v1"))
    assert apps["deployments"]["shortNames"] == ["deploy"] and apps["deployments"]["categories"] == ["all"]
    assert {"get", "list", "patch", "update"} <= set(apps["deployments"]["verbs"])
    # the scale subresource is autoscaling/v1 Scale (what `kubectl scale` looks for)
    assert {key: apps["deployments/scale"][key] for key in ("group", "version", "kind", "verbs")} == {
        "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}
    core = by_name(get(admin_client, "/api/v1"))
    assert core["nodes"]["shortNames"] == ["no"] and not core["nodes"]["namespaced"]
    assert core["pods/eviction"]["group"] == "policy" and core["pods/eviction"]["verbs"] == ["create"]
    assert "deletecollection" not in core["namespaces"]["verbs"]
    assert "watch" not in core["pods"]["verbs"]  # not served (405), so not advertised


@requires_crds
def test_custom_resources_take_names_from_their_crds(admin_client):
    karpenter = by_name(get(admin_client, "/apis/karpenter.sh/v1"))
    assert karpenter["nodepools"]["categories"] == ["karpenter"]
    assert karpenter["nodepools"]["singularName"] == "nodepool" and karpenter["nodepools/status"]["kind"] == "NodePool"
    classes = by_name(get(admin_client, "/apis/karpenter.k8s.aws/v1"))
    assert classes["ec2nodeclasses"]["shortNames"] == ["ec2nc", "ec2ncs"]


def test_a_group_document_names_its_versions(admin_client):
    group = get(admin_client, "/apis/karpenter.sh")
    assert group["kind"] == "APIGroup" and group["preferredVersion"]["groupVersion"] == "karpenter.sh/v1"


def test_the_server_speaks_https_with_a_ca_made_for_it(api):
    assert api.url.startswith("https://127.0.0.1:")
    assert "BEGIN CERTIFICATE" in open(api.ca_file).read()
    with api_client(api, token("sandbox-admin")) as client:  # verified against api.ca_file
        assert k8s.VersionApi(client).get_code().major == "1"
    # a client that does not know the CA refuses the server, as it would refuse an impostor
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(api.url + "/version", context=ssl.create_default_context(), timeout=5)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    # and plain HTTP is not answered as HTTP
    with pytest.raises((urllib3.exceptions.HTTPError, ConnectionError)):
        urllib3.PoolManager(retries=False).request("GET", api.url.replace("https", "http") + "/version", timeout=5)


def test_the_apps_client_verifies_the_server_against_the_ca_eks_describes(api):
    from chalice_app.errors import CostguardError
    from chalice_app.kube.auth import ClusterEndpoint, TokenCache
    from chalice_app.kube.client import build_api_client, ca_pem
    from sandbox.kubeapi.tls import issue

    tokens = TokenCache(lambda: token("sandbox-admin"))
    with build_api_client(ClusterEndpoint(api.url, api.ca_data), tokens, retries=urllib3.Retry(0)) as client:
        assert k8s.VersionApi(client).get_code().major == "1"
    impostor_ca = issue("127.0.0.1").ca_data  # another cluster's CA: the server is not trusted
    with build_api_client(ClusterEndpoint(api.url, impostor_ca), tokens, retries=urllib3.Retry(0)) as client, \
            pytest.raises(urllib3.exceptions.MaxRetryError) as refused:
        k8s.VersionApi(client).get_code()
    assert isinstance(refused.value.reason, urllib3.exceptions.SSLError)
    with pytest.raises(CostguardError, match="not base64 PEM"):
        ca_pem("not base64!")
