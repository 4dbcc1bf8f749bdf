"""Benchmark: one Logs Insights query over 10,000,000 in-memory flow-log records.

``stats sum(bytes) as b by srcAddr | sort b desc | limit 10`` run three ways on the same
DataFrame (canonical columns, typed like ``helpers.flowlogs.read``): compiled and executed by
``helpers.insights.run`` (compile + execute, best of 3), the hand-written DuckDB SQL through
``helpers.insights.run_sql``, and a pandas groupby. Targets (issue "Insights compiler"): the
compiler ≤ 0.5 s, within 1.25× of the hand-written SQL, and faster than pandas.
The records are one generated 6-hour frame repeated (Arrow chunks shared, no copy of the
strings) with ``start`` shifted by 6 hours per repeat. Run with ``make bench`` or
``python tests/benchmarks/bench_insights.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from helpers import insights, traffic  # noqa: E402
from helpers.flowlogs.parse import to_pandas  # noqa: E402

RECORDS = 10_000_000
QUERY = "stats sum(bytes) as b by srcAddr | sort b desc | limit 10"
SQL = """
SELECT srcaddr AS "srcAddr", CAST(SUM(bytes) AS BIGINT) AS b
FROM flows
GROUP BY srcaddr
ORDER BY b DESC, srcaddr
LIMIT 10
"""


def records(n: int = RECORDS) -> pd.DataFrame:
    """``n`` records: a generated frame repeated, its start times shifted per repeat."""
    base = traffic.generate(scenarios="all", seed=0, duration="6h")
    base = base[list(traffic.COLUMNS)]
    table = pa.Table.from_pandas(base, preserve_index=False)
    repeats = -(-n // len(base))
    table = pa.concat_tables([table] * repeats).slice(0, n)
    frame = to_pandas(table)
    shift = np.repeat(np.arange(repeats, dtype=np.int64) * 6 * 3600, len(base))[:n]
    start = frame["start"].to_numpy(dtype=np.int64, na_value=0) + shift
    frame["start"] = pd.arrays.IntegerArray(start, np.zeros(n, dtype=bool))
    return frame


def best_of(fn, times: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(times):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> None:
    t = time.perf_counter()
    frame = records()
    print(f"built {len(frame):,} records in {time.perf_counter() - t:.1f} s")
    compiled, got = best_of(lambda: insights.run(QUERY, frame))
    hand, want = best_of(lambda: insights.run_sql(SQL, frame))
    grouped, expected = best_of(
        lambda: frame.groupby("srcaddr")["bytes"].sum().sort_values(ascending=False).head(10))
    assert got["b"].tolist() == want["b"].tolist() == expected.tolist(), (got, want, expected)
    print(f"insights.run (compile + execute): {compiled:.3f} s   (target <= 0.5 s)")
    print(f"hand-written DuckDB SQL:          {hand:.3f} s   ratio {compiled / hand:.2f}x "
          "(target <= 1.25x)")
    print(f"pandas groupby:                   {grouped:.3f} s   compiler is "
          f"{grouped / compiled:.1f}x faster (target > 1x)")


if __name__ == "__main__":
    main()
