"""Where flow-log files live in S3: the folder layout and file names AWS uses.

From "Flow log files" in the VPC user guide
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html)::

    AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/]<file>            (plain)
    AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/
        year=<yyyy>/month=<mm>/day=<dd>/[hour=<hh>/]<file>                             (Hive)

    <file> = <account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz
             (gzip text with a header line), or the same name ending .log.parquet

:func:`helpers.flowlogs.read` reads such a tree back with the partition values as columns.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["FILE_FORMATS", "s3_key"]

FILE_FORMATS = {"plain-text": "log.gz", "parquet": "log.parquet"}
"""The ``FileFormat`` values of a flow log's ``DestinationOptions``, and their file suffixes."""


def s3_key(account_id: str, region: str, when: int, *, flow_log_id: str, digest: str,
           hive: bool = False, per_hour: bool = False, file_format: str = "plain-text",
           stamp: int | None = None) -> str:
    """The key of a flow-log file whose records fall in the partition holding ``when``.

    ``when`` picks the folder; ``stamp`` (default ``when``) is the time in the file name;
    both are Unix seconds. ``digest`` stands in for the hash AWS puts in the name.

    >>> s3_key("123456789012", "ap-northeast-2", 1639962300, flow_log_id="fl-1", digest="ab",
    ...        hive=True, per_hour=True)
    'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=ap-northeast-2/year=2021/month=12/day=20/hour=01/123456789012_vpcflowlogs_ap-northeast-2_fl-1_20211220T0105Z_ab.log.gz'
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be 'plain-text' or 'parquet', not {file_format!r}")
    t = datetime.fromtimestamp(when, tz=timezone.utc)
    if hive:
        folder = (f"AWSLogs/aws-account-id={account_id}/aws-service=vpcflowlogs/"
                  f"aws-region={region}/year={t:%Y}/month={t:%m}/day={t:%d}/")
        folder += f"hour={t:%H}/" if per_hour else ""
    else:
        folder = f"AWSLogs/{account_id}/vpcflowlogs/{region}/{t:%Y}/{t:%m}/{t:%d}/"
        folder += f"{t:%H}/" if per_hour else ""
    written = datetime.fromtimestamp(when if stamp is None else stamp, tz=timezone.utc)
    return (f"{folder}{account_id}_vpcflowlogs_{region}_{flow_log_id}_"
            f"{written:%Y%m%dT%H%MZ}_{digest}.{FILE_FORMATS[file_format]}")
