"""The budget document kept in SSM: its model, validation and the periods it speaks of.

Validation goes through Powertools Parser (pydantic); every problem is turned into one BudgetDocumentError whose
message names the field and what was wrong, so the Slack notice tells an operator exactly what to fix.
"""
from __future__ import annotations

import json
from calendar import monthrange
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import ErrorDetails

from chalice_app.errors import CostguardError

Period = Literal["monthly", "weekly", "daily"]
Mode = Literal["enforce", "advise"]
Estimator = Literal["cheapest", "median", "mix"]


class BudgetDocumentError(CostguardError):
    """The budget document is missing, not JSON, or does not validate."""


# Bounds on numbers from the document (an operator's input): far above any real cluster, and small enough that the
# limits they produce stay plain Kubernetes quantities the NodePool CRD accepts (tests/budget/test_budget_input.py).
MAX_AMOUNT_USD = 1e9
MAX_CPU = 1_000_000


class PoolBudget(BaseModel):
    # allow_inf_nan=False: JSON's Infinity/NaN (Python's json reads them) are refused with the field named
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    share: float | None = Field(None, gt=0, le=1, description="fraction of the whole budget")
    amount: float | None = Field(None, gt=0, le=MAX_AMOUNT_USD, description="USD for this NodePool per period")
    min_cpu: float = Field(0, ge=0, le=MAX_CPU)
    max_cpu: float = Field(1000, gt=0, le=MAX_CPU)
    estimator: Estimator | None = None  # overrides the document's estimator for this pool

    @model_validator(mode="after")
    def _one_of_share_or_amount(self) -> "PoolBudget":
        if (self.share is None) == (self.amount is None):
            raise ValueError("give exactly one of share or amount")
        if self.min_cpu > self.max_cpu:
            raise ValueError(f"min_cpu {self.min_cpu:g} is above max_cpu {self.max_cpu:g}")
        return self


class BudgetDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    currency: Literal["USD"] = "USD"
    period: Period = "monthly"
    amount: float = Field(..., gt=0, le=MAX_AMOUNT_USD, description="USD for the whole cluster per period")
    mode: Mode = "enforce"
    estimator: Estimator = "mix"
    thresholds: tuple[int, ...] = (50, 80, 100)
    min_change_percent: float = Field(5, ge=0, le=100)  # smaller changes are not patched
    max_step_percent: float = Field(50, gt=0, le=1000)  # the most a limit moves in one run
    reserve_percent: float = Field(2, ge=0, lt=100)  # held back for price moves within a run
    # Cost Explorer for the days it has closed (needs the karpenter.sh/nodepool cost allocation tag activated)
    cost_explorer: bool = False
    # what the bill has that list prices do not: Savings Plans / RIs (effective discount on on-demand compute),
    # known prices of capacity reservations (USD/h per instance type; otherwise billed at on-demand), and a fixed
    # extra per node-hour (agents, licences: kubernetes-sigs/karpenter#1664)
    savings_discount_percent: float = Field(0, ge=0, lt=100)
    reserved_prices: dict[str, float] = Field(default_factory=dict)
    node_overhead_hourly: float = Field(0, ge=0, le=1000)
    # the budget message names the last closed day's metered-vs-billed error above this (with cost_explorer)
    reconcile_alert_percent: float = Field(10, gt=0, le=1000)
    nodepools: dict[str, PoolBudget] = Field(..., min_length=1)

    @field_validator("reserved_prices")
    @classmethod
    def _positive_prices(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, price in value.items() if not 0 < price < 10000)
        if bad:
            raise ValueError(f"reserved prices must be USD per hour above 0 and below 10000: {', '.join(bad)}")
        return value

    @field_validator("thresholds")
    @classmethod
    def _sorted_thresholds(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(t <= 0 or t > 1000 for t in value):
            raise ValueError("thresholds are percentages between 1 and 1000")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _allocations_fit(self) -> "BudgetDocument":
        allocated = sum(self.pool_amount(name) for name in self.nodepools)
        if allocated > self.amount * 1.000001:
            raise ValueError(f"NodePool shares and amounts add up to {allocated:.2f} USD, above amount {self.amount:.2f}")
        return self

    def pool_amount(self, name: str) -> float:
        pool = self.nodepools[name]
        if pool.amount is not None:
            return pool.amount
        assert pool.share is not None  # the model holds exactly one of share or amount
        return pool.share * self.amount

    def pool_estimator(self, name: str) -> Estimator:
        return self.nodepools[name].estimator or self.estimator


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "document"
    return f"{where}: {error['msg']}"


def parse_budget(text: str | bytes | dict | None, source: str = "budget document") -> BudgetDocument:
    """Validate a budget document (JSON text or an already decoded dict); BudgetDocumentError says what is wrong."""
    if text is None or (isinstance(text, (str, bytes)) and not text.strip()):
        raise BudgetDocumentError(f"{source} is missing or empty")
    if isinstance(text, (str, bytes)):
        try:
            text = json.loads(text)
        except (ValueError, RecursionError) as exc:  # bad JSON, a number too long for int(), nesting too deep
            raise BudgetDocumentError(f"{source} is not JSON: {str(exc)[:200] or 'nested too deeply'}") from None
    if not isinstance(text, dict):
        raise BudgetDocumentError(f"{source} must be a JSON object, got {type(text).__name__}")
    try:
        return parse(event=text, model=BudgetDocument)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise BudgetDocumentError(f"{source} is invalid: {problems}") from None


# --- periods -----------------------------------------------------------------------------------------------------


def period_bounds(period: Period, at: datetime) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of the period containing `at`, in UTC."""
    at = at.astimezone(timezone.utc)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return day, day + timedelta(days=1)
    if period == "weekly":  # ISO weeks start on Monday
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, start + timedelta(days=monthrange(start.year, start.month)[1])


def previous_period_bounds(period: Period, at: datetime) -> tuple[datetime, datetime]:
    """Start and end of the period before the one containing `at`."""
    start, _ = period_bounds(period, at)
    return period_bounds(period, start - timedelta(microseconds=1))


def period_key(period: Period, at: datetime) -> str:
    """A readable, sortable name of the period containing `at`: 2026-11, 2026-W48, 2026-11-24."""
    start, _ = period_bounds(period, at)
    if period == "daily":
        return start.strftime("%Y-%m-%d")
    if period == "weekly":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.strftime("%Y-%m")


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600.0


TEMPLATE_PATH = Path(__file__).with_name("template.json")


def load_template() -> BudgetDocument:
    """The default document `costguard bootstrap` puts into SSM when none is there (mode advise: changes nothing)."""
    return parse_budget(TEMPLATE_PATH.read_text(), source=str(TEMPLATE_PATH))
