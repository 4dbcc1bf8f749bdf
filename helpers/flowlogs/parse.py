"""Parse flow-log records (text lines) into a typed DataFrame, vectorised with DuckDB.

A record is a line of fields separated by whitespace, in the order of its format. ``-`` marks a
field that does not apply (NODATA and SKIPDATA records, ICMP without TCP flags, ...) and becomes
a missing value. The work is done in one DuckDB query over an Arrow column of lines: a fast split
on single spaces, a regular-expression split only for lines with runs of whitespace, then
validation and casts. Python touches only the lines that fail, to explain why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.errors import FlowLogFormatError, FlowLogParseError
from helpers.flowlogs.fields import FIELDS, Field, format_string, parse_format

__all__ = ["add_times", "header_fields", "parse_lines", "parse_table", "to_pandas"]

_INT_RE = re.compile(r"[0-9]{1,18}")  # 18 digits always fit a signed 64-bit integer
_ON_ERROR = ("raise", "skip")


def parse_lines(lines: str | Iterable[str], log_format: str | None = None, *,
                on_error: str = "raise") -> pd.DataFrame:
    """Parse flow-log records into a DataFrame with the canonical columns of their format.

    Args:
        lines: the records, as one string or an iterable of lines. A first line that is a
            header (field names separated by spaces, as S3 text files start) is recognised
            and skipped; without ``log_format`` it also sets the format. Blank lines are ignored.
        log_format: the flow log's ``LogFormat`` (``${field} ...``); None means the header's
            format if there is a header, else AWS's default format.
        on_error: ``"raise"`` stops at the first bad line with :class:`FlowLogParseError`;
            ``"skip"`` keeps the good lines and lists every bad one in
            ``df.attrs["skipped"]`` as ``(line_number, reason)``.

    Returns:
        One row per record; columns in format order, named with underscores (``log_status``);
        INT_32 fields as ``Int32``, INT_64 fields as ``Int64``, the rest as strings; ``-`` is
        ``<NA>``. ``df.attrs`` holds ``log_format`` and ``skipped``.

    Example:
        >>> df = parse_lines(["2 123456789010 eni-1235b8ca123456789 172.31.16.139 "
        ...                   "172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"])
        >>> int(df.loc[0, "dstport"]), df.loc[0, "action"]
        (22, 'ACCEPT')
    """
    _check_on_error(on_error)
    if isinstance(lines, str):
        lines = lines.split("\n")
    lines = list(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    names = parse_format(log_format)
    if first is not None:
        header = header_fields(lines[first])
        if header is not None:
            names = _check_header(header, log_format, names, source=None)
            lines[first] = ""
    table = pa.table({
        "line_number": pa.array(np.arange(1, len(lines) + 1, dtype=np.int64)),
        "line": pa.array(lines, pa.string()),
    })
    return parse_table(table, names, on_error=on_error)


def add_times(df: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """A copy with ``start_time`` and ``end_time``: the Unix-second fields as aware datetimes.

    ``tz`` picks the display time zone (for example ``"Asia/Seoul"``); the instants are the
    same. Missing start or end values stay missing.
    """
    out = df.copy()
    for column in ("start", "end"):
        if column in out.columns:
            seconds = out[column].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            out[f"{column}_time"] = pd.to_datetime(seconds, unit="s", utc=True).tz_convert(tz)
    return out


def header_fields(line: str) -> tuple[str, ...] | None:
    """The field names of an S3 text file's header line, or None if the line is a record."""
    tokens = line.split()
    if tokens and all(t in FIELDS for t in tokens):
        return tuple(tokens)
    return None


def parse_table(lines, names: tuple[str, ...], *, on_error: str = "raise",
                source: str | None = None) -> pd.DataFrame:
    """Parse lines given as an Arrow table (``line_number``, ``line``) or a DuckDB table function.

    A string is used as a DuckDB ``FROM`` clause yielding one ``line`` column (the fast path for
    files, e.g. ``read_csv(...)``). It has no line numbers, so a bad line makes this raise
    :class:`NeedsLineNumbers` and the caller reruns with an Arrow table that has them.
    """
    _check_on_error(on_error)
    fields = [FIELDS[n] for n in names]
    con = duckdb.connect()
    try:
        if isinstance(lines, str):
            con.sql(f"CREATE TEMP VIEW src AS SELECT line FROM {lines}")
            has_numbers = False
        else:
            con.register("src", lines)
            has_numbers = "line_number" in lines.column_names
        result = con.sql(_records_sql(fields, has_numbers)).to_arrow_table()
    finally:
        con.close()
    ok = result.column("_ok").to_numpy(zero_copy_only=False).astype(bool)
    skipped: list[tuple[int, str]] = []
    if not ok.all():
        if not has_numbers:
            raise NeedsLineNumbers
        bad = result.filter(pa.array(~ok))
        numbers = bad.column("line_number").to_pylist()
        texts = bad.column("_line").to_pylist()
        if on_error == "raise":
            raise _parse_error(numbers[0], texts[0], fields, source, more=len(numbers) - 1)
        skipped = [(n, _diagnose(t, fields)[0]) for n, t in zip(numbers, texts)]
        result = result.filter(pa.array(ok))
    df = to_pandas(result.select([f.column for f in fields]))
    df.attrs["log_format"] = format_string(names)
    df.attrs["skipped"] = skipped
    return df


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with nullable dtypes (Int32/Int64, string with ``<NA>``)."""
    string = pd.StringDtype("pyarrow")
    mapping = {
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.string(): string,
        pa.large_string(): string,
        pa.string_view(): string,
    }
    return table.to_pandas(types_mapper=mapping.get)


class NeedsLineNumbers(Exception):
    """The fast path met a bad line and must be rerun with line numbers."""


def _check_on_error(on_error: str) -> None:
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


def _check_header(header, log_format, names, source):
    if log_format is None:
        return header
    if tuple(header) != tuple(names):
        where = f"{source}: " if source else ""
        raise FlowLogFormatError(
            f"{where}the header line lists fields {' '.join(header)!r}, "
            f"but log_format asks for {' '.join(names)!r}"
        )
    return names


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _limit(f: Field) -> int | None:
    """The largest value a field may hold: its documented bound, or the INT_32 maximum."""
    if f.max_value is not None:
        return f.max_value
    return 2**31 - 1 if f.parquet_type == "INT_32" else None


def _token_regex(f: Field) -> str:
    if f.is_integer:
        return "(?:-|[0-9]{1,18})"  # 18 digits always fit a signed 64-bit integer
    if f.choices:
        return "(?:" + "|".join(re.escape(c) for c in (*f.choices, "-")) + ")"
    return "[^\\s]+"


def _records_sql(fields: list[Field], has_numbers: bool) -> str:
    """One query: split each line, validate every field, cast, and flag the line ``_ok``.

    A line made of single-space-separated tokens of the right shapes (one regular expression
    over the whole line, the common case) is split on spaces. Any other line is split on runs
    of whitespace and checked field by field. Numeric bounds are checked on every line.
    """
    n = len(fields)
    number = "line_number" if has_numbers else "NULL::BIGINT AS line_number"
    line_regex = " ".join(_token_regex(f) for f in fields)
    whitespace = "' ' || chr(9) || chr(13) || chr(11) || chr(12)"
    columns, shape_checks, bound_checks, int_parts = [], [f"len(f) = {n}"], [], []
    for i, f in enumerate(fields, start=1):
        raw = f"f[{i}]"
        if f.is_integer:
            sql_type = "INTEGER" if f.parquet_type == "INT_32" else "BIGINT"
            value = f"CASE WHEN {raw} = '-' THEN NULL ELSE TRY_CAST({raw} AS BIGINT) END"
            columns.append(f"TRY_CAST({value} AS {sql_type}) AS \"{f.column}\"")
            int_parts.append(raw)
            if _limit(f) is not None:
                bound_checks.append(f"coalesce(TRY_CAST({raw} AS BIGINT) <= {_limit(f)}, TRUE)")
        else:
            columns.append(f"NULLIF({raw}, '-') AS \"{f.column}\"")
            if f.choices:
                allowed = ", ".join(_sql_str(c) for c in (*f.choices, "-"))
                shape_checks.append(f"{raw} IN ({allowed})")
    if int_parts:
        shape_checks.append(
            f"regexp_full_match(concat_ws(' ', {', '.join(int_parts)}), "
            "'(?:-|[0-9]{1,18})(?: (?:-|[0-9]{1,18}))*')"
        )
    shape = " AND ".join(f"coalesce({c}, FALSE)" for c in shape_checks)
    bounds = " AND ".join(bound_checks) or "TRUE"
    return (
        f"SELECT line_number, CASE WHEN NOT _ok THEN line END AS _line, "
        f"{', '.join(columns)}, _ok FROM ("
        f" SELECT *, (CASE WHEN m THEN TRUE ELSE {shape} END) AND {bounds} AS _ok FROM ("
        f"  SELECT line_number, line, m, CASE WHEN m THEN string_split(line, ' ')"
        f"   ELSE regexp_split_to_array(trim(line, {whitespace}), '\\s+') END AS f FROM ("
        f"   SELECT {number}, line, regexp_full_match(line, {_sql_str(line_regex)}) AS m"
        f"   FROM src WHERE line IS NOT NULL)"
        f"  WHERE m OR trim(line, {whitespace}) <> ''))"
        + (" ORDER BY line_number" if has_numbers else "")
    )


def _diagnose(line: str, fields: list[Field]) -> tuple[str, str | None, int | None, int]:
    """Explain why a line is not a record: (reason, field name, 1-based column, width)."""
    spans = [(m.start() + 1, m.group()) for m in re.finditer(r"\S+", line)]
    if len(spans) != len(fields):
        expected = len(fields)
        reason = (f"expected {expected} field{'s' if expected > 1 else ''} "
                  f"({fields[0].name} … {fields[-1].name}), found {len(spans)}")
        if len(spans) > expected:
            col, text = spans[expected]
            return reason + f"; the first extra one is {text!r}", None, col, len(text)
        return reason, None, (len(line.rstrip()) + 2 if line.strip() else 1), 1
    for position, (f, (col, text)) in enumerate(zip(fields, spans), start=1):
        what = f"field {position} ({f.name})"
        if f.is_integer and text != "-":
            if not _INT_RE.fullmatch(text):
                if re.fullmatch(r"[0-9]+", text):
                    return (f"{what} is too large: {text}", f.name, col, len(text))
                kind = "a negative number" if text.startswith("-") else repr(text)
                return (f"{what} must be a non-negative integer or '-', found {kind}",
                        f.name, col, len(text))
            limit = _limit(f)
            if limit is not None and int(text) > limit:
                return (f"{what} must be between 0 and {limit}, found {text}",
                        f.name, col, len(text))
        if f.choices and text != "-" and text not in f.choices:
            allowed = ", ".join(f.choices)
            return (f"{what} must be one of {allowed} or '-', found {text!r}",
                    f.name, col, len(text))
    return "malformed record", None, None, 1


def _parse_error(number: int, line: str, fields: list[Field], source: str | None,
                 more: int = 0) -> FlowLogParseError:
    reason, name, column, width = _diagnose(line, fields)
    return FlowLogParseError(number, line, reason, field=name, column=column, width=width,
                             source=source, more=more)
