"""Night allowances: Karpenter's requirement operators for pod vs NodePool (kubernetes-sigs/karpenter
pkg/scheduling/requirements.go, Compatible/Intersects) and the allowance sized from the pods' requests."""
import pytest

from chalice_app.budget.catalog import InstanceType, allowed_instance_types
from chalice_app.offhours.matching import compatible, pod_requirement_options, pool_requirements
from chalice_app.offhours.placement import PoolTemplate, fits, pod_requests, sized_allowance, sizing_basis


def pool(requirements=(), labels=None, name="night"):
    return PoolTemplate.from_object({"metadata": {"name": name}, "spec": {"template": {
        "metadata": {"labels": labels or {}}, "spec": {"requirements": list(requirements)}}}})


def affinity(*expressions):
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": list(expressions)}]}}}}


def expr(key, operator, *values):
    return {"key": key, "operator": operator, "values": list(values)}


ARCH, CPU = "kubernetes.io/arch", "karpenter.k8s.aws/instance-cpu"
AMD = pool([expr(ARCH, "In", "amd64"), expr(CPU, "Gt", "3"), expr("team", "In", "a", "b")])


@pytest.mark.parametrize("pod, fits_pool", [
    (affinity(expr(ARCH, "In", "amd64", "arm64")), True),     # In ∩ In overlaps
    (affinity(expr(ARCH, "In", "arm64")), False),             # In ∩ In disjoint
    (affinity(expr(ARCH, "NotIn", "amd64")), False),          # all the pool offers is excluded
    (affinity(expr(ARCH, "NotIn", "arm64")), True),
    (affinity(expr(ARCH, "Exists")), True),
    (affinity(expr(ARCH, "DoesNotExist")), False),            # the pool's nodes carry an arch
    (affinity(expr(CPU, "Gt", "7")), True),                   # two open ranges overlap
    (affinity(expr(CPU, "Lt", "4")), False),                  # > 3 and < 4: Karpenter's gt >= lt → nothing
    (affinity(expr(CPU, "Lt", "9")), True),
    (affinity(expr("team", "NotIn", "a", "b")), False),
    (affinity(expr("team", "In", "b")), True),
    (affinity(expr("owner", "In", "x")), False),              # custom label the pool does not define: no known values
    (affinity(expr("owner", "NotIn", "x")), True),            # ...unless the pod only excludes it
    (affinity(expr("owner", "DoesNotExist")), True),
    (affinity(expr("topology.kubernetes.io/zone", "In", "eu-west-1a")), True),  # well-known, undefined: allowed
    ({"nodeSelector": {"karpenter.sh/nodepool": "night"}}, True),
    ({"nodeSelector": {"karpenter.sh/nodepool": "day"}}, False),
])
def test_each_operator_matches_the_way_karpenter_intersects(pod, fits_pool):
    assert fits(pod, AMD) is fits_pool


def test_two_negative_requirements_never_conflict_and_any_term_may_fit():
    negative = pool([expr("gpu", "DoesNotExist")])
    assert fits(affinity(expr("gpu", "DoesNotExist")), negative)
    assert fits(affinity(expr("gpu", "NotIn", "a100")), negative)
    terms = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [expr(ARCH, "In", "arm64")]}, {"matchExpressions": [expr(ARCH, "In", "amd64")]}]}}}}
    assert fits(terms, AMD)  # Karpenter relaxes to the next term
    assert len(pod_requirement_options(terms)) == 2


def test_template_labels_are_requirements_of_one_value():
    labelled = pool(labels={"team": "a"})
    assert compatible(pool_requirements("p", {"team": "a"}, []), pool_requirements("q", {}, [])) is False  # name
    assert fits({"nodeSelector": {"team": "a"}}, labelled) and not fits({"nodeSelector": {"team": "b"}}, labelled)


def test_pod_requests_sum_containers_or_take_the_largest_init_container():
    spec = {"containers": [{"resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}},
                           {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "2", "memory": "not a quantity"}}}]}
    assert pod_requests(spec) == (2000, 1.5)
    assert pod_requests({}) == (0, 0.0)


CATALOG = [InstanceType("m6i.large", 2, 8.0, ("amd64",), labels={CPU: "2"}),
           InstanceType("m6i.xlarge", 4, 16.0, ("amd64",), labels={CPU: "4"}),
           InstanceType("m6i.2xlarge", 8, 32.0, ("amd64",), labels={CPU: "8"}),
           InstanceType("m7g.large", 2, 8.0, ("arm64",), labels={CPU: "2"})]
NIGHT_POOL = {"metadata": {"name": "night"}, "spec": {"template": {"spec": {"requirements": [
    expr(ARCH, "In", "amd64"), expr(CPU, "Gt", "3")]}}}}


def needs(cpu, memory):
    return {"containers": [{"resources": {"requests": {"cpu": cpu, "memory": memory}}}]}


def test_the_allowance_rounds_the_requests_up_to_the_smallest_type_the_pool_can_launch():
    launchable = allowed_instance_types(NIGHT_POOL, CATALOG)
    assert [t.name for t in launchable] == ["m6i.xlarge", "m6i.2xlarge"]  # amd64 and more than 3 CPUs
    # One 500m pod: one m6i.xlarge (4 CPUs), beside the pool's 2 remaining CPUs; memory at the type's ratio.
    assert sized_allowance({"cpu": "100", "memory": "400Gi", "nvidia.com/gpu": "0"}, 2000, [needs("500m", "1Gi")],
                           launchable, "2") == {"cpu": "6000m", "memory": "24Gi", "nvidia.com/gpu": "0"}
    # Three 1.5-CPU pods need two xlarge nodes; a 6-CPU pod needs the 2xlarge.
    assert sized_allowance({"cpu": "100"}, 0, [needs("1500m", "1Gi")] * 3, launchable, "2") == {"cpu": "8000m"}
    assert sized_allowance({"cpu": "100"}, 0, [needs("6", "1Gi")], launchable, "2") == {"cpu": "8000m"}
    # Memory-bound: 40 GiB over two pods needs 2 × 2xlarge (32 GiB each) → rounds on memory, not CPU.
    assert sized_allowance({"cpu": "100"}, 0, [needs("1", "30Gi"), needs("1", "10Gi")], launchable, "2") == \
        {"cpu": "16000m"}


def test_without_a_catalog_or_pods_the_configured_allowance_applies():
    assert sized_allowance({"cpu": "100"}, 2000, [needs("1", "1Gi")], [], "2") == {"cpu": "4000m"}
    assert sized_allowance({"cpu": "100"}, 2000, [], CATALOG, "2") == {"cpu": "4000m"}
    assert sized_allowance({"cpu": "100"}, 0, [needs("64", "1Gi")], CATALOG, "2") == {"cpu": "2000m"}  # none holds it


def test_the_run_says_what_the_allowance_was_sized_from():
    launchable = allowed_instance_types(NIGHT_POOL, CATALOG)
    sized = sizing_basis("spot", [needs("500m", "1Gi")], launchable, "4 instance types (ec2:DescribeInstanceTypes)", "2")
    assert sized.startswith("night allowance for NodePool spot sized from m6i.xlarge (4 vCPU, 16 GiB), the smallest "
                            "of the 2 types its requirements allow that holds the largest of 1 pod(s) requesting "
                            "500m CPU, 1.00 GiB")
    fixed = "night allowance for NodePool spot: the configured 2 CPU (COSTGUARD_OFFHOURS_NIGHT_ALLOWANCE_CPU)"
    assert sizing_basis("spot", [needs("1", "1Gi")], [], None, "2") == \
        f"{fixed}, for 1 pod(s) requesting 1000m CPU, 1.00 GiB: no instance catalog"
    assert sizing_basis("spot", [needs("1", "1Gi")], [], "catalog unreadable: ClientError: denied", "2").endswith(
        "no instance type the pool allows (catalog unreadable: ClientError: denied)")
    assert sizing_basis("spot", [needs("64", "1Gi")], launchable, "4 instance types", "2").endswith(
        "none of the 2 types the pool allows holds the largest pod")
    assert sizing_basis("spot", [], launchable, "4 instance types", "2").startswith(fixed + ": no Pending pod")


def test_an_unreadable_catalog_is_said_and_the_configured_allowance_applies():
    from chalice_app.offhours.parked import MemoryParkedStore
    from chalice_app.offhours.reconcile import Reconciler
    from tests.memory_cluster import MemoryCluster
    from tests.offhours.test_offhours_night import EVENING, NIGHT, NS, config
    from tests.offhours.test_offhours_nodes import DEFAULT, SPOT, SPOT_POD, pod
    from tests.offhours.factories import deployment

    def broken():
        raise RuntimeError("DescribeInstanceTypes denied")

    cluster, store = MemoryCluster([deployment("sleep", 1)], nodepools=[SPOT, DEFAULT]), MemoryParkedStore()
    Reconciler(cluster, config(), sleep=lambda _: None, store=store, catalog=broken).run(EVENING)
    cluster.human_scale(NS, "sleep", 1)
    cluster.pods = [pod("sleep-1", labels={"faas_function": "sleep"}, spec=SPOT_POD, phase="Pending")]
    night = Reconciler(cluster, config(), sleep=lambda _: None, store=store, catalog=broken).run(NIGHT)
    assert cluster.pools["spot"]["spec"]["limits"] == {"cpu": "2000m"}
    assert [n for n in night.notes if n.endswith("(catalog unreadable: RuntimeError: DescribeInstanceTypes denied)")]
