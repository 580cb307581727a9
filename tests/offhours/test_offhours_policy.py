"""Policy sources, first found wins: function, namespace, stage defaults; downscaler/* as a fallback."""
from datetime import datetime, timezone

import pytest

from chalice_app.offhours.policy import Defaults, Layer, PolicyError, layers_for, resolve_policy

NIGHT = datetime(2026, 11, 24, 23, 0, tzinfo=timezone.utc)  # Tuesday 23:00 London
DAY = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
OFFICE = "Mon-Fri 07:00-19:00 Europe/London"


def resolve(function: dict, namespace: dict | None = None, defaults: Defaults = Defaults()):
    return resolve_policy(layers_for("function", function, "openfaas-fn", namespace or {}), defaults)


def test_stage_defaults_apply_when_nothing_is_annotated():
    policy = resolve({}, {}, Defaults(uptime=OFFICE))
    assert policy.schedule_source == "stage defaults"
    assert policy.in_downtime(NIGHT) and not policy.in_downtime(DAY)


def test_function_annotation_wins_over_namespace_and_defaults():
    policy = resolve({"costguard.openfaas.com/uptime": "always"},
                     {"costguard.openfaas.com/downtime": "Mon-Sun 00:00-24:00 UTC"}, Defaults(uptime=OFFICE))
    assert policy.schedule_source == "function annotation costguard.openfaas.com/uptime"
    assert not policy.in_downtime(NIGHT)


def test_namespace_annotation_wins_over_defaults():
    policy = resolve({}, {"costguard.openfaas.com/downtime": "Mon-Fri 19:00-07:00 Europe/London"})
    assert policy.schedule_source == "namespace openfaas-fn annotation costguard.openfaas.com/downtime"
    assert policy.in_downtime(NIGHT) and not policy.in_downtime(DAY)


def test_downscaler_annotations_are_a_fallback():
    legacy = resolve({"downscaler/uptime": OFFICE, "downscaler/downtime-replicas": "1", "downscaler/exclude": "true"})
    assert legacy.schedule_source == "function annotation downscaler/uptime"
    assert legacy.downtime_replicas == 1 and legacy.excluded(NIGHT)
    both = resolve({"downscaler/uptime": "always", "costguard.openfaas.com/uptime": OFFICE})
    assert both.schedule_source == "function annotation costguard.openfaas.com/uptime"


def test_settings_resolve_independently():
    policy = resolve({"costguard.openfaas.com/downtime-replicas": "2"},
                     {"costguard.openfaas.com/uptime": OFFICE, "costguard.openfaas.com/holidays": "GB-ENG"})
    assert policy.downtime_replicas == 2
    assert policy.in_downtime(datetime(2026, 12, 25, 12, 0, tzinfo=timezone.utc))  # holiday from the namespace


@pytest.mark.parametrize("spec, back_up", [
    # Boxing Day is Saturday the 26th, observed Monday the 28th: office hours come back on Tuesday morning
    ({"costguard.openfaas.com/uptime": "Mon-Fri 07:00-19:00 Europe/London"}, datetime(2026, 12, 29, 7, 0)),
    # a downtime spec leaves weekends up: down through both holidays, up from Sunday
    ({"costguard.openfaas.com/downtime": "Mon-Fri 19:00-07:00 Europe/London"}, datetime(2026, 12, 27, 0, 0)),
])
def test_a_public_holiday_is_down_for_uptime_and_downtime_specs_alike(spec, back_up):
    policy = resolve({**spec, "costguard.openfaas.com/holidays": "GB-ENG"})
    christmas_noon = datetime(2026, 12, 25, 12, 0, tzinfo=timezone.utc)  # a Friday, a bank holiday
    christmas_night = datetime(2026, 12, 25, 23, 0, tzinfo=timezone.utc)
    assert policy.in_downtime(christmas_noon) and policy.in_downtime(christmas_night)
    assert not policy.in_downtime(DAY) and policy.in_downtime(NIGHT)  # ordinary days unchanged
    assert policy.next_change(christmas_noon) == back_up.replace(tzinfo=timezone.utc)


def test_exclude_until_is_read_as_utc_when_naive():
    policy = resolve({"costguard.openfaas.com/exclude-until": "2026-11-25"})
    assert policy.excluded(NIGHT)
    assert not policy.excluded(datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc))


@pytest.mark.parametrize("annotations, words", [
    ({"costguard.openfaas.com/uptime": "Mon-Fri 25:00-07:00 UTC"}, "function annotation costguard.openfaas.com/uptime: invalid time '25:00'"),
    ({"costguard.openfaas.com/exclude": "yes"}, "expected true or false, got 'yes'"),
    ({"costguard.openfaas.com/exclude-until": "soon"}, "expected an ISO 8601 date"),
    ({"costguard.openfaas.com/downtime-replicas": "-1"}, "expected a whole number of replicas"),
    ({"costguard.openfaas.com/holidays": "XX"}, "unknown holiday country 'XX'"),
])
def test_bad_annotations_raise_naming_the_annotation(annotations, words):
    with pytest.raises(PolicyError, match=words.replace("(", r"\(")):
        resolve(annotations)


def test_next_change_walks_both_schedules():
    policy = resolve_policy([Layer("NodePool annotation", {"costguard.openfaas.com/uptime": OFFICE,
                                                           "costguard.openfaas.com/downtime": "Mon-Fri 12:00-13:00 UTC"})],
                            Defaults())
    assert policy.next_change(DAY.replace(hour=11)) == DAY  # up at 11:00, down at 12:00
    assert policy.next_change(DAY) == DAY.replace(hour=13)
