"""Benchmark: reading 1,000,000 default-format records from .log.gz into the typed frame.

Prints, for the same file in the same run (best of 3 each):

- ``helpers.flowlogs.read`` (every check, the typed frame with ``<NA>``);
- two raw readers that only split and type the columns, with no checks and no pandas frame:
  ``pyarrow.csv.read_csv`` and DuckDB's ``read_csv`` (to an Arrow table);
- the ratio of ``read`` to the faster raw reader: target ≤ 1.5× (issue "Harden the
  foundation");
- a line-by-line Python reader (split each line, then build and type the frame), and how many
  times faster ``read`` is: target ≥ 8× (issue "Foundation").

The machine is shared, so only the ratios measured in one run mean much.
Run with ``make bench`` or ``python tests/benchmarks/bench_flowlogs.py``.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.csv as pcsv

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from helpers import flowlogs, sample  # noqa: E402

RECORDS = 1_000_000
RAW_TARGET = 1.5
SPEED_UP_TARGET = 8


def python_reader(path: Path) -> pd.DataFrame:
    """The straightforward way: split each line in Python, then build and type the frame."""
    names = flowlogs.parse_format(None)
    columns = [flowlogs.field(n).column for n in names]
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            rows.append([None if v == "-" else v for v in line.split()])
    df = pd.DataFrame(rows, columns=columns)
    for n in names:
        f = flowlogs.field(n)
        if f.is_integer:
            df[f.column] = pd.to_numeric(df[f.column]).astype(
                "Int32" if f.parquet_type == "INT_32" else "Int64")
        else:
            df[f.column] = df[f.column].astype(pd.StringDtype("pyarrow"))
    return df


def pyarrow_raw(path: Path):
    """Arrow's CSV reader with space as delimiter and inferred types; header from the file."""
    return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=" "))


def duckdb_raw(path: Path):
    """DuckDB's CSV reader with space as delimiter, to an Arrow table."""
    con = duckdb.connect()
    try:
        quoted = "'" + str(path).replace("'", "''") + "'"
        return con.sql(f"SELECT * FROM read_csv({quoted}, delim=' ', header=true)"
                       ).to_arrow_table()
    finally:
        con.close()


def best_of(n, fn, *args):
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records = sample.build(seed=0, duration="1d", scale=8).head(RECORDS)
        path = flowlogs.write_text(records, Path(tmp) / "bench.log.gz")
        size = path.stat().st_size / 2**20
        print(f"file: {len(records):,} default-format records, {size:.1f} MiB gzip")
        fast, df = best_of(3, flowlogs.read, path)
        arrow, table = best_of(3, pyarrow_raw, path)
        duck, relation = best_of(3, duckdb_raw, path)
        assert table.num_rows == relation.num_rows == len(df) == len(records)
        pd.testing.assert_frame_equal(df, records)
        raw = min(arrow, duck)
        rate = len(df) / fast / 1e6
        print(f"helpers.flowlogs.read        {fast:6.2f} s  ({rate:.2f} M records/s)")
        print(f"pyarrow.csv.read_csv (raw)   {arrow:6.2f} s")
        print(f"duckdb read_csv (raw)        {duck:6.2f} s")
        print(f"read / fastest raw           {fast / raw:6.2f}×   target ≤ {RAW_TARGET}×")
        slow, expected = best_of(1, python_reader, path)
        pd.testing.assert_frame_equal(df, expected)
        print(f"line-by-line Python split    {slow:6.2f} s")
        print(f"speed-up over line-by-line   {slow / fast:6.1f}×   target ≥ {SPEED_UP_TARGET}×")


if __name__ == "__main__":
    main()
