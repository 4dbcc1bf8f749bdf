"""The monthly cost of a flow log: volume and settings in, a breakdown by component out.

:func:`estimate_cost` turns traffic (flows per second, or measured records or bytes per day)
and a flow log's settings into records per day, records into bytes with sizes measured on
generated traffic (:mod:`helpers.cost.sizes`), and bytes into a month of charges with the
pricing table (:mod:`helpers.cost.pricing`). A month is 730 hours (30.42 days), as AWS prices
hourly charges; a GB is 2**30 bytes.

What each setting does (DESIGN §7.4: flow logs have no sampling; these are the levers):

- destination: CloudWatch Logs pays vended-log delivery on the ingested bytes (text + 26 bytes
  per event), archival storage, and Logs Insights per GB scanned; S3 pays (cheaper) vended-log
  delivery on the record text, the Parquet conversion if chosen, S3 storage of the gzip or
  Parquet files, and Athena per TB scanned with a 10 MB minimum per query.
- traffic type: ACCEPT or REJECT keeps only that share of the records.
- log format: fewer fields, fewer bytes per record.
- aggregation interval: 60 s makes more records than 600 s (a flow gets a record per interval).
- retention: days of data kept, so storage grows with it.

The model gives the steady state, once the retention period is full, and ignores the free tier
and S3 request charges (one PUT per file every 5 minutes: cents a month).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.cost.pricing import (
    BYTES_PER_GB,
    BYTES_PER_MB,
    BYTES_PER_TB,
    DAYS_PER_MONTH,
    DEFAULT_REGION,
    HOURS_PER_MONTH,
    check_price_table,
    check_region,
    prices,
    tiered_cost,
    tiers,
)
from helpers.cost.sizes import (
    Sizes,
    check_aggregation,
    check_traffic_type,
    measure_sizes,
    resolve_format,
)
from helpers.errors import CostError
from helpers.reference import CWL_RETENTION_DAYS

__all__ = ["ATHENA_MIN_MB", "BREAKDOWN_COLUMNS", "CWL_ARCHIVE_RATIO", "CWL_RETENTION_DAYS",
           "DESTINATIONS", "FILE_FORMATS", "S3_IA_MIN_DAYS", "STORAGE_CLASSES", "estimate_cost"]

DESTINATIONS = ("cloud-watch-logs", "s3")
"""A flow log's ``LogDestinationType`` values the model prices (Firehose is not modelled)."""
FILE_FORMATS = ("plain-text", "parquet")
"""S3 ``FileFormat`` values of a flow log's destination options."""
STORAGE_CLASSES = {"STANDARD": "s3_standard_storage",
                   "STANDARD_IA": "s3_standard_ia_storage"}
"""S3 storage classes the model prices, with their pricing item."""

ATHENA_MIN_MB = 10
"""Athena bills every query for at least 10 MB, rounded up to the MB
(https://aws.amazon.com/athena/pricing/)."""

S3_IA_MIN_DAYS = 30
"""S3 Standard-IA bills an object for at least 30 days (https://aws.amazon.com/s3/pricing/)."""

CWL_ARCHIVE_RATIO = 0.15
"""Archived (stored) bytes per ingested byte in CloudWatch Logs: the AWS Pricing Calculator
assumes logs compress to 15 % of the ingested volume (quoted by dev.classmethod.jp, 2021);
AWS does not publish the real ratio. Override with ``archive_ratio=``."""

BREAKDOWN_COLUMNS = ("component", "quantity", "unit", "price", "cost_usd", "note", "item",
                     "region", "source", "as_of")
"""The columns of :func:`estimate_cost`'s frame."""


def estimate_cost(*, flows_per_second: float | None = None,
                  records_per_day: float | None = None, bytes_per_day: float | None = None,
                  measured_aggregation: int = 600, log_format: str = "default",
                  destination: str = "cloud-watch-logs", file_format: str = "plain-text",
                  traffic_type: str = "ALL", traffic_share: float | None = None,
                  aggregation: int = 600, retention_days: int = 30,
                  storage_class: str = "STANDARD", scanned_gb_per_day: float = 0.0,
                  queries_per_day: float = 0.0, nat_gateways: int = 0,
                  nat_gb_per_day: float = 0.0, region: str = DEFAULT_REGION,
                  price_table: pd.DataFrame | None = None, sizes: Sizes | None = None,
                  archive_ratio: float = CWL_ARCHIVE_RATIO) -> pd.DataFrame:
    """A month of a flow log's charges, by component, with the total in the last row.

    Give the traffic in exactly one way:

    Args:
        flows_per_second: new flows a second over all monitored interfaces (a flow is a
            5-tuple on one interface: a connection seen by two instances is four flows, two
            directions on each). Records per flow are measured for the ``aggregation``.
        records_per_day: flow-log records a day of all traffic (as an ALL flow log records
            them), measured with ``measured_aggregation``.
        bytes_per_day: CloudWatch Logs ingested bytes a day (the log group's IncomingBytes)
            of an ALL flow log with this ``log_format`` and ``measured_aggregation``.
        measured_aggregation: the interval (60 or 600 s) of ``records_per_day`` or
            ``bytes_per_day``; the model rescales to ``aggregation`` by measured record counts.
        log_format: "default", "lesson" (the lesson's custom format) or a ``${field}`` string.
        destination: "cloud-watch-logs" or "s3".
        file_format: "plain-text" (gzip) or "parquet", for S3.
        traffic_type: "ALL", "ACCEPT" or "REJECT".
        traffic_share: the share of records the traffic type keeps (0 to 1); None uses the
            share measured on generated traffic, which has few rejects: give your own.
        aggregation: the flow log's maximum aggregation interval, 60 or 600 s (Nitro
            instances always aggregate at 60 s or less).
        retention_days: days the logs are kept: a CloudWatch Logs retention value
            (:data:`CWL_RETENTION_DAYS`), or an S3 lifecycle expiration (whole days from 1).
        storage_class: "STANDARD" or "STANDARD_IA" (30-day minimum), for S3.
        scanned_gb_per_day: GB a day scanned by Logs Insights (CloudWatch Logs) or Athena (S3).
        queries_per_day: Athena queries a day; each is billed at least 10 MB (ignored for
            CloudWatch Logs: Logs Insights bills the GB scanned only).
        nat_gateways, nat_gb_per_day: the NAT gateways being monitored and the GB a day they
            process (shown because the lesson monitors one; 0 leaves them out).
        region: a region of the pricing table.
        price_table: prices to use, e.g. ``prices(region, overrides=...)``; default
            :func:`helpers.cost.prices` of ``region``.
        sizes: measured sizes (:func:`helpers.cost.measure_sizes`) of ``log_format``; default
            measured on the lesson's generated traffic.
        archive_ratio: stored bytes per ingested byte in CloudWatch Logs.

    Returns:
        One row per component (columns :data:`BREAKDOWN_COLUMNS`): the monthly quantity and
        its unit, the price in USD per unit (the average over tiers for tiered items),
        ``cost_usd``, a note, the pricing item and the price's region, source and as-of date.
        The last row, component "total", adds them up.

    Raises:
        CostError: a bad or missing argument; the message names it.

    >>> df = estimate_cost(records_per_day=1_000_000, retention_days=30)
    >>> df.component.tolist()
    ['flow-log delivery to CloudWatch Logs (vended)', 'CloudWatch Logs storage', 'total']
    """
    region = check_region(region)
    table = prices(region) if price_table is None else check_price_table(price_table)
    log_format = resolve_format(log_format)
    destination = _choice("destination", destination, DESTINATIONS)
    file_format = _choice("file_format", file_format, FILE_FORMATS)
    storage_class = _choice("storage_class", storage_class, tuple(STORAGE_CLASSES))
    if destination == "cloud-watch-logs" and file_format != "plain-text":
        raise CostError("file_format: CloudWatch Logs takes text only; Parquet is an S3 option "
                        "(destination='s3')")
    if destination == "cloud-watch-logs" and storage_class != "STANDARD":
        raise CostError("storage_class: S3 storage classes apply to destination='s3' only")
    traffic_type = check_traffic_type(traffic_type)
    aggregation = check_aggregation(aggregation)
    measured_aggregation = check_aggregation(measured_aggregation, "measured_aggregation")
    retention_days = _retention(retention_days, destination)
    for name, value in (("scanned_gb_per_day", scanned_gb_per_day),
                        ("queries_per_day", queries_per_day),
                        ("nat_gb_per_day", nat_gb_per_day), ("archive_ratio", archive_ratio)):
        _amount(name, value)
    _whole("nat_gateways", nat_gateways)
    if nat_gb_per_day > 0 and nat_gateways == 0:
        raise CostError("nat_gb_per_day: data is processed by a NAT gateway, so give "
                        "nat_gateways (how many) as well")
    if destination == "s3" and scanned_gb_per_day > 0 and queries_per_day == 0:
        raise CostError("queries_per_day: Athena bills each query (10 MB at least), so give "
                        "how many queries a day scan scanned_gb_per_day")
    if sizes is None:
        sizes = measure_sizes(log_format)
    elif not isinstance(sizes, Sizes):
        raise CostError(f"sizes must be a Sizes from measure_sizes(), not "
                        f"{type(sizes).__name__}")
    elif sizes.log_format != log_format:
        raise CostError(f"sizes were measured for format {sizes.log_format!r}, not log_format "
                        f"{log_format!r}; pass measure_sizes(log_format)")
    if traffic_share is None:
        share = sizes.share(traffic_type, aggregation)
    else:
        share = _amount("traffic_share", traffic_share)
        if share > 1:
            raise CostError(f"traffic_share is a share of the records, from 0 to 1, not "
                            f"{traffic_share!r}")
        if traffic_type == "ALL" and share != 1:
            raise CostError("traffic_share: an ALL flow log keeps every record (share 1); "
                            "choose traffic_type ACCEPT or REJECT")

    records = _records_per_day(flows_per_second, records_per_day, bytes_per_day,
                               measured_aggregation, aggregation, sizes) * share
    per_record = sizes.bytes_per_record
    rows = []
    if destination == "cloud-watch-logs":
        ingested_gb = records * per_record["cloudwatch"] / BYTES_PER_GB
        rows.append(_tiered_row(
            table, region, "cwl_vended_delivery", "flow-log delivery to CloudWatch Logs (vended)",
            ingested_gb * DAYS_PER_MONTH, "GB",
            f"{records:,.0f} records/day × {per_record['cloudwatch']:.1f} B ingested "
            "(text + 26 B per event)"))
        rows.append(_row(
            table, region, "cwl_storage", "CloudWatch Logs storage",
            ingested_gb * archive_ratio * retention_days, "GB-month",
            f"{retention_days} days kept × {archive_ratio:g} of the ingested bytes (compressed)"))
        if scanned_gb_per_day > 0:
            rows.append(_row(table, region, "cwl_insights_scan", "Logs Insights queries",
                             scanned_gb_per_day * DAYS_PER_MONTH, "GB scanned",
                             f"{scanned_gb_per_day:g} GB scanned a day"))
    else:
        delivered_gb = records * per_record["text"] / BYTES_PER_GB
        rows.append(_tiered_row(
            table, region, "s3_vended_delivery", "flow-log delivery to S3 (vended)",
            delivered_gb * DAYS_PER_MONTH, "GB",
            f"{records:,.0f} records/day × {per_record['text']:.1f} B of record text"))
        container = "parquet" if file_format == "parquet" else "gzip"
        if file_format == "parquet":
            rows.append(_row(table, region, "s3_parquet_conversion", "Parquet conversion",
                             delivered_gb * DAYS_PER_MONTH, "GB",
                             "charged on the delivered volume"))
        stored_days = max(retention_days, S3_IA_MIN_DAYS) if storage_class == "STANDARD_IA" \
            else retention_days
        stored_gb = records * per_record[container] / BYTES_PER_GB * stored_days
        minimum = f" (billed {S3_IA_MIN_DAYS}-day minimum)" if stored_days > retention_days \
            else ""
        rows.append(_row(
            table, region, STORAGE_CLASSES[storage_class],
            f"S3 storage ({storage_class})", stored_gb, "GB-month",
            f"{retention_days} days kept{minimum} × {per_record[container]:.1f} B/record "
            f"({'Parquet' if container == 'parquet' else 'gzip text'})"))
        if queries_per_day > 0:
            per_query_mb = scanned_gb_per_day * BYTES_PER_GB / BYTES_PER_MB / queries_per_day
            # round away float noise first, so 10.000000000001 MB is billed as 10, not 11
            billed_mb = max(math.ceil(round(per_query_mb, 6)), ATHENA_MIN_MB)
            tb = billed_mb * queries_per_day * DAYS_PER_MONTH * BYTES_PER_MB / BYTES_PER_TB
            rows.append(_row(
                table, region, "athena_scan", "Athena queries", tb, "TB scanned",
                f"{queries_per_day:g} queries/day × {billed_mb:,} MB billed each "
                f"(rounded up, {ATHENA_MIN_MB} MB minimum)"))
    if nat_gateways > 0:
        rows.append(_row(table, region, "nat_gateway_hour", "NAT gateway hours",
                         nat_gateways * HOURS_PER_MONTH, "hours",
                         f"{nat_gateways} gateway(s) × {HOURS_PER_MONTH} h"))
        rows.append(_row(table, region, "nat_gateway_data", "NAT gateway data processing",
                         nat_gb_per_day * DAYS_PER_MONTH, "GB processed",
                         f"{nat_gb_per_day:g} GB a day"))
    frame = pd.DataFrame(rows, columns=list(BREAKDOWN_COLUMNS))
    total = {"component": "total", "quantity": np.nan, "unit": "", "price": np.nan,
             "cost_usd": float(frame["cost_usd"].sum()),
             "note": f"a month of {HOURS_PER_MONTH} hours, steady state", "item": "",
             "region": region, "source": "", "as_of": ""}
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def _records_per_day(flows_per_second, records_per_day, bytes_per_day, measured_aggregation,
                     aggregation, sizes: Sizes) -> float:
    given = {name: value for name, value in (("flows_per_second", flows_per_second),
                                             ("records_per_day", records_per_day),
                                             ("bytes_per_day", bytes_per_day))
             if value is not None}
    if len(given) != 1:
        raise CostError("give the traffic in exactly one way: flows_per_second, "
                        "records_per_day or bytes_per_day"
                        + (f" (got {', '.join(given)})" if given else ""))
    (name, value), = given.items()
    _amount(name, value)
    if name == "flows_per_second":
        return value * 86_400 * sizes.records_per_flow(aggregation)
    if name == "bytes_per_day":
        value = value / sizes.bytes_per_record["cloudwatch"]
    return value * sizes.aggregation_factor(aggregation, measured_aggregation)


def _row(table, region, item, component, quantity, unit, note) -> dict:
    steps = tiers(item, region=region, table=table)
    cost = tiered_cost(quantity, steps)
    price = steps[0][2] if len(steps) == 1 or quantity == 0 else cost / quantity
    info = table[(table["item"] == item) & (table["region"] == region)].iloc[0]
    as_of = info["as_of"]
    return {"component": component, "quantity": float(quantity), "unit": unit,
            "price": float(price), "cost_usd": cost, "note": note, "item": item,
            "region": region, "source": info["source"],
            "as_of": "" if pd.isna(as_of) else str(as_of)}


def _tiered_row(table, region, item, component, quantity, unit, note) -> dict:
    row = _row(table, region, item, component, quantity, unit, note)
    if len(tiers(item, region=region, table=table)) > 1:
        row["note"] += "; tiered per month (average price shown)"
    return row


def _choice(name: str, value, valid: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in valid:
        raise CostError(f"{name} must be one of {', '.join(map(repr, valid))}, not {value!r}")
    return value


def _amount(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not math.isfinite(value) \
            or value < 0:
        raise CostError(f"{name} must be a finite number from 0, not {value!r}")
    return float(value)


def _whole(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 0:
        raise CostError(f"{name} must be a whole number from 0, not {value!r}")
    return int(value)


def _retention(days, destination: str) -> int:
    if destination == "cloud-watch-logs":
        if isinstance(days, bool) or days not in CWL_RETENTION_DAYS:
            raise CostError(f"retention_days must be a CloudWatch Logs retention value: "
                            f"{', '.join(map(str, CWL_RETENTION_DAYS))} days, not {days!r} "
                            "('never expire' has no steady monthly cost)")
        return int(days)
    if isinstance(days, (bool, np.bool_)) or not isinstance(days, (int, np.integer)) or days < 1:
        raise CostError(f"retention_days must be a whole number of days from 1 (an S3 "
                        f"lifecycle expiration), not {days!r}")
    return int(days)
