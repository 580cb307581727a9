"""A fake Kubernetes API server for costguard's sandbox, driven through the real `kubernetes` client.

    with FakeKubeApi(cluster_name="openfaas", rbac_file=Path("policies/kubernetes-rbac.yaml"),
                     crd_dir=Path("../shared/crds")) as api:
        api.store.put(node)                       # seed without HTTP or RBAC
        configuration.host = api.url              # then talk to it with EKS tokens

Authentication verifies EKS tokens (SigV4 recomputed for the sandbox access keys), RBAC enforces the policy file,
custom objects are validated against their CRDs, and `api.faults` injects 429/5xx/delays.
"""
from sandbox.kubeapi.auth import AccessKey, Identity
from sandbox.kubeapi.errors import ApiError
from sandbox.kubeapi.faults import Fault
from sandbox.kubeapi.server import FakeKubeApi, RequestRecord

__all__ = ["AccessKey", "ApiError", "FakeKubeApi", "Fault", "Identity", "RequestRecord"]
