"""The course's small committed sample of flow-log records, made by the traffic generator.

Two hours of the lesson's lab VPC (SAA-Study-VPC, :func:`helpers.traffic.default_topology`) in
AWS's default format: lab 2's traffic over the web baseline (curl and ping from the public
instance, SSH to the private one, the blocked telnet/nc attempts, a large download through the
NAT gateway) and an inbound port scan, with the NODATA and SKIPDATA records the generator adds.
Every ACCEPT and REJECT comes from the lab's security groups and network ACLs.

Regenerate the committed files with ``make data`` (``python -m helpers.sample data``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from helpers import flowlogs, traffic
from helpers.paths import SAMPLE_TEXT

__all__ = ["SAMPLE_NAME", "SCENARIOS", "build", "write"]

SAMPLE_NAME = SAMPLE_TEXT.name.removesuffix(".log.gz")
SCENARIOS = (*traffic.DEFAULT_SCENARIOS, "port_scan_inbound")


def build(seed: int = 0, *, duration: str = "2h", scale: float = 1.0) -> pd.DataFrame:
    """Default-format records of the sample's scenarios, deterministic for a ``seed``.

    ``scale`` multiplies the connections (a benchmark uses it for a million records). The
    ``version`` column is 2, as a flow log with the default format writes it.
    """
    records = traffic.generate(list(SCENARIOS), seed=seed, duration=duration, scale=scale)
    columns = [flowlogs.field(n).column for n in flowlogs.parse_format(None)]
    return records[columns].assign(version=pd.array([2] * len(records), dtype="Int32"))


def write(folder: str | Path, seed: int = 0) -> list[Path]:
    """Write the sample as ``<folder>/sample-flowlogs.log.gz`` and ``.parquet``."""
    folder = Path(folder)
    records = build(seed)
    return [
        flowlogs.write_text(records, folder / f"{SAMPLE_NAME}.log.gz"),
        flowlogs.write_parquet(records, folder / f"{SAMPLE_NAME}.parquet"),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write the course's sample flow logs.")
    parser.add_argument("folder", nargs="?", default="data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for path in write(args.folder, args.seed):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
