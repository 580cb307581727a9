"""Metered against billed: the meter's spend per day and NodePool next to Cost Explorer's net amortized cost for the
days it has closed, with the error. Pure functions; `costguard budget reconcile` and the budget run use them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DayError:
    day: str
    pool: str
    metered: float
    billed: float

    @property
    def percent(self) -> float:
        """(metered - billed) / billed in %; a day billed at 0 with metered spend counts as 100 % over."""
        if self.billed:
            return (self.metered - self.billed) / self.billed * 100
        return 100.0 if self.metered else 0.0


def _closed_days(closed: dict[str, dict[str, float]]) -> set[str]:
    return {day for days in closed.values() for day in days}


def day_error(metered_daily: dict[str, float], closed: dict[str, dict[str, float]], pool: str) -> DayError | None:
    """The pool's error on the last day Cost Explorer closed; None when there is none or nothing was spent."""
    days = _closed_days(closed)
    if not days:
        return None
    day = max(days)
    error = DayError(day, pool, metered_daily.get(day, 0.0), closed.get(pool, {}).get(day, 0.0))
    return error if error.metered or error.billed else None


def reconcile_rows(metered: dict[str, dict[str, float]], closed: dict[str, dict[str, float]]) -> list[DayError]:
    """One row per closed day and NodePool with spend on either side, by day then pool."""
    pools = sorted((set(metered) | set(closed)) - {""})
    rows = []
    for day in sorted(_closed_days(closed)):
        for pool in pools:
            row = DayError(day, pool, metered.get(pool, {}).get(day, 0.0), closed.get(pool, {}).get(day, 0.0))
            if row.metered or row.billed:
                rows.append(row)
    return rows


def pool_totals(rows: list[DayError]) -> list[DayError]:
    """The rows summed per NodePool (day "total")."""
    totals: dict[str, list[float]] = {}
    for row in rows:
        pair = totals.setdefault(row.pool, [0.0, 0.0])
        pair[0] += row.metered
        pair[1] += row.billed
    return [DayError("total", pool, metered, billed) for pool, (metered, billed) in sorted(totals.items())]
