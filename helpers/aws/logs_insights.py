"""Run a Logs Insights query on a real log group (aws backend) and type its result.

The adapter behind ``cloud.query`` on the aws backend.

``run_on_cloud`` checks and compiles the query locally first (so a syntax error or a field
Insights will not discover shows the course's message before anything is sent), then calls
``logs.start_query`` and polls ``logs.get_query_results`` until the query is ``Complete``
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html),
waiting longer between polls as the query runs (backoff, not every second). A query still
running when polling ends badly (an API error, a timeout, or Ctrl-C / the notebook's stop
button) is stopped with ``StopQuery``, so it does not go on scanning (and costing) on its own.
A result of exactly the row limit (10,000 by default) may be cut short, and says so with
:class:`~helpers.errors.InsightsResultLimitWarning`.
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
from helpers.errors import InsightsError, InsightsResultLimitWarning
from helpers.flowlogs.fields import DEFAULT_FORMAT, parse_format
from helpers.insights.ast import Limit
from helpers.insights.compiler import compile_query
from helpers.insights.parser import parse
from helpers.insights.schema import BOOL, FLOAT, INT, STRING, TIME

__all__ = ["DEFAULT_LIMIT", "poll_delays", "run_on_cloud", "typed_results"]

DEFAULT_LIMIT = 10_000
"""Rows a query returns when neither its ``limit`` command nor the API's ``limit`` says
otherwise (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html)."""
MAX_POLL = 10.0  # seconds: the longest wait between two polls

DEFAULT_COLUMNS = tuple(name.replace("-", "_") for name in parse_format(DEFAULT_FORMAT))
_DONE_BADLY = {
    "Failed": "failed: check the query in the CloudWatch console's Logs Insights page",
    "Cancelled": "was cancelled (by someone, or by stop_query)",
    "Timeout": "timed out on the AWS side (queries stop after 60 minutes): narrow the time "
               "range or the log groups",
    "Unknown": "is in an unknown state",
}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def poll_delays(first: float = 1.0, longest: float = MAX_POLL):
    """Waits between polls: ``first``, then half as long again each time, up to ``longest``.

    >>> from itertools import islice
    >>> list(islice(poll_delays(1.0, 4.0), 6))
    [1.0, 1.5, 2.25, 3.375, 4.0, 4.0]
    """
    wait = first
    while True:
        yield wait
        wait = min(longest, round(wait * 1.5, 3))


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
        poll: seconds before the first ``get_query_results`` call; each later wait is half
            as long again, up to 10 s (see :func:`poll_delays`).
        timeout: give up (and stop the query) after this many seconds of polling.
        sleep: the waiting function (tests pass a no-op).

    Returns:
        The result as a DataFrame, columns as :func:`helpers.insights.run` names them (the
        ``@ptr`` field the API adds is dropped).

    Raises:
        InsightsSyntaxError: the query is not valid (nothing is sent).
        InsightsError: AWS refused the query, or it failed, was cancelled or timed out (a
            query still running is stopped first).

    Warns:
        InsightsResultLimitWarning: the result has 10,000 rows, the default limit, and no
            smaller ``limit`` was asked for: there may be more.
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
    except (ClientError, BotoCoreError) as err:
        raise InsightsError(f"CloudWatch Logs refused the query on {log_group!r}: {err}"
                            ) from err
    running = True
    try:
        waited, delays = 0.0, poll_delays(poll)
        while True:
            response = logs.get_query_results(queryId=query_id)
            status = response.get("status", "Unknown")
            if status == "Complete":
                running = False
                break
            if status in _DONE_BADLY:
                running = False
                raise InsightsError(f"the Logs Insights query {query_id} {_DONE_BADLY[status]}")
            if waited >= timeout:
                raise InsightsError(f"the Logs Insights query {query_id} was still {status} "
                                    f"after {timeout:g} s; it has been stopped. Narrow the "
                                    "time range or raise timeout=")
            wait = next(delays)
            sleep(wait)
            waited += wait
    except (ClientError, BotoCoreError) as err:
        raise InsightsError(f"CloudWatch Logs failed while running the query {query_id} on "
                            f"{log_group!r}: {err}. The query has been stopped") from err
    finally:
        if running:  # an error, a timeout or KeyboardInterrupt while it runs: stop it
            _stop(logs, query_id)
    rows = response.get("results", [])
    # A smaller limit the student wrote is what they asked for; the default one is a cut.
    cap = min(_query_limit(query), int(limit) if limit is not None else DEFAULT_LIMIT)
    if cap >= DEFAULT_LIMIT and len(rows) >= DEFAULT_LIMIT:
        warnings.warn(InsightsResultLimitWarning(
            f"the query returned {len(rows):,} rows, the most Logs Insights returns by "
            "default: more rows may match and are missing. Narrow the time range, add a "
            "filter, or aggregate with stats"), stacklevel=2)
    return typed_results(rows, compiled.columns, compiled.kinds)


def _stop(logs, query_id: str) -> None:
    """``StopQuery``, ignoring the answer that it already ended (nothing to stop)."""
    try:
        logs.stop_query(queryId=query_id)
    except (ClientError, BotoCoreError):
        pass  # it finished or failed meanwhile; the original error is what matters


def _query_limit(query: str) -> int:
    """The row limit of a query: its smallest ``limit`` command, else 10,000."""
    counts = [int(c.count.value) for c in parse(query).commands if isinstance(c, Limit)]
    return min(counts, default=DEFAULT_LIMIT)


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
