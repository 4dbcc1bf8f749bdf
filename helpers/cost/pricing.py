"""The pricing table (``prices.csv``, shipped as package data) and tiered-price arithmetic.

Every row is one price of one item in one region, in USD per unit, for the quantity between
``tier_start`` and ``tier_end`` (in the unit; an empty ``tier_end`` is open) within a month,
with the AWS page the price belongs to (``source``), the date the course last checked it
(``as_of``), whether a stored copy of that AWS page confirms it (``confirmed``) and a ``note``
that says where an unconfirmed value came from. Prices change and differ by region: a student
overrides any of them (:func:`prices` ``overrides=``, or edits the frame) and passes the frame to
:func:`helpers.cost.estimate_cost`.

Units and conventions, used everywhere in :mod:`helpers.cost`:

- A month is 730 hours, as AWS's pricing pages count hourly charges, so a day-based quantity
  is multiplied by 730 / 24 = 30.42 days to make a month.
- A GB is 2**30 bytes, a TB 1024 GB, an MB 2**20 bytes (the units AWS's usage reports use);
  the vended-log tiers "first 10 TB, next 20 TB, next 20 TB, over 50 TB" are therefore the GB
  bounds 10,240 / 30,720 / 51,200.
- VPC Flow Logs are billed as *vended logs*: "Data ingestion and archival charges for vended
  logs apply when you publish flow logs" (VPC user guide, "Flow logs pricing",
  https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html#flow-logs-pricing), priced
  on the CloudWatch pricing page (Logs → Vended Logs), tiered by the month's volume per account
  and region across all vended logs.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from helpers.errors import CostError

__all__ = [
    "BYTES_PER_GB",
    "BYTES_PER_MB",
    "BYTES_PER_TB",
    "COLUMNS",
    "DAYS_PER_MONTH",
    "DEFAULT_REGION",
    "HOURS_PER_MONTH",
    "REGIONS",
    "check_price_table",
    "price_table",
    "prices",
    "tiered_cost",
    "tiers",
]

HOURS_PER_MONTH = 730
"""Hours in a billing month, as AWS's pricing pages count hourly charges."""
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
"""Days in a billing month (30.42), the same month as :data:`HOURS_PER_MONTH`."""
BYTES_PER_MB = 2**20
BYTES_PER_GB = 2**30
BYTES_PER_TB = 2**40
DEFAULT_REGION = "ap-northeast-2"
"""The course's region (Seoul)."""

COLUMNS = ("region", "item", "description", "unit", "tier_start", "tier_end", "price_usd",
           "source", "as_of", "confirmed", "note")
"""The columns of a price table, in order."""

_FILE = "prices.csv"
_OVERRIDE_SOURCE = "student override"


@lru_cache(maxsize=1)
def _load() -> pd.DataFrame:
    text = resources.files("helpers.cost").joinpath(_FILE)
    with text.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype={"region": "string", "item": "string",
                                           "description": "string", "unit": "string",
                                           "tier_start": "Float64", "tier_end": "Float64",
                                           "price_usd": "Float64", "source": "string",
                                           "as_of": "string", "note": "string"},
                            true_values=["true"], false_values=["false"], keep_default_na=False,
                            na_values={"tier_end": [""]})
    frame["confirmed"] = frame["confirmed"].astype(bool)
    return frame[list(COLUMNS)].sort_values(["region", "item", "tier_start"],
                                            ignore_index=True)


def price_table() -> pd.DataFrame:
    """The whole pricing table as shipped with the course: every region, every item.

    >>> table = price_table()
    >>> sorted(table.region.unique())
    ['ap-northeast-2', 'us-east-1']
    """
    return _load().copy()


REGIONS: tuple[str, ...] = tuple(sorted(_load()["region"].unique()))
"""The regions the pricing table covers."""


def prices(region: str | None = DEFAULT_REGION, overrides: Mapping | None = None
           ) -> pd.DataFrame:
    """The prices of one region (all regions for ``region=None``), with a student's overrides.

    Args:
        region: an AWS region the table covers (:data:`REGIONS`), or None for every region.
        overrides: item → new price in USD per the item's unit. A number replaces every tier
            of the item; a sequence gives one price per tier, lowest tier first. An overridden
            row says so: ``source`` becomes "student override", ``as_of`` is empty and the
            note keeps the table's value.

    Returns:
        The rows of :func:`price_table` for the region, columns :data:`COLUMNS`.

    Raises:
        CostError: an unknown region or item, a price that is not a finite number from 0, or
            a sequence whose length is not the item's number of tiers.

    >>> p = prices("ap-northeast-2", overrides={"cwl_storage": 0.05})
    >>> row = p[p.item == "cwl_storage"].iloc[0]
    >>> float(row.price_usd), row.source
    (0.05, 'student override')
    """
    table = price_table()
    if region is not None:
        table = table[table["region"] == check_region(region)].reset_index(drop=True)
    if overrides is None:
        return table
    if not isinstance(overrides, Mapping):
        raise CostError(f"overrides must be a mapping of item to price such as "
                        f"{{'cwl_storage': 0.05}}, not {type(overrides).__name__}")
    items = list(table["item"].unique())
    for item, value in overrides.items():
        if item not in items:
            raise CostError(f"overrides: unknown item {item!r}{_did_you_mean(item, items)}; "
                            f"items: {', '.join(items)}")
        for reg in table.loc[table["item"] == item, "region"].unique():
            rows = table.index[(table["item"] == item) & (table["region"] == reg)]
            new = _override_values(item, value, len(rows))
            old = table.loc[rows, ["price_usd", "as_of"]].to_numpy()
            table.loc[rows, "price_usd"] = new
            table.loc[rows, "source"] = _OVERRIDE_SOURCE
            table.loc[rows, "as_of"] = pd.NA
            table.loc[rows, "confirmed"] = False
            table.loc[rows, "note"] = [f"overridden by the student; the table's price was "
                                       f"{p} USD (checked {d})" for p, d in old]
    return table


def _override_values(item: str, value, n: int) -> list[float]:
    if _is_number(value):
        values = [value] * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = list(value)
        if len(values) != n:
            raise CostError(f"overrides[{item!r}]: {item} has {n} tier(s), so give one price "
                            f"or {n} prices (lowest tier first), not {len(values)}")
    else:
        raise CostError(f"overrides[{item!r}] must be a price in USD (a number from 0) or a "
                        f"list of one price per tier, not {value!r}")
    for v in values:
        if not _is_number(v) or not math.isfinite(float(v)) or v < 0:
            raise CostError(f"overrides[{item!r}]: a price must be a finite number from 0 "
                            f"(USD per unit), not {v!r}")
    return [float(v) for v in values]


def check_region(region) -> str:
    """``region`` unchanged if the table covers it, else a CostError naming the valid ones."""
    if not isinstance(region, str) or region not in REGIONS:
        shown = repr(region) if isinstance(region, str) else type(region).__name__
        hint = _did_you_mean(region, REGIONS) if isinstance(region, str) else ""
        raise CostError(f"region {shown} is not in the pricing table{hint}; regions: "
                        f"{', '.join(REGIONS)} (add rows to a copy of price_table() for others)")
    return region


def check_price_table(table, argument: str = "price_table") -> pd.DataFrame:
    """A price table given by a student, checked: the columns, numbers and tiers it needs."""
    if not isinstance(table, pd.DataFrame):
        raise CostError(f"{argument} must be a DataFrame such as prices(), not "
                        f"{type(table).__name__}")
    missing = [c for c in ("region", "item", "unit", "tier_start", "tier_end", "price_usd",
                           "source", "as_of") if c not in table.columns]
    if missing:
        raise CostError(f"{argument} lacks the column(s) {', '.join(missing)}; start from "
                        "prices() and change the prices")
    price = pd.to_numeric(table["price_usd"], errors="coerce").astype("float64")
    bad = ~np.isfinite(price.to_numpy()) | (price.to_numpy() < 0)
    if bad.any():
        row = table[bad].iloc[0]
        raise CostError(f"{argument}: price_usd of {row['item']!r} ({row['region']}) must be a "
                        f"finite number from 0, not {row['price_usd']!r}")
    return table


def tiers(item: str, *, region: str = DEFAULT_REGION, table: pd.DataFrame | None = None
          ) -> list[tuple[float, float | None, float]]:
    """The ``(tier_start, tier_end, price)`` tiers of an item, for :func:`tiered_cost`.

    ``tier_end`` is None for the open top tier. ``table`` defaults to :func:`prices` of the
    region.

    >>> tiers("cwl_vended_delivery", region="us-east-1")
    [(0.0, 10240.0, 0.5), (10240.0, 30720.0, 0.25), (30720.0, 51200.0, 0.1), (51200.0, None, 0.05)]
    """
    if table is None:
        table = prices(region)
    else:
        table = check_price_table(table, "table")
        if region not in set(table["region"]):
            known = sorted(table["region"].unique())
            raise CostError(f"region {region!r} has no rows in the table given; its regions: "
                            f"{', '.join(known)}")
    rows = table[(table["item"] == item) & (table["region"] == region)]
    if rows.empty:
        items = sorted(table.loc[table["region"] == region, "item"].unique())
        raise CostError(f"item {item!r} has no price in {region}{_did_you_mean(item, items)}; "
                        f"items: {', '.join(items)}")
    rows = rows.sort_values("tier_start")
    return [(float(s), None if pd.isna(e) else float(e), float(p))
            for s, e, p in zip(rows["tier_start"], rows["tier_end"], rows["price_usd"])]


def tiered_cost(quantity: float, tiers: Sequence) -> float:
    """The cost of ``quantity`` under tiered prices: each tier's price applies to its slice.

    Args:
        quantity: how much, in the tiers' unit (GB for vended logs), from 0.
        tiers: ``(start, end, price)`` triples, lowest first, the first starting at 0, each
            starting where the previous ends; ``end`` None for an open top tier.

    Returns:
        The cost in USD (the prices' currency).

    Raises:
        CostError: a quantity that is negative or not finite, tiers that leave a gap, overlap
            or do not start at 0, or a quantity beyond a closed top tier.

    AWS prices vended logs this way (CloudWatch pricing, Logs → Vended Logs): the first
    10 TB of the month at one price, the next 20 TB at a lower one, and so on.

    >>> steps = [(0, 10, 1.0), (10, 30, 0.5), (30, 50, 0.2), (50, None, 0.1)]
    >>> tiered_cost(12, steps)   # 10 × 1.0 + 2 × 0.5
    11.0
    >>> tiered_cost(10, steps)   # exactly at a bound: all in the first tier
    10.0
    >>> tiered_cost(60, steps)   # 10 × 1.0 + 20 × 0.5 + 20 × 0.2 + 10 × 0.1
    25.0
    >>> tiered_cost(0, steps)
    0.0
    """
    if not _is_number(quantity) or not math.isfinite(float(quantity)) or quantity < 0:
        raise CostError(f"quantity must be a finite number from 0, not {quantity!r}")
    steps = _check_tiers(tiers)
    cost = 0.0
    for start, end, price in steps:
        if quantity <= start:
            break
        top = quantity if end is None else min(quantity, end)
        cost += (top - start) * price
    last_end = steps[-1][1]
    if last_end is not None and quantity > last_end:
        raise CostError(f"quantity {quantity} is beyond the top tier, which ends at {last_end}; "
                        "make the last tier open (end None)")
    return float(cost)


def _check_tiers(tiers) -> list[tuple[float, float | None, float]]:
    if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Sequence) or not tiers:
        raise CostError("tiers must be a non-empty list of (start, end, price) triples such as "
                        f"[(0, 10240, 0.76), (10240, None, 0.38)], not {tiers!r}")
    steps, expected = [], 0.0
    for i, tier in enumerate(tiers):
        if not isinstance(tier, Sequence) or isinstance(tier, str) or len(tier) != 3:
            raise CostError(f"tiers[{i}] must be a (start, end, price) triple, not {tier!r}")
        start, end, price = tier
        ok = _is_number(start) and _is_number(price) and (end is None or _is_number(end))
        if not ok or not math.isfinite(float(price)) or price < 0:
            raise CostError(f"tiers[{i}] = {tier!r}: start and price must be numbers (price "
                            "from 0), end a number or None")
        if start != expected:
            raise CostError(f"tiers[{i}] starts at {start}, but must start at {expected} "
                            "(the first tier at 0, each where the previous one ends)")
        if end is not None and not end > start:
            raise CostError(f"tiers[{i}] = {tier!r}: end must be above start")
        if end is None and i != len(tiers) - 1:
            raise CostError(f"tiers[{i}] is open (end None) but is not the last tier")
        steps.append((float(start), None if end is None else float(end), float(price)))
        expected = end
    return steps


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _did_you_mean(name, known) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
