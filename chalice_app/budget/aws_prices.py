"""Thin AWS adapters for the budget: the instance type catalog (EC2) and prices (Pricing API, spot history),
with prices cached in the ledger table so a run costs a handful of calls at most every few hours."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Collection

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalice_app.budget.catalog import InstanceType, instance_type_from_ec2
from chalice_app.budget.ledger import Ledger
from chalice_app.budget.prices import PriceBook, PriceUnavailable, on_demand_from_products, products_filters, \
    spot_from_history, storage_filters, storage_from_products
from chalice_app.errors import explain_aws_error

PRICING_REGION = "us-east-1"  # the Pricing API answers for every region from here
ON_DEMAND_CACHE_HOURS = 12
SPOT_CACHE_HOURS = 1
CATALOG_CACHE_SECONDS = 12 * 3600
PER_TYPE_QUERIES_UP_TO = 20  # more missing types than this: one region-wide, paginated query instead
_catalogs: dict[str, tuple[float, list[InstanceType]]] = {}


def instance_catalog(session: boto3.session.Session, region: str) -> list[InstanceType]:
    """Every instance type of the region, cached for the life of the Lambda container."""
    cached = _catalogs.get(region)
    if cached and time.monotonic() - cached[0] < CATALOG_CACHE_SECONDS:
        return cached[1]
    pages = session.client("ec2", region_name=region).get_paginator("describe_instance_types").paginate()
    catalog = [instance_type_from_ec2(item) for page in pages for item in page["InstanceTypes"]]
    _catalogs[region] = (time.monotonic(), catalog)
    return catalog


class PriceSource:
    def __init__(self, session: boto3.session.Session, region: str, ledger: Ledger | None, pricing=None, ec2=None):
        self._region = region
        self._ledger = ledger
        self._pricing = pricing or session.client("pricing", region_name=PRICING_REGION)
        self._ec2 = ec2 or session.client("ec2", region_name=region)

    def price_book(self, on_demand_types: set[str], spot_types: set[str], now: datetime,
                   volume_types: Collection[str] = frozenset()) -> PriceBook:
        """Prices for the given types; raises PriceUnavailable when AWS cannot be asked or answers nothing useful."""
        try:
            return PriceBook(self._on_demand(on_demand_types, now), self._spot(spot_types, now),
                             storage=self._storage(set(volume_types), now))
        except (ClientError, BotoCoreError) as exc:
            raise PriceUnavailable(f"prices could not be fetched: {explain_aws_error(exc)}") from None

    def _storage(self, wanted: set[str], now: datetime) -> dict[str, float]:
        """EBS USD per GB-month per volume type (Pricing API, productFamily Storage), cached like on-demand."""
        if not wanted:
            return {}
        cached = (self._ledger.cached_prices("storage", self._region, now) if self._ledger else None) or {}
        missing = sorted(wanted - set(cached))
        if missing:
            fetched: dict[str, float | None] = dict.fromkeys(missing)
            for volume_type in missing:
                pages = self._pricing.get_paginator("get_products").paginate(
                    ServiceCode="AmazonEC2", Filters=storage_filters(volume_type, self._region), FormatVersion="aws_v1")
                fetched.update(storage_from_products([item for page in pages for item in page["PriceList"]]))
            cached = {**cached, **fetched}
            if self._ledger:
                self._ledger.cache_prices("storage", self._region, cached, now, ON_DEMAND_CACHE_HOURS)
        return {name: price for name, price in cached.items() if price is not None}

    def _on_demand(self, wanted: set[str], now: datetime) -> dict[str, float]:
        # the cache remembers types without a price too (value None), so they are not asked for every run
        cached = (self._ledger.cached_prices("on-demand", self._region, now) if self._ledger else None) or {}
        missing = sorted(wanted - set(cached))
        if missing:
            fetched: dict[str, float | None] = dict.fromkeys(missing)
            if len(missing) <= PER_TYPE_QUERIES_UP_TO:
                for name in missing:
                    fetched.update(self._products(products_filters(name, self._region)))
            else:
                region_wide = [f for f in products_filters("", self._region) if f["Field"] != "instanceType"]
                fetched.update(self._products(region_wide))
            cached = {**cached, **fetched}
            if self._ledger:
                self._ledger.cache_prices("on-demand", self._region, cached, now, ON_DEMAND_CACHE_HOURS)
        return {name: price for name, price in cached.items() if price is not None}

    def _products(self, filters: list[dict]) -> dict[str, float]:
        pages = self._pricing.get_paginator("get_products").paginate(
            ServiceCode="AmazonEC2", Filters=filters, FormatVersion="aws_v1")
        return on_demand_from_products([item for page in pages for item in page["PriceList"]])

    def _spot(self, wanted: set[str], now: datetime) -> dict[tuple[str, str], float]:
        if not wanted:
            return {}
        # cache keys are "type|zone"; "type|" with None marks a type that has no spot price here
        cached = (self._ledger.cached_prices("spot", self._region, now) if self._ledger else None) or {}
        if not wanted <= {key.split("|", 1)[0] for key in cached}:
            pages = self._ec2.get_paginator("describe_spot_price_history").paginate(
                InstanceTypes=sorted(wanted), ProductDescriptions=["Linux/UNIX", "Linux/UNIX (Amazon VPC)"],
                StartTime=now)
            found = spot_from_history([entry for page in pages for entry in page["SpotPriceHistory"]])
            cached = {**cached, **{f"{name}|": None for name in wanted},
                      **{f"{name}|{zone}": price for (name, zone), price in found.items()}}
            if self._ledger:
                self._ledger.cache_prices("spot", self._region, cached, now, SPOT_CACHE_HOURS)
        return {tuple(key.split("|", 1)): price for key, price in cached.items() if price is not None}
