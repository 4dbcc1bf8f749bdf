"""Parse flow-log records (text lines) into a typed DataFrame, vectorised with DuckDB.

A record is a line of fields separated by whitespace, in the order of its format. AWS writes
single ASCII spaces; runs of ASCII whitespace (spaces, tabs, a CR before the newline) are
accepted too, but nothing else separates fields: a no-break space or a control character is
part of a field, and a line where one stands between fields is explained as such. ``-`` marks a
field that does not apply (NODATA and SKIPDATA records, ICMP without TCP flags, ...) and becomes
a missing value. The work is done in one DuckDB query over an Arrow column of lines: a fast split
on single spaces, a regular-expression split only for lines with runs of whitespace, then
validation and casts. Python touches only the lines that fail, to explain why.
"""

from __future__ import annotations

import codecs
import datetime
import difflib
import os
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.errors import (
    FlowLogArgumentError,
    FlowLogFormatError,
    FlowLogParseError,
    FlowLogReadError,
)
from helpers.flowlogs.fields import (
    FIELDS,
    Field,
    _kind,
    canonical_name,
    format_string,
    name_problem,
    parse_format,
)

__all__ = ["add_times", "header_fields", "parse_lines", "parse_table", "to_pandas"]

_INT_RE = re.compile(r"[0-9]{1,18}")  # 18 digits always fit a signed 64-bit integer
_INT64_LIMIT = 10**18 - 1  # the largest value 18 digits can write
_ON_ERROR = ("raise", "skip")
_BOM = "\ufeff"

SEPARATORS = " \t\n\r\v\f"
"""The characters that separate fields: ASCII whitespace (AWS itself writes single spaces)."""
_TOKEN = re.compile(r"[^ \t\n\r\v\f]+")
# Characters that look like a separator (or nothing) but are not one: Unicode spaces, control
# and format characters. Found inside a bad line, they are the likely cause.
_LOOKALIKE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u00a0\u00ad\u1680\u180e\u2000-\u200f"
                        "\u2028-\u202f\u205f-\u2064\u3000\ufeff]")
_HEADER_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def parse_lines(lines: str | Iterable[str], log_format: str | None = None, *,
                on_error: str = "raise") -> pd.DataFrame:
    """Parse flow-log records into a DataFrame with the canonical columns of their format.

    Args:
        lines: the records, as one string or an iterable of lines. A first line that is a
            header (field names separated by spaces, as S3 text files start) is recognised
            and skipped; without ``log_format`` it also sets the format. Blank lines are
            ignored, and so is a byte-order mark before the first line.
        log_format: the flow log's ``LogFormat`` (``${field} ...``); None means the header's
            format if there is a header, else AWS's default format.
        on_error: ``"raise"`` stops at the first bad line with :class:`FlowLogParseError`;
            ``"skip"`` keeps the good lines and lists every bad one in
            ``df.attrs["skipped"]`` as ``(line_number, reason)``.

    Returns:
        One row per record; columns in format order, named with underscores (``log_status``);
        INT_32 fields as ``Int32``, INT_64 fields as ``Int64``, the rest as strings; ``-`` is
        ``<NA>``. ``df.attrs`` holds ``log_format`` and ``skipped``.

    Raises:
        FlowLogParseError: a bad record (``on_error="raise"``), with its line and a caret.
        FlowLogFormatError: a bad ``log_format``, or a header line naming an unknown field,
            a field twice, or other fields than ``log_format``.
        FlowLogArgumentError: ``lines`` is not text, or ``on_error`` is not raise/skip.

    Example:
        >>> df = parse_lines(["2 123456789010 eni-1235b8ca123456789 172.31.16.139 "
        ...                   "172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"])
        >>> int(df.loc[0, "dstport"]), df.loc[0, "action"]
        (22, 'ACCEPT')
    """
    check_on_error(on_error)
    lines = _text_lines(lines)
    names = parse_format(log_format)
    first = next((i for i, line in enumerate(lines) if line.strip(SEPARATORS)), None)
    if first is not None:
        if first == 0 and lines[0].startswith(_BOM):
            lines[0] = lines[0][1:]
        header = header_fields(lines[first], line_number=first + 1)
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

    ``tz`` picks the display time zone (an IANA name such as ``"Asia/Seoul"``); the instants
    are the same. Missing start or end values stay missing.

    Raises:
        FlowLogArgumentError: ``df`` is not a DataFrame with a ``start`` or ``end`` column of
            Unix seconds, or ``tz`` is not a time-zone name (with a suggestion).
    """
    check_frame(df, "df")
    zone = _time_zone(tz)
    columns = [c for c in ("start", "end") if c in df.columns]
    if not columns:
        raise FlowLogArgumentError(
            "add_times needs a 'start' or 'end' column (Unix seconds); the frame has "
            f"{_column_list(df.columns)}")
    out = df.copy()
    for column in columns:
        try:
            seconds = out[column].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise FlowLogArgumentError(
                f"column {column!r} must hold Unix seconds (whole numbers), not "
                f"{out[column].dtype} values such as {_first_value(out[column])!r}") from err
        if np.any(np.abs(seconds) > 1e11):
            raise FlowLogArgumentError(
                f"column {column!r} must hold Unix seconds; {np.nanmax(seconds):.0f} looks like "
                "milliseconds (divide by 1000)")
        out[f"{column}_time"] = pd.to_datetime(seconds, unit="s", utc=True).tz_convert(zone)
    return out


def header_fields(line: str, *, source: str | None = None,
                  line_number: int = 1) -> tuple[str, ...] | None:
    """The field names of an S3 text file's header line, or None if the line is a record.

    A line of name-like words, at least half of them field names, is a header; one with an
    unknown or repeated name is an error rather than a bad record.

    Raises:
        FlowLogFormatError: the header names an unknown field (with a suggestion, which
            knows the lesson's ``windowstart``) or a field twice; the message shows the line
            with a caret under the name.
    """
    if line.startswith(_BOM):
        line = line[1:]
    spans = [(m.start(), m.group()) for m in _TOKEN.finditer(line)]
    tokens = [t for _, t in spans]
    if not tokens:
        return None
    if all(t in FIELDS for t in tokens) and len(set(tokens)) == len(tokens):
        return tuple(tokens)
    if not all(_HEADER_WORD.fullmatch(t) for t in tokens):
        return None
    if 2 * sum(canonical_name(t) is not None for t in tokens) < len(tokens):
        return None
    for i, (start, token) in enumerate(spans):
        problem = name_problem(token, tokens[:i], where=" in the header line")
        if problem is not None:
            where = f"{source}, line {line_number}" if source else f"line {line_number}"
            raise FlowLogFormatError(
                f"{where}: {problem}\n  {line}\n  " + " " * start + "^" * len(token))
    return tuple(tokens)


def parse_table(lines: pa.Table, names: tuple[str, ...], *, on_error: str = "raise",
                source: str | None = None, problems=()) -> pd.DataFrame:
    """Parse lines given as an Arrow table with columns ``line_number`` and ``line``.

    ``problems`` lists lines already found bad before parsing (for example bytes that are not
    UTF-8) as ``(line_number, reason, error)``: with ``on_error="skip"`` they join
    ``attrs["skipped"]``; with ``"raise"`` the first bad line of the file, whichever kind,
    is raised (``error``, or a :class:`FlowLogParseError`).
    """
    check_on_error(on_error)
    fields = [FIELDS[n] for n in names]
    con = duckdb.connect()
    try:
        con.register("src", lines)
        result = con.sql(_records_sql(fields)).to_arrow_table()
    finally:
        con.close()
    ok = result.column("_ok").to_numpy(zero_copy_only=False).astype(bool)
    bad_numbers: list[int] = []
    bad_texts: list[str] = []
    if not ok.all():
        bad = result.filter(pa.array(~ok))
        bad_numbers = bad.column("line_number").to_pylist()
        bad_texts = bad.column("_line").to_pylist()
        result = result.filter(pa.array(ok))
    problems = sorted(problems, key=lambda p: p[0])
    if on_error == "raise" and (bad_numbers or problems):
        more = len(bad_numbers) + len(problems) - 1
        if problems and (not bad_numbers or problems[0][0] < bad_numbers[0]):
            raise problems[0][2]
        raise _parse_error(bad_numbers[0], bad_texts[0], fields, source, more=more)
    skipped = [(n, _diagnose(t, fields)[0]) for n, t in zip(bad_numbers, bad_texts)]
    skipped = sorted(skipped + [(n, why) for n, why, _ in problems])
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


def check_on_error(on_error) -> None:
    """Refuse an ``on_error`` other than ``"raise"`` or ``"skip"``."""
    if not isinstance(on_error, str) or on_error not in _ON_ERROR:
        raise FlowLogArgumentError(
            f"on_error must be 'raise' or 'skip', not {on_error!r}: 'raise' stops at the first "
            "bad record, 'skip' keeps the good ones and lists the bad ones in "
            "df.attrs['skipped']")


def check_frame(df, argument: str = "df") -> None:
    """Refuse anything but a DataFrame with unique column names."""
    if not isinstance(df, pd.DataFrame):
        raise FlowLogArgumentError(
            f"{argument} must be a pandas DataFrame of flow-log records, not {_kind(df)}")
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise FlowLogArgumentError(
            f"{argument} has more than one column named {', '.join(map(repr, duplicated))}")


def limit(f: Field) -> int:
    """The largest value a field may hold: its documented bound, else what its type and
    18 digits of text allow."""
    if f.max_value is not None:
        return f.max_value
    return 2**31 - 1 if f.parquet_type == "INT_32" else _INT64_LIMIT


def value_problem(f: Field, value) -> str:
    """Why a value (int or str) that broke a range or choice check is not valid for field
    ``f``, e.g. "must be between 0 and 65535, found 70000", in the words of the text parser."""
    if f.is_integer:
        if value < 0:
            return f"must be a non-negative integer or missing, found {value}"
        if f.max_value is None and f.parquet_type == "INT_64":
            return f"is too large: {value}"
        return f"must be between 0 and {limit(f)}, found {value}"
    return _choice_problem(f, value, "missing")


def _text_lines(lines) -> list[str]:
    """The ``lines`` argument as a list of str, or a clear error."""
    if isinstance(lines, str):
        return lines.split("\n")
    if isinstance(lines, (bytes, bytearray, memoryview)):
        raise FlowLogArgumentError(
            "lines must be text (str or a list of str), not bytes; decode them first "
            "(data.decode('utf-8')) or read the file with flowlogs.read(path)")
    if isinstance(lines, os.PathLike):
        raise FlowLogArgumentError(
            f"lines must be the records as text, not the path {str(lines)!r}; read a file "
            "with flowlogs.read(path)")
    if isinstance(lines, pd.DataFrame) or not _iterable(lines):
        raise FlowLogArgumentError(
            f"lines must be text (str) or an iterable of str, not {_kind(lines)}")
    lines = list(lines)
    for i, line in enumerate(lines):
        if not isinstance(line, str):
            raise FlowLogArgumentError(
                f"lines[{i}] must be a str (one record), not {_kind(line)}")
    return lines


def _iterable(value) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _time_zone(tz):
    """The time zone for ``tz``, or a FlowLogArgumentError with a suggestion."""
    if isinstance(tz, str):
        try:
            pd.Timestamp(0, tz=tz)
            return tz
        except Exception:  # noqa: BLE001 - pandas raises several kinds for a bad name
            pass
        close = difflib.get_close_matches(tz, sorted(zoneinfo.available_timezones()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise FlowLogArgumentError(
            f"tz must be an IANA time-zone name such as 'UTC' or 'Asia/Seoul', not {tz!r}"
            + hint)
    if isinstance(tz, datetime.tzinfo):
        return tz
    raise FlowLogArgumentError(
        "tz must be an IANA time-zone name such as 'UTC' or 'Asia/Seoul', not "
        f"{_kind(tz)}")


def _column_list(columns) -> str:
    shown = ", ".join(repr(str(c)) for c in list(columns)[:8])
    return f"columns {shown}{', ...' if len(columns) > 8 else ''}" if len(columns) else \
        "no columns"


def _first_value(series: pd.Series):
    values = series.dropna()
    return values.iloc[0] if len(values) else None


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


def _choice_problem(f: Field, text: str, missing: str) -> str:
    allowed = ", ".join(f.choices)
    reason = f"must be one of {allowed} or {missing}, found {text!r}"
    same = [c for c in f.choices if c.lower() == str(text).lower()]
    if same:
        reason += f" (values are case-sensitive: {same[0]!r})"
    return reason


def _token_regex(f: Field) -> str:
    if f.is_integer:
        return "(?:-|[0-9]{1,18})"  # 18 digits always fit a signed 64-bit integer
    if f.choices:
        return "(?:" + "|".join(re.escape(c) for c in (*f.choices, "-")) + ")"
    return r"[^ \t\n\r\v\f]+"


def _records_sql(fields: list[Field]) -> str:
    """One query: split each line, validate every field, cast, and flag the line ``_ok``.

    A line made of single-space-separated tokens of the right shapes (one regular expression
    over the whole line, the common case) is split on spaces. Any other line is split on runs
    of ASCII whitespace and checked field by field. Numeric bounds are checked on every line.
    """
    n = len(fields)
    line_regex = " ".join(_token_regex(f) for f in fields)
    whitespace = "' ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12)"
    columns, shape_checks, bound_checks, int_parts = [], [f"len(f) = {n}"], [], []
    for i, f in enumerate(fields, start=1):
        raw = f"f[{i}]"
        if f.is_integer:
            sql_type = "INTEGER" if f.parquet_type == "INT_32" else "BIGINT"
            value = f"CASE WHEN {raw} = '-' THEN NULL ELSE TRY_CAST({raw} AS BIGINT) END"
            columns.append(f"TRY_CAST({value} AS {sql_type}) AS \"{f.column}\"")
            int_parts.append(raw)
            if f.max_value is not None or f.parquet_type == "INT_32":
                bound_checks.append(f"coalesce(TRY_CAST({raw} AS BIGINT) <= {limit(f)}, TRUE)")
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
        f"   ELSE regexp_split_to_array(trim(line, {whitespace}), '[ \\t\\n\\r\\v\\f]+') END"
        f"   AS f FROM ("
        f"   SELECT line_number, line, regexp_full_match(line, {_sql_str(line_regex)}) AS m"
        f"   FROM src WHERE line IS NOT NULL)"
        f"  WHERE m OR trim(line, {whitespace}) <> ''))"
        " ORDER BY line_number"
    )


def _lookalike(text: str, offset: int = 0):
    """``(column, reason)`` for the first look-alike separator in ``text``, or None."""
    found = _LOOKALIKE.search(text)
    if found is None:
        return None
    ch = found.group()
    name = unicodedata.name(ch, "")
    if not name or unicodedata.category(ch) == "Cc":
        what = f"a control character (U+{ord(ch):04X})"
    else:
        name = name.lower()
        what = f"{'an' if name[0] in 'aeiou' else 'a'} {name} (U+{ord(ch):04X})"
    return (offset + found.start() + 1,
            f"{what} between fields; fields are separated by single ASCII spaces")


def _diagnose(line: str, fields: list[Field]) -> tuple[str, str | None, int | None, int]:
    """Explain why a line is not a record: (reason, field name, 1-based column, width)."""
    spans = [(m.start() + 1, m.group()) for m in _TOKEN.finditer(line)]
    if len(spans) != len(fields):
        odd = _lookalike(line)
        if odd is not None:
            return odd[1], None, odd[0], 1
        expected = len(fields)
        reason = (f"expected {expected} field{'s' if expected > 1 else ''} "
                  f"({fields[0].name} … {fields[-1].name}), found {len(spans)}")
        if len(spans) > expected:
            col, text = spans[expected]
            return reason + f"; the first extra one is {text!r}", None, col, len(text)
        return reason, None, (len(line.rstrip(SEPARATORS)) + 2 if spans else 1), 1
    for position, (f, (col, text)) in enumerate(zip(fields, spans), start=1):
        what = f"field {position} ({f.name})"
        problem = None
        if f.is_integer and text != "-":
            if not _INT_RE.fullmatch(text):
                if re.fullmatch(r"[0-9]+", text):
                    problem = f"{what} is too large: {text}"
                else:
                    kind = "a negative number" if text.startswith("-") else repr(text)
                    problem = f"{what} must be a non-negative integer or '-', found {kind}"
            elif int(text) > limit(f):
                problem = f"{what} must be between 0 and {limit(f)}, found {text}"
        elif f.choices and text != "-" and text not in f.choices:
            problem = f"{what} {_choice_problem(f, text, repr('-'))}"
        if problem is not None:
            odd = _lookalike(text, col - 1)
            if odd is not None:
                return odd[1], f.name, odd[0], 1
            return problem, f.name, col, len(text)
    return "malformed record", None, None, 1


def _parse_error(number: int, line: str, fields: list[Field], source: str | None,
                 more: int = 0) -> FlowLogParseError:
    reason, name, column, width = _diagnose(line, fields)
    return FlowLogParseError(number, line, reason, field=name, column=column, width=width,
                             source=source, more=more)


def decode_problems(data: bytes, source: str) -> tuple[bytes, list]:
    """Find the lines of ``data`` that are not UTF-8.

    Returns the data with those lines blanked (spaces, so line numbers stay) and a list of
    ``(line_number, reason, FlowLogReadError)``, empty when all of it is UTF-8.
    """
    problems = []
    position = 0
    view = memoryview(data)
    blanks: list[tuple[int, int]] = []
    while True:
        try:
            codecs.utf_8_decode(view[position:], "strict", True)
            break
        except UnicodeDecodeError as err:
            at = position + err.start
            line_start = data.rfind(b"\n", 0, at) + 1
            line_end = data.find(b"\n", at)
            line_end = len(data) if line_end < 0 else line_end
            number = data.count(b"\n", 0, at) + 1
            column = len(data[line_start:at].decode("utf-8", errors="replace")) + 1
            reason = (f"column {column}: byte {data[at]:#04x} is not UTF-8 text; "
                      "flow-log files are UTF-8")
            error = FlowLogReadError(f"{source}, line {number}, {reason}")
            problems.append((number, reason, error))
            blanks.append((line_start, line_end))
            position = line_end
    if blanks:
        fixed = bytearray(data)
        for a, b in blanks:
            fixed[a:b] = b" " * (b - a)
        data = bytes(fixed)
    return data, problems
