"""Run a Logs Insights query on a real log group (aws backend) and type its result.

The adapter behind ``cloud.query`` on the aws backend.

``run_on_cloud`` checks and compiles the query locally first (so a syntax error or a field
Insights will not discover shows the course's message before anything is sent), then calls
``logs.start_query`` and polls ``logs.get_query_results`` until the query is ``Complete``
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html).
The result has the same columns as :func:`helpers.insights.run` on the same records, in the
same order; Insights returns every value as text, so numbers, booleans and timestamps are
typed back from the compiled query's column kinds (a column the compiler cannot type is made
numeric when every value is a number).
"""

from __future__ import annotations

import re
import time
import warnings

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from helpers import times
from helpers.aws.account import Account
from helpers.errors import InsightsError
from helpers.flowlogs.fields import DEFAULT_FORMAT, parse_format
from helpers.insights.compiler import compile_query
from helpers.insights.schema import BOOL, FLOAT, INT, STRING, TIME

__all__ = ["run_on_cloud", "typed_results"]

DEFAULT_COLUMNS = tuple(name.replace("-", "_") for name in parse_format(DEFAULT_FORMAT))
_DONE_BADLY = {
    "Failed": "failed: check the query in the CloudWatch console's Logs Insights page",
    "Cancelled": "was cancelled (by someone, or by stop_query)",
    "Timeout": "timed out on the AWS side (queries stop after 60 minutes): narrow the time "
               "range or the log groups",
    "Unknown": "is in an unknown state",
}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def run_on_cloud(cloud: Account, query: str, log_group: str, start, end, *,
                 limit: int | None = None, poll: float = 1.0, timeout: float = 900.0,
                 sleep=time.sleep) -> pd.DataFrame:
    """Run a query with CloudWatch Logs Insights on ``log_group`` between ``start`` and ``end``.

    Args:
        cloud: the account (its ``logs`` client is used).
        query: Logs Insights query text.
        log_group: the log group's name.
        start, end: the time range: datetimes (naive means UTC), ISO 8601 text or epoch
            seconds.
        limit: the API's ``limit`` (the query's own ``limit`` command works too).
        poll: seconds between ``get_query_results`` calls.
        timeout: give up (and stop the query) after this many seconds of polling.
        sleep: the waiting function (tests pass a no-op).

    Returns:
        The result as a DataFrame, columns as :func:`helpers.insights.run` names them (the
        ``@ptr`` field the API adds is dropped).

    Raises:
        InsightsSyntaxError: the query is not valid (nothing is sent).
        InsightsError: AWS refused the query, or it failed, was cancelled or timed out.
    """
    compiled = compile_query(query, columns=DEFAULT_COLUMNS, log_group=log_group)
    for warning in compiled.warnings:
        warnings.warn(warning, stacklevel=2)
    logs = cloud.logs
    args = dict(logGroupName=log_group, startTime=times.to_epoch(start, "start"),
                endTime=times.to_epoch(end, "end"),
                queryString=query)
    if limit is not None:
        args["limit"] = int(limit)
    try:
        query_id = logs.start_query(**args)["queryId"]
        waited = 0.0
        while True:
            response = logs.get_query_results(queryId=query_id)
            status = response.get("status", "Unknown")
            if status == "Complete":
                break
            if status in _DONE_BADLY:
                raise InsightsError(f"the Logs Insights query {query_id} {_DONE_BADLY[status]}")
            if waited >= timeout:
                logs.stop_query(queryId=query_id)
                raise InsightsError(f"the Logs Insights query {query_id} was still {status} "
                                    f"after {timeout:g} s; it has been stopped. Narrow the "
                                    "time range or raise timeout=")
            sleep(poll)
            waited += poll
    except (ClientError, BotoCoreError) as err:
        raise InsightsError(f"CloudWatch Logs refused the query on {log_group!r}: {err}"
                            ) from err
    return typed_results(response.get("results", []), compiled.columns, compiled.kinds)


def typed_results(rows, names, kinds) -> pd.DataFrame:
    """``get_query_results`` rows (lists of ``{"field", "value"}``) as a typed DataFrame."""
    records = [{f["field"]: f.get("value") for f in row if f["field"] != "@ptr"}
               for row in rows]
    kind_of = dict(zip(names, kinds))
    order = list(names)
    for record in records:
        order += [name for name in record if name not in order]
    frame = {}
    for name in order:
        values = [record.get(name) for record in records]
        frame[name] = _typed(values, kind_of.get(name))
    return pd.DataFrame(frame, columns=order)


def _typed(values: list, kind: str | None) -> pd.Series:
    if kind == TIME:
        return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ms, UTC]")
    if kind == BOOL:
        return pd.Series([None if v is None else v.lower() in ("true", "1") for v in values],
                         dtype="boolean")
    present = [v for v in values if v is not None]
    numeric = kind in (INT, FLOAT) or (kind != STRING and present and all(
        _NUMBER.fullmatch(v) for v in present))
    if numeric:
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        whole = numbers.dropna()
        if kind != FLOAT and (whole == whole.round()).all():
            return numbers.astype("Int64")
        return numbers.astype("float64")
    return pd.Series(values, dtype=pd.StringDtype("pyarrow"))
