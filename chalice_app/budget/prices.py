"""Hourly prices of instance types: parsing the AWS answers and looking a price up.

On-demand prices come from the Pricing API's GetProducts (each PriceList item is a JSON string; the hourly price is
terms.OnDemand.<offer>.priceDimensions.<dimension>.pricePerUnit.USD). Spot prices come from
DescribeSpotPriceHistory (the newest entry per instance type and zone wins).
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

from chalice_app.errors import CostguardError


class PriceUnavailable(CostguardError):
    """A price needed to meter or to plan could not be had."""


def _term_filters(terms: dict[str, str]) -> list[dict]:
    return [{"Type": "TERM_MATCH", "Field": key, "Value": value} for key, value in terms.items()]


def _lowest_prices(price_list: list[str], attribute: str, units: tuple[str, ...], what: str) -> dict[str, float]:
    """product attribute → the lowest positive USD price in `units` of GetProducts' PriceList (each item a JSON
    string: terms.OnDemand.<offer>.priceDimensions.<dimension>.pricePerUnit.USD); malformed items raise."""
    prices: dict[str, float] = {}
    for raw in price_list:
        try:
            item = json.loads(raw) if isinstance(raw, str) else raw
            name = item["product"]["attributes"][attribute]
            found = [float(dimension["pricePerUnit"]["USD"]) for offer in item["terms"]["OnDemand"].values()
                     for dimension in offer["priceDimensions"].values() if dimension.get("unit", units[0]) in units]
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            raise PriceUnavailable(f"GetProducts returned an item without {what} ({exc!r})") from None
        positive = [price for price in found if price > 0]
        if positive:
            prices[name] = min(positive)
    return prices


def storage_filters(volume_type: str, region: str) -> list[dict]:
    """GetProducts filters for the GB-month price of one EBS volume type (productFamily Storage)."""
    return _term_filters({"productFamily": "Storage", "volumeApiName": volume_type, "regionCode": region})


def storage_from_products(price_list: list[str]) -> dict[str, float]:
    """EBS volume type → USD per GB-month from GetProducts' PriceList (unit GB-Mo)."""
    return _lowest_prices(price_list, "volumeApiName", ("GB-Mo",), "a GB-Mo USD storage price")


def products_filters(instance_type: str, region: str) -> list[dict]:
    """GetProducts filters selecting the one Linux, shared-tenancy, no-software, used-capacity price of a type."""
    return _term_filters({"instanceType": instance_type, "regionCode": region, "operatingSystem": "Linux",
                          "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"})


def on_demand_from_products(price_list: list[str]) -> dict[str, float]:
    """Instance type → USD per hour from GetProducts' PriceList; malformed items raise PriceUnavailable."""
    return _lowest_prices(price_list, "instanceType", ("Hrs", "Hours"), "an on-demand hourly USD price")


def spot_from_history(history: list[dict]) -> dict[tuple[str, str], float]:
    """(instance type, zone) → USD per hour, the newest entry of DescribeSpotPriceHistory per pair."""
    newest: dict[tuple[str, str], tuple[datetime | str, float]] = {}
    for entry in history:
        key = (entry["InstanceType"], entry["AvailabilityZone"])
        stamp = entry.get("Timestamp", "")
        if key not in newest or stamp >= newest[key][0]:
            newest[key] = (stamp, float(entry["SpotPrice"]))
    return {key: price for key, (_, price) in newest.items()}


HOURS_PER_MONTH = 730  # EBS is priced per GB-month; AWS's Pricing Calculator converts at 730 hours a month


@dataclass(frozen=True)
class PriceBook:
    on_demand: dict[str, float] = field(default_factory=dict)
    spot: dict[tuple[str, str], float] = field(default_factory=dict)
    reserved: dict[str, float] = field(default_factory=dict)  # known reservation prices, USD/h per instance type
    storage: dict[str, float] = field(default_factory=dict)  # EBS volume type → USD per GB-month
    discount_percent: float = 0.0  # Savings Plans / RIs on on-demand compute, from the budget document
    overhead_hourly: float = 0.0  # a fixed extra per node-hour, from the budget document

    @cached_property
    def _spot_by_type(self) -> dict[str, list[float]]:
        """Zone prices per type, indexed once: a scan of every (type, zone) per lookup cost the savings ledger ~2 s
        of estimate_pricing over a region's catalog."""
        found: dict[str, list[float]] = {}
        for (name, _), price in self.spot.items():
            found.setdefault(name, []).append(price)
        return found

    def hourly(self, instance_type: str, capacity_type: str, zone: str | None = None) -> float | None:
        """The compute price a running node pays; spot without a zone price falls back to the type's median over
        zones. A capacity reservation is billed at the On-Demand rate (AWS EC2 User Guide, "Capacity Reservation
        pricing and billing") unless the document gives its price; Savings Plans discount on-demand usage only."""
        if capacity_type == "spot":
            if zone and (instance_type, zone) in self.spot:
                return self.spot[(instance_type, zone)]
            zones = self._spot_by_type.get(instance_type)
            return statistics.median(zones) if zones else None
        if capacity_type == "reserved" and instance_type in self.reserved:
            return self.reserved[instance_type]
        price = self.on_demand.get(instance_type)
        return None if price is None else price * (1 - self.discount_percent / 100)

    def volumes_hourly(self, volumes) -> float | None:
        """USD/h of (volume type, GiB) pairs; None when a volume type has no price."""
        total = 0.0
        for kind, gib in volumes:
            if kind not in self.storage:
                return None
            total += gib * self.storage[kind] / HOURS_PER_MONTH
        return total

    def node_hourly(self, instance_type: str, capacity_type: str, zone: str | None, volumes=()) -> float | None:
        """Everything a node costs per hour: compute, its EBS volumes, the per-node overhead."""
        compute = self.hourly(instance_type, capacity_type, zone)
        disks = self.volumes_hourly(volumes)
        if compute is None or disks is None:
            return None
        return compute + disks + self.overhead_hourly

    def planning_price(self, instance_type: str, capacity_types: tuple[str, ...]) -> float | None:
        """What a new node of this type would cost in the first capacity type (in the given order) it has a price
        for; callers pass Karpenter's preference order (catalog.CAPACITY_PREFERENCE)."""
        for kind in capacity_types:
            price = self.hourly(instance_type, kind)
            if price is not None:
                return price
        return None

    def merged(self, other: "PriceBook") -> "PriceBook":
        return replace(self, on_demand={**self.on_demand, **other.on_demand}, spot={**self.spot, **other.spot},
                       reserved={**self.reserved, **other.reserved}, storage={**self.storage, **other.storage})
