"""Time specs in py-kube-downscaler's format, evaluated with zoneinfo and the `holidays` package.

A spec is `always`, `never`, or a comma list of windows:
- recurring `<Day>-<Day> HH:MM-HH:MM <Olson TZ>`: the day range wraps round the week (`Fri-Mon` is Fri, Sat, Sun,
  Mon); the time range is half-open [start, end). When end <= start the window crosses midnight: it starts on a
  day of the range and ends the next morning (`Mon-Fri 20:00-07:00` covers Tue 02:00 and Sat 02:00, not Mon 02:00).
  Start equal to end (`Mon-Mon 00:00-00:00 CET`) is an empty window that never matches, as in kube-downscaler.
  Times are wall-clock times in the zone, so windows keep their local hours across DST changes.
- absolute `<ISO 8601 from>-<ISO 8601 to>` (both with a UTC offset or `Z`), half-open.
Public holidays (country with an optional subdivision, observed days included) are outside every recurring window
of an uptime spec; a downtime spec asks `contains(..., holidays_inside=True)`, so there a holiday is inside all day.
Either way a public holiday means "down".
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from chalice_app.counts import shown
from chalice_app.errors import CostguardError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RECURRING = re.compile(r"^(?P<first>[A-Za-z]{3})-(?P<last>[A-Za-z]{3})\s+"
                        r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})(?:\s+(?P<zone>\S+))?$")
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})"
_ABSOLUTE = re.compile(rf"^(?P<start>{_ISO})-(?P<end>{_ISO})$")
# How far ahead next_change looks for a recurring boundary: a week plus the longest run of holidays we expect.
SEARCH_DAYS = 40
FIRST_YEAR, LAST_YEAR = 1970, 9000  # times a schedule is evaluated at (far from datetime's own limits)
_CALENDAR_LOCK = threading.Lock()


class ScheduleError(CostguardError):
    """A time spec, time zone or holiday calendar that cannot be understood; the message says which part."""


@dataclass(frozen=True)
class RecurringWindow:
    days: frozenset[int]  # weekday numbers (Mon=0) on which the window starts
    start: time
    end: time
    zone: ZoneInfo

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def contains_local(self, local: datetime, is_holiday) -> bool:
        clock = local.time().replace(tzinfo=None)
        today, weekday = local.date(), local.weekday()
        if self.crosses_midnight:
            if clock >= self.start:
                return weekday in self.days and not is_holiday(today)
            if clock < self.end:
                return (weekday - 1) % 7 in self.days and not is_holiday(today)
            return False
        return self.start <= clock < self.end and weekday in self.days and not is_holiday(today)


@dataclass(frozen=True)
class AbsoluteWindow:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Holidays:
    """A public holiday calendar: `GB-ENG`, `US`, `DE-BY`; observed days count as holidays."""

    code: str

    def __contains__(self, day: date) -> bool:
        with _CALENDAR_LOCK:  # a calendar fills in each year on first look: one thread at a time
            return day in _calendar(self.code)


@lru_cache(maxsize=32)
def _calendar(code: str):
    import holidays as holidays_lib  # only schedules that name a calendar need it: keeps cold starts small

    country, _, subdivision = code.upper().partition("-")
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise ScheduleError(f"unknown holiday country {country!r} in {code!r}: use an ISO 3166 code like GB or US")
    if subdivision and subdivision not in supported[country]:
        raise ScheduleError(f"unknown subdivision {subdivision!r} of {country} in {code!r}: "
                            f"expected one of {', '.join(supported[country])}")
    return holidays_lib.country_holidays(country, subdiv=subdivision or None, observed=True)


def parse_holidays(code: str | None) -> Holidays | None:
    """Validate a `CC[-SUB]` code now, so a bad one fails at parse time, not at the first holiday."""
    if code is None or not code.strip():
        return None
    calendar = Holidays(code.strip().upper())
    _calendar(calendar.code)
    return calendar


@dataclass(frozen=True)
class Schedule:
    spec: str
    kind: str  # "always", "never" or "windows"
    recurring: tuple[RecurringWindow, ...] = ()
    absolute: tuple[AbsoluteWindow, ...] = ()
    holidays: Holidays | None = None

    def _is_holiday(self, day: date) -> bool:
        return self.holidays is not None and day in self.holidays

    def contains(self, moment: datetime, holidays_inside: bool = False) -> bool:
        """Is `moment` (timezone-aware) inside the spec? On a public holiday (in a recurring window's zone) the
        recurring windows are all outside, or with `holidays_inside` (a downtime spec) inside the whole day."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        if self.kind != "windows":
            return self.kind == "always"
        if any(window.start <= moment < window.end for window in self.absolute):
            return True
        for window in self.recurring:
            local = moment.astimezone(window.zone)
            if holidays_inside and self._is_holiday(local.date()):
                return True
            if window.contains_local(local, self._is_holiday):
                return True
        return False

    def next_change(self, moment: datetime, holidays_inside: bool = False) -> datetime | None:
        """The first instant after `moment` at which `contains` flips; None when it never does (as far as we look)."""
        inside = self.contains(moment, holidays_inside)
        for candidate in sorted(self._boundaries(moment)):
            if candidate > moment and self.contains(candidate, holidays_inside) != inside:
                return candidate
        return None

    def _boundaries(self, moment: datetime):
        for window in self.absolute:
            yield window.start
            yield window.end
        for weekly in self.recurring:
            local_today = moment.astimezone(weekly.zone).date()
            for offset in range(-1, SEARCH_DAYS):
                day = local_today + timedelta(days=offset)
                for clock in (weekly.start, weekly.end, time(0, 0)):
                    # fold=0: a wall time skipped by DST maps to the instant just after the gap
                    yield datetime.combine(day, clock, tzinfo=weekly.zone)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: str, part: str) -> ZoneInfo:
    # Checked as a zone first: a tzdata folder (`America`) makes ZoneInfo raise IsADirectoryError, and other
    # file-system errors are possible for odd names; neither is a schedule error a reader would understand.
    try:
        if name not in _known_zones():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown time zone {shown(name)} in {shown(part, 120)}: "
                            f"use an Olson name like Europe/London") from None


def _day(name: str, part: str) -> int:
    matches = [index for index, day in enumerate(DAYS) if day.lower() == name.lower()]
    if not matches:
        raise ScheduleError(f"unknown day {name!r} in {part!r}: expected one of {', '.join(DAYS)}")
    return matches[0]


def _clock(text: str, part: str, allow_24: bool) -> time:
    hours, minutes = (int(piece) for piece in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ScheduleError(f"invalid time {text!r} in {part!r}: expected HH:MM from 00:00 to 23:59 "
                            f"(or 24:00 as an end)")
    return time(0, 0) if hours == 24 else time(hours, minutes)


def _day_range(first: int, last: int) -> frozenset[int]:
    return frozenset((first + step) % 7 for step in range((last - first) % 7 + 1))


def _recurring(part: str, default_zone: str | None) -> RecurringWindow:
    match = _RECURRING.match(part)
    assert match is not None  # parse() sends only parts that match
    zone_name = match["zone"] or default_zone
    if zone_name is None:
        raise ScheduleError(f"missing time zone in {part!r}: add an Olson name like Europe/London")
    start = _clock(match["start"], part, allow_24=False)
    end = _clock(match["end"], part, allow_24=True)
    days = _day_range(_day(match["first"], part), _day(match["last"], part))
    zone = _zone(zone_name, part)
    if start == end and match["end"] != "24:00":
        # An empty range is valid and never matches, as in kube-downscaler (its tests:
        # `assert not matches_time_spec(now, "Mon-Mon 00:00-00:00 CET")`, caas-team/py-kube-downscaler
        # tests/test_time_spec.py): people use it as "never" with a zone.
        return RecurringWindow(frozenset(), start, end, zone)
    return RecurringWindow(days, start, end, zone)


def _instant(text: str, part: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"invalid timestamp {text!r} in {part!r}: expected ISO 8601 with an offset") from None


def _absolute(part: str) -> AbsoluteWindow:
    match = _ABSOLUTE.match(part)
    assert match is not None  # parse() sends only parts that match
    start, end = _instant(match["start"], part), _instant(match["end"], part)
    if end <= start:
        raise ScheduleError(f"absolute range {part!r} ends before it starts")
    return AbsoluteWindow(start, end)


@lru_cache(maxsize=1024)  # pure; every function of a namespace usually shares its spec
def parse_schedule(spec: str, holidays: str | None = None, default_timezone: str | None = None) -> Schedule:
    """Parse a time spec; raise ScheduleError naming the bad part. `default_timezone` fills windows without a zone."""
    if not isinstance(spec, str) or not spec.strip():
        raise ScheduleError("empty time spec: expected 'always', 'never' or windows like "
                            "'Mon-Fri 07:00-19:00 Europe/London'")
    text = spec.strip()
    if text.lower() in ("always", "never"):
        return Schedule(text, text.lower(), holidays=parse_holidays(holidays))
    recurring, absolute = [], []
    for raw in text.split(","):
        part = " ".join(raw.split())
        if not part:
            raise ScheduleError(f"empty window in time spec {spec!r} (two commas, or a trailing comma)")
        if _ABSOLUTE.match(part):
            absolute.append(_absolute(part))
        elif _RECURRING.match(part):
            recurring.append(_recurring(part, default_timezone))
        else:
            raise ScheduleError(f"malformed window {part!r}: expected '<Day>-<Day> HH:MM-HH:MM <Olson TZ>', "
                                f"'<ISO from>-<ISO to>', 'always' or 'never'")
    return Schedule(text, "windows", tuple(recurring), tuple(absolute), parse_holidays(holidays))


def parse_instant(text: str, default_timezone: str = "UTC") -> datetime:
    """An ISO 8601 time; without an offset it is read in `default_timezone`."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"invalid time {shown(text)}: expected ISO 8601, e.g. 2026-11-24T19:05:00+00:00") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        # Evaluating a schedule looks weeks around the time: near year 1 or 9999 that leaves datetime's range.
        raise ScheduleError(f"time {shown(text)} is out of range: use a year from {FIRST_YEAR} to {LAST_YEAR}")
    return moment if moment.tzinfo else moment.replace(tzinfo=_zone(default_timezone, text))
