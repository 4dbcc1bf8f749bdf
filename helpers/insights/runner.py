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
from helpers.errors import InsightsArgumentError, InsightsError
from helpers.flowlogs.fields import FIELDS
from helpers.insights.compiler import check_table, compile_query
from helpers.insights.schema import INGESTION_COLUMN

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
        InsightsArgumentError: an argument has the wrong type or value (the query is not
            text, the dialect is unknown, the table is not a plain table name, ...).

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
            no ``log_group`` column; a query's ``SOURCE '...' |`` prefix selects the records
            by that column, or by this name.

    Returns:
        The result, columns named as Logs Insights names them (aliases, or the expression's
        text such as ``count(*)``).

    Raises:
        InsightsSyntaxError: the query is not valid.
        InsightsArgumentError: an argument has the wrong type or value (named in the message).
        InsightsError: the engine could not run the compiled SQL.

    Warns:
        InsightsFieldWarning: a field the data does not have (it is null, as in Insights).
        InsightsSourceWarning: a SOURCE prefix the data cannot apply as written.
    """
    source = _Source(data, table)
    compiled = compile_query(query, columns=source.columns, table=table, log_group=log_group)
    _emit(compiled.warnings)
    result = source.execute(compiled.sql, compiled.tree)
    return _frame(result, compiled.columns)


def run_sql(sql: str, data, *, table: str = "flows") -> pd.DataFrame:
    """Run SQL (e.g. a lesson query's DuckDB mirror) on the same kinds of ``data`` as
    :func:`run`, typed the same way. On a DataFrame, external access is off.

    Raises:
        InsightsArgumentError: ``sql`` is not SQL text, or ``data``/``table`` are not usable.
        InsightsError: DuckDB could not run the SQL (its message says why).
    """
    if not isinstance(sql, str) or not sql.strip():
        shown = repr(sql) if isinstance(sql, str) else type(sql).__name__
        raise InsightsArgumentError(f"sql must be the text of a SQL query, e.g. \"SELECT "
                                    f"count(*) FROM flows\", not {shown}")
    source = _Source(data, table)
    result = source.execute(sql)
    return _frame(result, tuple(result.column_names))


def _emit(found) -> None:
    for warning in found:
        warnings.warn(warning, stacklevel=3)


class _Source:
    """Where the records are, their columns, and how to run SQL over them."""

    def __init__(self, data, table: str):
        self.table = check_table(table)
        self.relation = self.con = self.records = None
        if not isinstance(data, duckdb.DuckDBPyConnection) and "." in table:
            raise InsightsArgumentError(f"table names the view the records are seen as here: a "
                                        f"plain name such as 'flows', not {table!r}")
        if isinstance(data, (str, os.PathLike)):
            data = flowlogs.read(Path(data))
        if isinstance(data, pd.DataFrame):
            self.records = data
            self.columns = [str(c) for c in data.columns]
            kinds = {str(c): _pandas_kind(data[c]) for c in data.columns
                     if isinstance(c, str) and _expected(c) is not None}
        elif isinstance(data, pa.Table):
            self.records = data
            self.columns = list(data.column_names)
            kinds = {f.name: _arrow_kind(f.type) for f in data.schema}
        elif isinstance(data, duckdb.DuckDBPyRelation):
            self.relation = data
            self.columns = list(data.columns)
            kinds = {c: _duckdb_kind(str(t)) for c, t in zip(data.columns, data.types)}
        elif isinstance(data, duckdb.DuckDBPyConnection):
            self.con = data
            try:
                relation = data.table(table)
            except duckdb.Error as err:
                raise InsightsError(f"the DuckDB connection has no table or view {table!r}: "
                                    f"create it, or pass table=<its name>") from err
            self.columns = list(relation.columns)
            kinds = {c: _duckdb_kind(str(t)) for c, t in zip(relation.columns, relation.types)}
        else:
            raise InsightsArgumentError("data must be a DataFrame, an Arrow table, a DuckDB "
                                        "relation or connection, or a path to flow-log files; "
                                        f"not {type(data).__name__}")
        _check_kinds(kinds)

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


def _expected(column: str) -> str | None:
    """What a canonical column holds: "number" or "text" (None: not a flow-log column)."""
    if column == INGESTION_COLUMN:
        return "number"
    field = FIELDS.get(column.replace("_", "-"))
    if field is None or field.column != column:
        return None
    return "number" if field.is_integer else "text"


def _check_kinds(kinds: dict[str, str]) -> None:
    """Refuse data whose flow-log columns hold the wrong kind of value (e.g. a frame read with
    ``pd.read_csv``, where "-" makes ``bytes`` text): the SQL would fail inside DuckDB."""
    for column, kind in kinds.items():
        want = _expected(column)
        if want is None or kind in (want, "null"):
            continue
        if want == "text":
            example = f"frame[{column!r}].astype('string')"
        elif kind.startswith(("datetime64", "timestamp")):  # epoch seconds, as flow logs write
            example = f"frame[{column!r}].astype('datetime64[s]').astype('int64')"
        else:
            example = f"pd.to_numeric(frame[{column!r}], errors='coerce').astype('Int64')"
        held = "numbers" if kind == "number" else kind
        field = "a whole number" if want == "number" else "text"
        raise InsightsArgumentError(
            f"data column {column!r} holds {held}, but the flow-log field is {field}: read the "
            f"records with helpers.flowlogs.read, or convert the column, e.g. {example}")


def _pandas_kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "booleans"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if isinstance(dtype, pd.CategoricalDtype):
        return _pandas_kind(pd.Series(dtype.categories))
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return {"string": "text", "empty": "null", "integer": "number", "floating": "number",
                "mixed-integer-float": "number"}.get(inferred, f"{inferred} values")
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_kind(dtype.pyarrow_dtype)
    return f"{dtype} values"


def _arrow_kind(kind: pa.DataType) -> str:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_null(kind):
        return "null"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
            pa.types.is_string_view(kind):
        return "text"
    return f"{kind} values"


_DUCKDB_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                   "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _duckdb_kind(kind: str) -> str:
    if kind.startswith(_DUCKDB_NUMBERS):
        return "number"
    if kind == "VARCHAR":
        return "text"
    if kind == '"NULL"' or kind == "NULL":
        return "null"
    return f"{kind} values"


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
