"""What running things cost per hour: the lab's NAT gateway, public IPv4 addresses, instances.

Pure computation, no AWS calls. The hourly items the classroom plan needs beyond the flow-log
table of :mod:`helpers.cost.pricing` (``nat_gateway_hour`` comes from there) live in their own
table, ``hourly_prices.csv``, with the same columns: every price carries its region, AWS page,
as-of date and whether a stored AWS page confirms it. Data-dependent charges (NAT data
processing, flow-log delivery) are per GB, not per hour: :func:`helpers.cost.estimate_cost`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import pandas as pd

from helpers.cost.pricing import COLUMNS, DEFAULT_REGION, check_region, prices
from helpers.errors import CostError

__all__ = ["HOURLY_ITEMS", "hourly_cost", "hourly_prices"]

HOURLY_ITEMS = ("nat_gateway_hour", "public_ipv4_hour", "ec2_t3_micro_hour")
"""The per-hour items :func:`hourly_cost` prices."""


@lru_cache(maxsize=1)
def _load() -> pd.DataFrame:
    with resources.files("helpers.cost").joinpath("hourly_prices.csv").open(
            "r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, keep_default_na=False, na_values={"tier_end": [""]},
                            true_values=["true"], false_values=["false"])
    frame["confirmed"] = frame["confirmed"].astype(bool)
    return frame[list(COLUMNS)]


def hourly_prices(region: str = DEFAULT_REGION) -> pd.DataFrame:
    """The per-hour prices of a region: :data:`HOURLY_ITEMS`, one row each (COLUMNS)."""
    region = check_region(region)
    nat = prices(region)
    nat = nat[nat["item"] == "nat_gateway_hour"]
    extra = _load()[_load()["region"] == region]
    table = pd.concat([nat, extra], ignore_index=True)
    return table.set_index("item").loc[list(HOURLY_ITEMS)].reset_index()[list(COLUMNS)]


def hourly_cost(quantities: Mapping[str, float], region: str = DEFAULT_REGION,
                table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cost of one hour of running ``quantities`` (item → how many), one row per item.

    Args:
        quantities: e.g. ``{"nat_gateway_hour": 1, "public_ipv4_hour": 2,
            "ec2_t3_micro_hour": 2}``; items from :data:`HOURLY_ITEMS`, counts from 0.
        region: the region whose prices apply.
        table: prices to use instead of :func:`hourly_prices` (e.g. with a changed price).

    Returns:
        Columns ``item, description, quantity, price_usd, usd_per_hour, region, source,
        as_of, confirmed``; the sum of ``usd_per_hour`` is the cost of an hour.

    Raises:
        CostError: an unknown item or a count that is not a number from 0.

    >>> cost = hourly_cost({"nat_gateway_hour": 1, "public_ipv4_hour": 2}, "us-east-1")
    >>> round(float(cost["usd_per_hour"].sum()), 3)
    0.055
    """
    if not isinstance(quantities, Mapping):
        raise CostError(f"quantities must map an item to a count, such as "
                        f"{{'nat_gateway_hour': 1}}, not {type(quantities).__name__}")
    table = hourly_prices(region) if table is None else table
    rows = []
    for item, count in quantities.items():
        if item not in HOURLY_ITEMS:
            raise CostError(f"quantities: unknown item {item!r}; items: "
                            f"{', '.join(HOURLY_ITEMS)}")
        if isinstance(count, bool) or not isinstance(count, (int, float)) or count < 0:
            raise CostError(f"quantities[{item!r}] must be a count from 0, not {count!r}")
        match = table[(table["item"] == item) & (table["region"] == region)]
        if match.empty:
            raise CostError(f"the price table has no {item!r} in {region}")
        price = match.iloc[0]
        rows.append({"item": item, "description": price["description"], "quantity": count,
                     "price_usd": float(price["price_usd"]),
                     "usd_per_hour": round(count * float(price["price_usd"]), 6),
                     "region": region, "source": price["source"], "as_of": price["as_of"],
                     "confirmed": bool(price["confirmed"])})
    return pd.DataFrame(rows, columns=["item", "description", "quantity", "price_usd",
                                       "usd_per_hour", "region", "source", "as_of",
                                       "confirmed"])
