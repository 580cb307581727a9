"""A kubeconfig for local use that authenticates the way the Lambda does (`aws eks get-token`)."""
from __future__ import annotations

from chalice_app.kube.auth import ClusterEndpoint


def render_kubeconfig(cluster_name: str, region: str, endpoint: ClusterEndpoint, profile: str | None = None) -> dict:
    cluster: dict = {"server": endpoint.url}
    if endpoint.ca_data:
        cluster["certificate-authority-data"] = endpoint.ca_data
    user_exec: dict = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"],
        "interactiveMode": "Never",
    }
    if profile:
        user_exec["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    name = f"costguard-{cluster_name}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"exec": user_exec}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
