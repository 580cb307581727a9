"""The pure plan for functions and NodePools: objects + now + defaults → actions and their patches."""
import json
from datetime import datetime, timedelta, timezone

from chalice_app.offhours.explain import explain_function
from chalice_app.kube.names import ORIGINAL_LIMITS, ORIGINAL_REPLICAS
from chalice_app.offhours.nodepools import plan_nodepools
from chalice_app.offhours.planner import Kind, decide, plan_functions
from chalice_app.offhours.policy import Defaults
from tests.offhours.factories import function, nodepool

OFFICE = Defaults(uptime="Mon-Fri 07:00-19:00 Europe/London")
NIGHT = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
GRACE = timedelta(minutes=15)


def action(fn, now=NIGHT, namespace=None, defaults=OFFICE):
    return decide(fn, namespace, now, defaults, GRACE).action


def test_downtime_scales_to_zero_and_stores_the_original_in_one_conditional_patch():
    down = action(function("a", 3, version="42"))
    assert (down.kind, down.current, down.desired, down.original) == (Kind.SCALE_DOWN, 3, 0, 3)
    assert down.patch() == {"metadata": {"resourceVersion": "42", "annotations": {ORIGINAL_REPLICAS: "3"}},
                            "spec": {"replicas": 0}}


def test_uptime_restores_exactly_and_removes_the_annotation():
    up = action(function("a", 0, annotations={ORIGINAL_REPLICAS: "3"}), MORNING)
    assert (up.kind, up.desired) == (Kind.RESTORE, 3)
    assert up.patch() == {"metadata": {"resourceVersion": "7", "annotations": {ORIGINAL_REPLICAS: None}},
                          "spec": {"replicas": 3}}


def test_missing_replicas_mean_one_as_in_kubernetes():
    assert action(function("a", None)).original == 1


def test_already_down_or_at_zero_is_kept():
    kept = action(function("a", 0, annotations={ORIGINAL_REPLICAS: "2"}))
    assert kept.kind is Kind.KEEP and kept.record.replicas == 2 and kept.record_is_new  # taken into the table
    assert action(function("a", 0)).kind is Kind.KEEP
    assert action(function("a", 2), MORNING).kind is Kind.KEEP


def test_downtime_replicas_annotation_sets_the_target():
    down = action(function("a", 4, annotations={"costguard.openfaas.com/downtime-replicas": "1"}))
    assert (down.kind, down.desired, down.original) == (Kind.SCALE_DOWN, 1, 4)


def test_a_human_scale_during_downtime_is_left_alone_then_released_not_fought():
    touched = function("a", 5, annotations={ORIGINAL_REPLICAS: "2"})
    night = action(touched)
    assert night.kind is Kind.SKIP and "by someone" in night.reason and night.desired == 5
    morning = action(touched, MORNING)
    assert (morning.kind, morning.desired) == (Kind.RELEASE, 5)
    assert morning.patch() == {"metadata": {"resourceVersion": "7", "annotations": {ORIGINAL_REPLICAS: None}}}


def test_uptime_restores_the_original_after_a_scale_from_zero_wake_up():
    woken = function("a", 1, annotations={ORIGINAL_REPLICAS: "3"})  # OpenFaaS Standard woke it on a request
    assert action(woken).kind is Kind.AWAKE  # during downtime: not fought until it has been idle
    morning = action(woken, MORNING)
    assert (morning.kind, morning.desired) == (Kind.RESTORE, 3)
    assert morning.patch()["spec"] == {"replicas": 3}


def test_uptime_restores_the_original_after_downtime_replicas_changed_overnight():
    changed = function("a", 1, annotations={ORIGINAL_REPLICAS: "4", "costguard.openfaas.com/downtime-replicas": "0"})
    morning = action(changed, MORNING)
    assert (morning.kind, morning.desired) == (Kind.RESTORE, 4)


def test_uptime_with_the_original_count_already_back_just_forgets_it():
    back = action(function("a", 3, annotations={ORIGINAL_REPLICAS: "3"}), MORNING)
    assert (back.kind, back.desired) == (Kind.RESTORE, 3)
    assert back.patch()["metadata"]["annotations"] == {ORIGINAL_REPLICAS: None}


def test_new_functions_get_a_grace_period():
    young = action(function("a", 2, created=NIGHT - timedelta(minutes=5)))
    assert young.kind is Kind.SKIP and "grace period" in young.reason
    assert action(function("a", 2, created=NIGHT - timedelta(minutes=16))).kind is Kind.SCALE_DOWN


def test_excluded_and_scale_zero_false_are_never_scaled_down():
    assert action(function("a", 2, annotations={"costguard.openfaas.com/exclude": "true"})).kind is Kind.SKIP
    assert action(function("a", 2, labels={"com.openfaas.scale.zero": "false"})).kind is Kind.SKIP
    assert action(function("a", 2), namespace={"downscaler/exclude": "true"}).kind is Kind.SKIP
    until = {"costguard.openfaas.com/exclude-until": "2026-11-25T00:00:00Z"}
    assert action(function("a", 2, annotations=until)).kind is Kind.SKIP
    assert action(function("a", 2, annotations=until), NIGHT + timedelta(hours=5)).kind is Kind.SCALE_DOWN


def test_excluding_a_function_we_scaled_down_gives_its_replicas_back():
    held = function("a", 0, annotations={ORIGINAL_REPLICAS: "3", "costguard.openfaas.com/exclude": "true"})
    restored = action(held)
    assert (restored.kind, restored.desired) == (Kind.RESTORE, 3)


def test_bad_annotations_become_errors_and_are_not_touched():
    bad = action(function("a", 2, annotations={"costguard.openfaas.com/uptime": "Mon-Fri 07:00-19:00 Nowhere/Land"}))
    assert bad.kind is Kind.ERROR and "Nowhere/Land" in bad.reason and not bad.kind.writes
    garbled = action(function("a", 0, annotations={ORIGINAL_REPLICAS: "three"}), MORNING)
    assert garbled.kind is Kind.ERROR and ORIGINAL_REPLICAS in garbled.reason


def test_cap_holds_back_changes_beyond_it_restores_first():
    downs = [function(f"down-{i}", 1) for i in range(4)]
    # At night the downs want to change; two functions whose own uptime is "always" want their replicas back.
    ups = [function(f"up-{i}", 0, annotations={ORIGINAL_REPLICAS: "1", "costguard.openfaas.com/uptime": "always"})
           for i in range(2)]
    plan = plan_functions(ups + downs, {}, NIGHT, OFFICE, GRACE, max_changes=3)
    assert plan.capped
    assert [a.name for a in plan.changes] == ["down-0", "up-0", "up-1"]
    assert [a.name for a in plan.of(Kind.DEFERRED)] == ["down-1", "down-2", "down-3"]
    assert all(a.desired == a.current for a in plan.of(Kind.DEFERRED))
    assert not plan_functions(downs, {}, NIGHT, OFFICE, GRACE, max_changes=500).capped


def test_nodepools_opt_in_limit_to_zero_and_restore_exactly():
    pools = [nodepool("default", {"cpu": "100", "memory": "400Gi"}), nodepool("spot", {"cpu": "100"}),
             nodepool("gpu", None, {"costguard.openfaas.com/offhours": "true"})]
    night = {a.name: a for a in plan_nodepools(pools, NIGHT, OFFICE, ["default"])}
    assert night["spot"].kind == "skip" and not night["spot"].writes
    assert night["default"].patch == {
        "metadata": {"resourceVersion": "3", "annotations": {ORIGINAL_LIMITS: '{"cpu": "100", "memory": "400Gi"}'}},
        "spec": {"limits": {"cpu": "0", "memory": "0"}}}
    assert night["gpu"].patch["spec"] == {"limits": {"cpu": "0"}}
    assert json.loads(night["gpu"].patch["metadata"]["annotations"][ORIGINAL_LIMITS]) == {}

    zeroed = [nodepool("default", {"cpu": "0", "memory": "0"}, {ORIGINAL_LIMITS: '{"cpu": "100", "memory": "400Gi"}'}),
              nodepool("gpu", {"cpu": "0"}, {"costguard.openfaas.com/offhours": "true", ORIGINAL_LIMITS: "{}"})]
    assert {a.kind for a in plan_nodepools(zeroed, NIGHT, OFFICE, ["default"])} == {"keep"}
    morning = {a.name: a for a in plan_nodepools(zeroed, MORNING, OFFICE, ["default"])}
    assert morning["default"].patch["spec"] == {"limits": {"cpu": "100", "memory": "400Gi"}}
    assert morning["gpu"].patch["spec"] == {"limits": {"cpu": None}}  # a key we added is removed
    assert morning["gpu"].patch["metadata"]["annotations"] == {ORIGINAL_LIMITS: None}


def test_nodepool_limits_changed_during_downtime_are_kept():
    moved = [nodepool("default", {"cpu": "40"}, {ORIGINAL_LIMITS: '{"cpu": "100"}'})]
    assert plan_nodepools(moved, NIGHT, OFFICE, ["default"])[0].kind == "skip"
    released = plan_nodepools(moved, MORNING, OFFICE, ["default"])[0]
    assert released.kind == "release" and "spec" not in released.patch
    broken = plan_nodepools([nodepool("default", {"cpu": "0"}, {ORIGINAL_LIMITS: "[1]"})], MORNING, OFFICE, ["default"])
    assert broken[0].kind == "error" and not broken[0].writes


def test_explain_names_the_source_state_and_next_change():
    explained = explain_function(function("a", 0, annotations={ORIGINAL_REPLICAS: "2"}),
                                 {"costguard.openfaas.com/uptime": "Mon-Fri 07:00-19:00 Europe/London"}, NIGHT,
                                 Defaults(), GRACE)
    assert explained.schedule_source == "namespace openfaas-fn annotation costguard.openfaas.com/uptime"
    assert (explained.state, explained.action, explained.original_replicas) == ("downtime", "keep", "2")
    assert explained.next_change == MORNING - timedelta(minutes=5)
    assert dict(explained.lines())["next change"] == "2026-11-25T07:00:00+00:00"


def test_a_parked_nodepool_that_lost_its_opt_in_gets_its_limits_back_at_once():
    dropped = nodepool("default", {"cpu": "0"}, {ORIGINAL_LIMITS: '{"cpu": "100"}'})  # no longer in the config
    night = plan_nodepools([dropped], NIGHT, OFFICE, [])[0]
    assert (night.kind, night.desired) == ("restore", {"cpu": "100"}) and "no longer opted in" in night.reason
    assert night.patch["spec"] == {"limits": {"cpu": "100"}}
    assert plan_nodepools([nodepool("other", {"cpu": "0"})], NIGHT, OFFICE, [])[0].kind == "skip"
    assert plan_nodepools([dropped], MORNING, OFFICE, [])[0].kind == "restore"


def test_an_empty_uptime_annotation_is_an_error_and_the_function_is_left_alone():
    for key in ("costguard.openfaas.com/uptime", "costguard.openfaas.com/downtime"):
        empty = action(function("a", 3, annotations={key: ""}))
        assert empty.kind is Kind.ERROR and "empty time spec" in empty.reason and empty.desired == 3
        assert key in empty.reason


def test_excluding_a_woken_function_restores_its_original_but_keeps_a_higher_count():
    woken = function("a", 1, annotations={ORIGINAL_REPLICAS: "3", "costguard.openfaas.com/exclude": "true"})
    assert (action(woken).kind, action(woken).desired) == (Kind.RESTORE, 3)
    higher = function("a", 5, annotations={ORIGINAL_REPLICAS: "3", "costguard.openfaas.com/exclude": "true"})
    assert (action(higher).kind, action(higher).desired) == (Kind.RELEASE, 5)
