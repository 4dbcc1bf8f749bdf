"""The course's small committed sample of flow-log records, built from a fixed seed.

A few hours of the lesson's lab VPC (SAA-Study-VPC) as default-format records: web clients on
80/443 and their responses, the admin's SSH, SSH from the public to the private instance, the
lesson's blocked attempts (3306 and 80 to the private instance), ping to 8.8.8.8, an internet
scanner, idle windows (NODATA) and one SKIPDATA window. The actions follow the lab's security
groups as the lesson describes them; the full rule-evaluating traffic generator is
``helpers.traffic``'s job. Everything is vectorised, so ``scale`` can make a million records.

Regenerate the committed files with ``make data`` (``python -m helpers.sample data``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import flowlogs
from helpers.paths import SAMPLE_TEXT

__all__ = ["ACCOUNT", "INSTANCES", "LESSON_START", "build", "write"]

ACCOUNT = "123456789012"
LESSON_START = 1639958400  # 2021-12-20T00:00:00Z, the day of the lesson's example records
INSTANCES = {
    # role: (interface id, private IP)
    "web": ("eni-0a1b2c3d4e5f60001", "10.0.1.100"),  # public subnet 10.0.1.0/24
    "db": ("eni-0a1b2c3d4e5f60002", "10.0.11.50"),  # private subnet 10.0.11.0/24
}
ADMIN = "198.51.100.10"  # documentation range (RFC 5737) stands in for the admin's office
SCANNER = "203.0.113.66"
SAMPLE_NAME = SAMPLE_TEXT.name.removesuffix(".log.gz")


def build(seed: int = 0, *, hours: int = 6, scale: int = 1, start: int = LESSON_START,
          window: int = 60) -> pd.DataFrame:
    """Default-format records for ``hours`` of the lab, one aggregation ``window`` (s) apart.

    ``scale`` multiplies the web traffic per window. Rows are sorted by start time and
    interface, as a reader would meet them. Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    windows = start + window * np.arange(hours * 3600 // window)
    web_eni, web_ip = INSTANCES["web"]
    db_eni, db_ip = INSTANCES["db"]
    parts = []

    def flows(n, eni, src, dst, sport, dport, proto, packets, size, action, at=None):
        at = rng.choice(windows, n) if at is None else at
        packets = np.asarray(packets) * np.ones(n, dtype=np.int64)
        offset = rng.integers(0, window // 2, n)
        parts.append(pd.DataFrame({
            "interface_id": eni, "srcaddr": src, "dstaddr": dst, "srcport": sport,
            "dstport": dport, "protocol": proto, "packets": packets,
            "bytes": packets * size, "start": at + offset,
            "end": at + offset + rng.integers(1, window // 2, n), "action": action,
        }))

    # Web clients from the internet to the public instance, and the responses it sends.
    diurnal = 1.5 + np.sin(2 * np.pi * ((windows - start) / 86400 - 0.25))
    per_window = rng.poisson(6 * scale * diurnal)
    at = np.repeat(windows, per_window)
    n = len(at)
    # Clients come from the documentation ranges (RFC 5737), never from real networks.
    clients = np.array([f"192.0.2.{i}" for i in range(1, 33)] +
                       [f"198.51.100.{i}" for i in range(20, 52)])
    client = rng.choice(clients, n)
    eph = rng.integers(32768, 61000, n)
    port = rng.choice([80, 443], n, p=[0.2, 0.8])
    pk = rng.integers(4, 40, n)
    flows(n, web_eni, client, web_ip, eph, port, 6, pk, rng.integers(60, 120, n), "ACCEPT", at)
    flows(n, web_eni, web_ip, client, port, eph, 6, pk + rng.integers(0, 20, n),
          rng.integers(400, 1400, n), "ACCEPT", at)
    # The admin's SSH to the public instance; SSH from the public to the private instance,
    # recorded on both interfaces.
    for eni in (web_eni, db_eni):
        k = hours * 2
        src, dst = (ADMIN, web_ip) if eni == web_eni else (web_ip, db_ip)
        flows(k, eni, src, dst, rng.integers(49152, 65535, k), 22, 6,
              rng.integers(10, 60, k), 52, "ACCEPT")
    k = hours * 2
    flows(k, web_eni, web_ip, db_ip, rng.integers(49152, 65535, k), 22, 6,
          rng.integers(10, 60, k), 52, "ACCEPT")
    # The lesson's blocked attempts: telnet to 3306 and nc to 80 on the private instance. The
    # private instance's security group rejects the SYNs (they are counted: 1–3 packets).
    k = hours * 3
    flows(k, db_eni, web_ip, db_ip, rng.integers(49152, 65535, k),
          rng.choice([3306, 80], k), 6, rng.integers(1, 4, k), 60, "REJECT")
    # ping 8.8.8.8 from the public instance: ICMP has no ports, so both are 0.
    k = hours
    flows(k, web_eni, web_ip, "8.8.8.8", 0, 0, 1, 5, 84, "ACCEPT")
    # An internet scanner probing many ports of the public instance: all rejected.
    k = 40 * hours
    scan_start = start + window * (hours * 3600 // window // 2)
    flows(k, web_eni, SCANNER, web_ip, rng.integers(40000, 60000, k),
          rng.choice(np.arange(1, 1025), k, replace=False) if k <= 1024 else
          rng.integers(1, 65536, k), 6, 1, 44, "REJECT",
          scan_start + window * rng.integers(0, 10, k))
    records = pd.concat(parts, ignore_index=True)
    records.insert(0, "version", 2)
    records.insert(1, "account_id", ACCOUNT)
    records["log_status"] = "OK"
    # Windows in which the private instance saw nothing are NODATA; one window is SKIPDATA.
    busy = set(records.loc[records.interface_id == db_eni, "start"] // window * window)
    idle = np.array([w for w in windows if w not in busy][::7], dtype=np.int64)
    status = np.where(np.arange(len(idle)) == len(idle) // 2, "SKIPDATA", "NODATA")
    empty = pd.DataFrame({"version": 2, "account_id": ACCOUNT, "interface_id": db_eni,
                          "start": idle, "end": idle + window - 1, "log_status": status})
    records = pd.concat([records, empty], ignore_index=True)
    records = records.sort_values(["start", "interface_id", "srcaddr"], kind="stable",
                                  ignore_index=True)
    columns = [f.column for f in map(flowlogs.field, flowlogs.parse_format(None))]
    return _typed(records[columns])


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Give a frame the dtypes :func:`helpers.flowlogs.read` returns."""
    schema = flowlogs.arrow_schema(df.columns)
    dtypes = {"int32": "Int32", "int64": "Int64", "string": pd.StringDtype("pyarrow")}
    return df.astype({f.name: dtypes[str(f.type)] for f in schema})


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
