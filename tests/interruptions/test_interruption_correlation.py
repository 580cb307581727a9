from datetime import timedelta

from chalice_app.interruptions.correlation import FunctionKey, correlate, instance_id_of, node_age
from chalice_app.interruptions.parsing import parse_event
from tests.interruptions import factories as f

FN = "openfaas-fn"


def test_provider_id_gives_the_instance_id():
    assert instance_id_of("aws:///us-east-1a/i-0abc12345678") == "i-0abc12345678"
    assert instance_id_of("kind://docker/kind/node") is None
    assert instance_id_of(None) is None


def test_instance_is_matched_to_node_pool_claim_and_labels():
    result = correlate([parse_event(f.spot_warning(5))], [f.node(4), f.node(5, instance_type="c6i.large")],
                       [f.nodeclaim(5)], [])
    (impact,) = result.impacts
    node = impact.node
    assert (node.name, node.nodepool, node.nodeclaim) == (f.node_name(5), "spot", "spot-00005")
    assert (node.capacity_type, node.instance_type, node.zone) == ("spot", "c6i.large", "us-east-1a")
    assert node_age(node, f.NOW) == timedelta(hours=6, seconds=30)
    assert result.not_in_cluster == ()


def test_static_node_group_has_no_pool_and_reads_the_eks_capacity_label():
    result = correlate([parse_event(f.spot_warning(2))], [f.node(2, pool=None, capacity="on-demand")], [], [])
    node = result.impacts[0].node
    assert node.nodepool is None and node.nodeclaim is None and node.capacity_type == "on-demand"


def test_instances_that_are_not_nodes_are_returned_apart():
    notice = parse_event(f.health([1, 99]))
    result = correlate([notice], [f.node(1)], [], [])
    assert [impact.node.instance_id for impact in result.impacts] == [f.instance_id(1)]
    assert result.not_in_cluster == ((notice, f.instance_id(99)),)


def test_function_replicas_and_unavailable_until_rescheduled():
    pods = [f.pod("sleep", 1, 0), f.pod("sleep", 1, 1), f.pod("sleep", 2, 2),  # every ready sleep pod is hit
            f.pod("env", 1, 0), f.pod("env", 3, 1),  # one env replica survives on node 3
            f.pod("figlet", 1, 0, ready=False), f.pod("figlet", 3, 1, ready=False),  # none ready anywhere
            f.pod("done", 1, 0, phase="Succeeded")]
    notices = [parse_event(f.spot_warning(1)), parse_event(f.spot_warning(2))]
    result = correlate(notices, [f.node(1), f.node(2), f.node(3)], [], pods)
    sleep, env, figlet = (FunctionKey(FN, name) for name in ("sleep", "env", "figlet"))
    assert dict(result.impacts[0].replicas) == {sleep: 2, env: 1, figlet: 1}
    assert result.risks[sleep].unavailable_until_rescheduled
    assert (result.risks[sleep].on_affected, result.risks[sleep].ready_total) == (3, 3)
    assert not result.risks[env].unavailable_until_rescheduled
    assert result.risks[figlet].ready_total == 0 and result.risks[figlet].unavailable_until_rescheduled
    assert FunctionKey(FN, "done") not in result.risks


def test_terminating_pods_do_not_count_as_ready():
    terminating = f.pod("sleep", 3, 1)
    terminating["metadata"]["deletionTimestamp"] = "2026-11-24T18:00:00Z"
    result = correlate([parse_event(f.spot_warning(1))], [f.node(1), f.node(3)], [],
                       [f.pod("sleep", 1, 0), terminating])
    assert result.risks[FunctionKey(FN, "sleep")].unavailable_until_rescheduled
