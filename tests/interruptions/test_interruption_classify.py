"""Classifying lost nodes, one node per instance, risk that counts nodes already going. Pure: no I/O."""
from chalice_app.interruptions.chunking import plan_messages
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.parsing import parse_event
from chalice_app.interruptions.records import hit_item, remembered_facts
from chalice_app.slack.render import to_text
from tests.interruptions import factories as f

DELETED = "2026-11-24T17:59:00Z"


def disrupted_claim(number: int, reason: str | None = "Underutilized", deleted: str | None = DELETED,
                    created: str = "2026-11-24T12:00:00Z", expire_after: str = "720h") -> dict:
    claim = f.nodeclaim(number)
    claim["metadata"]["creationTimestamp"] = created
    claim["spec"] = {"expireAfter": expire_after}
    if deleted:
        claim["metadata"]["deletionTimestamp"] = deleted
        claim["metadata"]["finalizers"] = ["karpenter.sh/termination"]
    if reason:
        claim["status"]["conditions"] = [{"type": "DisruptionReason", "status": "True", "reason": reason,
                                          "message": reason}]
    return claim


def tainted_node(number: int, deleting: bool = True) -> dict:
    node = f.node(number)
    node["spec"]["taints"] = [{"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}]
    if deleting:
        node["metadata"]["deletionTimestamp"] = DELETED
    return node


def notices(*events):
    return [parse_event(event) for event in events]


def test_a_consolidated_node_that_terminates_is_no_interruption():
    correlation = correlate(notices(f.state_change(1, "shutting-down"), f.state_change(1, "terminated")),
                            [tainted_node(1)], [disrupted_claim(1)], [f.pod("sleep", 1)])
    assert correlation.impacts == () and len(correlation.disrupted) == 1
    assert correlation.disrupted[0].node.karpenter_reason == "Underutilized"
    assert plan_messages(correlation, f.NOW, "demo") == []


def test_every_voluntary_reason_and_expiry_is_karpenters():
    for reason in ("Empty", "Underutilized", "Drifted"):
        correlation = correlate(notices(f.state_change(1, "terminated")), [tainted_node(1)],
                                [disrupted_claim(1, reason)], [])
        assert correlation.disrupted[0].node.karpenter_reason == reason
    expired = disrupted_claim(1, reason=None, created="2026-10-25T12:00:00Z", deleted="2026-11-24T12:00:00Z")
    correlation = correlate(notices(f.state_change(1, "terminated")), [tainted_node(1)], [expired], [])
    assert correlation.disrupted[0].node.karpenter_reason == "Expired"


def test_deleted_and_tainted_without_a_voluntary_reason_alerts():
    # Karpenter's own interruption handling, or a human deleting the node: tainted and deleting, no reason, young.
    for claim in (disrupted_claim(1, reason=None), disrupted_claim(1, reason="SpotInterruption"),
                  disrupted_claim(1, reason=None, expire_after="Never")):
        correlation = correlate(notices(f.state_change(1, "terminated")), [tainted_node(1)], [claim], [])
        assert len(correlation.impacts) == 1 and correlation.disrupted == ()


def test_a_spot_warning_for_a_node_karpenter_is_consolidating_still_alerts():
    correlation = correlate(notices(f.spot_warning(1), f.state_change(1, "terminated")), [tainted_node(1)],
                            [disrupted_claim(1)], [])
    assert len(correlation.impacts) == 1 and correlation.impacts[0].notice.kind.value == "spot_interruption"


def test_paired_state_changes_of_one_instance_are_one_node():
    pair = notices(f.state_change(1, "shutting-down"), f.state_change(1, "terminated"),
                   f.state_change(2, "stopping"), f.state_change(2, "stopped"))
    correlation = correlate(pair, [f.node(1), f.node(2)], [], [f.pod("sleep", 1)])
    assert len(correlation.impacts) == 2
    assert {len(impact.ids) for impact in correlation.impacts} == {2}
    planned = plan_messages(correlation, f.NOW, "demo")
    text = to_text(planned[0][0], now=f.NOW)
    assert text.startswith("2 nodes hit") and text.count(f.instance_id(1)) == 1
    assert planned[0][1] == {notice.event_id for notice in pair}  # all four settle with the one alert


def test_a_follow_up_after_kubernetes_forgot_the_node_is_attributed_from_memory():
    first = correlate(notices(f.spot_warning(1)), [f.node(1)], [f.nodeclaim(1)], [f.pod("sleep", 1)])
    remembered = remembered_facts(hit_item(first.impacts[0], f.NOW))
    later = correlate(notices(f.state_change(1, "terminated")), [], [], [],
                      remembered={f.instance_id(1): remembered[0]},
                      remembered_replicas={f.instance_id(1): remembered[1]})
    assert later.not_in_cluster == () and len(later.impacts) == 1
    impact = later.impacts[0]
    assert (impact.node.name, impact.node.nodepool, impact.node.nodeclaim) == (f.node_name(1), "spot", "spot-00001")
    text = to_text(plan_messages(later, f.NOW, "demo")[0][0], now=f.NOW)
    assert "already gone from Kubernetes" in text and "openfaas-fn/sleep" in text


def test_a_remembered_karpenter_disruption_keeps_its_follow_up_quiet():
    first = correlate(notices(f.state_change(1, "shutting-down")), [tainted_node(1)], [disrupted_claim(1)], [])
    facts, replicas = remembered_facts(hit_item(first.disrupted[0], f.NOW))
    later = correlate(notices(f.state_change(1, "terminated")), [], [], [], remembered={f.instance_id(1): facts})
    assert later.impacts == () and later.disrupted[0].node.karpenter_reason == "Underutilized"


def test_pods_on_nodes_already_going_count_as_at_risk():
    cordoned = f.node(2, unschedulable=True)
    pods = [f.pod("api", 1, 0), f.pod("api", 2, 1), f.pod("api", 3, 2)]
    for going in (cordoned, tainted_node(2, deleting=False), tainted_node(2)):
        correlation = correlate(notices(f.spot_warning(1)), [f.node(1), going, f.node(3)], [], pods)
        risk = next(iter(correlation.risks.values()))
        assert (risk.ready_total, risk.ready_on_affected) == (3, 2)
        assert not risk.unavailable_until_rescheduled
    # The last healthy replica's node is cordoned too: nothing left to serve from.
    correlation = correlate(notices(f.spot_warning(1)), [f.node(1), cordoned, f.node(3, unschedulable=True)], [],
                            pods)
    assert next(iter(correlation.risks.values())).unavailable_until_rescheduled


def test_names_from_the_cluster_are_escaped_for_mrkdwn():
    node = f.node(1, pool="<!channel>")
    node["metadata"]["labels"]["node.kubernetes.io/instance-type"] = "m5.large&<@U123>"
    correlation = correlate(notices(f.spot_warning(1)), [node], [], [f.pod("<b>", 1)])
    blocks = str(plan_messages(correlation, f.NOW, "demo")[0][0].blocks)
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks
    assert "<@U123>" not in blocks and "<b>" not in blocks


def test_a_warned_reclaim_stays_a_reclaim_even_if_karpenter_then_consolidates_the_emptied_node():
    warned = correlate(notices(f.spot_warning(1)), [f.node(1)], [f.nodeclaim(1)], [])
    facts, _ = remembered_facts(hit_item(warned.impacts[0], f.NOW))
    later = correlate(notices(f.state_change(1, "shutting-down")), [tainted_node(1)], [disrupted_claim(1, "Empty")],
                      [], remembered={f.instance_id(1): facts})
    assert len(later.impacts) == 1 and later.disrupted == ()
