"""Karpenter v1's disruption rules as the sandbox models them (sandbox.disruption_rules), without I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from sandbox import disruption_candidates as choosing
from sandbox import disruption_rules as rules
from sandbox.objects import node_claim, node_pool, stamp
from sandbox.seed import SHAPES

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def pool(**disruption):
    made = node_pool("spot", "spot", T0 - timedelta(days=1))
    made["spec"]["disruption"].update(disruption)
    return made


def claim(created=T0, **status):
    made = node_claim("spot-abc", "ip-10-0-0-1.ec2.internal", "i-0123", SHAPES["c5.xlarge"], "spot", "spot",
                      "us-east-1a", created)
    made["status"].update(status)
    return made


def pod(annotations=None, phase="Running", started=T0, **spec):
    return {"metadata": {"name": "p", "namespace": "openfaas-fn", "annotations": annotations or {}},
            "spec": spec, "status": {"phase": phase, "startTime": stamp(started)}}


@pytest.mark.parametrize("text, expected", [("1m", timedelta(minutes=1)), ("720h", timedelta(hours=720)),
                                            ("10h5m", timedelta(hours=10, minutes=5)), ("0s", timedelta(0)),
                                            ("Never", None)])
def test_go_durations_as_nodepools_write_them(text, expected):
    assert rules.parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "5 minutes", "1d", "m"])
def test_bad_durations_name_the_value(bad):
    with pytest.raises(ValueError, match="not a Go duration"):
        rules.parse_duration(bad)


def test_do_not_disrupt_true_or_an_unexpired_duration_blocks_terminal_pods_never():
    assert rules.pod_do_not_disrupt(pod({rules.DO_NOT_DISRUPT: "true"}), T0)
    assert rules.pod_do_not_disrupt(pod({rules.DO_NOT_DISRUPT: "30m"}), T0 + timedelta(minutes=29))
    assert not rules.pod_do_not_disrupt(pod({rules.DO_NOT_DISRUPT: "30m"}), T0 + timedelta(minutes=30))
    assert not rules.pod_do_not_disrupt(pod({rules.DO_NOT_DISRUPT: "soon"}), T0)  # invalid: ignored
    assert not rules.pod_do_not_disrupt(pod({rules.DO_NOT_DISRUPT: "true"}, phase="Succeeded"), T0)
    assert not rules.pod_do_not_disrupt(pod(), T0)


def test_consolidatable_after_the_last_pod_event_or_initialization_never_with_never():
    initialized = T0 - timedelta(hours=1)
    assert rules.consolidatable_at(claim(created=initialized), pool()) == initialized + timedelta(minutes=1)
    moved = claim(created=initialized, lastPodEventTime=stamp(T0))
    assert rules.consolidatable_at(moved, pool(consolidateAfter="10m")) == T0 + timedelta(minutes=10)
    assert rules.consolidatable_at(moved, pool(consolidateAfter="Never")) is None


def test_graceful_reason_drift_first_then_empty_then_underutilized_by_policy():
    ready = claim(created=T0 - timedelta(hours=1))
    later = T0 + timedelta(minutes=5)
    assert choosing.graceful_reason(ready, pool(), [], later) == rules.EMPTY
    assert choosing.graceful_reason(ready, pool(), [pod()], later) == rules.UNDERUTILIZED
    assert choosing.graceful_reason(ready, pool(consolidationPolicy="WhenEmpty"), [pod()], later) is None
    busy = claim(created=T0 - timedelta(hours=1), lastPodEventTime=stamp(later))
    assert choosing.graceful_reason(busy, pool(), [], later + timedelta(seconds=59)) is None  # consolidateAfter 1m
    drifted = claim(created=T0 - timedelta(hours=1), lastPodEventTime=stamp(later))
    drifted["status"]["conditions"].append({"type": "Drifted", "status": "True"})
    assert choosing.graceful_reason(drifted, pool(), [pod()], later) == rules.DRIFTED


def test_budget_percentages_round_up_as_the_docs_example():
    # docs (concepts/disruption.md): 19 nodes at 20 % allow 4.
    assert rules.budget_nodes({"nodes": "20%"}, 19) == 4
    assert rules.budget_nodes({"nodes": "10%"}, 7) == 1
    assert rules.budget_nodes({"nodes": "5"}, 100) == 5
    with pytest.raises(ValueError, match="'ten'"):
        rules.budget_nodes({"nodes": "ten"}, 3)


def test_allowed_disruptions_take_the_minimum_of_matching_active_budgets_less_what_is_disrupting():
    budgets = [{"nodes": "20%", "reasons": ["Empty", "Drifted"]}, {"nodes": "5"},
               {"nodes": "0", "schedule": "@daily", "duration": "10m", "reasons": ["Underutilized"]}]
    spot = pool(budgets=budgets)
    midnight = datetime(2026, 3, 2, 0, 5, tzinfo=timezone.utc)
    assert rules.allowed_disruptions(spot, "Empty", 30, 0, midnight) == 5
    assert rules.allowed_disruptions(spot, "Empty", 19, 1, midnight) == 3
    assert rules.allowed_disruptions(spot, "Underutilized", 30, 0, midnight) == 0  # inside the daily window
    assert rules.allowed_disruptions(spot, "Underutilized", 30, 0, midnight + timedelta(minutes=10)) == 5
    assert rules.allowed_disruptions(spot, "Empty", 30, 9, midnight) == 0  # never negative
    unset = pool()
    del unset["spec"]["disruption"]["budgets"]
    assert rules.allowed_disruptions(unset, "Empty", 7, 0, T0) == 1  # default: 10 %
    # An explicit empty list is no budget at all: no limit (nodepool.go GetAllowedDisruptionsByReason starts at
    # MaxInt32 and only budgets lower it; the CRD default applies only when the field is left out).
    assert rules.allowed_disruptions(pool(budgets=[]), "Empty", 7, 0, T0) == 7
    # One misconfigured budget, even for another reason, fails every reason closed (MustGetAllowedDisruptions).
    broken = pool(budgets=[{"nodes": "ten", "reasons": ["Drifted"]}, {"nodes": "5"}])
    assert rules.allowed_disruptions(broken, "Empty", 7, 0, T0) == 0


def test_within_budgets_counts_per_pool_in_candidate_order():
    pools = {"spot": pool(budgets=[{"nodes": "2"}])}
    candidates = [choosing.Candidate(f"n{i}", f"c{i}", "spot", rules.EMPTY, 0) for i in range(4)]
    counts = {"spot": rules.PoolCount(total=10, disrupting=1)}
    assert [c.node for c in choosing.within_budgets(candidates, pools, counts, T0)] == ["n0"]


def test_expiry_from_the_nodeclaims_own_expire_after():
    made = claim(created=T0)
    assert rules.expires_at(made) == T0 + timedelta(hours=720)
    made["spec"]["expireAfter"] = "Never"
    assert rules.expires_at(made) is None


def test_drain_waves_non_critical_first_and_what_is_never_drained():
    critical = pod(priorityClassName="system-node-critical")
    plain = pod()
    assert rules.drain_groups([critical, plain]) == [[plain], [critical]]
    static = pod()
    static["metadata"]["ownerReferences"] = [{"kind": "Node", "name": "n"}]
    tolerant = pod(tolerations=[{"key": "karpenter.sh/disrupted", "operator": "Exists"}])
    assert not rules.drainable(static) and not rules.drainable(tolerant)
    assert not rules.drainable(pod(phase="Failed")) and rules.drainable(plain)


def test_blocked_by_names_the_node_or_pod_annotation():
    node = {"metadata": {"name": "n", "annotations": {rules.DO_NOT_DISRUPT: "true"}}}
    assert "node has" in choosing.blocked_by(node, [], T0)
    free = {"metadata": {"name": "n"}}
    assert "pod openfaas-fn/p" in choosing.blocked_by(free, [pod({rules.DO_NOT_DISRUPT: "true"})], T0)
    assert choosing.blocked_by(free, [pod()], T0) is None


def test_pool_counts_count_deleting_not_ready_and_tainted_nodes_as_disrupting():
    def node(ready=True, deleting=False, tainted=False):
        made = {"metadata": {"name": "n", "labels": {"karpenter.sh/nodepool": "spot",
                                                     "karpenter.sh/initialized": "true"}},
                "spec": {"taints": [dict(rules.DISRUPTED_TAINT)] if tainted else []},
                "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
        if deleting:
            made["metadata"]["deletionTimestamp"] = stamp(T0)
        return made

    counts = rules.pool_counts([node(), node(ready=False), node(deleting=True), node(tainted=True), node()])
    assert counts["spot"] == rules.PoolCount(total=5, disrupting=3)


# --- where the two former models disagreed; kubernetes-sigs/karpenter decided -----------------------------------------
def test_emptiness_counts_reschedulable_pods_only_as_is_reschedulable_does():
    # pkg/utils/pod/scheduling.go IsReschedulable: active, not a DaemonSet's, not owned by the Node (mirror pods);
    # a terminating StatefulSet pod still counts.
    daemon = pod()
    daemon["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "aws-node"}]
    terminating = pod()
    terminating["metadata"]["deletionTimestamp"] = stamp(T0)
    stateful = pod()
    stateful["metadata"].update(deletionTimestamp=stamp(T0), ownerReferences=[{"kind": "StatefulSet", "name": "db"}])
    assert not rules.is_reschedulable(daemon) and not rules.is_reschedulable(terminating)
    assert rules.is_reschedulable(stateful) and rules.is_reschedulable(pod())
    assert rules.drainable(daemon)  # drained all the same (its own wave), but it never keeps a node "not empty"
    ready = claim(created=T0 - timedelta(hours=1))
    assert choosing.graceful_reason(ready, pool(), [p for p in (daemon, terminating) if rules.is_reschedulable(p)],
                                    T0) == rules.EMPTY


def test_a_terminating_pod_no_longer_blocks_with_do_not_disrupt():
    leaving = pod({rules.DO_NOT_DISRUPT: "true"})
    leaving["metadata"]["deletionTimestamp"] = stamp(T0)
    assert not rules.pod_do_not_disrupt(leaving, T0)  # IsDisruptable: !IsActive(pod) || !HasDoNotDisrupt(pod)


def test_static_pools_and_uninitialized_nodeclaims_are_never_consolidated():
    static = pool()
    static["spec"]["replicas"] = 2
    ready = claim(created=T0 - timedelta(hours=1))
    assert choosing.graceful_reason(ready, static, [], T0) is None  # emptiness.go ShouldDisrupt: static → false
    starting = claim(created=T0 - timedelta(hours=1))
    next(c for c in starting["status"]["conditions"] if c["type"] == "Initialized")["status"] = "Unknown"
    assert rules.consolidatable_at(starting, pool()) is None  # nodeclaim/disruption/consolidation.go


def test_do_not_disrupt_on_the_nodeclaim_blocks_like_on_the_node():
    annotated = claim()
    annotated["metadata"]["annotations"][rules.DO_NOT_DISRUPT] = "true"
    assert choosing.blocked_by({"metadata": {"name": "n"}}, [], T0, annotated) == f"node has {rules.DO_NOT_DISRUPT}"


def test_budgets_count_initialized_nodes_whose_instance_is_not_terminating():
    def node(name, initialized=True):
        labels = {"karpenter.sh/nodepool": "spot", "karpenter.sh/initialized": "true" if initialized else "false"}
        return {"metadata": {"name": name, "labels": labels}, "spec": {},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}}

    terminating = claim()
    terminating["status"].update(nodeName="c", conditions=[{"type": "InstanceTerminating", "status": "True"}])
    counts = rules.pool_counts([node("a"), node("b", initialized=False), node("c")], [terminating])
    assert counts["spot"] == rules.PoolCount(total=1, disrupting=0)  # helpers.go BuildDisruptionBudgetMapping


def test_an_unreadable_consolidate_after_keeps_the_node_and_says_so():
    kept = choosing.node_blockers({"metadata": {"name": "n"}}, [], pool(consolidateAfter="soon"), claim(), T0)
    assert [(b.kind, b.detail) for b in kept] == [("consolidate-after", "consolidateAfter 'soon' is not a duration")]
