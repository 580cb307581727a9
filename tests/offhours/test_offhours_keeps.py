"""Slack keeps that a redeploy cannot erase (chalice_app/offhours/keeps.py): the rules, pure."""
from datetime import datetime, timedelta, timezone

from chalice_app.kube.names import EXCLUDE_UNTIL
from chalice_app.offhours.keeps import keeps_from_items, with_keep, with_keeps
from chalice_app.offhours.model import function_from_object
from chalice_app.table_keys import keeps_id
from tests.offhours.factories import deployment

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=2)


def fn(name: str, annotations: dict | None = None):
    return function_from_object(deployment(name, 1, namespace="openfaas-fn", annotations=annotations or {}))


def test_keeps_are_read_per_namespace_and_a_hand_edited_value_is_left_out():
    found = {keeps_id("openfaas-fn"): {"id": keeps_id("openfaas-fn"), "expiration": 1,
                                       "keep:sleep": LATER.isoformat(), "keep:naive": "2026-11-24T22:00:00",
                                       "keep:garbage": "tonight", "keep:number": 5, "other": LATER.isoformat()},
             keeps_id("team-b"): {"keep:sleep": NOW.isoformat()}}
    assert keeps_from_items(found, ["openfaas-fn", "team-b", "absent"]) == {
        ("openfaas-fn", "sleep"): LATER, ("team-b", "sleep"): NOW}


def test_a_keep_whose_annotation_a_redeploy_removed_applies_again():
    kept = with_keep(fn("sleep"), LATER, NOW)
    assert kept.kept_until == "2026-11-24T22:00:00+00:00" and EXCLUDE_UNTIL not in kept.annotations


def test_the_annotation_wins_while_it_is_there_so_a_person_can_end_a_keep_early():
    ended = fn("sleep", {EXCLUDE_UNTIL: "2026-11-24T19:00:00+00:00"})
    assert with_keep(ended, LATER, NOW) == ended


def test_a_keep_that_has_passed_changes_nothing():
    assert with_keep(fn("sleep"), NOW, NOW) == fn("sleep")
    assert with_keep(fn("sleep"), None, NOW) == fn("sleep")


def test_only_the_kept_functions_change():
    functions = [fn("sleep"), fn("figlet")]
    result = with_keeps(functions, {("openfaas-fn", "sleep"): LATER}, NOW)
    assert result[0].kept_until is not None and result[1] == functions[1]
