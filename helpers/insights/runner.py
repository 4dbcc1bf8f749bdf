"""Run Logs Insights queries (and their mirror SQL) on flow-log records with DuckDB.

``run(query, data)`` compiles the query for the data's columns and runs it; ``run_sql(sql,
data)`` runs hand-written SQL the same way, so both give frames of the same shape and types.
The data is the only table the SQL sees, named ``flows`` (or ``table=``):

- a pandas DataFrame (or Arrow table) with canonical columns: registered with a private
  DuckDB connection as it is, without a copy. That connection has external access switched
  off (no files, no network, no extensions) and its configuration locked, and its time zone
  is UTC;
- a DuckDB relation: the SQL runs on the relation's own connection, the relation seen as
  ``flows``;
- a DuckDB connection that holds a table or view named ``flows`` (or ``table=``);
- a path :func:`helpers.flowlogs.read` can read (text, gzip, Parquet, an S3-style tree).

Results are typed like :func:`helpers.flowlogs.read`: Int32/Int64 for whole numbers, float64,
pyarrow strings, ``boolean``, and timestamps as ``datetime64[ms, UTC]``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from helpers import flowlogs
from helpers.errors import InsightsError
from helpers.insights.compiler import compile_query

__all__ = ["run", "run_sql", "to_sql"]

_STRING = pd.StringDtype("pyarrow")
_SAFE_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def to_sql(query: str, *, dialect: str = "duckdb", table: str = "flows", columns=None,
           pretty: bool = True) -> str:
    """The SQL a Logs Insights query compiles to.

    Args:
        query: Logs Insights query text.
        dialect: ``"duckdb"`` or ``"athena"`` (Trino SQL, for an Athena table of the same
            canonical columns, see :func:`helpers.insights.athena_ddl`).
        table: the table the SQL reads.
        columns: the table's canonical columns (None: every flow-log field).
        pretty: one clause per line.

    Raises:
        InsightsSyntaxError: the query is not valid.

    Warns:
        InsightsFieldWarning: the query names a field Insights would not discover.

    >>> print(to_sql("filter action = 'REJECT' | stats count(*) as n by srcAddr"))
    SELECT
      "srcAddr",
      "n"
    FROM (
      SELECT
        "srcaddr" AS "srcAddr",
        COUNT(*) AS "n"
      FROM "flows"
      WHERE
        "action" = 'REJECT'
      GROUP BY
        "srcaddr"
    ) AS "_stats1"
    ORDER BY
      "srcAddr" ASC,
      "n" ASC
    LIMIT 10000
    """
    compiled = compile_query(query, columns=columns, dialect=dialect, table=table,
                             pretty=pretty)
    _emit(compiled.warnings)
    return compiled.sql


def run(query: str, data, *, table: str = "flows", log_group: str | None = None
        ) -> pd.DataFrame:
    """Run a Logs Insights query on flow-log records; one row per result row.

    Args:
        query: Logs Insights query text (discovered names: ``srcAddr``, ``dstPort``, ...).
        data: a DataFrame or Arrow table with canonical columns, a DuckDB relation, a DuckDB
            connection holding table ``table``, or a path :func:`helpers.flowlogs.read` reads.
        table: the table name the SQL uses.
        log_group: the log group behind ``@log`` (``account-id:log-group``), when the data has
            no ``log_group`` column.

    Returns:
        The result, columns named as Logs Insights names them (aliases, or the expression's
        text such as ``count(*)``).

    Raises:
        InsightsSyntaxError: the query is not valid.
        InsightsError: the engine could not run the compiled SQL.

    Warns:
        InsightsFieldWarning: a field the data does not have (it is null, as in Insights).
    """
    source = _Source(data, table)
    compiled = compile_query(query, columns=source.columns, table=table, log_group=log_group)
    _emit(compiled.warnings)
    result = source.execute(compiled.sql, compiled.tree)
    return _frame(result, compiled.columns)


def run_sql(sql: str, data, *, table: str = "flows") -> pd.DataFrame:
    """Run SQL (e.g. a lesson query's DuckDB mirror) on the same kinds of ``data`` as
    :func:`run`, typed the same way. On a DataFrame, external access is off."""
    source = _Source(data, table)
    result = source.execute(sql)
    return _frame(result, tuple(result.column_names))


def _emit(found) -> None:
    for warning in found:
        warnings.warn(warning, stacklevel=3)


class _Source:
    """Where the records are, their columns, and how to run SQL over them."""

    def __init__(self, data, table: str):
        self.table = table
        self.relation = self.con = self.records = None
        if isinstance(data, (str, os.PathLike)):
            data = flowlogs.read(Path(data))
        if isinstance(data, (pd.DataFrame, pa.Table)):
            self.records = data
            self.columns = [str(c) for c in (data.columns if isinstance(data, pd.DataFrame)
                                             else data.column_names)]
        elif isinstance(data, duckdb.DuckDBPyRelation):
            self.relation = data
            self.columns = list(data.columns)
        elif isinstance(data, duckdb.DuckDBPyConnection):
            self.con = data
            try:
                self.columns = list(data.table(table).columns)
            except duckdb.Error as err:
                raise InsightsError(f"the DuckDB connection has no table or view {table!r}: "
                                    f"create it, or pass table=<its name>") from err
        else:
            raise TypeError("data must be a DataFrame, an Arrow table, a DuckDB relation or "
                            f"connection, or a path to flow-log files; not "
                            f"{type(data).__name__}")

    def execute(self, sql: str, tree: exp.Expression | None = None) -> pa.Table:
        """Run ``sql`` (whose parsed ``tree`` tells which columns it reads, if known)."""
        try:
            if self.relation is not None:
                return self.relation.query(self.table, sql).to_arrow_table()
            if self.con is not None:
                return self.con.sql(sql).to_arrow_table()
            con = duckdb.connect(config=dict(_SAFE_CONFIG))
            try:
                con.execute("SET TimeZone = 'UTC'")
                con.execute("SET lock_configuration = true")
                con.register(self.table, _arrow_view(self.records, _used(sql, tree,
                                                                          self.columns)))
                return con.sql(sql).to_arrow_table()
            finally:
                con.close()
        except duckdb.Error as err:
            raise InsightsError(f"DuckDB could not run the query: {err}") from err


def _used(sql: str, tree, columns: list[str]) -> list[str]:
    """The data's columns the SQL mentions (all of them when it selects * or cannot be read)."""
    if tree is None:
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.SqlglotError:
            return columns
    if any(not star.find_ancestor(exp.Func) for star in tree.find_all(exp.Star)) and \
            any(isinstance(star.parent, (exp.Select, exp.Column)) for star in
                tree.find_all(exp.Star)):
        return columns
    named = {column.name.lower() for column in tree.find_all(exp.Column)}
    used = [c for c in columns if c.lower() in named]
    return used or columns[:1]  # keep one column so the table keeps its row count


def _arrow_view(records, columns: list[str]) -> pa.Table:
    """The columns as an Arrow table sharing the frame's memory (DuckDB scans Arrow faster
    than pandas extension arrays); Arrow-backed and numeric columns are not copied."""
    if isinstance(records, pa.Table):
        return records.select(columns)
    return pa.Table.from_pandas(records[columns], preserve_index=False)


def _frame(table: pa.Table, names) -> pd.DataFrame:
    """Arrow result → pandas with the project's dtypes, columns renamed to ``names``."""
    columns = {i: _series(table.column(i)) for i in range(len(names))}
    frame = pd.DataFrame(columns)
    frame.columns = list(names)
    return frame


def _series(column: pa.ChunkedArray) -> pd.Series:
    kind = column.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            column = column.cast(pa.timestamp(kind.unit, tz="UTC"))
        series = column.to_pandas()
        return series.dt.tz_convert("UTC").astype("datetime64[ms, UTC]")
    if pa.types.is_decimal(kind):
        if kind.scale == 0 and _fits_int64(column):
            return column.cast(pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()
                                                                   }.get)
        return column.cast(pa.float64()).to_pandas()
    if pa.types.is_integer(kind):
        target = pd.Int32Dtype() if kind.bit_width <= 32 and kind != pa.uint32() \
            else pd.Int64Dtype()
        if kind not in (pa.int32(), pa.int64()):
            column = column.cast(pa.int32() if target == pd.Int32Dtype() else pa.int64())
        return column.to_pandas(types_mapper=lambda _: target)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
            pa.types.is_string_view(kind):
        return column.to_pandas(types_mapper=lambda _: _STRING)
    if pa.types.is_boolean(kind):
        return column.to_pandas(types_mapper=lambda _: pd.BooleanDtype())
    if pa.types.is_floating(kind):
        return pd.Series(column.to_numpy(zero_copy_only=False).astype(np.float64))
    if pa.types.is_null(kind):
        return pd.Series([pd.NA] * len(column), dtype=object)
    return column.to_pandas()


def _fits_int64(column: pa.ChunkedArray) -> bool:
    if column.null_count == len(column):
        return True
    low, high = pc.min(column).as_py(), pc.max(column).as_py()
    return -(2**63) <= low and high < 2**63
