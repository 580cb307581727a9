"""Pure builders of Kubernetes objects (plain dicts, as the API returns them) for the sandbox's cluster.

They mirror the OpenFaaS on EKS with Karpenter guide: a managed node group for OpenFaaS' core, a Karpenter
NodePool `default` (on-demand) and `spot` (tainted), one EC2NodeClass, and an OpenFaaS Profile `spot`.
Shared by the seeder and the cluster simulator, so both make objects with the same shape and labels.
"""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sandbox.aws import NODE_AMI_ID

FUNCTION_NAMESPACE = "openfaas-fn"
CORE_NAMESPACE = "openfaas"
NODEGROUP = "openfaas-core"
DAEMONSET_PODS = 3  # aws-node, kube-proxy, eks-pod-identity-agent: pod slots no function can use
SPOT_TAINT = {"key": "karpenter.sh/capacity-type", "value": "spot", "effect": "NoSchedule"}
SPOT_TOLERATION = {"key": "karpenter.sh/capacity-type", "operator": "Equal", "value": "spot", "effect": "NoSchedule"}
SPOT_AFFINITY = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
    {"matchExpressions": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]}
]}}}
KUBELET_VERSION = "v1.33.5-eks-3abbec1"
OS_IMAGE = "Amazon Linux 2023.9.20251014"


@dataclass(frozen=True)
class InstanceShape:
    name: str
    vcpus: int
    memory_mib: int
    max_pods: int  # the VPC CNI's ENI-based limit for the type

    @property
    def family(self) -> str:
        return self.name.split(".")[0]

    @property
    def category(self) -> str:
        return self.family[: next(i for i, ch in enumerate(self.family) if ch.isdigit())]

    @property
    def generation(self) -> str:
        return "".join(ch for ch in self.family if ch.isdigit())

    @property
    def size(self) -> str:
        return self.name.split(".")[1]

    @property
    def allocatable_cpu_m(self) -> int:
        # EKS kube-reserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % beyond.
        shares = [60, 10, 5, 5] + [2.5] * max(0, self.vcpus - 4)
        return self.vcpus * 1000 - int(sum(shares[: self.vcpus]))

    @property
    def allocatable_memory_mi(self) -> int:
        # EKS kube-reserved memory (255Mi + 11Mi per pod) and the 100Mi hard eviction threshold.
        return self.memory_mib - (255 + 11 * self.max_pods) - 100


def uid_for(*parts: str) -> str:
    """A stable UUID-shaped id, so seeded objects are the same on every run."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(kind: str, name: str, created: datetime, namespace: str | None = None, labels: dict | None = None,
          annotations: dict | None = None) -> dict:
    meta = {"name": name, "uid": uid_for(kind, namespace or "", name), "creationTimestamp": stamp(created)}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta


def owner(api_version: str, kind: str, name: str, namespace: str = "", controller: bool = True) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid_for(kind, namespace, name),
            "controller": controller, "blockOwnerDeletion": True}


def namespace(name: str, created: datetime, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("Namespace", name, created, labels=labels),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def ec2_node_class(cluster: str, created: datetime) -> dict:
    discovery = {"karpenter.sh/discovery": cluster}
    return {
        "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
        "metadata": _meta("EC2NodeClass", "default", created),
        "spec": {
            "amiFamily": "AL2023",
            "amiSelectorTerms": [{"alias": "al2023@latest"}],
            "role": f"KarpenterNodeRole-{cluster}",
            "subnetSelectorTerms": [{"tags": discovery}],
            "securityGroupSelectorTerms": [{"tags": discovery}],
            "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                                "httpPutResponseHopLimit": 1, "httpTokens": "required"},
        },
    }


def node_pool(name: str, capacity_type: str, created: datetime, cpu_limit: int = 100) -> dict:
    template_spec: dict = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
        "requirements": [
            {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
            {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity_type]},
        ],
        "expireAfter": "720h",
    }
    if capacity_type == "spot":
        template_spec["taints"] = [dict(SPOT_TAINT)]
    return {
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": _meta("NodePool", name, created,
                          annotations={"karpenter.sh/nodepool-hash": uid_for("hash", name)[:16]}),
        "spec": {
            "template": {"metadata": {"labels": {"openfaas.com/pool": name}}, "spec": template_spec},
            "limits": {"cpu": cpu_limit},
            "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m",
                           "budgets": [{"nodes": "10%"}]},
        },
    }


def spot_profile(created: datetime) -> dict:
    """The OpenFaaS Profile that puts a function on the spot pool: tolerate its taint, require its nodes."""
    return {
        "apiVersion": "openfaas.com/v1", "kind": "Profile",
        "metadata": _meta("Profile", "spot", created, namespace=CORE_NAMESPACE),
        "spec": {"tolerations": [dict(SPOT_TOLERATION)], "affinity": copy.deepcopy(SPOT_AFFINITY)},
    }


def _resources(shape: InstanceShape) -> tuple[dict, dict]:
    capacity = {"cpu": str(shape.vcpus), "memory": f"{shape.memory_mib}Mi", "pods": str(shape.max_pods),
                "ephemeral-storage": "20959212Ki"}
    allocatable = {"cpu": f"{shape.allocatable_cpu_m}m", "memory": f"{shape.allocatable_memory_mi}Mi",
                   "pods": str(shape.max_pods), "ephemeral-storage": "18242267924"}
    return capacity, allocatable


def karpenter_labels(shape: InstanceShape, pool: str, capacity_type: str, zone: str) -> dict:
    return {
        "karpenter.sh/nodepool": pool,
        "karpenter.sh/capacity-type": capacity_type,
        "karpenter.k8s.aws/ec2nodeclass": "default",
        "karpenter.k8s.aws/instance-category": shape.category,
        "karpenter.k8s.aws/instance-family": shape.family,
        "karpenter.k8s.aws/instance-generation": shape.generation,
        "karpenter.k8s.aws/instance-size": shape.size,
        "karpenter.k8s.aws/instance-cpu": str(shape.vcpus),
        "karpenter.k8s.aws/instance-memory": str(shape.memory_mib),
        "karpenter.k8s.aws/instance-hypervisor": "nitro",
        "node.kubernetes.io/instance-type": shape.name,
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": zone[:-1],
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "openfaas.com/pool": pool,
    }


def node(name: str, instance_id: str, private_ip: str, shape: InstanceShape, zone: str, created: datetime,
         pool: str | None = None, capacity_type: str = "on-demand", nodeclaim: str | None = None) -> dict:
    """A Node; `pool` None means the managed node group (no Karpenter labels, no taints)."""
    if pool is None:
        labels = {"eks.amazonaws.com/nodegroup": NODEGROUP, "eks.amazonaws.com/capacityType": "ON_DEMAND",
                  "node.kubernetes.io/instance-type": shape.name, "topology.kubernetes.io/zone": zone,
                  "topology.kubernetes.io/region": zone[:-1], "kubernetes.io/arch": "amd64",
                  "kubernetes.io/os": "linux"}
    else:
        labels = karpenter_labels(shape, pool, capacity_type, zone)
        labels.update({"karpenter.sh/registered": "true", "karpenter.sh/initialized": "true"})
    labels.update({"kubernetes.io/hostname": name, "beta.kubernetes.io/instance-type": shape.name,
                   "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                   "failure-domain.beta.kubernetes.io/zone": zone})
    capacity, allocatable = _resources(shape)
    metadata = _meta("Node", name, created, labels=labels,
                     annotations={"alpha.kubernetes.io/provided-node-ip": private_ip})
    spec: dict = {"providerID": f"aws:///{zone}/{instance_id}"}
    if pool is not None:
        metadata["finalizers"] = ["karpenter.sh/termination"]
        metadata["ownerReferences"] = [owner("karpenter.sh/v1", "NodeClaim", nodeclaim or "", controller=False)]
        if capacity_type == "spot":
            spec["taints"] = [dict(SPOT_TAINT)]
    ready_since = stamp(created)
    return {
        "apiVersion": "v1", "kind": "Node", "metadata": metadata, "spec": spec,
        "status": {
            "capacity": capacity, "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status", "lastHeartbeatTime": ready_since,
                            "lastTransitionTime": ready_since}],
            "addresses": [{"type": "InternalIP", "address": private_ip}, {"type": "InternalDNS", "address": name},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION, "osImage": OS_IMAGE,
                         "architecture": "amd64", "operatingSystem": "linux",
                         "containerRuntimeVersion": "containerd://1.7.27",
                         "kernelVersion": "6.1.155-176.282.amzn2023.x86_64", "bootID": uid_for("boot", name),
                         "machineID": uid_for("machine", name).replace("-", ""),
                         "systemUUID": "ec2" + uid_for("system", name)[3:]},
        },
    }


def node_claim(name: str, node_name: str, instance_id: str, shape: InstanceShape, pool: str, capacity_type: str,
               zone: str, created: datetime) -> dict:
    pool_requirements = node_pool(pool, capacity_type, created)["spec"]["template"]["spec"]["requirements"]
    spec: dict = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
        "requirements": pool_requirements + [
            {"key": "karpenter.sh/nodepool", "operator": "In", "values": [pool]},
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [shape.name]},
        ],
        "resources": {"requests": {"cpu": "100m", "pods": "3"}},
        "expireAfter": "720h",
    }
    if capacity_type == "spot":
        spec["taints"] = [dict(SPOT_TAINT)]
    capacity, allocatable = _resources(shape)
    at = stamp(created)
    conditions = [{"type": kind, "status": "True", "reason": kind, "message": "", "lastTransitionTime": at}
                  for kind in ("Launched", "Registered", "Initialized", "Ready")]
    return {
        "apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
        "metadata": {**_meta("NodeClaim", name, created, labels=karpenter_labels(shape, pool, capacity_type, zone),
                             annotations={"karpenter.sh/nodepool-hash": uid_for("hash", pool)[:16]}),
                     "finalizers": ["karpenter.sh/termination"],
                     "ownerReferences": [owner("karpenter.sh/v1", "NodePool", pool, controller=False)]},
        "spec": spec,
        "status": {"providerID": f"aws:///{zone}/{instance_id}", "nodeName": node_name, "imageID": NODE_AMI_ID,
                   "capacity": capacity, "allocatable": allocatable, "conditions": conditions},
    }


@dataclass(frozen=True)
class Workload:
    """What a function (or a core component) runs: enough to build its Deployment and Pods."""

    name: str
    namespace: str
    image: str
    cpu_m: int
    memory_mi: int
    replicas: int
    labels: dict
    annotations: dict
    profile: str | None = None  # "spot" puts it on the spot pool

    @property
    def template_hash(self) -> str:
        return hashlib.sha256(f"{self.namespace}/{self.name}/{self.image}".encode()).hexdigest()[:10]

    @property
    def replica_set(self) -> str:
        return f"{self.name}-{self.template_hash}"

    @property
    def selector(self) -> dict:
        key = "faas_function" if self.namespace == FUNCTION_NAMESPACE else "app"
        return {key: self.name}


def _pod_spec(work: Workload) -> dict:
    spec: dict = {
        "containers": [{"name": work.name, "image": work.image,
                        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                        "resources": {"requests": {"cpu": f"{work.cpu_m}m", "memory": f"{work.memory_mi}Mi"}}}],
        "restartPolicy": "Always", "schedulerName": "default-scheduler", "serviceAccountName": "default",
    }
    if work.profile == "spot":  # what OpenFaaS copies from the Profile into the pod spec
        spec["tolerations"] = [dict(SPOT_TOLERATION)]
        spec["affinity"] = copy.deepcopy(SPOT_AFFINITY)
    return spec


def deployment(work: Workload, created: datetime) -> dict:
    """A Deployment as its owner writes it. A function's is laid out as faas-netes writes it (openfaas/faas-netes
    pkg/handlers/deploy.go makeDeploymentSpec): only `faas_function` on the Deployment's labels, the function's
    labels (com.openfaas.scale.*, ...) on the pod template, its annotations on both the Deployment and the template."""
    ready = work.replicas
    if work.namespace == FUNCTION_NAMESPACE:
        own_labels, template_labels = dict(work.selector), {**work.labels, **work.selector}
    else:
        own_labels, template_labels = dict(work.labels), dict(work.selector)
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {**_meta("Deployment", work.name, created, work.namespace, own_labels,
                             dict(work.annotations)), "generation": 1},
        "spec": {"replicas": work.replicas, "selector": {"matchLabels": dict(work.selector)},
                 "template": {"metadata": {"labels": template_labels, "annotations": dict(work.annotations)},
                              "spec": _pod_spec(work)},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}},
        "status": {"observedGeneration": 1, "replicas": ready, "readyReplicas": ready, "availableReplicas": ready,
                   "updatedReplicas": ready},
    }


def running_status(container: str, image: str, host_ip: str, pod_ip: str, at: str) -> dict:
    """A pod's status once bound to a node and Ready."""
    return {
        "phase": "Running", "hostIP": host_ip, "podIP": pod_ip, "startTime": at, "qosClass": "Burstable",
        "conditions": [{"type": kind, "status": "True", "lastTransitionTime": at}
                       for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [{"name": container, "image": image, "imageID": "", "ready": True,
                               "started": True, "restartCount": 0, "state": {"running": {"startedAt": at}}}],
    }


def pending_status(at: str) -> dict:
    """A pod's status while no node has room for it (Karpenter provisions for such pods)."""
    return {"phase": "Pending", "qosClass": "Burstable",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                            "message": "no node has room; waiting for Karpenter", "lastTransitionTime": at}]}


def _pod_labels(work: Workload) -> dict:
    """A pod carries its template's labels: a function's own labels too (see `deployment`)."""
    return {**work.labels, **work.selector} if work.namespace == FUNCTION_NAMESPACE else dict(work.selector)


def pod(work: Workload, suffix: str, created: datetime, node_name: str | None = None, host_ip: str = "",
        pod_ip: str = "") -> dict:
    """A pod of `work`, Running on `node_name`, or Pending when no node is given."""
    name = f"{work.replica_set}-{suffix}"
    at = stamp(created)
    spec = _pod_spec(work)
    if node_name:
        spec["nodeName"] = node_name
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {**_meta("Pod", name, created, work.namespace,
                             {**_pod_labels(work), "pod-template-hash": work.template_hash}, dict(work.annotations)),
                     "ownerReferences": [owner("apps/v1", "ReplicaSet", work.replica_set, work.namespace)]},
        "spec": spec,
        "status": running_status(work.name, work.image, host_ip, pod_ip, at) if node_name else pending_status(at),
    }


def function(work: Workload, created: datetime) -> dict:
    """The OpenFaaS Function custom resource behind a function Deployment."""
    labels = {key: value for key, value in work.labels.items() if key != "faas_function"}  # faas-netes adds it
    spec: dict = {"name": work.name, "image": work.image, "labels": labels,
                  "requests": {"cpu": f"{work.cpu_m}m", "memory": f"{work.memory_mi}Mi"}}
    if work.annotations:
        spec["annotations"] = dict(work.annotations)
    return {"apiVersion": "openfaas.com/v1", "kind": "Function",
            "metadata": {**_meta("Function", work.name, created, work.namespace), "generation": 1}, "spec": spec}
