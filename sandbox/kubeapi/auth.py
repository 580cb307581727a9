"""EKS bearer-token authentication: the token's presigned STS URL is checked and its SigV4 signature recomputed
with botocore's signer for the known access keys, instead of asking STS (which the sandbox does not reach).

The signer's access key names an IAM principal (what STS GetCallerIdentity would answer), and the principal's EKS
access entry gives the Kubernetes username and groups (EKS API reference, AccessEntry: `principalArn`,
`username`, `kubernetesGroups` — "the name that you've specified for kind: Group as a subject in a Kubernetes
RoleBinding or ClusterRoleBinding"). A principal without an access entry is not let in (401), as in EKS.
"""
from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from chalice_app import naming

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_MAX_AGE = timedelta(minutes=15)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class AccessKey:
    secret: str
    principal_arn: str  # the IAM role (or user) the key's credentials belong to


@dataclass(frozen=True)
class AccessEntry:
    """An EKS access entry of type STANDARD that authorizes through Kubernetes RBAC (no access policies)."""
    principal_arn: str
    username: str
    kubernetes_groups: tuple[str, ...]

    @property
    def identity(self) -> Identity:
        return Identity(self.username, self.kubernetes_groups)


@dataclass
class Authenticator:
    cluster_name: str
    keys: dict[str, AccessKey] = field(default_factory=lambda: default_access_keys())
    entries: dict[str, AccessEntry] = field(default_factory=lambda: default_access_entries())
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    # token → (access key id, X-Amz-Date) of tokens whose signature checked out: a client reuses its token for
    # minutes, and recomputing SigV4 on every request was most of the server's time per request.
    _verified: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def authenticate(self, authorization: str | None) -> Identity | None:
        """The identity behind an `Authorization: Bearer k8s-aws-v1.…` header, or None for anything invalid."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer "):].strip()
        cached = self._verified.get(token)
        if cached is not None:
            if self._fresh(cached[1]):  # still checked for expiry on every request
                return self._identity(cached[0])
            self._verified.pop(token, None)
        url = _decode_token(token)
        if url is None:
            return None
        verified = self._verify(url)
        if verified is None:
            return None
        if len(self._verified) >= 1024:  # bounded: the sandbox sees a handful of tokens
            self._verified.clear()
        self._verified[token] = verified
        return self._identity(verified[0])

    def _identity(self, access_key_id: str) -> Identity | None:
        """The identity the signer's access entry maps it to; None (401) when its principal has no entry."""
        entry = self.entries.get(self.keys[access_key_id].principal_arn)
        return entry.identity if entry is not None else None

    def _verify(self, url: str) -> tuple[str, str] | None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or not parts.hostname.startswith("sts."):
            return None
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if (query.get("Action") != "GetCallerIdentity" or query.get("Version") != "2011-06-15"
                or query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256"):
            return None
        signed_headers = query.get("X-Amz-SignedHeaders", "").split(";")
        if CLUSTER_ID_HEADER not in signed_headers or "host" not in signed_headers:
            return None
        credential = query.get("X-Amz-Credential", "").split("/")
        if len(credential) != 5 or credential[3:] != ["sts", "aws4_request"]:
            return None
        access_key_id, date, region = credential[0], credential[1], credential[2]
        key = self.keys.get(access_key_id)
        timestamp = query.get("X-Amz-Date", "")
        if key is None or not timestamp.startswith(date) or not self._fresh(timestamp):
            return None
        if self._signature_matches(url, key.secret, access_key_id, region, timestamp, query):
            return access_key_id, timestamp
        return None

    def _fresh(self, timestamp: str) -> bool:
        try:
            signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return False
        now = self.clock()
        return now - TOKEN_MAX_AGE <= signed_at <= now + CLOCK_SKEW

    def _signature_matches(self, url: str, secret: str, access_key_id: str, region: str, timestamp: str,
                           query: dict[str, str]) -> bool:
        # The canonical request covers every query parameter but the signature, exactly as sent.
        base, _, raw_query = url.partition("?")
        unsigned = "&".join(pair for pair in raw_query.split("&") if not pair.startswith("X-Amz-Signature="))
        request = AWSRequest(method="GET", url=f"{base}?{unsigned}",
                             headers={CLUSTER_ID_HEADER: self.cluster_name})
        request.context["timestamp"] = timestamp
        signer = SigV4QueryAuth(Credentials(access_key_id, secret), "sts", region)
        headers = signer.headers_to_sign(request)
        if signer.signed_headers(headers) != query["X-Amz-SignedHeaders"]:
            return False
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        return _constant_time_equal(expected, query.get("X-Amz-Signature", ""))


def _constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _decode_token(token: str) -> str | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    encoded = token[len(TOKEN_PREFIX):]
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


# The sandbox's principals (docs/architecture.md): one role per Lambda of the app (chalice_app.naming), each with
# its own access entry and group; the admin; and `costguard-app`, a sandbox-only principal whose entry lists every
# Lambda's group — the union of the app's roles, for tests that drive several features in one block.
# tests/cli/test_least_privilege.py runs each feature as its own role instead.
ACCOUNT_ID = "123456789012"
SANDBOX_STAGE = "sandbox"
APP_USER = "costguard"
ADMIN_KEY = "sandbox-admin"
APP_KEY = "costguard-app"
SECRET = "sandbox-secret"


def role_arn(role: str, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


def lambda_access_key(function: str) -> str:
    """The sandbox access key standing for the credentials of one Lambda's role."""
    return f"{naming.APP_NAME}-{function}"


def lambda_access_entry(stage: str, function: str, account: str = ACCOUNT_ID) -> AccessEntry:
    """What the deploy guide creates per Lambda role: username and group both name the feature."""
    group = naming.kubernetes_group(function)
    return AccessEntry(role_arn(naming.role_name(stage, function), account), group, (group,))


def default_access_keys(stage: str = SANDBOX_STAGE) -> dict[str, AccessKey]:
    keys = {lambda_access_key(function): AccessKey(SECRET, role_arn(naming.role_name(stage, function)))
            for function in naming.LAMBDAS}
    keys[APP_KEY] = AccessKey(SECRET, role_arn(naming.scoped(stage, "app")))
    keys[ADMIN_KEY] = AccessKey(SECRET, role_arn("sandbox-admin"))
    return keys


def default_access_entries(stage: str = SANDBOX_STAGE) -> dict[str, AccessEntry]:
    entries = [lambda_access_entry(stage, function) for function in naming.LAMBDAS]
    entries.append(AccessEntry(role_arn(naming.scoped(stage, "app")), APP_USER,
                               tuple(naming.kubernetes_group(function) for function in naming.LAMBDAS)))
    entries.append(AccessEntry(role_arn("sandbox-admin"), "admin", ("system:masters",)))
    return {entry.principal_arn: entry for entry in entries}
