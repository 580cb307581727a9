"""Time specs: py-kube-downscaler's meaning, plus windows across midnight, DST and public holidays."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from chalice_app.offhours.schedule import ScheduleError, parse_holidays, parse_instant, parse_schedule

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("spec, moment, inside", [
    ("Mon-Fri 07:30-20:30 Europe/Berlin", "2026-11-24T07:30:00+01:00", True),  # start is inclusive
    ("Mon-Fri 07:30-20:30 Europe/Berlin", "2026-11-24T20:30:00+01:00", False),  # end is exclusive
    ("Mon-Fri 07:30-20:30 Europe/Berlin", "2026-11-28T12:00:00+01:00", False),  # Saturday
    ("Sun-Mon 10:00-11:00 UTC", "2026-11-22T10:30:00+00:00", True),  # Sunday: the range wraps round the week
    ("Sun-Mon 10:00-11:00 UTC", "2026-11-23T10:30:00+00:00", True),  # Monday
    ("Sun-Mon 10:00-11:00 UTC", "2026-11-24T10:30:00+00:00", False),  # Tuesday
    ("Fri-Mon 10:00-11:00 UTC", "2026-11-29T10:30:00+00:00", True),  # Sunday inside Fri-Mon
    ("Fri-Mon 10:00-11:00 UTC", "2026-11-26T10:30:00+00:00", False),  # Thursday
    ("Mon-Fri 20:00-07:00 Europe/London", "2026-11-24T02:00:00+00:00", True),  # Tue 02:00 (from Mon evening)
    ("Mon-Fri 20:00-07:00 Europe/London", "2026-11-28T02:00:00+00:00", True),  # Sat 02:00 (from Fri evening)
    ("Mon-Fri 20:00-07:00 Europe/London", "2026-11-23T02:00:00+00:00", False),  # Mon 02:00 (Sunday is not in)
    ("Mon-Fri 20:00-07:00 Europe/London", "2026-11-23T21:00:00+00:00", True),
    ("Mon-Fri 00:00-24:00 UTC", "2026-11-27T23:59:00+00:00", True),
    ("always", "2026-11-24T02:00:00+00:00", True),
    ("never", "2026-11-24T02:00:00+00:00", False),
    ("2026-11-24T18:00:00+00:00-2026-11-25T06:00:00Z", "2026-11-25T05:59:00+00:00", True),
    ("2026-11-24T18:00:00+00:00-2026-11-25T06:00:00Z", "2026-11-25T06:00:00+00:00", False),
    ("Sat-Sun 00:00-24:00 UTC, Mon-Fri 18:00-19:00 UTC", "2026-11-24T18:30:00+00:00", True),
])
def test_contains(spec, moment, inside):
    assert parse_schedule(spec).contains(at(moment)) is inside


def test_local_hours_hold_across_dst():
    # London is UTC+1 in summer and UTC+0 in winter: 07:00 local is 06:00Z before 25 Oct 2026 and 07:00Z after.
    spec = parse_schedule("Mon-Fri 07:00-19:00 Europe/London")
    assert spec.contains(at("2026-10-23T06:30:00+00:00"))  # Fri, BST: 07:30 local
    assert not spec.contains(at("2026-10-26T06:30:00+00:00"))  # Mon, GMT: 06:30 local
    assert spec.next_change(at("2026-10-24T12:00:00+00:00")) == at("2026-10-26T07:00:00+00:00")


def test_window_starting_in_the_skipped_hour_begins_after_the_gap():
    spec = parse_schedule("Sun-Sun 01:30-03:00 Europe/London")  # 29 Mar 2026: 01:00 GMT jumps to 02:00 BST
    assert spec.contains(at("2026-03-29T01:10:00+00:00"))  # 02:10 BST
    assert not spec.contains(at("2026-03-29T00:59:00+00:00"))


def test_holidays_fall_outside_recurring_windows_observed_days_included():
    spec = parse_schedule("Mon-Fri 07:00-19:00 Europe/London", holidays="GB-ENG")
    assert not spec.contains(at("2026-12-25T12:00:00+00:00"))
    assert not spec.contains(at("2026-12-28T12:00:00+00:00"))  # Boxing Day is a Saturday: observed Monday
    assert spec.contains(at("2026-12-29T12:00:00+00:00"))
    assert spec.next_change(at("2026-12-24T12:00:00+00:00")) == at("2026-12-24T19:00:00+00:00")
    assert spec.next_change(at("2026-12-24T20:00:00+00:00")) == at("2026-12-29T07:00:00+00:00")


def test_holidays_with_subdivision_and_absolute_windows_unaffected():
    assert parse_schedule("Mon-Fri 00:00-24:00 UTC", holidays="US").contains(at("2026-07-03T12:00:00+00:00")) is False
    absolute = parse_schedule("2026-12-25T00:00:00Z-2026-12-26T00:00:00Z", holidays="GB-ENG")
    assert absolute.contains(at("2026-12-25T12:00:00+00:00"))


def test_next_change_none_for_always_and_after_the_last_absolute_window():
    assert parse_schedule("always").next_change(at("2026-11-24T12:00:00+00:00")) is None
    assert parse_schedule("2026-01-01T00:00:00Z-2026-01-02T00:00:00Z").next_change(at("2026-11-24T12:00:00+00:00")) is None


def test_default_timezone_fills_a_window_without_one():
    spec = parse_schedule("Mon-Fri 07:00-19:00", default_timezone="America/New_York")
    assert spec.contains(at("2026-11-24T13:00:00+00:00"))  # 08:00 in New York
    assert not spec.contains(at("2026-11-24T11:00:00+00:00"))


@pytest.mark.parametrize("spec, words", [
    ("", "empty time spec"),
    ("   ", "empty time spec"),
    ("Mon-Fro 07:00-19:00 UTC", "unknown day 'Fro'"),
    ("Mon-Fri 25:00-26:00 UTC", "invalid time '25:00'"),
    ("Mon-Fri 07:60-19:00 UTC", "invalid time '07:60'"),
    ("Mon-Fri 07:00-19:00 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("Mon-Thur 09:00-20:00 Europe/London", "Thur"),  # kube-downscaler rejects it too (test_time_spec_error_message)
    ("Mon-Fri 07:00-19:00", "missing time zone"),
    ("Mon-Fri 07:00-19:00 UTC,", "empty window"),
    ("weekdays", "malformed window 'weekdays'"),
    ("2026-11-25T00:00:00Z-2026-11-24T00:00:00Z", "ends before it starts"),
])
def test_invalid_specs_name_the_bad_part(spec, words):
    with pytest.raises(ScheduleError, match=words.replace("(", r"\(")):
        parse_schedule(spec)


@pytest.mark.parametrize("code, words", [("ZZ", "unknown holiday country 'ZZ'"), ("GB-XXX", "unknown subdivision 'XXX'")])
def test_invalid_holiday_calendars(code, words):
    with pytest.raises(ScheduleError, match=words):
        parse_holidays(code)


def test_parse_instant_reads_naive_times_in_the_given_zone():
    assert parse_instant("2026-11-24T18:55", "Europe/London") == datetime(2026, 11, 24, 18, 55, tzinfo=timezone.utc)
    with pytest.raises(ScheduleError, match="invalid time 'tomorrow'"):
        parse_instant("tomorrow")


def test_a_downtime_spec_can_count_holidays_as_inside_all_day():
    spec = parse_schedule("Mon-Fri 19:00-07:00 Europe/London", holidays="GB-ENG")
    christmas_noon = at("2026-12-25T12:00:00+00:00")
    assert spec.contains(christmas_noon) is False  # as an uptime spec would read it: outside
    assert spec.contains(christmas_noon, holidays_inside=True) is True
    assert spec.contains(at("2026-12-24T12:00:00+00:00"), holidays_inside=True) is False  # not a holiday


# Every spec py-kube-downscaler's own tests accept means the same here (caas-team/py-kube-downscaler
# tests/test_time_spec.py: test_time_spec, test_week_starts_sunday), so its users can switch.
SUNDAY = "2017-11-26T15:33:00+00:00"
AUCKLAND = "2018-11-04T20:30:00+00:00"
MONDAY = "2017-11-27T15:33:00+00:00"


@pytest.mark.parametrize("moment, spec, inside", [
    (SUNDAY, "never", False), (SUNDAY, "always", True),
    (SUNDAY, "Mon-Mon 00:00-00:00 CET", False), (MONDAY, "Mon-Mon 00:00-00:00 CET", False),
    ("2017-11-27T00:00:00+01:00", "Mon-Mon 00:00-00:00 CET", False),
    (SUNDAY, "Mon-Sun 00:00-24:00 CET", True),
    (SUNDAY, "Sat-Sun 15:30-16:00 UTC", True), (SUNDAY, "Sat-Sun 15:34-16:00 UTC", False),
    (SUNDAY, "Mon-Fri 08:00-18:00 UTC", False), (SUNDAY, "Mon-Fri 08:00-18:00 UTC, Sun-Sun 15:30-16:00 UTC", True),
    (SUNDAY, "2017-11-26T14:04:48+00:00-2017-11-26T16:04:48+00:00", True),
    (SUNDAY, "2017-11-26T14:04:48+00:00-2017-11-26T15:04:48+00:00", False),
    (AUCKLAND, "Mon-Fri 09:00-10:00 Pacific/Auckland", True), (AUCKLAND, "Sat-Sun 09:00-10:00 Pacific/Auckland", False),
    (AUCKLAND, "2017-01-01T00:01:02+00:00-2018-12-31T23:59:00+00:00", True),
    (AUCKLAND, "2017-01-01T00:01:02+00:00-2017-01-02T19:00:50+00:00, "
               "2018-11-01T00:00:00+00:00-2018-12-31T23:59:00+00:00", True),
    (AUCKLAND, "2019-01-01T00:01:02+00:00-2019-12-31T23:59:00+00:00", False),
    (AUCKLAND, "2018-11-04T16:00:00-04:00-2018-11-04T16:40:00-04:00", True),
    (AUCKLAND, "2018-11-04T20:00:00-04:00-2018-11-04T20:40:00-04:00", False),
    (MONDAY, "Sun-Fri 15:30-16:00 UTC", True), (MONDAY, "Sun-Mon 00:00-16:00 UTC", True),
    (MONDAY, "Sun-Mon 00:00-15:00 UTC", False), (SUNDAY, "Sun-Fri 15:30-16:00 UTC", True),
    (SUNDAY, "Sun-Mon 00:00-16:00 UTC", True), (SUNDAY, "Sun-Mon 00:00-15:00 UTC", False),
])
def test_kube_downscaler_specs_mean_the_same(moment, spec, inside):
    assert parse_schedule(spec).contains(at(moment)) is inside


def test_an_empty_window_never_changes():
    assert parse_schedule("Mon-Mon 00:00-00:00 CET").next_change(at(SUNDAY)) is None
