"""Optional: Cost Explorer's figures for the days it has closed, metering for the rest.

GetCostAndUsage, daily, grouped by the `karpenter.sh/nodepool` tag (a cost allocation tag that must be activated in
the billing console; Karpenter tags the instances and their volumes with it). The metric is NetAmortizedCost: what
the bill charges after Savings Plans, Reserved Instances and discounts, with upfront fees spread over their term
(AWS Cost Management User Guide, "Understanding your AWS cost datasets"). Services: EC2 compute, and "EC2 - Other"
where EBS volumes are billed (only the volumes carry the NodePool tag there). A day counts as closed when Cost
Explorer no longer marks it Estimated. Cost Explorer bills each request, so the answer is cached in the ledger
table for hours.
"""
from __future__ import annotations

from datetime import date, datetime

from chalice_app.budget.prices import PriceUnavailable
from chalice_app.kube.names import NODEPOOL_LABEL

TAG = NODEPOOL_LABEL  # Karpenter tags the instances it launches with their NodePool's name
EC2_COMPUTE = "Amazon Elastic Compute Cloud - Compute"
EC2_OTHER = "EC2 - Other"  # EBS volumes, among others
METRIC = "NetAmortizedCost"
CE_REGION = "us-east-1"
CACHE_HOURS = 6


def cost_request(start: date, end: date) -> dict:
    """GetCostAndUsage parameters for [start, end) (Cost Explorer's End is exclusive)."""
    return {"TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()}, "Granularity": "DAILY",
            "Metrics": [METRIC], "GroupBy": [{"Type": "TAG", "Key": TAG}],
            "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [EC2_COMPUTE, EC2_OTHER]}}}


def closed_days(results: list[dict]) -> dict[str, dict[str, float]]:
    """NodePool → {day: USD} for the days Cost Explorer has closed; untagged cost is not any pool's."""
    closed: dict[str, dict[str, float]] = {}
    for result in results:
        if result.get("Estimated", True):
            continue
        day = result["TimePeriod"]["Start"]
        for group in result.get("Groups", []):
            key = group["Keys"][0]
            pool = key.split("$", 1)[1] if "$" in key else ""
            if not pool:
                continue
            amount = group["Metrics"][METRIC]
            if amount.get("Unit", "USD") != "USD":
                raise PriceUnavailable(f"Cost Explorer answered in {amount['Unit']}, not USD")
            closed.setdefault(pool, {})[day] = float(amount["Amount"])
        closed.setdefault("", {})[day] = 0.0  # remember the day is closed even if no pool had cost on it
    return closed


def effective_spent(metered_daily: dict[str, float], closed: dict[str, float], closed_any: set[str]) -> float:
    """Cost Explorer's amount for the days it closed, our metering for the others."""
    return sum(closed.get(day, 0.0) for day in closed_any) + sum(
        amount for day, amount in metered_daily.items() if day not in closed_any)


class CostExplorerSource:
    def __init__(self, client, ledger=None):
        self._client = client
        self._ledger = ledger

    def closed(self, period: str, start: datetime, now: datetime) -> dict[str, dict[str, float]]:
        """Closed days of the period so far, per NodePool; cached in the ledger table."""
        cached = self._ledger.cached_prices("ce", period, now) if self._ledger else None
        if cached is not None:
            return cached
        first, today = start.date(), now.date()
        if today <= first:
            return {}
        closed = self.between(first, today)
        if self._ledger:
            self._ledger.cache_prices("ce", period, closed, now, CACHE_HOURS)
        return closed


    def between(self, first: date, end: date) -> dict[str, dict[str, float]]:
        """Closed days in [first, end) per NodePool, every page of the answer, uncached."""
        results, token = [], None
        while True:
            page = self._client.get_cost_and_usage(**cost_request(first, end),
                                                   **({"NextPageToken": token} if token else {}))
            results.extend(page["ResultsByTime"])
            token = page.get("NextPageToken")
            if not token:
                return closed_days(results)


def closed_day_set(closed: dict[str, dict[str, float]]) -> set[str]:
    return {day for days in closed.values() for day in days}
