"""Where headroom requests come from besides NodePool annotations: the stage's settings. No heavy imports, so the
budget Lambda can carry it without loading schedules and holiday calendars for pools that ask for no headroom."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    configured: dict[str, str]  # pool → request, from settings (COSTGUARD_HEADROOM); the pool's annotation wins
    timezone: str = "UTC"
    holidays: str | None = None

    @classmethod
    def from_settings(cls, settings) -> "Policy":
        return cls(dict(settings.headroom), settings.default_timezone, settings.default_holidays)
