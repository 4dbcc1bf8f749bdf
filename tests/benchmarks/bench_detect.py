"""Benchmark: every detector of helpers.detect over about 10,000,000 flow-log records.

Generates a day of every scenario at a scale that makes about ten million records (the
generator takes a while and is not timed), then times :func:`helpers.detect.detect` alone,
best of 3, and prints the figure with the first stage (the per-minute cells) apart.
Target (issue "Traffic analysis, measured detections and a safe auto-block"): ≤ 5 s for
10,000,000 records on the course machine (2 cores). Run with
``python tests/benchmarks/bench_detect.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from helpers import detect, traffic  # noqa: E402
from helpers.detect import detectors, sql  # noqa: E402

SCALE = 53  # a day of every scenario at this scale is about 10 million records
TARGET_SECONDS = 5.0


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def cells_only(records) -> float:
    """Seconds to make the first stage alone (the one pass over the records)."""
    con = detectors._connect(detectors._arrow(records))
    try:
        text = sql.render(sql.cells_sql("flows", detectors._networks(None)))
        start = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE {sql.CELLS} AS {text}")
        return time.perf_counter() - start
    finally:
        con.close()


def main() -> None:
    seconds, records = timed(traffic.generate, "all", duration="1d", scale=SCALE, seed=0)
    n = len(records)
    print(f"generate: {n:,} records (every scenario, 1 day, scale {SCALE}) in {seconds:.1f} s")
    times, found = [], None
    for _ in range(3):
        seconds, found = timed(detect.detect, records)
        times.append(seconds)
    best = min(times)
    print(f"detect:   {len(found):,} findings; best of 3 {best:6.2f} s "
          f"({n / best / 1e6:.1f} M records/s; runs {', '.join(f'{t:.2f}' for t in times)})")
    print(f"          per 10,000,000 records {best * 1e7 / n:6.2f} s  target ≤ "
          f"{TARGET_SECONDS:.2f} s ({best * 1e7 / n / TARGET_SECONDS:.2f} of the target)")
    cells = min(cells_only(records) for _ in range(3))
    print(f"          of which the per-minute cells (one GROUP BY of the records) "
          f"{cells:.2f} s")
    print(f"          load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(other work on the machine slows every figure)")
    print(found.finding_type.value_counts().to_string())


if __name__ == "__main__":
    main()
