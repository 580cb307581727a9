"""A fake Kubernetes API server for costguard's sandbox, driven through the real `kubernetes` client.

    with FakeKubeApi(cluster_name="openfaas", region="us-east-1",
                     rbac_file=Path("policies/kubernetes-rbac.yaml"), crd_dir=Path("../shared/crds")) as api:
        api.store.put_many(objects)               # seed without HTTP or RBAC (custom kinds are still validated)
        configuration.host = api.url              # https://127.0.0.1:<port>, a CA made for this server:
        configuration.ssl_ca_cert = api.ca_file   # (api.ca_data: base64 PEM as eks:DescribeCluster gives it)
        api.faults.inject(Fault(status=429, retry_after=1, times=2, method="PATCH", path_contains="/nodes/"))
        api.requests                              # [RequestRecord(method, path, query, user, status, ...)]

- HTTPS only (tls.py: a CA and a serving certificate made at start, removed at stop); discovery documents as
  kube-apiserver's (discovery.py) and Tables for kubectl's `as=Table` requests (tables.py).
- Authentication: `Bearer k8s-aws-v1.…` tokens are decoded and their SigV4 signature recomputed with botocore for
  the sandbox access keys, and the signer's EKS access entry gives user and groups (one role and group per Lambda,
  costguard-app -> user costguard with every Lambda's group, sandbox-admin -> system:masters; see auth.py). A token
  for another cluster, a wrong secret, an unknown key or one older than 15 minutes is a 401.
- Authorization: ClusterRoles/Roles and bindings from `rbac_file`, Kubernetes matching and 403 wording (rbac.py).
- Resources: the table in resources.py. Verbs get, list (labelSelector, fieldSelector, limit/continue),
  create (generateName), update, patch (json, merge, strategic merge for built-ins), delete, deletecollection;
  subresources status, deployments/scale (autoscaling/v1 Scale), pods/eviction (PodDisruptionBudgets enforced).
- Custom objects are pruned, defaulted and validated against the CRDs' openAPIV3Schema (schemas.py); 422 names the
  field; CEL rules (x-kubernetes-validations) are evaluated (cel.py).
- ValidatingAdmissionPolicies and their bindings are served and enforced on every write (admission.py).
- Not served: watch (405), server-side apply (415). NodePool's scale subresource is served. There are no controllers: a
  scaled Deployment gets no new pods, an evicted pod is simply gone (sandbox.cluster_sim plays the controllers).
"""
from sandbox.kubeapi.auth import AccessEntry, AccessKey, Identity
from sandbox.kubeapi.errors import ApiError
from sandbox.kubeapi.faults import Fault
from sandbox.kubeapi.server import FakeKubeApi, RequestRecord

__all__ = ["AccessEntry", "AccessKey", "ApiError", "FakeKubeApi", "Fault", "Identity", "RequestRecord"]
