"""EKS tokens are verified for real: signature, cluster header, age, known access key."""
from datetime import datetime, timedelta, timezone

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.kubeapi.conftest import api_client, node, token


def list_nodes(api, bearer: str):
    with api_client(api, bearer) as client:
        return k8s.CoreV1Api(client).list_node()


def assert_unauthorized(api, bearer: str) -> None:
    with pytest.raises(ApiException) as raised:
        list_nodes(api, bearer)
    assert raised.value.status == 401
    assert '"reason":"Unauthorized"' in raised.value.body
    assert api.requests[-1].status == 401 and api.requests[-1].user is None


def test_app_token_authenticates_as_costguard(api):
    api.store.put(node("node-a"))
    assert [n.metadata.name for n in list_nodes(api, token()).items] == ["node-a"]
    assert api.requests[-1].user == "costguard"


def test_admin_token_authenticates_as_admin(api):
    list_nodes(api, token("sandbox-admin"))
    assert api.requests[-1].user == "admin"


def test_token_for_another_cluster_is_rejected(api):
    assert_unauthorized(api, token(cluster="some-other-cluster"))


def test_token_signed_with_a_wrong_secret_is_rejected(api):
    assert_unauthorized(api, token(secret="not-the-secret"))


def test_unknown_access_key_is_rejected(api):
    assert_unauthorized(api, token(access_key="AKIAUNKNOWN"))


def test_expired_token_is_rejected(api):
    bearer = token(fresh=True)  # a cached one may be minutes old already, and +14 minutes would expire it
    api.authenticator.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=16)
    assert_unauthorized(api, bearer)
    api.authenticator.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=14)
    assert list_nodes(api, bearer).items == []


def test_a_token_accepted_once_still_expires(api):
    # verified tokens are cached; the cache must not outlive the token
    bearer = token(fresh=True)
    assert list_nodes(api, bearer).items == []
    api.authenticator.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=16)
    assert_unauthorized(api, bearer)


@pytest.mark.parametrize("bearer", ["k8s-aws-v1.", "k8s-aws-v1.!!!notbase64", "plain-token"])
def test_malformed_tokens_are_rejected(api, bearer):
    assert_unauthorized(api, bearer)


def test_tampered_url_is_rejected(api):
    import base64
    url = base64.urlsafe_b64decode(token()[len("k8s-aws-v1."):] + "==").decode()
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=900")
    forged = "k8s-aws-v1." + base64.urlsafe_b64encode(tampered.encode()).decode().rstrip("=")
    assert_unauthorized(api, forged)


def test_missing_authorization_header_is_rejected(api):
    configuration = k8s.Configuration()
    configuration.host = api.url
    configuration.ssl_ca_cert = api.ca_file
    configuration.retries = 0
    with k8s.ApiClient(configuration) as client, pytest.raises(ApiException) as raised:
        k8s.CoreV1Api(client).list_node()
    assert raised.value.status == 401


def test_each_lambda_role_authenticates_through_its_own_access_entry(api):
    # EKS access entries: the signer's principal → username and kubernetesGroups (see sandbox/kubeapi/auth.py)
    from chalice_app import naming
    from sandbox.kubeapi.auth import lambda_access_key

    seen = set()
    for function in naming.LAMBDAS:
        bearer = token(lambda_access_key(function))
        assert api.authenticator.authenticate(f"Bearer {bearer}").groups == (naming.kubernetes_group(function),)
        seen.add(naming.kubernetes_group(function))
    assert seen == {"costguard:interruptions", "costguard:offhours", "costguard:budget", "costguard:digests",
                    "costguard:slack"}


def test_a_signed_token_from_a_principal_without_an_access_entry_is_rejected(api):
    app_role = api.authenticator.keys["costguard-app"].principal_arn
    del api.authenticator.entries[app_role]  # the key is known and its signature checks out: no entry, no access
    assert_unauthorized(api, token())
