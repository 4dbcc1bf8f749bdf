"""Athena: run SQL on the flow-log table (aws backend), typed by Athena's column types.

The adapter behind ``cloud.athena_query``. The table's DDL comes from
:func:`helpers.insights.athena_ddl` and the SQL from
``helpers.insights.to_sql(query, dialect="athena", table=...)``; results arrive as text and
are typed back from ``ResultSetMetadata``
(https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html).

Status is polled with backoff (see :func:`helpers.aws.logs_insights.poll_delays`), and a query
still running when polling ends badly (an API error, a timeout, Ctrl-C) is stopped with
``StopQueryExecution``: Athena bills by the data a query scans, finished or not.
"""

from __future__ import annotations

import time

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from helpers.aws.account import Account
from helpers.aws.logs_insights import poll_delays
from helpers.errors import InsightsError

__all__ = ["run_athena"]

_FAILED = ("FAILED", "CANCELLED")
_INTEGERS = ("tinyint", "smallint", "integer", "int", "bigint")
_FLOATS = ("double", "float", "real", "decimal")


def run_athena(cloud: Account, sql: str, database: str, output_location: str, *,
               workgroup: str | None = None, poll: float = 1.0, timeout: float = 600.0,
               sleep=time.sleep) -> pd.DataFrame:
    """Run SQL on Athena and return the result typed by Athena's column types.

    Args:
        cloud: the account (aws backend only: the offline emulator has no Athena).
        sql: the query (e.g. from ``to_sql(query, dialect="athena", table=...)``).
        database: the Glue database holding the table.
        output_location: ``s3://bucket/prefix/`` where Athena writes results.
        workgroup: the Athena workgroup, if not the default.
        poll: seconds before the first status check (later waits grow to 10 s); timeout:
            give up (and stop the query) after so many seconds; sleep: the waiting function
            (tests pass a no-op).

    Raises:
        InsightsError: Athena refused, failed, cancelled or timed out, with its reason (a
            query still running is stopped first).
    """
    athena = _client(cloud)
    args = dict(QueryString=sql, QueryExecutionContext={"Database": database},
                ResultConfiguration={"OutputLocation": output_location})
    if workgroup:
        args["WorkGroup"] = workgroup
    try:
        query_id = athena.start_query_execution(**args)["QueryExecutionId"]
    except (ClientError, BotoCoreError) as err:
        raise InsightsError(f"Athena refused the query: {err}") from err
    running = True
    try:
        waited, delays = 0.0, poll_delays(poll)
        while True:
            status = athena.get_query_execution(QueryExecutionId=query_id)[
                "QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                running = False
                break
            if state in _FAILED:
                running = False
                reason = status.get("StateChangeReason", "no reason given")
                raise InsightsError(f"the Athena query {query_id} ended {state}: {reason}")
            if waited >= timeout:
                raise InsightsError(f"the Athena query {query_id} was still {state} after "
                                    f"{timeout:g} s; it has been stopped")
            wait = next(delays)
            sleep(wait)
            waited += wait
        return _results(athena, query_id)
    except (ClientError, BotoCoreError) as err:
        raise InsightsError(f"Athena failed while running the query {query_id}: {err}"
                            + (". The query has been stopped" if running else "")) from err
    finally:
        if running:  # an error, a timeout or KeyboardInterrupt while it runs: stop it
            _stop(athena, query_id)


def _stop(athena, query_id: str) -> None:
    """``StopQueryExecution``, ignoring the answer that it already ended."""
    try:
        athena.stop_query_execution(QueryExecutionId=query_id)
    except (ClientError, BotoCoreError):
        pass  # it finished or failed meanwhile; the original error is what matters


def _client(cloud: Account):
    if cloud.backend == "local":
        raise InsightsError("the offline emulator has no Athena: run the same query on the "
                            "records with helpers.insights.run (DuckDB), or connect to AWS")
    return cloud.athena


def _results(athena, query_id: str) -> pd.DataFrame:
    rows, columns, token = [], None, None
    while True:
        args = {"QueryExecutionId": query_id}
        if token:
            args["NextToken"] = token
        page = athena.get_query_results(**args)
        result = page["ResultSet"]
        if columns is None:
            columns = [(c["Name"], c.get("Type", "varchar").lower())
                       for c in result["ResultSetMetadata"]["ColumnInfo"]]
            data = result["Rows"][1:]  # the first row repeats the column names
        else:
            data = result["Rows"]
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in data]
        token = page.get("NextToken")
        if not token:
            break
    frame = {}
    for i, (name, kind) in enumerate(columns):
        frame[name] = _typed([row[i] for row in rows], kind)
    return pd.DataFrame(frame, columns=[name for name, _ in columns])


def _typed(values: list, kind: str) -> pd.Series:
    base = kind.split("(")[0].strip()
    if base in _INTEGERS:
        return pd.to_numeric(pd.Series(values, dtype=object)).astype("Int64")
    if base in _FLOATS:
        return pd.to_numeric(pd.Series(values, dtype=object)).astype("float64")
    if base == "boolean":
        return pd.Series([None if v is None else v == "true" for v in values],
                         dtype="boolean")
    if base.startswith("timestamp"):
        text = [None if v is None else v.removesuffix(" UTC") for v in values]
        return pd.Series(pd.to_datetime(text, utc=True), dtype="datetime64[ms, UTC]")
    return pd.Series(values, dtype=pd.StringDtype("pyarrow"))
