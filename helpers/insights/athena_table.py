"""Athena: the table over AWS's Parquet flow-log files (the DDL; pure text, no AWS call).

``athena_ddl`` writes the ``CREATE EXTERNAL TABLE`` for flow logs delivered to S3 as Parquet
with Hive-compatible prefixes (``AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/
aws-region=…/year=…/month=…/day=…[/hour=…]/``, see :mod:`helpers.flowlogs.layout`). It uses
partition projection, so Athena computes the partitions from the table properties and no
``MSCK REPAIR TABLE`` or ``ALTER TABLE ADD PARTITION`` is ever needed
(https://docs.aws.amazon.com/athena/latest/ug/vpc-flow-logs.html,
https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html). Columns and types come
from the field registry (canonical names, INT_32 → int, INT_64 → bigint, STRING → string);
the partition columns are named like :data:`helpers.flowlogs.PARTITION_COLUMNS`, and a
``storage.location.template`` maps them onto AWS's ``key=value`` folder names.

``helpers.insights.to_sql(query, dialect="athena", table=...)`` gives the Trino SQL for such a
table; ``cloud.athena_query`` (:mod:`helpers.aws.athena`) runs it on Athena.
"""

from __future__ import annotations

import re

from helpers.errors import AwsSetupError
from helpers.flowlogs.fields import FIELDS

__all__ = ["athena_ddl"]

_TYPES = {"INT_32": "int", "INT_64": "bigint", "STRING": "string"}
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9!_.*()/-]*")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]")


def athena_ddl(table: str, bucket: str, prefix: str = "", *, account, region,
               hourly: bool = True, years: tuple[int, int] = (2021, 2030),
               version: int = 5) -> str:
    """``CREATE EXTERNAL TABLE`` for Parquet flow logs with Hive-compatible S3 prefixes.

    Args:
        table: the table name (letters, digits, _), e.g. ``vpc_flow_logs``.
        bucket: the S3 bucket the flow log delivers to.
        prefix: the folder before ``AWSLogs/`` (the flow log's destination prefix), if any.
        account: the account ID (or several) in the paths.
        region: the region (or several) in the paths.
        hourly: the flow log writes hourly partitions (``PerHourPartition``).
        years: the first and last year partition projection covers.
        version: the table's columns are the flow-log fields up to this version (AWS's own
            example covers 2–5; Parquet reads columns by name, so fields a file lacks are null).

    Raises:
        AwsSetupError: a name that is not a valid table, bucket, prefix, account or region.

    >>> print(athena_ddl("vpc_flow_logs", "my-flow-logs", account="123456789012",
    ...                  region="ap-northeast-2").splitlines()[0])
    CREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` (
    """
    accounts = [account] if isinstance(account, str) else list(account)
    regions = [region] if isinstance(region, str) else list(region)
    _check(_TABLE, table, "table name", "letters, digits and _")
    _check(_BUCKET, bucket, "S3 bucket name", "3-63 lowercase letters, digits, '.' and '-'")
    prefix = prefix.strip("/")
    _check(_PREFIX, prefix, "S3 prefix", "letters, digits and !_.*()/-")
    for value in accounts:
        _check(_ACCOUNT, value, "account ID", "12 digits")
    for value in regions:
        _check(_REGION, value, "region", "a region code such as ap-northeast-2")
    first, last = years
    if not 1970 <= first <= last <= 9999:
        raise AwsSetupError(f"years must be (first, last) with first <= last, not {years!r}")
    root = f"s3://{bucket}/{prefix + '/' if prefix else ''}AWSLogs/"
    columns = [f for f in FIELDS.values() if f.version <= version]
    column_lines = ",\n".join(f"  `{f.column}` {_TYPES[f.parquet_type]}" for f in columns)
    partitions = [("aws_account_id", "string"), ("aws_region", "string"), ("year", "int"),
                  ("month", "int"), ("day", "int")] + ([("hour", "int")] if hourly else [])
    partition_lines = ",\n".join(f"  `{name}` {kind}" for name, kind in partitions)
    template = (root + "aws-account-id=${aws_account_id}/aws-service=vpcflowlogs/"
                "aws-region=${aws_region}/year=${year}/month=${month}/day=${day}"
                + ("/hour=${hour}" if hourly else ""))
    properties = [
        ("projection.enabled", "true"),
        ("projection.aws_account_id.type", "enum"),
        ("projection.aws_account_id.values", ",".join(accounts)),
        ("projection.aws_region.type", "enum"),
        ("projection.aws_region.values", ",".join(regions)),
        ("projection.year.type", "integer"),
        ("projection.year.range", f"{first},{last}"),
        ("projection.month.type", "integer"),
        ("projection.month.range", "1,12"),
        ("projection.month.digits", "2"),
        ("projection.day.type", "integer"),
        ("projection.day.range", "1,31"),
        ("projection.day.digits", "2"),
    ]
    if hourly:
        properties += [("projection.hour.type", "integer"), ("projection.hour.range", "0,23"),
                       ("projection.hour.digits", "2")]
    properties.append(("storage.location.template", template))
    property_lines = ",\n".join(f"  '{key}' = '{value}'" for key, value in properties)
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` (\n{column_lines}\n)\n"
        f"PARTITIONED BY (\n{partition_lines}\n)\n"
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\n"
        f"LOCATION '{root}'\n"
        f"TBLPROPERTIES (\n{property_lines}\n)"
    )


def _check(pattern: re.Pattern, value, what: str, valid: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise AwsSetupError(f"{value!r} is not a valid {what}: use {valid}")
