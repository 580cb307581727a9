"""Opt-in deletion of the empty NodeClaims of parked NodePools (offhours/reaper.py): the pure planner, the run on an
in-memory cluster and table, and the interruption classification of the termination that follows."""
import json
from datetime import timedelta

from chalice_app.interruptions.correlation import OFFHOURS_DELETION, correlate
from chalice_app.interruptions.notice import Notice, NoticeKind
from chalice_app.interruptions.records import remembered_facts
from chalice_app.offhours.parked import MemoryParkedStore
from chalice_app.offhours.reaper import plan_deletions, reschedulable
from chalice_app.offhours.report import nodes_note, summary_message
from chalice_app.table_keys import hit_key
from tests.memory_cluster import MemoryCluster
from tests.offhours.test_offhours_night import EVENING, reconciler
from tests.offhours.test_offhours_nodes import node, pod, pool_object

NEVER = pool_object("default", {"cpu": "100"}, [], disruption={"consolidateAfter": "Never"})
SETTLED = EVENING + timedelta(minutes=35)  # parked long enough for consolidation to have had its chance


def claim(name, node_name, pool="default", annotations=None, deleting=False, instance=None):
    meta = {"name": name, "uid": f"uid-{name}", "labels": {"karpenter.sh/nodepool": pool},
            "annotations": annotations or {}}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-24T19:00:00Z"
    return {"metadata": meta, "status": {"nodeName": node_name,
                                         "providerID": f"aws:///us-east-1a/{instance or 'i-0' + name}"}}


def test_empty_is_karpenters_rule_daemonset_mirror_and_finished_pods_do_not_count():
    assert not reschedulable(pod("ds", "n1", owner="DaemonSet"))
    assert not reschedulable(pod("mirror", "n1", owner="Node"))
    assert not reschedulable(pod("static", "n1", annotations={"kubernetes.io/config.mirror": "x"}))
    assert not reschedulable(pod("done", "n1", phase="Succeeded")) and not reschedulable(pod("x", "n1", phase="Failed"))
    going = pod("going", "n1")
    going["metadata"]["deletionTimestamp"] = "2026-11-24T19:00:00Z"
    assert not reschedulable(going)
    stateful = pod("db-0", "n1", owner="StatefulSet")
    stateful["metadata"]["deletionTimestamp"] = "2026-11-24T19:00:00Z"
    assert reschedulable(stateful)  # a terminating StatefulSet pod still counts (IsReschedulable)
    assert reschedulable(pod("cache", "n1", namespace="default"))


def test_the_planner_deletes_only_empty_unprotected_nodeclaims_of_parked_pools_within_the_limit():
    nodes = [node(n, "default") for n in ("a", "b", "c", "d", "e", "f")]
    nodes[3]["metadata"]["annotations"] = {"karpenter.sh/do-not-disrupt": "true"}
    claims = [claim("a", "a"), claim("b", "b"), claim("c", "c"), claim("d", "d"), claim("e", "e", deleting=True),
              claim("f", "f", annotations={"karpenter.sh/do-not-disrupt": "true"}),
              claim("g", "g"), claim("other", "a", pool="spot")]
    pods = {"a": [pod("ds", "a", owner="DaemonSet")], "b": [pod("cache", "b", namespace="default")],
            "c": [pod("done", "c", phase="Succeeded")], "d": [], "e": [], "f": []}
    deletions, held = plan_deletions({"default": NEVER}, claims, nodes, pods, limit=5)
    assert [(d.nodeclaim, d.uid, d.node, d.instance_id) for d in deletions] == [
        ("a", "uid-a", "a", "i-0a"), ("c", "uid-c", "c", "i-0c")]
    assert "NodePool consolidateAfter: Never" in deletions[0].reason
    assert held == ["NodeClaim d: empty but marked karpenter.sh/do-not-disrupt; left alone",
                    "NodeClaim f: empty but marked karpenter.sh/do-not-disrupt; left alone"]
    # the cap holds the rest to the next run
    capped, held_back = plan_deletions({"default": NEVER}, claims, nodes, pods, limit=1)
    assert [d.nodeclaim for d in capped] == ["a"]
    assert "NodeClaim c: empty; beyond this run's limit of 1, next run" in held_back
    assert plan_deletions({"default": NEVER}, claims, nodes, pods, limit=0) == ([], [])
    assert plan_deletions({}, claims, nodes, pods, limit=5) == ([], [])


def test_a_pool_holding_a_night_allowance_keeps_its_empty_nodes():
    allowed = pool_object("default", {"cpu": "2000m"}, [])
    allowed["metadata"]["annotations"]["costguard.openfaas.com/night-allowance"] = json.dumps({"cpu": "2000m"})
    assert plan_deletions({"default": allowed}, [claim("a", "a")], [node("a", "default")], {"a": []}, 5) == ([], [])


def parked_cluster():
    cluster = MemoryCluster([], nodepools=[NEVER])
    cluster.nodes = [node("empty", "default"), node("busy", "default")]
    cluster.nodeclaims = [claim("empty", "empty", instance="i-0empty"), claim("busy", "busy")]
    cluster.pods = [pod("cache", "busy", namespace="default"), pod("ds", "empty", owner="DaemonSet")]
    return cluster


def test_off_by_default_and_never_before_the_pool_settled():
    cluster, store = parked_cluster(), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    assert reconciler(cluster, store).run(SETTLED).deleted_nodeclaims == []  # the setting is 0: off
    assert not any(label.endswith(" DELETE") for label, _ in cluster.patches)
    fresh, store = parked_cluster(), MemoryParkedStore()
    assert reconciler(fresh, store, delete_empty_nodeclaims=5).run(EVENING).deleted_nodeclaims == []  # just parked


def test_the_run_deletes_the_empty_nodeclaim_remembers_the_instance_first_and_reports_it():
    cluster, store = parked_cluster(), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    report = reconciler(cluster, store, delete_empty_nodeclaims=5).run(SETTLED)
    assert [d.nodeclaim for d in report.deleted_nodeclaims] == ["empty"]
    assert [label for label, _ in cluster.patches if label.endswith(" DELETE")] == ["empty DELETE"]
    assert cluster.patches[-1][1] == {"uid": "uid-empty"}
    assert [stay.node for stay in report.nodes] == ["busy"]  # the deleted one no longer "stays"
    facts, _ = remembered_facts({"facts": {"S": store.items[hit_key("i-0empty")]["facts"]}})
    assert facts.disruption_reason == OFFHOURS_DELETION and facts.first_kind is None
    assert report.changed and not report.errors
    summary_text = json.dumps(summary_message(report).blocks)
    note_text = json.dumps(nodes_note(report).blocks)
    for text in (summary_text, note_text):
        assert "Empty NodeClaims deleted" in text and "NodeClaim empty (node empty" in text
    # already deleting: the next run leaves it alone
    again = reconciler(cluster, store, delete_empty_nodeclaims=5).run(SETTLED + timedelta(minutes=5))
    assert again.deleted_nodeclaims == []


def test_a_dry_run_deletes_nothing_and_says_what_it_would_delete():
    cluster, store = parked_cluster(), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    report = reconciler(cluster, store, delete_empty_nodeclaims=5, dry_run=True).run(SETTLED)
    assert report.deleted_nodeclaims == [] and hit_key("i-0empty") not in store.items
    assert [note for note in report.notes if note.startswith("[dry run] would delete NodeClaim empty")]


def test_a_failed_delete_is_reported_and_forgets_the_instance_record():
    cluster, store = parked_cluster(), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    cluster.fail.add("empty")
    report = reconciler(cluster, store, delete_empty_nodeclaims=5).run(SETTLED)
    assert report.deleted_nodeclaims == [] and hit_key("i-0empty") not in store.items
    assert report.errors == [("NodeClaim empty", "Kubernetes API 500 Internal Server Error")]


def test_an_instance_with_an_interruption_record_is_not_deleted():
    cluster, store = parked_cluster(), MemoryParkedStore()
    reconciler(cluster, store).run(EVENING)
    store.items[hit_key("i-0empty")] = {"facts": json.dumps({"first_kind": "spot-interruption"})}
    report = reconciler(cluster, store, delete_empty_nodeclaims=5).run(SETTLED)
    assert report.deleted_nodeclaims == [] and not [p for p in cluster.patches if p[0].endswith(" DELETE")]
    assert store.items[hit_key("i-0empty")]["facts"] == json.dumps({"first_kind": "spot-interruption"})
    assert report.notes == ["NodeClaim empty: empty, but its instance i-0empty has an interruption record; not deleted"]
    assert not report.errors


def test_the_termination_of_a_nodeclaim_off_hours_deleted_is_no_interruption():
    live = node("empty", "default")
    live["spec"] = {"providerID": "aws:///us-east-1a/i-0empty",
                    "taints": [{"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}]}
    live["metadata"]["deletionTimestamp"] = "2026-11-24T19:40:00Z"
    claims = [claim("empty", "empty", instance="i-0empty", deleting=True)]
    notice = Notice(event_id="e1", kind=NoticeKind.INSTANCE_TERMINATED, instance_ids=("i-0empty",),
                    time=SETTLED, region="us-east-1", account="123456789012")
    # Without costguard's record Karpenter gave no reason: an alert, as for anyone else's deletion
    assert len(correlate([notice], [live], claims, []).impacts) == 1
    store = MemoryParkedStore()
    cluster = parked_cluster()
    reconciler(cluster, store).run(EVENING)
    reconciler(cluster, store, delete_empty_nodeclaims=5).run(SETTLED)
    facts, replicas = remembered_facts({"facts": {"S": store.items[hit_key("i-0empty")]["facts"]}})
    correlation = correlate([notice], [live], claims, [], remembered={"i-0empty": facts})
    assert correlation.impacts == () and [i.node.karpenter_reason for i in correlation.disrupted] == [OFFHOURS_DELETION]
