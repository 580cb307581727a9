"""Hourly prices of instance types: parsing the AWS answers and looking a price up.

On-demand prices come from the Pricing API's GetProducts (each PriceList item is a JSON string; the hourly price is
terms.OnDemand.<offer>.priceDimensions.<dimension>.pricePerUnit.USD). Spot prices come from
DescribeSpotPriceHistory (the newest entry per instance type and zone wins).
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from chalice_app.errors import CostguardError


class PriceUnavailable(CostguardError):
    """A price needed to meter or to plan could not be had."""


def products_filters(instance_type: str, region: str) -> list[dict]:
    """GetProducts filters selecting the one Linux, shared-tenancy, no-software, used-capacity price of a type."""
    terms = {"instanceType": instance_type, "regionCode": region, "operatingSystem": "Linux", "tenancy": "Shared",
             "preInstalledSw": "NA", "capacitystatus": "Used"}
    return [{"Type": "TERM_MATCH", "Field": key, "Value": value} for key, value in terms.items()]


def on_demand_from_products(price_list: list[str]) -> dict[str, float]:
    """Instance type → USD per hour from GetProducts' PriceList; malformed items raise PriceUnavailable."""
    prices: dict[str, float] = {}
    for raw in price_list:
        try:
            item = json.loads(raw) if isinstance(raw, str) else raw
            instance_type = item["product"]["attributes"]["instanceType"]
            hourly = [
                float(dimension["pricePerUnit"]["USD"])
                for offer in item["terms"]["OnDemand"].values()
                for dimension in offer["priceDimensions"].values()
                if dimension.get("unit", "Hrs") in ("Hrs", "Hours")
            ]
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            raise PriceUnavailable(f"GetProducts returned an item without an on-demand hourly USD price ({exc!r})") from None
        positive = [price for price in hourly if price > 0]
        if positive:
            prices[instance_type] = min(positive)
    return prices


def spot_from_history(history: list[dict]) -> dict[tuple[str, str], float]:
    """(instance type, zone) → USD per hour, the newest entry of DescribeSpotPriceHistory per pair."""
    newest: dict[tuple[str, str], tuple[datetime | str, float]] = {}
    for entry in history:
        key = (entry["InstanceType"], entry["AvailabilityZone"])
        stamp = entry.get("Timestamp", "")
        if key not in newest or stamp >= newest[key][0]:
            newest[key] = (stamp, float(entry["SpotPrice"]))
    return {key: price for key, (_, price) in newest.items()}


@dataclass(frozen=True)
class PriceBook:
    on_demand: dict[str, float] = field(default_factory=dict)
    spot: dict[tuple[str, str], float] = field(default_factory=dict)

    def hourly(self, instance_type: str, capacity_type: str, zone: str | None = None) -> float | None:
        """The price a running node pays; spot without a zone price falls back to the type's median over zones."""
        if capacity_type == "spot":
            if zone and (instance_type, zone) in self.spot:
                return self.spot[(instance_type, zone)]
            zones = [price for (name, _), price in self.spot.items() if name == instance_type]
            return statistics.median(zones) if zones else None
        # reserved capacity is paid in advance; metering it at on-demand keeps the budget on the safe side
        return self.on_demand.get(instance_type)

    def planning_price(self, instance_type: str, capacity_types: tuple[str, ...]) -> float | None:
        """What a new node of this type would cost: Karpenter prefers spot when the pool allows it."""
        for kind in ("spot", "on-demand"):
            if kind in capacity_types:
                price = self.hourly(instance_type, kind)
                if price is not None:
                    return price
        return None

    def merged(self, other: "PriceBook") -> "PriceBook":
        return PriceBook({**self.on_demand, **other.on_demand}, {**self.spot, **other.spot})
