"""Which budget alerts a run has reason to send. Thresholds and the forecast are once per period: each alert has a
key, and the ledger lets only the first run that claims a key send it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalice_app.budget.document import hours_between
from chalice_app.slack.text import escape  # pool names come from the cluster: inert in mrkdwn

MIN_FORECAST_HOURS = 1.0  # a burn rate from less than an hour of data is noise


@dataclass(frozen=True)
class Alert:
    pool: str
    kind: str  # threshold | forecast | limits | over-limit | error
    text: str
    key: str | None = None  # once-per-period alerts carry a key; None means "every time it happens"


def threshold_alerts(pool: str, budget: float, spent: float, thresholds: tuple[int, ...]) -> list[Alert]:
    """One alert per threshold reached so far; the ledger drops those already sent this period."""
    reached = [t for t in thresholds if spent >= budget * t / 100]
    return [Alert(pool, "threshold", f"*{escape(pool)}* has spent {spent:.2f} of {budget:.2f} USD: the {t} % threshold "
                                     f"is crossed ({spent / budget * 100:.1f} %)", key=f"threshold-{t}")
            for t in reached]


def forecast_alert(pool: str, budget: float, spent: float, period_start: datetime, period_end: datetime,
                   now: datetime) -> Alert | None:
    """Linear burn: if the rest of the period spends like the part so far, does it end above budget?"""
    elapsed = hours_between(period_start, now)
    if elapsed < MIN_FORECAST_HOURS:
        return None
    projected = spent / elapsed * hours_between(period_start, period_end)
    if projected <= budget:
        return None
    return Alert(pool, "forecast", f"*{escape(pool)}* is on course to spend {projected:.2f} USD this period, "
                                   f"{projected / budget * 100:.0f} % of its {budget:.2f} USD budget "
                                   f"(linear burn of {spent:.2f} USD in {elapsed:.0f} h)", key="forecast")


def newest_first(alerts: list[Alert]) -> list[Alert]:
    """Of several thresholds a pool crosses in one run, the highest says it all; the lower ones are marked sent
    anyway. Other alerts keep their order."""
    highest: dict[str, Alert] = {}
    for alert in alerts:
        if alert.kind == "threshold" and (alert.pool not in highest or _percent(alert) > _percent(highest[alert.pool])):
            highest[alert.pool] = alert
    return [a for a in alerts if a.kind != "threshold" or highest[a.pool] is a]


def _percent(alert: Alert) -> int:
    assert alert.key is not None  # threshold alerts carry `threshold-<percent>`
    return int(alert.key.split("-")[1])
