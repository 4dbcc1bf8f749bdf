"""Read and write flow-log files as AWS writes them: text (.log, .log.gz) and Parquet.

S3 delivery (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html) writes
gzip text files that start with a header line of field names, or Parquet files with one column
per field (names with underscores, types from the field registry), under
``AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/]`` or its Hive-compatible form
``AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=<yyyy>/...``.

Text is read by a columnar reader (Arrow's CSV reader, fields split on single spaces) and
checked with vectorised rules; only a file that breaks a rule goes through the line-by-line
parser of :mod:`helpers.flowlogs.parse`, which finds and explains the bad lines. Both paths
accept exactly the same files and give the same frame.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from helpers.errors import FlowLogArgumentError, FlowLogFormatError, FlowLogReadError
from helpers.flowlogs.fields import FIELDS, Field, _kind, field, format_string, parse_format
from helpers.flowlogs.parse import (
    _check_header,
    check_frame,
    check_on_error,
    decode_problems,
    header_fields,
    limit,
    parse_table,
    to_pandas,
    value_problem,
)

__all__ = ["PARTITION_COLUMNS", "arrow_schema", "format_lines", "read", "write_parquet",
           "write_text"]

_ARROW_TYPES = {"INT_32": pa.int32(), "INT_64": pa.int64(), "STRING": pa.string()}
# What the columnar reader makes: large strings are what pandas keeps (no conversion).
_CSV_TYPES = {**_ARROW_TYPES, "STRING": pa.large_string()}

PARTITION_COLUMNS = ("aws_account_id", "aws_service", "aws_region", "year", "month", "day", "hour")
"""Columns :func:`read` adds for files found in an S3 tree, plain or Hive-compatible."""

_TEXT_SUFFIXES = (".log", ".log.gz", ".txt", ".txt.gz")
_GZIP_MAGIC = b"\x1f\x8b"
_PIECE = 8 << 20  # bytes of text parsed at a time while the next piece is inflated
_COMPRESSIONS = ("gzip", "snappy", "zstd", "brotli", "lz4", "none")
_WHITESPACE_NAMES = {" ": "a space", "\t": "a tab", "\n": "a newline",
                     "\r": "a carriage return", "\v": "a vertical tab", "\f": "a form feed"}


def arrow_schema(names) -> pa.Schema:
    """The Parquet schema AWS uses for these fields (or column names): INT_32, INT_64, STRING."""
    if isinstance(names, str):
        fields = [FIELDS[n] for n in parse_format(names)] if "$" in names or " " in names \
            else [field(names)]
    else:
        fields = [FIELDS[n] for n in parse_format(format_string(names))]
    return pa.schema([(f.column, _ARROW_TYPES[f.parquet_type]) for f in fields])


def read(path: str | os.PathLike, log_format: str | None = None, *,
         on_error: str = "raise") -> pd.DataFrame:
    """Read flow-log records from a file or an S3-style folder tree into a typed DataFrame.

    Accepts ``.log`` / ``.log.gz`` text (the header line of S3 files is recognised and, when
    ``log_format`` is None, sets the format; a UTF-8 byte-order mark before it is ignored),
    ``.parquet`` files (gzip and Parquet are recognised by their content too), and a folder
    holding an ``AWSLogs/...`` tree (plain or Hive-compatible, daily or hourly), whose
    partition values become the columns in :data:`PARTITION_COLUMNS` that the path has.
    Parquet values pass the same checks as text: integer ranges, the documented values of
    ``action``, ``log-status``, ... (AWS's spelling, case-sensitive) and AWS's column types.

    With ``on_error="skip"`` bad records (and lines that are not UTF-8) are left out and
    listed in ``df.attrs["skipped"]`` as ``(line_number, reason)`` (``(row, reason)`` for
    Parquet, rows counted from 1; ``(file, number, reason)`` for a tree).

    Raises:
        FlowLogReadError: missing or empty file, truncated gzip, bytes that are not UTF-8,
            a Parquet column that is not a field, has the wrong type or a bad value.
        FlowLogParseError: a bad record, when ``on_error="raise"``.
        FlowLogFormatError: a bad ``log_format``, or one the file's header or columns
            disagree with; a header naming an unknown field or a field twice.
        FlowLogArgumentError: ``path`` is not a path, ``on_error`` not raise/skip.
    """
    check_on_error(on_error)
    parse_format(log_format)  # a bad format is an error even for an empty folder
    path = _check_path(path, "path")
    if path.is_dir():
        return _read_tree(path, log_format, on_error)
    if not path.exists():
        raise FlowLogReadError(f"{path}: no such file or folder")
    if path.name.endswith(".parquet") or _starts_with(path, b"PAR1"):
        return _read_parquet(path, log_format, on_error)
    return _read_text(path, log_format, on_error)


def write_text(df: pd.DataFrame, path: str | os.PathLike, log_format: str | None = None, *,
               header: bool = True) -> Path:
    """Write records as AWS's S3 text files do: a header line, then one record per line.

    ``-`` stands for a missing value. A path ending in ``.gz`` is gzip-compressed (with a fixed
    timestamp in the gzip header, so equal records give equal files). ``log_format`` defaults
    to the frame's flow-log columns in frame order.

    Raises:
        FlowLogFormatError: a column the format needs is missing, or a value could not be
            read back: out of range, not a documented value, or a string that is empty,
            ``-``, or holds a space, tab or newline (the message names column and row).
        FlowLogArgumentError: ``df``, ``path`` or ``header`` has the wrong type, or the file
            cannot be written there.
    """
    check_frame(df, "df")
    path = _check_path(path, "path")
    if not isinstance(header, (bool, np.bool_)):
        raise FlowLogArgumentError(f"header must be True or False, not {_kind(header)}")
    pairs = _format_of(df, log_format)
    text = _render(df, pairs, header, where=f"cannot write {path}: ")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name.endswith(".gz"):
            # Level 3: within 1% of level 6's size at a third of the time.
            with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                        filename="", compresslevel=3) as gz:
                gz.write(text)
        else:
            path.write_bytes(text)
    except OSError as err:
        raise FlowLogArgumentError(f"{path}: cannot write the file ({err.strerror or err})") \
            from err
    return path


def write_parquet(df: pd.DataFrame, path: str | os.PathLike, log_format: str | None = None, *,
                  compression: str = "gzip", compression_level: int | None = 3) -> Path:
    """Write records as a Parquet file with AWS's column names and types.

    Only flow-log columns are written (``log_format`` picks them; the default is every
    flow-log column of the frame, in frame order); other columns such as labels are not part
    of the format. AWS compresses its Parquet flow logs with gzip, the default here; level 3
    writes about ten times faster than Arrow's default level for a file 1% larger. Values are
    checked as :func:`read` checks them.

    Raises:
        FlowLogFormatError: a column the format needs is missing, a column has the wrong
            type, or a value is out of range or not a documented value.
        FlowLogArgumentError: ``df``, ``path``, ``compression`` or ``compression_level`` is
            wrong, or the file cannot be written there.
    """
    check_frame(df, "df")
    path = _check_path(path, "path")
    if not isinstance(compression, str) or compression.lower() not in _COMPRESSIONS:
        raise FlowLogArgumentError(
            f"compression must be one of {', '.join(map(repr, _COMPRESSIONS))}, "
            f"not {_kind(compression)}")
    if compression_level is not None and (isinstance(compression_level, bool)
                                          or not isinstance(compression_level, int)):
        raise FlowLogArgumentError(
            f"compression_level must be a whole number or None, not {_kind(compression_level)}")
    pairs = _format_of(df, log_format)
    table = _frame_table(df, pairs, text=False, where=f"cannot write {path}: ")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression=compression,
                       compression_level=compression_level)
    except OSError as err:
        raise FlowLogArgumentError(f"{path}: cannot write the file ({err.strerror or err})") \
            from err
    except (pa.ArrowException, ValueError) as err:
        raise FlowLogArgumentError(
            f"compression_level {compression_level!r} is not valid for {compression} "
            f"compression ({err}); None picks the codec's default") from err
    return path


def format_lines(df: pd.DataFrame, log_format: str | None = None) -> pa.ChunkedArray:
    """The records as flow-log text lines (no newline), vectorised with Arrow; '-' for NA.

    ``log_format`` defaults to the frame's flow-log columns in frame order. Values are checked
    as :func:`write_text` checks them.
    """
    check_frame(df, "df")
    pairs = _format_of(df, log_format)
    table = _frame_table(df, pairs, text=True)
    lines = _join(table)
    for chunk in lines.chunks:
        _check_separators(_string_bytes(chunk), len(chunk), len(pairs), df, pairs)
    return lines


# --- arguments --------------------------------------------------------------------------------


def _check_path(path, argument: str) -> Path:
    if isinstance(path, (str, os.PathLike)) and str(path) != "":
        return Path(path)
    raise FlowLogArgumentError(
        f"{argument} must be a file or folder path (str or pathlib.Path), not {_kind(path)}")


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(magic)) == magic
    except OSError as err:
        raise FlowLogReadError(f"{path}: cannot read the file ({err.strerror or err})") from err


def _format_of(df: pd.DataFrame, log_format: str | None) -> list[tuple[Field, object]]:
    """The format's fields, each with the frame column that holds it (``log_status``, or the
    field name ``log-status``)."""
    by_field: dict[str, list] = {}
    for column in df.columns:
        if isinstance(column, str) and column.replace("_", "-") in FIELDS:
            by_field.setdefault(column.replace("_", "-"), []).append(column)
    for name, columns in by_field.items():
        if len(columns) > 1:
            raise FlowLogFormatError(
                f"the frame has two columns for field {name!r}: "
                f"{', '.join(map(repr, columns))}; keep one")
    if log_format is not None:
        names = parse_format(log_format)
        missing = [n for n in names if n not in by_field]
        if missing:
            raise FlowLogFormatError(
                f"the frame has no column for field(s) {', '.join(missing)} of the format")
    else:
        names = tuple(by_field)
        if not names:
            raise FlowLogFormatError(
                "the frame has no flow-log columns (expected names such as srcaddr, dstport)")
    return [(FIELDS[n], by_field[n][0]) for n in names]


# --- writing ----------------------------------------------------------------------------------


def _frame_table(df: pd.DataFrame, pairs, *, text: bool, where: str = "") -> pa.Table:
    """The frame's flow-log columns as an Arrow table of AWS's types, every value checked."""
    arrays = []
    for f, column in pairs:
        series = df[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if f.is_integer and pd.api.types.is_bool_dtype(series.dtype):
            raise _type_error(series, f, column, where)  # Arrow would take True as 1
        try:
            array = pa.array(series, type=pa.int64() if f.is_integer else pa.string(),
                             from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as err:
            raise _type_error(series, f, column, where) from err
        arrays.append(array)
    problems = _value_problems(arrays, [f for f, _ in pairs], text=text)
    if problems:
        row, f, reason = problems[0]
        at = _row(df, row)
        more = len(problems) - 1
        raise FlowLogFormatError(
            f"{where}column {_column_name(pairs, f)!r}, {at}: {reason}"
            + (f" ({more} more bad value{'s' if more > 1 else ''})" if more else ""))
    columns = {}
    for (f, _), array in zip(pairs, arrays):
        if f.parquet_type == "INT_32":
            array = array.cast(pa.int32())
        columns[f.column] = array
    return pa.table(columns)


def _row(df: pd.DataFrame, position: int) -> str:
    """A row for a message: its position (``df.iloc``), and its index label if different."""
    label = df.index[position]
    label = label.item() if isinstance(label, np.generic) else label
    return f"row {position}" + ("" if label == position else f" (index {label!r})")


def _column_name(pairs, f: Field):
    return next(column for g, column in pairs if g is f)


def _type_error(series: pd.Series, f: Field, column, where: str) -> FlowLogFormatError:
    """A column whose values Arrow cannot take as the field's type: name the first one."""
    wanted = ("whole numbers (INT_32)" if f.parquet_type == "INT_32" else
              "whole numbers (INT_64)" if f.is_integer else "text (STRING)")
    for position, value in enumerate(series.tolist()):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if f.is_integer:
            good = isinstance(value, (int, np.integer)) and not isinstance(value, bool) or (
                isinstance(value, float) and value.is_integer())
        else:
            good = isinstance(value, str)
        if not good:
            return FlowLogFormatError(
                f"{where}column {column!r}, {_row(series.to_frame(), position)}: {f.name} "
                f"must hold {wanted}, found "
                f"{type(value).__name__} {value!r}")
    return FlowLogFormatError(
        f"{where}column {column!r}: {f.name} must hold {wanted}, not {series.dtype} values")


def _value_problems(arrays, fields: list[Field], *, text: bool):
    """Bad values as ``(row, field, reason)``, one per row (its first bad field), by row.

    ``arrays`` hold int64 values for integer fields and strings otherwise. With ``text`` the
    string checks of flow-log text apply as well: no empty string and no ``-`` (whitespace
    is looked for in the joined lines, see :func:`_check_separators`).
    """
    found: dict[int, tuple[Field, str]] = {}
    for f, array in zip(fields, arrays):
        if len(array) == 0 or array.null_count == len(array):
            continue
        if f.is_integer:
            bad = pc.or_(pc.less(array, 0), pc.greater(array, limit(f)))
        elif f.choices:
            bad = pc.invert(pc.is_in(array, value_set=pa.array([*f.choices, None])))
        else:
            bad = None
        if text and not f.is_integer:
            blank = pc.or_(pc.equal(pc.binary_length(array), 0), pc.equal(array, "-"))
            bad = blank if bad is None else pc.or_(bad, blank)
        if bad is None or not pc.any(bad).as_py():
            continue
        rows = np.flatnonzero(pc.fill_null(bad, False).to_numpy(zero_copy_only=False))
        values = array.take(pa.array(rows)).to_pylist()
        for row, value in zip(rows.tolist(), values):
            if row not in found:
                found[row] = (f, _text_problem(f, value) if text else value_problem(f, value))
    return [(row, *found[row]) for row in sorted(found)]


def _text_problem(f: Field, value) -> str:
    if isinstance(value, str):
        if value == "":
            return ("is an empty string; a flow-log text field cannot be empty (use <NA> for "
                    "a missing value, written as '-')")
        if value == "-":
            return ("is the text '-', which flow-log text reads back as a missing value; use "
                    "<NA> for a missing value")
        for ch, name in _WHITESPACE_NAMES.items():
            if ch in value:
                return (f"{value!r} holds {name}; flow-log text separates fields with spaces "
                        "and records with newlines, so the record could not be read back")
    return value_problem(f, value)


def _join(table: pa.Table) -> pa.ChunkedArray:
    parts = [pc.fill_null(pc.cast(column, pa.string()), "-") for column in table.columns]
    return pc.binary_join_element_wise(*parts, " ")


def _check_separators(data: bytes, rows: int, n: int, df: pd.DataFrame, pairs,
                      newlines: int = 0, where: str = "") -> None:
    """Refuse records whose string values hold whitespace: one scan of the joined bytes
    (``n - 1`` spaces per record, ``newlines`` newlines, no other whitespace), then, if it
    finds any, a column-by-column search to name the value."""
    if data.count(b" ") == rows * (n - 1) and data.count(b"\n") == newlines and not any(
            data.find(ch) >= 0 for ch in (b"\t", b"\r", b"\v", b"\f")):
        return
    for f, column in pairs:
        if f.is_integer or f.choices:
            continue
        array = pa.array(df[column].astype(object), type=pa.string(), from_pandas=True)
        bad = pc.match_substring_regex(array, "[ \t\n\r\v\f]")
        if pc.any(bad).as_py():
            row = int(np.flatnonzero(pc.fill_null(bad, False).to_numpy(zero_copy_only=False))[0])
            at = _row(df, row)
            raise FlowLogFormatError(
                f"{where}column {column!r}, {at}: {_text_problem(f, array[row].as_py())}")


def _render(df: pd.DataFrame, pairs, header: bool, where: str = "") -> bytes:
    """The file body: an optional header line, then one record per line, newline-terminated."""
    lines = _join(_frame_table(df, pairs, text=True, where=where))
    lines = pc.binary_join_element_wise(lines, pa.scalar("", pa.string()), "\n")
    out = io.BytesIO()
    if header:
        out.write((" ".join(f.name for f, _ in pairs) + "\n").encode())
    for chunk in lines.chunks:
        body = _string_bytes(chunk)
        _check_separators(body, len(chunk), len(pairs), df, pairs, newlines=len(chunk),
                          where=where)
        out.write(body)
    return out.getvalue()


def _string_bytes(arr: pa.Array) -> bytes:
    """The concatenated UTF-8 bytes of a string array without nulls, without a Python loop."""
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


# --- text -------------------------------------------------------------------------------------


def _read_text(path: Path, log_format, on_error) -> pd.DataFrame:
    segments = _segments(path)
    data, start, stop = next(segments)  # holds the whole first line
    if data.startswith(codecs.BOM_UTF8, start):
        start += len(codecs.BOM_UTF8)
    newline = data.find(b"\n", start, stop)
    end = stop if newline < 0 else newline
    names = parse_format(log_format)
    header = header_fields(data[start:end].decode("utf-8", errors="replace"),
                           source=str(path), line_number=1)
    if header is not None:
        names = _check_header(header, log_format, names, source=str(path))
    fields = [FIELDS[n] for n in names]
    body = min(end + 1, stop) if header is not None else start
    kept = [(data, start, stop)]
    second = next(segments, None)
    if second is None:  # a small file: no threads
        tables = [_columnar(data, body, stop, fields)]
    else:
        kept.append(second)
        with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 4)) as pool:
            # Inflating the next piece (zlib lets other threads run) overlaps parsing this one.
            jobs = [pool.submit(_columnar, data, body, stop, fields),
                    pool.submit(_columnar, *second, fields)]
            for segment in segments:
                kept.append(segment)
                jobs.append(pool.submit(_columnar, *segment, fields))
            tables = [job.result() for job in jobs]
    if all(t is not None for t in tables):
        df = to_pandas(pa.concat_tables(tables))
        df.attrs["log_format"] = format_string(names)
        df.attrs["skipped"] = []
        return df
    # A rule is broken somewhere (or the file is unusual): the line-by-line parser finds the
    # bad lines, explains them with line numbers and carets, or skips them.
    data = b"".join(memoryview(d)[a:b] for d, a, b in kept)
    data, problems = decode_problems(data, str(path))
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    offsets = pa.py_buffer(np.array([bom, len(data)], dtype=np.int64).tobytes())
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    lines = pc.split_pattern(whole, "\n").flatten().cast(pa.string())
    table = pa.table({"line_number": np.arange(1, len(lines) + 1, dtype=np.int64),
                      "line": lines})
    if header is not None:
        table = table.slice(1)
    return parse_table(table, names, on_error=on_error, source=str(path), problems=problems)


def _segments(path: Path, size: int | None = None):
    """The file's text (inflated if it is gzip) as ``(data, start, stop)`` pieces of whole
    lines, in order, without copying: the first holds the whole first line.

    Raises FlowLogReadError for an empty, unreadable, damaged or truncated file, when it
    meets the problem (after the pieces before it).
    """
    size = size or _PIECE
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise FlowLogReadError(f"{path}: cannot read the file ({err.strerror or err})") from err
    empty = FlowLogReadError(f"{path}: the file is empty (no header line and no records)")
    if not (path.name.endswith(".gz") or raw.startswith(_GZIP_MAGIC)):  # text never starts so
        if raw in (b"", codecs.BOM_UTF8):
            raise empty
        start = 0
        while start < len(raw):
            cut = raw.find(b"\n", min(start + size, len(raw)) - 1)
            stop = len(raw) if cut < 0 else cut + 1
            yield raw, start, stop
            start = stop
        return
    carry, produced = b"", False
    for out in _inflate(raw, path, size):
        first = out.find(b"\n")
        if first < 0:
            carry += out
            continue
        last = out.rfind(b"\n") + 1
        if carry:  # the line that runs across two pieces of output
            yield carry + out[:first + 1], 0, len(carry) + first + 1
            produced, carry = True, b""
            if last > first + 1:
                yield out, first + 1, last
        else:
            yield out, 0, last
            produced = True
        carry = out[last:]
    if not produced and carry in (b"", codecs.BOM_UTF8):
        raise empty
    if carry:
        yield carry, 0, len(carry)


def _inflate(raw: bytes, path: Path, size: int):
    """Inflate gzip data (every member) in chunks of up to about ``size`` bytes;
    FlowLogReadError when it is damaged or ends early."""
    step = max(size // 8, 1 << 16)  # flow-log text inflates about 7-fold
    view = memoryview(raw)
    position = 0
    try:
        while True:
            stream = zlib.decompressobj(wbits=31)
            while not stream.eof and position < len(view):
                block = view[position:position + step]
                position += len(block)
                out = stream.decompress(block)
                if out:
                    yield out
            if not stream.eof:
                raise _gzip_error(path, EOFError())
            tail = stream.unused_data
            if not tail.strip(b"\0"):
                return
            position -= len(tail)
    except zlib.error as err:
        raise _gzip_error(path, err) from err


def _gzip_error(path: Path, err: Exception) -> FlowLogReadError:
    if isinstance(err, EOFError):
        return FlowLogReadError(
            f"{path}: the gzip data ends early (truncated file?); re-download or re-deliver it")
    return FlowLogReadError(f"{path}: not a readable gzip file ({err})")


def _columnar(data: bytes, start: int, stop: int, fields: list[Field]) -> pa.Table | None:
    """The records of ``data[start:stop]`` (whole lines) read column by column, or None if
    any rule is broken.

    Accepts only what the line-by-line parser accepts, with the same result. Arrow's CSV
    reader splits fields on single spaces and lines on newlines; then vectorised checks
    replace the parser's rules: no tab, vertical tab, form feed or lone CR anywhere (Arrow
    would not split there); no empty string field; documented values; integer ranges. An
    integer read by Arrow may have been written with leading zeros, as ``-0`` or in hex:
    unless the text has an ``x``, the byte count of the canonical numbers (plus the strings,
    spaces and newlines) must equal the text's length; otherwise, or when it differs (leading
    zeros, blank lines), the integers are read as text and checked digit by digit.
    """
    if start >= stop:
        return _empty_table(fields)
    if any(data.find(ch, start, stop) >= 0 for ch in (b"\t", b"\v", b"\f")):
        return None
    if data.find(b"\r", start, stop) >= 0:
        data = data[start:stop].replace(b"\r\n", b"\n")
        start, stop = 0, len(data)
        if data.find(b"\r") >= 0:
            return None
    body = pa.py_buffer(data)[start:stop]
    ends_with_newline = data[stop - 1] == 10
    hex_like = any(f.is_integer for f in fields) and (
        data.find(b"x", start, stop) >= 0 or data.find(b"X", start, stop) >= 0)
    if not hex_like:
        table = _csv(body, fields, ints_as_text=False)
        if table is None:
            return None
        counted = _typed_ok(table, fields)
        if counted is None:
            return None
        rows = table.num_rows
        if counted + rows * len(fields) - (0 if ends_with_newline or not rows else 1) \
                == body.size:
            return table
    table = _csv(body, fields, ints_as_text=True)
    return None if table is None else _text_ints_ok(table, fields)


def _empty_table(fields: list[Field]) -> pa.Table:
    return pa.table({f.column: pa.array([], _CSV_TYPES[f.parquet_type]) for f in fields})


def _csv(body: pa.Buffer, fields: list[Field], *, ints_as_text: bool) -> pa.Table | None:
    types = {f.column: (_CSV_TYPES[f.parquet_type] if f.is_integer and not ints_as_text
                        else pa.large_string()) for f in fields}
    try:
        return pcsv.read_csv(
            pa.BufferReader(body),
            read_options=pcsv.ReadOptions(column_names=[f.column for f in fields],
                                          use_threads=False,
                                          block_size=max(body.size + 1, 1 << 20)),
            parse_options=pcsv.ParseOptions(delimiter=" ", quote_char=False,
                                            double_quote=False, escape_char=False,
                                            newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(column_types=types, null_values=["-"],
                                                strings_can_be_null=True,
                                                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, ValueError):
        return None


def _typed_ok(table: pa.Table, fields: list[Field]) -> int | None:
    """Check a table read with integer columns: the bytes its values take as canonical text
    (a missing value is one byte, ``-``), or None when a value breaks a rule."""
    total = 0
    for f in fields:
        column = table.column(f.column)
        valid = len(column) - column.null_count
        total += column.null_count
        if not valid:
            continue
        if f.is_integer:
            low, high = pc.min_max(column).values()
            low, high = low.as_py(), high.as_py()
            if low < 0 or high > limit(f):
                return None
            total += _digits(column, valid, low, high)
            continue
        if f.choices and not _all_in(column, f.choices):
            return None
        if not f.choices and pc.min(pc.binary_length(column)).as_py() == 0:
            return None
        total += _string_size(column)
    return total


def _text_ints_ok(table: pa.Table, fields: list[Field]) -> pa.Table | None:
    """Check a table read with integers as text and convert them; None when a rule breaks."""
    columns = {}
    for f in fields:
        column = table.column(f.column)
        valid = len(column) - column.null_count
        if f.is_integer:
            if valid:
                digits = pc.and_(pc.ascii_is_decimal(column),
                                 pc.less_equal(pc.binary_length(column), 18))
                if not pc.all(digits).as_py():
                    return None
            column = pc.cast(column, pa.int64())
            if valid and pc.max(column).as_py() > limit(f):
                return None
            column = column.cast(_ARROW_TYPES[f.parquet_type])
        elif valid and f.choices:
            if not _all_in(column, f.choices):
                return None
        elif valid and pc.min(pc.binary_length(column)).as_py() == 0:
            return None
        columns[f.column] = column
    return pa.table(columns)


def _all_in(column: pa.ChunkedArray, choices) -> bool:
    """Whether every value is one of ``choices`` or missing."""
    return pc.all(pc.is_in(column, value_set=pa.array([*choices, None], column.type))).as_py()


def _digits(column: pa.ChunkedArray, valid: int, low: int, high: int) -> int:
    """The number of decimal digits of the non-negative, non-missing values, summed."""
    total, power = valid, 10
    while power <= high:
        if power <= low:
            total += valid
        else:
            total += pc.sum(pc.greater_equal(column, pa.scalar(power, column.type))).as_py()
        power *= 10
    return total


def _string_size(column: pa.ChunkedArray) -> int:
    """The bytes of a string column's values (missing values take none), from its offsets."""
    total = 0
    for chunk in column.chunks:
        if len(chunk):
            wide = pa.types.is_large_string(chunk.type)
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if wide else np.int32)
            total += int(offsets[chunk.offset + len(chunk)] - offsets[chunk.offset])
    return total


# --- Parquet and trees ------------------------------------------------------------------------


def _read_parquet(path: Path, log_format, on_error) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise FlowLogReadError(f"{path}: not a readable Parquet file ({err})") from err
    columns = table.column_names
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise FlowLogReadError(f"{path}: column(s) {', '.join(repeated)} appear more than once")
    unknown = [c for c in columns if c.replace("_", "-") not in FIELDS]
    if unknown:
        hints = []
        for c in unknown:
            try:
                field(c)
            except FlowLogFormatError as err:
                hint = str(err).split("; ", 1)[1] if "; " in str(err) else ""
                if hint and not hint.startswith("see "):
                    hints.append(f"{c}: {hint}")
        raise FlowLogReadError(
            f"{path}: column(s) {', '.join(unknown)} are not flow-log fields"
            + (f" ({'; '.join(hints)})" if hints else ""))
    names = tuple(c.replace("_", "-") for c in columns)
    if log_format is not None and names != parse_format(log_format):
        raise FlowLogFormatError(
            f"{path}: the Parquet columns are {' '.join(names)!r}, but log_format asks for "
            f"{' '.join(parse_format(log_format))!r}")
    fields = [FIELDS[n] for n in names]
    arrays = [_parquet_column(path, table.column(c), f, c) for c, f in zip(columns, fields)]
    problems = _value_problems(arrays, fields, text=False)
    skipped = []
    if problems:
        if on_error == "raise":
            row, f, reason = problems[0]
            more = len(problems) - 1
            raise FlowLogReadError(
                f"{path}, row {row + 1}, column {_column_of(columns, fields, f)!r}: {reason}"
                + (f"\n({more} more bad row{'s' if more > 1 else ''} after this one; pass "
                   "on_error='skip' to keep the good rows and list the bad ones)" if more else ""))
        skipped = [(row + 1, f"column {_column_of(columns, fields, f)!r} {reason}")
                   for row, f, reason in problems]
        keep = np.ones(table.num_rows, dtype=bool)
        keep[[row for row, _, _ in problems]] = False
        arrays = [a.filter(pa.array(keep)) for a in arrays]
    out = pa.table({f.column: (a.cast(pa.int32()) if f.parquet_type == "INT_32" else a)
                    for f, a in zip(fields, arrays)})
    df = to_pandas(out)
    df.attrs["log_format"] = format_string(names)
    df.attrs["skipped"] = skipped
    return df


def _column_of(columns, fields, f: Field) -> str:
    return columns[fields.index(f)]


def _parquet_column(path: Path, column: pa.ChunkedArray, f: Field, name: str) -> pa.ChunkedArray:
    """A Parquet column as int64 (integer fields) or string, with AWS's ``-`` as missing."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if f.is_integer:
        if pa.types.is_integer(kind) or pa.types.is_null(kind):
            try:
                return column.cast(pa.int64())
            except pa.ArrowException as err:  # uint64 above the int64 range
                raise FlowLogReadError(
                    f"{path}, column {name!r}: {f.name} must be between 0 and {limit(f)}, but "
                    f"the column holds larger values") from err
        hint = "; did pandas turn missing values into NaN? use the Int32/Int64 dtypes" \
            if pa.types.is_floating(kind) else ""
        raise FlowLogReadError(
            f"{path}, column {name!r}: {f.name} is {f.parquet_type} (whole numbers), but the "
            f"column holds {column.type}{hint}")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
            pa.types.is_string_view(kind) or pa.types.is_null(kind):
        column = column.cast(pa.string())
        dash = pc.equal(column, "-")
        return pc.if_else(dash, pa.scalar(None, pa.string()), column) if pc.any(dash).as_py() \
            else column
    raise FlowLogReadError(
        f"{path}, column {name!r}: {f.name} is STRING (text), but the column holds "
        f"{column.type}")


def _partitions(relative: Path) -> dict[str, str]:
    """Partition values from a path inside an S3 tree (plain or Hive-compatible)."""
    parts = list(relative.parent.parts)
    if parts and parts[0] == "AWSLogs":
        parts = parts[1:]
    if parts and all("=" in p for p in parts):
        return {k.replace("-", "_"): v for k, v in (p.split("=", 1) for p in parts)}
    values = dict(zip(PARTITION_COLUMNS, parts))
    return values if values.get("aws_service") == "vpcflowlogs" else {}


def _read_tree(root: Path, log_format, on_error) -> pd.DataFrame:
    files = sorted(p for p in root.rglob("*") if p.is_file() and (
        p.name.endswith(_TEXT_SUFFIXES) or p.name.endswith(".parquet")))
    if not files:
        raise FlowLogReadError(
            f"{root}: no flow-log files (.log, .log.gz, .parquet) in this folder or below")
    frames, skipped = [], []
    for file in files:
        df = read(file, log_format, on_error=on_error)
        skipped += [(str(file), n, why) for n, why in df.attrs.get("skipped", [])]
        for column, value in _partitions(file.relative_to(root)).items():
            df[column] = pd.Series([value] * len(df), dtype=pd.StringDtype("pyarrow"),
                                   index=df.index)
        frames.append(df)
    formats = {f.attrs.get("log_format") for f in frames}
    out = pd.concat(frames, ignore_index=True)
    out.attrs["log_format"] = formats.pop() if len(formats) == 1 else None
    out.attrs["skipped"] = skipped
    out.attrs["files"] = len(files)
    return out
