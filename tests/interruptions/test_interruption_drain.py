"""Alert first, then act: Karpenter's drain order, do-not-disrupt, rebalance opt-in, bounded concurrency."""
import threading

from chalice_app.interruptions import actions
from chalice_app.interruptions.actions import Action, NodeAction, plan_actions, plan_drain
from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.parsing import parse_event
from tests.interruptions import factories as f
from tests.memory_cluster import FreshLedger, snapshot_of


def _pod(name, priority=None, do_not_disrupt=False, owner="ReplicaSet"):
    pod = f.pod(name, 1, owner_kind=owner)
    if priority:
        pod["spec"]["priorityClassName"] = priority
    if do_not_disrupt:
        pod["metadata"]["annotations"] = {"karpenter.sh/do-not-disrupt": "true"}
    return pod


def test_drain_evicts_non_critical_pods_before_critical_ones_and_skips_do_not_disrupt():
    plan = plan_drain([_pod("coredns", "system-cluster-critical"), _pod("api"), _pod("batch", do_not_disrupt=True),
                       _pod("proxy", "system-node-critical"), _pod("agent", owner="DaemonSet"), _pod("web")])
    assert [[name for _, name in wave] for wave in plan.waves] == [["api-0", "web-0"], ["coredns-0", "proxy-0"]]
    assert plan.skipped == (("openfaas-fn", "batch-0"),)


def test_rebalance_recommendations_are_acted_on_only_for_listed_pools():
    impacts = correlate([parse_event(f.rebalance(1)), parse_event(f.rebalance(2))],
                        [f.node(1, pool="spot"), f.node(2, pool="batch")], [], []).impacts
    assert plan_actions(impacts, {"spot": "cordon", "batch": "cordon"}, "alert") == ()
    planned = plan_actions(impacts, {"spot": "cordon", "batch": "cordon"}, "alert", rebalance_pools={"batch"})
    assert [action.node for action in planned] == [f.node_name(2)]


def test_the_alert_leaves_before_any_action_and_actions_run_concurrently_with_a_bound():
    events, running, peak = [], [0], [0]
    lock = threading.Lock()
    together = threading.Barrier(3, timeout=10)  # sequential actions would break it: they must overlap

    def act(action: NodeAction):
        with lock:
            events.append(("act", action.node))
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            first_three = len(events) <= 4
        if first_three:
            together.wait()
        with lock:
            running[0] -= 1
        return actions.ActionOutcome(action.node, action.action, dry_run=False, cordoned=True)

    def send(message):
        events.append(("send", message.text))

    nodes = [f.node(n) for n in range(10)]
    ports = InterruptionPorts(ledger=FreshLedger(), cluster=snapshot_of(nodes, act=act), notifier=_Sender(send),
                              plan_actions=lambda impacts: plan_actions(impacts, {"spot": "cordon"}, "alert"),
                              clock=lambda: f.NOW, cluster_name="test", action_workers=3)
    result = process_batch([f.record(f.spot_warning(n)) for n in range(10)], f.REGION, ports)
    assert events[0][0] == "send" and events[-1][0] == "send"  # alert, ten actions, then the actions report
    assert [kind for kind, _ in events[1:-1]] == ["act"] * 10
    assert peak[0] == 3 and len(result.outcomes) == 10 and not any(o.failed for o in result.outcomes)
    assert result.outcomes[0].action is Action.CORDON


class _Sender:
    """A notifier that hands each message to `send` (the test's own ordered log)."""

    def __init__(self, send):
        self.send = send
