"""What VPC Flow Logs cost: a pricing table with sources, measured sizes and a monthly model.

Pure computation, no AWS calls. :func:`prices` gives the pricing table of a region (every price
with its region, AWS page, as-of date and whether a stored AWS page confirms it), overridable;
:func:`measure_sizes` measures bytes per record and records per flow on generated traffic;
:func:`estimate_cost` turns traffic and a flow log's settings into a month of charges by
component. A month is 730 hours; a GB is 2**30 bytes.

The lesson's cost section gets three things wrong (DESIGN §7.4-7.5): flow logs have no
sampling; $0.76/GB in Asia Pacific is the CloudWatch Logs *ingestion* price, not storage
(about $0.03/GB-month); flow logs are billed as tiered *vended logs* (in the first 10 TB a
month, delivery to CloudWatch Logs costs the same as standard ingestion; S3 costs half).
"""

from helpers.cost.model import (
    CWL_RETENTION_DAYS,
    DESTINATIONS,
    FILE_FORMATS,
    STORAGE_CLASSES,
    estimate_cost,
)
from helpers.cost.pricing import (
    DAYS_PER_MONTH,
    DEFAULT_REGION,
    HOURS_PER_MONTH,
    REGIONS,
    price_table,
    prices,
    tiered_cost,
    tiers,
)
from helpers.cost.sizes import (
    FORMATS,
    LESSON_FORMAT,
    Sizes,
    measure_sizes,
    record_counts,
    size_table,
)
from helpers.errors import CostError

__all__ = [
    "CWL_RETENTION_DAYS",
    "CostError",
    "DAYS_PER_MONTH",
    "DEFAULT_REGION",
    "DESTINATIONS",
    "FILE_FORMATS",
    "FORMATS",
    "HOURS_PER_MONTH",
    "LESSON_FORMAT",
    "REGIONS",
    "STORAGE_CLASSES",
    "Sizes",
    "estimate_cost",
    "measure_sizes",
    "price_table",
    "prices",
    "record_counts",
    "size_table",
    "tiered_cost",
    "tiers",
]
