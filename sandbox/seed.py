"""A deterministic OpenFaaS-on-EKS-with-Karpenter cluster for the sandbox, as plain Kubernetes objects.

Three steps, the first and last pure:
1. `plan_cluster(functions, nodes, seed, now)`: which nodes (pool, type, zone, age), which functions (profile,
   replicas, requests) and where every pod runs. Requests are sized so each pool is ~90 % full, as
   Karpenter's bin-packing leaves it, so new load needs a new node.
2. `launch_machines(ec2, plan)`: the EC2 instances in moto (batched), tagged as Karpenter tags them.
3. `build_objects(plan, machines)`: Namespaces, EC2NodeClass, NodePools, Profile, Nodes, NodeClaims,
   Deployments, Pods (owned by their ReplicaSet, which the fake API does not serve) and Functions, with
   providerIDs naming the instances moto returned.
"""
from __future__ import annotations

import heapq
import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sandbox import objects
from sandbox.aws import launch_instances, tag_instance
from sandbox.objects import CORE_NAMESPACE, DAEMONSET_PODS, FUNCTION_NAMESPACE, InstanceShape, Workload

DEFAULT_SEED = 20251124
# Karpenter replaces spot nodes often and on-demand ones weekly or so; the node group has been there for weeks.
MAX_AGE_DAYS = {"default": 7, "spot": 2}
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
TARGET_UTILISATION = 0.9
SHAPES = {shape.name: shape for shape in (
    InstanceShape("m6i.xlarge", 4, 16384, 58),
    InstanceShape("c6i.large", 2, 4096, 29), InstanceShape("m6i.large", 2, 8192, 29),
    InstanceShape("r6i.large", 2, 16384, 29), InstanceShape("c6i.xlarge", 4, 8192, 58),
    InstanceShape("c6a.large", 2, 4096, 29), InstanceShape("m6a.large", 2, 8192, 29),
    InstanceShape("m5.large", 2, 8192, 29), InstanceShape("c5.xlarge", 4, 8192, 58),
    InstanceShape("c6a.2xlarge", 8, 16384, 58), InstanceShape("c6a.4xlarge", 16, 32768, 234),
)}
POOL_SHAPES = {
    None: ("m6i.xlarge",),  # the managed node group
    "default": ("c6i.large", "m6i.large", "r6i.large", "c6i.xlarge"),
    "spot": ("c6a.large", "m6a.large", "m5.large", "c5.xlarge"),
}
# Shapes Karpenter may launch for new capacity, per capacity type, smallest first (the simulator's choice).
LAUNCH_SHAPES = {
    "spot": ("c6a.large", "c5.xlarge", "c6a.2xlarge", "c6a.4xlarge"),
    "on-demand": ("c6i.large", "c6i.xlarge"),
}
# The guide's example functions: (name, image, profile, replicas, cpu millicores, memory Mi)
NAMED_FUNCTIONS = (
    ("sleep", "ghcr.io/openfaas/sleep:latest", "spot", 1, 500, 128),
    ("figlet", "ghcr.io/openfaas/figlet:latest", None, 1, 100, 64),
    ("nodeinfo", "ghcr.io/openfaas/nodeinfo:latest", "spot", 2, 100, 64),
    ("env", "ghcr.io/openfaas/alpine:latest", None, 1, 50, 32),
)
CORE_COMPONENTS = (("gateway", 2, 250, 256), ("queue-worker", 1, 100, 128), ("nats", 1, 100, 128),
                   ("prometheus", 1, 250, 512))
_WORDS = ("resize", "thumbnail", "invoice", "webhook", "report", "ocr", "mailer", "pdf", "geo", "sentiment",
          "billing", "audit", "export", "search", "notify", "ingest", "scrape", "render", "convert", "score")


@dataclass(frozen=True)
class NodeSpec:
    index: int
    pool: str | None  # None: the managed node group
    shape: InstanceShape
    zone: str
    created: datetime
    claim_name: str | None  # NodeClaim name, `<pool>-<5 chars>` like Karpenter's

    @property
    def capacity_type(self) -> str:
        return "spot" if self.pool == "spot" else "on-demand"


@dataclass(frozen=True)
class Placement:
    workload: Workload
    node_indexes: tuple[int, ...]  # one per replica
    suffixes: tuple[str, ...]  # pod name suffixes


@dataclass(frozen=True)
class ClusterPlan:
    cluster_name: str
    now: datetime
    nodes: tuple[NodeSpec, ...]
    functions: tuple[Placement, ...]
    core: tuple[Placement, ...]


@dataclass(frozen=True)
class Machine:
    """The EC2 instance behind a node, as moto launched it."""

    instance_id: str
    private_ip: str
    private_dns: str


@dataclass
class SeededCluster:
    """Names of what was seeded, for tests and the demo (the simulator's later changes are not reflected)."""

    cluster_name: str
    objects: list[dict] = field(repr=False)
    nodes: dict[str, Machine]  # node name -> instance
    nodeclaims: dict[str, str]  # nodeclaim name -> node name
    functions: list[str]
    nodegroup_nodes: list[str]

    @property
    def instance_ids(self) -> list[str]:
        return [machine.instance_id for machine in self.nodes.values()]

    def node_of_instance(self, instance_id: str) -> str:
        for name, machine in self.nodes.items():
            if machine.instance_id == instance_id:
                return name
        raise KeyError(f"no seeded node runs instance {instance_id}")


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def _plan_nodes(rng: random.Random, nodes: int, now: datetime) -> list[NodeSpec]:
    if nodes < 3:
        raise ValueError(f"nodes={nodes}: at least 3 are needed (node group, default pool, spot pool)")
    static = 1 if nodes < 1000 else 3
    spot = max(1, round((nodes - static) * 0.4))
    groups = [None] * static + ["default"] * (nodes - static - spot) + ["spot"] * spot
    specs = []
    for index, pool in enumerate(groups):
        shape = SHAPES[rng.choice(POOL_SHAPES[pool])]
        age = timedelta(days=30) if pool is None else timedelta(minutes=rng.randint(20, 1440 * MAX_AGE_DAYS[pool]))
        claim = f"{pool}-{random_suffix(rng)}" if pool else None
        specs.append(NodeSpec(index, pool, shape, ZONES[index % len(ZONES)], now - age, claim))
    return specs


def _function_workloads(rng: random.Random, count: int) -> list[Workload]:
    named = [Workload(name, FUNCTION_NAMESPACE, image, cpu, memory, replicas,
                      *_function_meta(name, replicas, profile), profile=profile)
             for name, image, profile, replicas, cpu, memory in NAMED_FUNCTIONS[:count]]
    generated = []
    for number in range(len(named), count):
        name = f"{rng.choice(_WORDS)}-{number:05d}"
        profile = "spot" if rng.random() < 0.4 else None
        replicas = rng.choice((0, 1, 1, 1, 1, 2, 2, 3))
        memory = rng.choice((64, 128, 128, 256))
        generated.append(Workload(name, FUNCTION_NAMESPACE, f"ghcr.io/example/{name}:0.{number % 7}.0", 0, memory,
                                  replicas, *_function_meta(name, replicas, profile), profile=profile))
    return named + generated


def _function_meta(name: str, replicas: int, profile: str | None) -> tuple[dict, dict]:
    labels = {"faas_function": name, "com.openfaas.scale.min": str(max(1, replicas)),
              "com.openfaas.scale.max": "20"}
    if replicas == 0:
        labels["com.openfaas.scale.zero"] = "true"
    annotations = {"prometheus.io.scrape": "false"}
    if profile:
        annotations["com.openfaas.profile"] = profile
    return labels, annotations


def _spread(works: list[Workload], pool_nodes: list[NodeSpec]) -> tuple[dict[str, list[int]], dict[int, float]]:
    """Each pod to the node with the most free CPU per pod (a lazy heap: stale entries are skipped)."""
    free = {spec.index: spec.shape.allocatable_cpu_m * TARGET_UTILISATION for spec in pool_nodes}
    pods = {spec.index: 0 for spec in pool_nodes}
    limit = {spec.index: spec.shape.max_pods - DAEMONSET_PODS for spec in pool_nodes}

    def priority(index: int) -> float:
        return -free[index] / (pods[index] + 1)

    heap = [(priority(index), index) for index in free]
    heapq.heapify(heap)
    assigned: dict[str, list[int]] = {}
    for work in works:
        chosen = assigned.setdefault(work.name, [])
        while len(chosen) < work.replicas:
            rank, index = heapq.heappop(heap)
            if rank != priority(index) or pods[index] >= limit[index]:
                continue
            chosen.append(index)
            pods[index] += 1
            free[index] -= work.cpu_m
            if pods[index] < limit[index]:
                heapq.heappush(heap, (priority(index), index))
    return assigned, free


def _place(rng: random.Random, works: list[Workload], nodes: list[NodeSpec]) -> list[Placement]:
    """Spread each pool's pods over its nodes, then size unsized requests to fill the pool to the target."""
    sized: dict[str, Placement] = {}
    for spot in (False, True):
        pool_nodes = [spec for spec in nodes if spec.pool == ("spot" if spot else "default")]
        pool_works = [work for work in works if (work.profile == "spot") == spot]
        wanted = sum(work.replicas for work in pool_works)
        room = sum(spec.shape.max_pods - DAEMONSET_PODS for spec in pool_nodes)
        if wanted > room:
            raise ValueError(f"{wanted} {'spot' if spot else 'on-demand'} function pods do not fit on "
                             f"{len(pool_nodes)} nodes (at most {room} pods): ask for more nodes")
        fixed, unsized = [w for w in pool_works if w.cpu_m], [w for w in pool_works if not w.cpu_m]
        assigned, free = _spread(fixed + unsized, pool_nodes)
        unsized_pods: dict[int, int] = {}
        for work in unsized:
            for index in assigned[work.name]:
                unsized_pods[index] = unsized_pods.get(index, 0) + 1
        share = min((free[index] / count for index, count in unsized_pods.items()), default=100)
        cpu = max(10, int(share // 10 * 10))
        for work in fixed + [_with_cpu(work, cpu) for work in unsized]:
            suffixes = tuple(random_suffix(rng) for _ in assigned[work.name])
            sized[work.name] = Placement(work, tuple(assigned[work.name]), suffixes)
    return [sized[work.name] for work in works]


def _with_cpu(work: Workload, cpu_m: int) -> Workload:
    return Workload(work.name, work.namespace, work.image, cpu_m, work.memory_mi, work.replicas, work.labels,
                    work.annotations, work.profile)


def plan_cluster(functions: int = 20, nodes: int = 6, seed: int = DEFAULT_SEED, now: datetime | None = None,
                 cluster_name: str = "openfaas") -> ClusterPlan:
    if functions < 0:
        raise ValueError(f"functions={functions}: must be 0 or more")
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    rng = random.Random(seed)
    node_specs = _plan_nodes(rng, nodes, now)
    works = _function_workloads(rng, functions)
    static = [spec.index for spec in node_specs if spec.pool is None]
    core = [Placement(Workload(name, CORE_NAMESPACE, f"ghcr.io/openfaas/{name}:latest", cpu, memory, replicas,
                               {"app": name}, {"prometheus.io.scrape": "true"} if name == "gateway" else {}),
                      tuple(static[replica % len(static)] for replica in range(replicas)),
                      tuple(random_suffix(rng) for _ in range(replicas)))
            for name, replicas, cpu, memory in CORE_COMPONENTS]
    return ClusterPlan(cluster_name, now, tuple(node_specs), tuple(_place(rng, works, node_specs)), tuple(core))


def launch_machines(ec2, plan: ClusterPlan) -> list[Machine]:
    """Create the plan's instances in moto (batched by type and zone) and tag them as Karpenter does."""
    groups: dict[tuple, list[NodeSpec]] = {}
    for spec in plan.nodes:
        groups.setdefault((spec.pool, spec.shape.name, spec.zone), []).append(spec)
    machines: dict[int, Machine] = {}
    for (pool, shape, zone), specs in groups.items():
        instances = launch_instances(ec2, shape, zone, len(specs), instance_tags(plan.cluster_name, pool))
        for spec, instance in zip(specs, instances):
            machine = Machine(instance["InstanceId"], instance["PrivateIpAddress"], instance["PrivateDnsName"])
            machines[spec.index] = machine
            per_instance = {"Name": machine.private_dns}
            if spec.claim_name:
                per_instance["karpenter.sh/nodeclaim"] = spec.claim_name
            tag_instance(ec2, machine.instance_id, per_instance)
    return [machines[spec.index] for spec in plan.nodes]


def instance_tags(cluster_name: str, pool: str | None) -> dict[str, str]:
    """The tags EKS (node group) or Karpenter (NodePool) put on a node's instance, except per-node ones."""
    tags = {f"kubernetes.io/cluster/{cluster_name}": "owned", "eks:eks-cluster-name": cluster_name}
    if pool is None:
        tags["eks:nodegroup-name"] = objects.NODEGROUP
    else:
        tags.update({"karpenter.sh/nodepool": pool, "karpenter.k8s.aws/ec2nodeclass": "default"})
    return tags


def fake_machine(index: int) -> Machine:
    """A deterministic stand-in for a moto instance, for pure tests and sandboxes without EC2 instances."""
    ip = f"10.{index // 62500 % 256}.{index // 250 % 250}.{index % 250 + 4}"
    return Machine(f"i-{index:017x}", ip, f"ip-{ip.replace('.', '-')}.ec2.internal")


def fake_machines(plan: ClusterPlan) -> list[Machine]:
    return [fake_machine(spec.index) for spec in plan.nodes]


def build_objects(plan: ClusterPlan, machines: list[Machine]) -> SeededCluster:
    if len(machines) != len(plan.nodes):
        raise ValueError(f"{len(machines)} machines for {len(plan.nodes)} planned nodes")
    created = plan.now - timedelta(days=30)
    result: list[dict] = [
        objects.namespace("default", created),  # every cluster has it; events about Nodes live there
        objects.namespace("kube-system", created), objects.namespace(CORE_NAMESPACE, created, {"openfaas": "1"}),
        objects.namespace(FUNCTION_NAMESPACE, created, {"openfaas": "1"}),
        objects.ec2_node_class(plan.cluster_name, created),
        objects.node_pool("default", "on-demand", created), objects.node_pool("spot", "spot", created),
        objects.spot_profile(created),
    ]
    for spec, machine in zip(plan.nodes, machines):
        name = machine.private_dns
        result.append(objects.node(name, machine.instance_id, machine.private_ip, spec.shape, spec.zone, spec.created,
                                   spec.pool, spec.capacity_type, spec.claim_name))
        if spec.pool:
            result.append(objects.node_claim(spec.claim_name, name, machine.instance_id, spec.shape, spec.pool,
                                             spec.capacity_type, spec.zone, spec.created))
    pod_number = 0
    for placement in plan.core + plan.functions:
        work = placement.workload
        result.append(objects.deployment(work, created))
        if work.namespace == FUNCTION_NAMESPACE:
            result.append(objects.function(work, created))
        for index, suffix in zip(placement.node_indexes, placement.suffixes):
            machine, spec = machines[index], plan.nodes[index]
            pod_number += 1
            pod_ip = f"100.64.{pod_number // 250 % 256}.{pod_number % 250 + 2}"
            result.append(objects.pod(work, suffix, max(spec.created, created), machine.private_dns,
                                      machine.private_ip, pod_ip))
    return SeededCluster(
        cluster_name=plan.cluster_name,
        objects=result,
        nodes={machine.private_dns: machine for machine in machines},
        nodeclaims={spec.claim_name: machine.private_dns for spec, machine in zip(plan.nodes, machines)
                    if spec.claim_name},
        functions=[placement.workload.name for placement in plan.functions],
        nodegroup_nodes=[machine.private_dns for spec, machine in zip(plan.nodes, machines) if spec.pool is None],
    )
