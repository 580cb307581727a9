"""A kubeconfig for local use that authenticates the way the Lambda does (`aws eks get-token`)."""
from __future__ import annotations

from chalice_app.kube.auth import ClusterEndpoint


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
