import json
from datetime import datetime, timezone

from chalice_app.headroom.planner import (HEADROOM_PRIORITY_CLASS, PAUSE_IMAGE, Policy, deployment, plan_headroom)
from chalice_app.kube.names import BUDGET_STATUS, HEADROOM, HEADROOM_NAMESPACE, HEADROOM_POOL_LABEL, ORIGINAL_LIMITS

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
MONDAY_22 = datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)
REQUEST = "Mon-Fri 07:00-19:00 UTC: 2 vCPU, 4Gi"
SPOT_TAINT = {"key": "karpenter.sh/capacity-type", "value": "spot", "effect": "NoSchedule"}


def nodepool(name="spot", annotations=None, taints=(SPOT_TAINT,)):
    return {"metadata": {"name": name, "annotations": dict(annotations or {}), "resourceVersion": "7"},
            "spec": {"template": {"spec": {"taints": list(taints), "requirements": []}}}}


def existing(pool, replicas, nodepool_object=None):
    body = deployment(pool, nodepool_object or nodepool(pool), replicas, 1000, 2 * 1024 ** 3)
    body["metadata"]["resourceVersion"] = "41"
    return body


def only(plan):
    assert len(plan.pools) == 1
    return plan.pools[0]


def test_inside_the_window_placeholders_sum_to_the_headroom_and_are_steered_to_the_pool():
    pool = only(plan_headroom([nodepool(annotations={HEADROOM: REQUEST})], [], Policy({}), MONDAY_9))
    assert (pool.action, pool.replicas, pool.cpu_millis, pool.memory_bytes) == ("create", 2, 2000, 4 * 1024 ** 3)
    body = pool.body
    assert body["metadata"]["namespace"] == HEADROOM_NAMESPACE
    assert body["spec"]["selector"]["matchLabels"] == {HEADROOM_POOL_LABEL: "spot"}
    template = body["spec"]["template"]
    assert template["metadata"]["labels"][HEADROOM_POOL_LABEL] == "spot"
    spec = template["spec"]
    assert spec["priorityClassName"] == HEADROOM_PRIORITY_CLASS
    assert spec["containers"][0]["image"] == PAUSE_IMAGE
    assert spec["containers"][0]["resources"]["requests"] == {"cpu": "1000m", "memory": str(2 * 1024 ** 3)}
    assert spec["tolerations"] == [{"key": "karpenter.sh/capacity-type", "effect": "NoSchedule",
                                    "operator": "Equal", "value": "spot"}]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["spot"]}]}]
    assert pool.next_change == datetime(2026, 11, 30, 19, 0, tzinfo=timezone.utc)


def test_a_setting_asks_for_headroom_and_the_annotation_wins_over_it():
    policy = Policy({"spot": "Mon-Fri 07:00-19:00 UTC: 1 vCPU", "default": REQUEST})
    plan = plan_headroom([nodepool(annotations={HEADROOM: REQUEST}), nodepool("default", taints=())], [], policy,
                         MONDAY_9)
    by_pool = {pool.pool: pool for pool in plan.pools}
    assert by_pool["spot"].replicas == 2 and "annotation" in by_pool["spot"].source
    assert by_pool["default"].replicas == 2 and "COSTGUARD_HEADROOM" in by_pool["default"].source
    assert by_pool["default"].body["spec"]["template"]["spec"]["tolerations"] == []


def test_at_night_the_placeholders_go_to_zero():
    pool = only(plan_headroom([nodepool(annotations={HEADROOM: REQUEST})], [existing("spot", 2)], Policy({}),
                              MONDAY_22))
    assert (pool.action, pool.current, pool.replicas) == ("scale", 2, 0)
    assert pool.body == {"spec": {"replicas": 0}, "metadata": {"resourceVersion": "41"}}
    assert pool.reason.startswith("outside")


def test_nothing_is_created_at_night_and_nothing_changes_when_all_is_as_wanted():
    assert only(plan_headroom([nodepool(annotations={HEADROOM: REQUEST})], [], Policy({}), MONDAY_22)).action == "keep"
    assert only(plan_headroom([nodepool(annotations={HEADROOM: REQUEST})], [existing("spot", 2)], Policy({}),
                              MONDAY_9)).action == "keep"


def test_a_parked_pool_keeps_no_placeholders_even_inside_the_window():
    parked = nodepool(annotations={HEADROOM: REQUEST, ORIGINAL_LIMITS: '{"cpu": "100"}'})
    pool = only(plan_headroom([parked], [existing("spot", 2)], Policy({}), MONDAY_9))
    assert (pool.action, pool.replicas, pool.reason) == ("scale", 0, "off-hours has the pool parked")


def test_a_pool_whose_headroom_the_budget_cut_keeps_none():
    cut = nodepool(annotations={HEADROOM: REQUEST, BUDGET_STATUS: json.dumps({"headroom_cut": True})})
    pool = only(plan_headroom([cut], [existing("spot", 2)], Policy({}), MONDAY_9))
    assert (pool.replicas, pool.action) == (0, "scale") and "budget" in pool.reason


def test_a_changed_request_updates_the_template_and_the_count():
    bigger = nodepool(annotations={HEADROOM: "Mon-Fri 07:00-19:00 UTC: 3 vCPU"})
    pool = only(plan_headroom([bigger], [existing("spot", 2)], Policy({}), MONDAY_9))
    assert pool.action == "update" and pool.body["spec"]["replicas"] == 3
    assert pool.body["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1000m"}


def test_a_bad_request_is_that_pool_s_error_only():
    plan = plan_headroom([nodepool(annotations={HEADROOM: "whenever: 2 vCPU"}),
                          nodepool("default", annotations={HEADROOM: REQUEST}, taints=())], [], Policy({}), MONDAY_9)
    by_pool = {pool.pool: pool for pool in plan.pools}
    assert by_pool["spot"].action == "error" and "malformed window 'whenever'" in by_pool["spot"].error
    assert by_pool["default"].action == "create"


def test_placeholders_of_a_pool_that_no_longer_asks_go_to_zero():
    pool = only(plan_headroom([nodepool()], [existing("spot", 2)], Policy({}), MONDAY_9))
    assert (pool.pool, pool.action, pool.replicas) == ("spot", "scale", 0)
    assert "no longer asks" in pool.reason


def test_a_holiday_is_outside_the_window():
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=timezone.utc)  # a Friday
    pool = only(plan_headroom([nodepool(annotations={HEADROOM: REQUEST})], [], Policy({}, holidays="GB-ENG"),
                              christmas))
    assert pool.replicas == 0
