"""Benchmark: reading 1,000,000 default-format records from .log.gz into the typed frame.

Prints the vectorised reader's time (best of 3) and a line-by-line Python reader's time on the
same file, and their ratio. Targets (issue "Foundation"): ≤ 1.5 s and ≥ 8× faster.
Run with ``make bench`` or ``python tests/benchmarks/bench_flowlogs.py``.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from helpers import flowlogs, sample  # noqa: E402

RECORDS = 1_000_000


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
        slow, expected = best_of(1, python_reader, path)
        pd.testing.assert_frame_equal(df, expected)
        rate = len(df) / fast / 1e6
        print(f"helpers.flowlogs.read        {fast:6.2f} s  ({rate:.2f} M records/s)"
              "  target ≤ 1.50 s")
        print(f"line-by-line Python split    {slow:6.2f} s")
        print(f"speed-up                     {slow / fast:6.1f}×   target ≥ 8×")


if __name__ == "__main__":
    main()
