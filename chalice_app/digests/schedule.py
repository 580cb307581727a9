"""Which interruption digests are due at a tick (pure: clock + schedule → digests, each with its claim key).

The `digests` Lambda ticks every hour (a Cron in UTC cannot follow a zone's daylight saving time, so the hour is
checked here, in the stage's zone). From the configured hour of a local day on:

- the Karpenter digest is due for the last complete UTC day before that hour (the disrupted# counters are kept per
  UTC day, so a day is reported once it can no longer grow);
- on the configured weekday, the spot digest is due for the complete ISO weeks before that hour (spot# counters
  are kept per UTC ISO week).

Each digest has one claim key per period (table_keys.digest_claim_key): the first tick that claims it sends it; a
tick that finds it claimed does nothing; a send that fails releases the claim, so the next tick retries.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from chalice_app.table_keys import digest_claim_key, spot_key, week_of

KARPENTER = "karpenter"
SPOT = "spot"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DigestSchedule:
    karpenter: bool = False  # daily digest of Karpenter's own disruptions
    spot: bool = False  # weekly digest of the most reclaimed spot types and zones
    hour: int = 18  # local hour in `zone`
    zone: str = "UTC"
    weekday: str = "mon"  # the spot digest's day
    weeks: int = 4  # weeks the spot digest looks back

    @classmethod
    def from_settings(cls, settings) -> "DigestSchedule":
        return cls(karpenter=settings.karpenter_digest, spot=settings.spot_digest, hour=settings.digest_hour,
                   zone=settings.digest_timezone or settings.default_timezone, weekday=settings.spot_digest_weekday,
                   weeks=settings.spot_digest_weeks)


@dataclass(frozen=True)
class DueDigest:
    kind: str  # KARPENTER or SPOT
    period: str  # the day (YYYY-MM-DD) or the ISO week (YYYY-Www) the claim is for
    claim_key: str
    day: date | None = None  # Karpenter: the UTC day reported
    spot_keys: tuple[str, ...] = ()  # spot: the spot# keys of the weeks reported, newest first


def send_time(now: datetime, schedule: DigestSchedule) -> datetime | None:
    """Today's send time (UTC) in the schedule's zone, once it has come; None before it."""
    local = now.astimezone(ZoneInfo(schedule.zone))
    start = datetime.combine(local.date(), time(schedule.hour), tzinfo=local.tzinfo)
    return start.astimezone(timezone.utc) if local >= start else None


def due_digests(now: datetime, schedule: DigestSchedule) -> list[DueDigest]:
    """The digests this tick should send, if no earlier tick claimed them."""
    sent_at = send_time(now, schedule)
    if sent_at is None:
        return []
    due = []
    if schedule.karpenter:
        day = sent_at.date() - timedelta(days=1)  # the send time's UTC day has not ended yet
        due.append(DueDigest(KARPENTER, day.isoformat(), digest_claim_key(KARPENTER, day.isoformat()), day=day))
    local_day = sent_at.astimezone(ZoneInfo(schedule.zone))
    if schedule.spot and WEEKDAYS[local_day.weekday()] == schedule.weekday:
        last_week = sent_at - timedelta(weeks=1)  # the send time's ISO week has just begun (or not ended)
        keys = tuple(spot_key(last_week - timedelta(weeks=back)) for back in range(schedule.weeks))
        period = week_of(local_day)
        due.append(DueDigest(SPOT, period, digest_claim_key(SPOT, period), spot_keys=keys))
    return due
