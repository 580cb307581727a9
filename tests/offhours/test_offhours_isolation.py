"""Isolation per object: whatever one function's owner writes into its costguard annotations, schedule fields and
scaling labels, every other function is still parked at night and restored exactly in the morning, and the bad
function is left untouched or decided on its own (never the run's failure). Pure planner, no I/O."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from chalice_app.kube.names import (ANNOTATION_PREFIX, LEGACY_PREFIX, ORIGINAL_REPLICAS, SCALE_MAX_LABEL,
                                    SCALE_MIN_LABEL, SCALE_ZERO_LABEL)
from chalice_app.offhours.parked import ParkedFunction
from chalice_app.offhours.planner import Kind, NightRules, plan_functions
from chalice_app.offhours.policy import Defaults
from tests.offhours.factories import function

OFFICE = Defaults(uptime="Mon-Fri 07:00-19:00 Europe/London")
NIGHT = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
GRACE = timedelta(minutes=15)
GOOD = {"alpha": 3, "beta": 1, "gamma": 12}
KEYS = ("uptime", "downtime", "exclude", "exclude-until", "downtime-replicas", "holidays", "original-replicas")
LABELS = (SCALE_MIN_LABEL, SCALE_MAX_LABEL, SCALE_ZERO_LABEL)
# Inputs that once stopped every run (issue 12), mixed in with arbitrary text.
HOSTILE = ("²", "٣", "9" * 5000, "-1", "1e3", " 7 ", "2147483648", "Mon-Fri 07:00-19:00 America",
           "Mon-Fri 07:00-19:00 ../../etc/passwd", "Mon-Fri 25:00-99:99 UTC", "Mon-Fri 07:00-19:00 \x00",
           "9999-12-31T23:59:59", "0001-01-01", "<!channel> <https://evil.example|click>", "", " ", "true", "null")
values = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE))


# Every costguard annotation under both prefixes, and OpenFaaS's scaling labels: each present or not, any text.
annotation_fields = st.fixed_dictionaries({}, optional={prefix + key: values for key in KEYS
                                                       for prefix in (ANNOTATION_PREFIX, LEGACY_PREFIX)})
label_fields = st.fixed_dictionaries({}, optional={label: values for label in LABELS})


def _hostile(fields: dict, labels: dict, replicas: int, on_template: bool):
    kwargs = {"template_annotations": fields} if on_template else {"annotations": fields}
    return function("hostile", replicas, template_labels=labels, **kwargs)


hostile_function = st.builds(_hostile, annotation_fields, label_fields, st.integers(0, 50), st.booleans())


def _good(replicas: dict[str, int], parked: bool = False):
    return [function(name, 0 if parked else count, annotations={ORIGINAL_REPLICAS: str(count)} if parked else None)
            for name, count in replicas.items()]


@settings(max_examples=2000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_function, st.sampled_from([NIGHT, NIGHT + timedelta(hours=5)]))
def test_one_functions_annotations_never_stop_the_others_from_parking_and_restoring(hostile, night):
    evening = plan_functions(_good(GOOD) + [hostile], {}, night, OFFICE, GRACE, max_changes=100)
    by_name = {action.name: action for action in evening.actions}
    records = {}
    for name, count in GOOD.items():
        action = by_name[name]
        assert (action.kind, action.current, action.desired, action.original) == (Kind.SCALE_DOWN, count, 0, count)
        records[(action.namespace, name)] = ParkedFunction(count, f"uid-openfaas-fn-{name}", night.isoformat())
    morning = plan_functions(_good(GOOD, parked=True) + [hostile], {}, MORNING, OFFICE, GRACE, max_changes=100,
                             records=records)
    for action in morning.actions:
        if action.name in GOOD:
            assert (action.kind, action.desired) == (Kind.RESTORE, GOOD[action.name])
        else:  # the hostile one: decided or reported, its reason bounded (never the 5,000 digits back)
            assert action.kind is not Kind.ERROR or len(action.reason) < 600
            if action.kind is Kind.RESTORE:
                assert action.desired <= NightRules().restore_cap


def test_a_unicode_digit_or_a_huge_number_is_that_functions_error_naming_the_annotation():
    for value in ("²", "9" * 5000):
        bad = function("hostile", 0, annotations={ORIGINAL_REPLICAS: value})
        plan = plan_functions(_good(GOOD) + [bad], {}, NIGHT, OFFICE, GRACE, max_changes=100)
        errors = plan.of(Kind.ERROR)
        assert [action.name for action in errors] == ["hostile"]
        assert ORIGINAL_REPLICAS in errors[0].reason and len(errors[0].reason) < 300
        assert len(plan.of(Kind.SCALE_DOWN)) == len(GOOD)


def test_a_tzdata_folder_as_zone_is_a_clear_error_not_a_crash():
    bad = function("hostile", 2, annotations={ANNOTATION_PREFIX + "uptime": "Mon-Fri 07:00-19:00 America"})
    plan = plan_functions(_good(GOOD) + [bad], {}, NIGHT, OFFICE, GRACE, max_changes=100)
    [error] = plan.of(Kind.ERROR)
    assert "unknown time zone 'America'" in error.reason


def test_original_replicas_5000_restores_to_the_stage_cap_and_says_so():
    inflated = function("inflated", 0, annotations={ORIGINAL_REPLICAS: "5000"})
    [restore] = plan_functions([inflated], {}, MORNING, OFFICE, GRACE, max_changes=10).actions
    assert (restore.kind, restore.desired, restore.capped_from) == (Kind.RESTORE, NightRules().restore_cap, 5000)
    assert "capped" in restore.reason


def test_a_restore_is_capped_by_the_functions_scale_max_label_even_from_costguards_own_record():
    fn = function("api", 0, annotations={ORIGINAL_REPLICAS: "30"}, template_labels={SCALE_MAX_LABEL: "8"})
    record = {("openfaas-fn", "api"): ParkedFunction(30, "uid-openfaas-fn-api", NIGHT.isoformat())}
    plan = plan_functions([fn], {}, MORNING, OFFICE, GRACE, max_changes=10, records=record)
    [restore] = plan.actions
    assert (restore.kind, restore.desired, restore.capped_from) == (Kind.RESTORE, 8, 30)
    assert SCALE_MAX_LABEL in restore.cap_source


def test_a_restore_within_the_cap_is_not_reported_as_capped():
    fn = function("api", 0, annotations={ORIGINAL_REPLICAS: "4"}, template_labels={SCALE_MAX_LABEL: "8"})
    [restore] = plan_functions([fn], {}, MORNING, OFFICE, GRACE, max_changes=10).actions
    assert (restore.kind, restore.desired, restore.capped_from) == (Kind.RESTORE, 4, None)


def test_a_nodepool_that_cannot_be_decided_is_its_own_error_and_the_others_are_parked():
    from chalice_app.offhours.nodepools import plan_nodepools
    from tests.offhours.factories import nodepool
    good = nodepool("good", limits={"cpu": "100"})
    broken = nodepool("broken", limits={"cpu": "100"}, annotations={ORIGINAL_REPLICAS: "²"}, replicas=2)
    weird = nodepool("weird", limits={"cpu": "100"}, annotations={ANNOTATION_PREFIX + "uptime": "9" * 5000})
    actions = {a.name: a for a in plan_nodepools([good, broken, weird], NIGHT, OFFICE, ["good", "broken", "weird"])}
    assert actions["good"].kind == "limit"
    assert actions["broken"].kind == "error" and ORIGINAL_REPLICAS in actions["broken"].reason
    assert actions["weird"].kind == "error" and len(actions["weird"].reason) <= 400


def test_a_restore_from_the_annotation_without_a_record_is_capped_and_reported_in_summary_slack_and_explain(
        monkeypatch):
    """End to end through the handler (in-memory cluster and store): `original-replicas: "5000"` and no record."""
    import json

    from chalice_app.config import load_settings
    from chalice_app.offhours import handler
    from chalice_app.offhours.explain import explain_function
    from chalice_app.offhours.parked import MemoryParkedStore
    from chalice_app.offhours.planner import UNRECORDED
    from chalice_app.offhours.ports import OffhoursPorts
    from tests.memory_cluster import MemoryCluster
    from tests.offhours.factories import deployment
    from tests.offhours.test_offhours_night import config
    from tests.slackfakes import RecordingNotifier

    monkeypatch.setattr(handler, "record_run_quietly", lambda *args, **kwargs: True)
    cluster = MemoryCluster([deployment("inflated", 0, annotations={ORIGINAL_REPLICAS: "5000"})])
    [before] = cluster.functions("openfaas-fn")  # as `costguard offhours explain` reads it before the run
    slack = RecordingNotifier()
    summary = handler.run(load_settings({"COSTGUARD_CLUSTER_NAME": "c", "COSTGUARD_TABLE_NAME": "costguard-test"}),
                          MORNING, OffhoursPorts(cluster, MemoryParkedStore(), slack), config=config())
    cap = NightRules().restore_cap
    assert cluster.deployments[("openfaas-fn", "inflated")]["spec"]["replicas"] == cap
    assert summary["restored_from_annotation"] == [f"openfaas-fn/inflated → {cap} (capped from 5000)"]
    [message] = slack.sent
    said = json.dumps(message.blocks)
    assert UNRECORDED in said and f"capped: 5000 stored, at most {cap}" in said
    why = dict(explain_function(before, {}, MORNING, OFFICE, GRACE).lines())["why"]
    assert UNRECORDED in why and "capped at" in why
