import base64
from urllib.parse import parse_qs, urlparse

import boto3
import urllib3

from chalice_app.kube.auth import TOKEN_PREFIX, TokenCache, make_token
from chalice_app.kube.client import retry_policy


def decode(token: str) -> str:
    body = token[len(TOKEN_PREFIX):]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_token_is_a_presigned_get_caller_identity_bound_to_the_cluster():
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                    region_name="eu-west-1")
    token = make_token("openfaas", session, "eu-west-1")
    assert token.startswith(TOKEN_PREFIX)
    assert "=" not in token  # base64url without padding, as aws-iam-authenticator expects
    url = urlparse(decode(token))
    query = parse_qs(url.query)
    assert url.hostname == "sts.eu-west-1.amazonaws.com"
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert query["X-Amz-Expires"] == ["60"]


def test_token_cache_mints_again_only_near_expiry():
    minted = []
    now = [1000.0]

    def mint():
        minted.append(now[0])
        return f"token-{len(minted)}"

    cache = TokenCache(mint, clock=lambda: now[0])
    assert cache.get() == "token-1"
    now[0] += 13 * 60  # still more than the one-minute margin before the 15-minute lifetime
    assert cache.get() == "token-1"
    now[0] += 61
    assert cache.get() == "token-2"
    assert len(minted) == 2


def test_retry_policy_retries_throttling_and_server_errors_for_every_verb():
    policy = retry_policy()
    assert isinstance(policy, urllib3.Retry)
    for status in (429, 500, 503):
        assert policy.is_retry("PATCH", status, has_retry_after=True)
    assert not policy.is_retry("PATCH", 409)
    assert not policy.is_retry("GET", 404)
    assert policy.respect_retry_after_header


def test_token_presigns_on_the_real_sts_host_even_with_an_endpoint_override(monkeypatch):
    # EKS replays the URL to its partition's STS host; an AWS_ENDPOINT_URL (moto, a VPC endpoint) must not leak in.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    session = boto3.session.Session(aws_access_key_id="AK", aws_secret_access_key="s", region_name="us-east-1")
    assert urlparse(decode(make_token("openfaas", session, "us-east-1"))).hostname == "sts.us-east-1.amazonaws.com"
    assert urlparse(decode(make_token("openfaas", session, "cn-north-1"))).hostname == "sts.cn-north-1.amazonaws.com.cn"
