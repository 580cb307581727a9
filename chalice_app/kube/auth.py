"""EKS bearer tokens and cluster coordinates, as `aws eks get-token` and aws-iam-authenticator make them.

A token is a presigned STS GetCallerIdentity URL, signed with the header `x-k8s-aws-id: <cluster>`, base64url
encoded without padding and prefixed `k8s-aws-v1.`. The API server replays the URL to STS to learn who we are.
"""
from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from typing import Callable

import boto3

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# STS accepts the presigned URL for 15 minutes; refresh a minute early so a request never carries a stale one.
TOKEN_LIFETIME_SECONDS = 15 * 60
REFRESH_MARGIN_SECONDS = 60
PRESIGN_EXPIRES_SECONDS = 60


def sts_presign_endpoint(session: boto3.session.Session, region: str) -> str:
    """The regional STS host the API server will replay the URL to; never an AWS_ENDPOINT_URL override, since
    presigning sends nothing and EKS only accepts URLs on its partition's STS host."""
    suffix = ".amazonaws.com.cn" if session.get_partition_for_region(region) == "aws-cn" else ".amazonaws.com"
    return f"https://sts.{region}{suffix}"


def make_token(cluster_name: str, session: boto3.session.Session, region: str) -> str:
    sts = session.client("sts", region_name=region, endpoint_url=sts_presign_endpoint(session, region))

    def add_cluster_header(request, **_):
        request.headers[CLUSTER_ID_HEADER] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=PRESIGN_EXPIRES_SECONDS, HttpMethod="GET"
    )
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return TOKEN_PREFIX + encoded


@dataclass(frozen=True)
class ClusterEndpoint:
    url: str
    ca_data: str | None  # base64 PEM, as eks:DescribeCluster returns it; None: verify against the system's CAs


def describe_cluster(cluster_name: str, session: boto3.session.Session, region: str) -> ClusterEndpoint:
    cluster = session.client("eks", region_name=region).describe_cluster(name=cluster_name)["cluster"]
    return ClusterEndpoint(url=cluster["endpoint"], ca_data=cluster["certificateAuthority"]["data"])


class TokenCache:
    """Hands out a token, minting a new one only when the cached one is within the refresh margin."""

    def __init__(self, mint: Callable[[], str], clock: Callable[[], float] = time.monotonic):
        self._mint = mint
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def get(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - REFRESH_MARGIN_SECONDS:
                self._token = self._mint()
                self._expires_at = now + TOKEN_LIFETIME_SECONDS
            return self._token
