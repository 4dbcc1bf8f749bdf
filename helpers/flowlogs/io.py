"""Read and write flow-log files as AWS writes them: text (.log, .log.gz) and Parquet.

S3 delivery (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html) writes
gzip text files that start with a header line of field names, or Parquet files with one column
per field (names with underscores, types from the field registry), under
``AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/]`` or its Hive-compatible form
``AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=<yyyy>/...``.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.errors import FlowLogFormatError, FlowLogReadError
from helpers.flowlogs.fields import FIELDS, field, format_string, parse_format
from helpers.flowlogs.parse import (
    NeedsLineNumbers,
    _check_header,
    header_fields,
    parse_table,
    to_pandas,
)

__all__ = ["PARTITION_COLUMNS", "arrow_schema", "format_lines", "read", "write_parquet",
           "write_text"]

_ARROW_TYPES = {"INT_32": pa.int32(), "INT_64": pa.int64(), "STRING": pa.string()}

PARTITION_COLUMNS = ("aws_account_id", "aws_service", "aws_region", "year", "month", "day", "hour")
"""Columns :func:`read` adds for files found in an S3 tree, plain or Hive-compatible."""

_TEXT_SUFFIXES = (".log", ".log.gz", ".txt", ".txt.gz")


def arrow_schema(names) -> pa.Schema:
    """The Parquet schema AWS uses for these fields (or column names): INT_32, INT_64, STRING."""
    fields = [field(n) for n in names]
    return pa.schema([(f.column, _ARROW_TYPES[f.parquet_type]) for f in fields])


def read(path: str | os.PathLike, log_format: str | None = None, *,
         on_error: str = "raise") -> pd.DataFrame:
    """Read flow-log records from a file or an S3-style folder tree into a typed DataFrame.

    Accepts ``.log`` / ``.log.gz`` text (the header line of S3 files is recognised and, when
    ``log_format`` is None, sets the format), ``.parquet`` files, and a folder holding an
    ``AWSLogs/...`` tree (plain or Hive-compatible, daily or hourly), whose partition values
    become the columns in :data:`PARTITION_COLUMNS` that the path has.

    Raises:
        FlowLogReadError: missing or empty file, truncated gzip, bytes that are not UTF-8.
        FlowLogParseError: a bad record, when ``on_error="raise"``.
    """
    path = Path(path)
    if path.is_dir():
        return _read_tree(path, log_format, on_error)
    if not path.exists():
        raise FlowLogReadError(f"{path}: no such file or folder")
    if path.name.endswith(".parquet"):
        return _read_parquet(path)
    return _read_text(path, log_format, on_error)


def write_text(df: pd.DataFrame, path: str | os.PathLike, log_format: str | None = None, *,
               header: bool = True) -> Path:
    """Write records as AWS's S3 text files do: a header line, then one record per line.

    ``-`` stands for a missing value. A path ending in ``.gz`` is gzip-compressed (with a fixed
    timestamp in the gzip header, so equal records give equal files). ``log_format`` defaults
    to the frame's flow-log columns in frame order.
    """
    path = Path(path)
    names = _format_of(df, log_format)
    text = _render(df, names, header)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        # Level 3: within 1% of level 6's size at a third of the time.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                    filename="", compresslevel=3) as gz:
            gz.write(text)
    else:
        path.write_bytes(text)
    return path


def write_parquet(df: pd.DataFrame, path: str | os.PathLike, log_format: str | None = None, *,
                  compression: str = "gzip", compression_level: int | None = 3) -> Path:
    """Write records as a Parquet file with AWS's column names and types.

    Only flow-log columns are written (``log_format`` picks them; the default is every
    flow-log column of the frame, in frame order); other columns such as labels are not part
    of the format. AWS compresses its Parquet flow logs with gzip, the default here; level 3
    writes about ten times faster than Arrow's default level for a file 1% larger.
    """
    path = Path(path)
    names = _format_of(df, log_format)
    schema = arrow_schema(names)
    table = pa.Table.from_pandas(df[list(schema.names)], schema=schema, preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression=compression, compression_level=compression_level)
    return path


# --- text -------------------------------------------------------------------------------------


def _read_text(path: Path, log_format, on_error) -> pd.DataFrame:
    compressed = path.name.endswith(".gz")
    first = _first_line(path, compressed)
    names = parse_format(log_format)
    header = header_fields(first) if first is not None else None
    if header is not None:
        names = _check_header(header, log_format, names, source=str(path))
    source = f"read_csv({_sql_path(path)}, columns={{'line': 'VARCHAR'}}, delim=chr(31), " \
        f"header=false, quote='', escape='', auto_detect=false, " \
        f"compression='{'gzip' if compressed else 'none'}', skip={1 if header else 0})"
    try:
        return parse_table(source, names, on_error=on_error, source=str(path))
    except (NeedsLineNumbers, duckdb.Error):
        # A bad record, bytes that are not UTF-8 or a damaged gzip stream: the exact path
        # reads the lines with their numbers and explains the problem precisely.
        pass
    lines = _numbered_lines(path, compressed, skip_header=header is not None)
    return parse_table(lines, names, on_error=on_error, source=str(path))


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _first_line(path: Path, compressed: bool) -> str | None:
    """The first line of the file (decoded leniently), or None; raises on an empty file."""
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rb") as f:
            head = f.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as err:
        raise _gzip_error(path, err) from err
    if not head:
        raise FlowLogReadError(
            f"{path}: the file is empty (no header line and no records)")
    return head.decode("utf-8", errors="replace")


def _gzip_error(path: Path, err: Exception) -> FlowLogReadError:
    if isinstance(err, EOFError):
        return FlowLogReadError(
            f"{path}: the gzip data ends early (truncated file?); re-download or re-deliver it")
    return FlowLogReadError(f"{path}: not a readable gzip file ({err})")


def _numbered_lines(path: Path, compressed: bool, skip_header: bool) -> pa.Table:
    """Every line of the file with its 1-based number; the exact (slower) path."""
    data = path.read_bytes()
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise _gzip_error(path, err) from err
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line_start = data.rfind(b"\n", 0, err.start) + 1
        number = data.count(b"\n", 0, err.start) + 1
        column = len(data[line_start:err.start].decode("utf-8", errors="replace")) + 1
        raise FlowLogReadError(
            f"{path}, line {number}, column {column}: byte {data[err.start]:#04x} is not UTF-8 "
            "text; flow-log files are UTF-8"
        ) from err
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    lines = pc.split_pattern(whole, "\n").flatten().cast(pa.string())
    numbers = np.arange(1, len(lines) + 1, dtype=np.int64)
    table = pa.table({"line_number": numbers, "line": lines})
    return table.slice(1) if skip_header else table


def _format_of(df: pd.DataFrame, log_format: str | None) -> tuple[str, ...]:
    if log_format is not None:
        names = parse_format(log_format)
        missing = [n for n in names if FIELDS[n].column not in df.columns]
        if missing:
            raise FlowLogFormatError(
                f"the frame has no column for field(s) {', '.join(missing)} of the format")
        return names
    names = tuple(c.replace("_", "-") for c in df.columns if c.replace("_", "-") in FIELDS)
    if not names:
        raise FlowLogFormatError(
            "the frame has no flow-log columns (expected names such as srcaddr, dstport)")
    return names


def format_lines(df: pd.DataFrame, log_format: str | None = None) -> pa.ChunkedArray:
    """The records as flow-log text lines (no newline), vectorised with Arrow; '-' for NA.

    ``log_format`` defaults to the frame's flow-log columns in frame order.
    """
    names = _format_of(df, log_format)
    columns = [FIELDS[n].column for n in names]
    table = pa.Table.from_pandas(df[columns], schema=arrow_schema(names), preserve_index=False)
    parts = [pc.fill_null(pc.cast(table.column(c), pa.string()), "-") for c in columns]
    return pc.binary_join_element_wise(*parts, " ")


def _render(df: pd.DataFrame, names, header: bool) -> bytes:
    """The file body: an optional header line, then one record per line, newline-terminated."""
    lines = format_lines(df, format_string(names))
    lines = pc.binary_join_element_wise(lines, pa.scalar("", pa.string()), "\n")
    out = io.BytesIO()
    if header:
        out.write((" ".join(names) + "\n").encode())
    for chunk in lines.chunks:
        out.write(_string_bytes(chunk))
    return out.getvalue()


def _string_bytes(arr: pa.Array) -> bytes:
    """The concatenated UTF-8 bytes of a string array without nulls, without a Python loop."""
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


# --- Parquet and trees ------------------------------------------------------------------------


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise FlowLogReadError(f"{path}: not a readable Parquet file ({err})") from err
    unknown = [c for c in table.column_names if c.replace("_", "-") not in FIELDS]
    if unknown:
        raise FlowLogReadError(
            f"{path}: column(s) {', '.join(unknown)} are not flow-log fields")
    table = table.cast(arrow_schema(table.column_names))
    df = to_pandas(table)
    df.attrs["log_format"] = format_string(table.column_names)
    df.attrs["skipped"] = []
    return df


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
