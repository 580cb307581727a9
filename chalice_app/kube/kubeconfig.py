"""A kubeconfig for local use that authenticates the way the Lambda does (`aws eks get-token`)."""
from __future__ import annotations

import boto3

from chalice_app.config import Settings
from chalice_app.kube.auth import ClusterEndpoint, describe_cluster, sts_presign_endpoint


def render_kubeconfig(cluster_name: str, region: str, endpoint: ClusterEndpoint, profile: str | None = None,
                      sts_endpoint: str | None = None) -> dict:
    """`sts_endpoint` pins the host `aws eks get-token` presigns for (AWS_ENDPOINT_URL_STS): EKS accepts only its
    partition's STS hosts (aws-iam-authenticator pkg/token/token.go verifyHost), and a shell's AWS_ENDPOINT_URL (a
    local AWS like the sandbox's, LocalStack) would otherwise end up in the token. Presigning sends nothing."""
    cluster: dict = {"server": endpoint.url}
    if endpoint.ca_data:
        cluster["certificate-authority-data"] = endpoint.ca_data
    user_exec: dict = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"],
        "interactiveMode": "Never",
    }
    env = []
    if profile:
        env.append({"name": "AWS_PROFILE", "value": profile})
    if sts_endpoint:
        env.append({"name": "AWS_ENDPOINT_URL_STS", "value": sts_endpoint})
    if env:
        user_exec["env"] = env
    name = f"costguard-{cluster_name}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"exec": user_exec}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


def stage_kubeconfig(settings: Settings, session: boto3.session.Session, profile: str | None = None) -> dict:
    """The kubeconfig for `settings`' cluster: endpoint and CA from eks:DescribeCluster (or the endpoint override)."""
    if settings.kube_endpoint:
        endpoint = ClusterEndpoint(settings.kube_endpoint, settings.kube_ca_data)
    else:
        endpoint = describe_cluster(settings.cluster_name, session, settings.region)
    return render_kubeconfig(settings.cluster_name, settings.region, endpoint, profile,
                             sts_endpoint=sts_presign_endpoint(session, settings.region))
