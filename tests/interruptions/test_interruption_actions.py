from chalice_app.interruptions.actions import Action, dry_run_outcome, plan_actions, pods_to_evict
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.parsing import parse_event
from tests.interruptions import factories as f


def _impacts(events, nodes):
    return correlate([parse_event(e) for e in events], nodes, [], []).impacts


def test_default_is_alert_only():
    assert plan_actions(_impacts([f.spot_warning(1)], [f.node(1)]), {}, "alert") == ()


def test_action_per_nodepool_and_for_static_groups():
    nodes = [f.node(1, pool="spot"), f.node(2, pool="default"), f.node(3, pool=None)]
    impacts = _impacts([f.spot_warning(n) for n in (1, 2, 3)], nodes)
    planned = plan_actions(impacts, {"spot": "cordon-and-drain", "(node group)": "cordon"}, "alert")
    assert {(a.node, a.action) for a in planned} == {(f.node_name(1), Action.CORDON_AND_DRAIN),
                                                      (f.node_name(3), Action.CORDON)}


def test_no_action_on_rebalance_or_nodes_already_going_and_one_per_node():
    nodes = [f.node(1), f.node(2)]
    events = [f.rebalance(1), f.state_change(2, "terminated"), f.spot_warning(1), f.health([1])]
    planned = plan_actions(_impacts(events, nodes), {}, "cordon")
    assert [(a.node, a.action) for a in planned] == [(f.node_name(1), Action.CORDON)]


def test_drain_skips_daemonset_mirror_and_finished_pods():
    pods = [f.pod("sleep", 1, 0), f.pod("agent", 1, 0, namespace="kube-system", owner_kind="DaemonSet"),
            f.pod("static", 1, 0, namespace="kube-system", mirror=True), f.pod("job", 1, 0, phase="Succeeded"),
            f.pod("env", 1, 0, namespace="other")]
    assert pods_to_evict(pods) == (("openfaas-fn", "sleep-0"), ("other", "env-0"))


def test_dry_run_outcome_says_what_would_happen():
    (action,) = plan_actions(_impacts([f.spot_warning(1)], [f.node(1)]), {}, "cordon-and-drain")
    outcome = dry_run_outcome(action, [f.pod("sleep", 1, 0)])
    assert outcome.dry_run and outcome.cordoned and outcome.evicted == ("openfaas-fn/sleep-0",)
