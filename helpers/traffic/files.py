"""Write records as a flow log delivers them to S3: a tree of daily or hourly files.

The folders and file names are AWS's (:mod:`helpers.flowlogs.layout`). Records go to the
partition of their ``start`` time, one file per partition. AWS stamps a file with the time it
was written and a random hash; here the stamp is the partition's last record ``end`` and the
hash is derived from the flow-log ID and the partition, so the same records give the same
tree. :func:`helpers.flowlogs.read` reads the tree back, with the partition values as columns.
"""

from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from helpers import flowlogs
from helpers.errors import TrafficError
from helpers.flowlogs import layout
from helpers.flowlogs.fields import FIELDS

__all__ = ["DEFAULT_FLOW_LOG_ID", "write_tree"]

DEFAULT_FLOW_LOG_ID = "fl-0a1b2c3d4e5f60000"
_PROGRESS_ABOVE = 24  # files; fewer are written without a progress bar


def write_tree(df: pd.DataFrame, root: str | os.PathLike, *, file_format: str = "parquet",
               hive: bool = True, per_hour: bool = False,
               flow_log_id: str = DEFAULT_FLOW_LOG_ID, progress: bool | None = None,
               workers: int | None = None) -> list[Path]:
    """Write records under ``root`` as S3 delivery lays them out: one file per partition.

    Args:
        df: records with at least ``account_id``, ``region`` and ``start`` (a generated frame,
            or one read back). Only flow-log columns are written (not ``label``).
        root: the folder that receives ``AWSLogs/...``.
        file_format: ``"parquet"`` (gzip-compressed, AWS's column names and types) or
            ``"plain-text"`` (``.log.gz`` with a header line): the ``FileFormat`` values of
            a flow log's ``DestinationOptions``.
        hive: Hive-compatible prefixes (``year=2021/``) instead of plain ones (``2021/``).
        per_hour: hourly partitions instead of daily ones.
        flow_log_id: the flow log's ID, part of every file name.
        progress: show a progress bar; None shows one when more than 24 files are written.
        workers: threads that write files in parallel (default: the number of CPUs).

    Returns:
        The paths written, in partition order.
    """
    if file_format not in layout.FILE_FORMATS:
        raise TrafficError(f"file_format must be 'parquet' or 'plain-text', not {file_format!r}")
    missing = [c for c in ("account_id", "region", "start") if c not in df.columns]
    if missing:
        raise TrafficError(f"the frame has no {', '.join(missing)} column(s): they choose "
                           "each record's partition")
    if df["start"].isna().any() or df["account_id"].isna().any() or df["region"].isna().any():
        raise TrafficError("every record needs start, account_id and region to be written "
                           "to a partition")
    root = Path(root)
    names = [c for c in df.columns if c.replace("_", "-") in FIELDS]
    period = 3600 if per_hour else 86400
    start = df["start"].to_numpy(dtype=np.int64)
    end = df["end"].to_numpy(dtype=np.int64, na_value=0) if "end" in df.columns else start
    slot = start // period
    account, accounts = pd.factorize(df["account_id"])
    region, regions = pd.factorize(df["region"])
    key = (account.astype(np.int64) * len(regions) + region) * (slot.max() - slot.min() + 1) \
        + (slot - slot.min()) if len(df) else slot
    order = None if np.all(key[1:] >= key[:-1]) else np.argsort(key, kind="stable")
    if order is not None:
        key, start, end = key[order], start[order], end[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(key)) + 1, len(key)] if len(key) else np.r_[0]
    firsts = bounds[:-1]
    stamps = np.maximum.reduceat(end, firsts) if len(firsts) else firsts
    if file_format == "parquet":
        schema = flowlogs.arrow_schema(names)
        data = pa.Table.from_pandas(df[names], schema=schema, preserve_index=False)
        if order is not None:
            data = data.take(order)
    else:
        data = df[names] if order is None else df[names].iloc[order]
    jobs = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        row = a if order is None else order[a]
        account_id, region_name = str(df["account_id"].iat[row]), str(df["region"].iat[row])
        partition = f"{flow_log_id}/{account_id}/{region_name}/{int(start[a]) // period}"
        key_text = layout.s3_key(account_id, region_name, int(start[a]), hive=hive,
                                 per_hour=per_hour, file_format=file_format,
                                 flow_log_id=flow_log_id, stamp=int(stamps[i]),
                                 digest=f"{zlib.crc32(partition.encode()):08x}")
        jobs.append((root / key_text, int(a), int(b)))

    def write(job):
        path, a, b = job
        path.parent.mkdir(parents=True, exist_ok=True)
        if file_format == "parquet":
            pq.write_table(data.slice(a, b - a), path, compression="gzip", compression_level=3)
        else:
            flowlogs.write_text(data.iloc[a:b], path)
        return path

    show = len(jobs) > _PROGRESS_ABOVE if progress is None else progress
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool, \
            tqdm(total=len(jobs), unit="file", disable=not show, desc="writing") as bar:
        paths = []
        for path in pool.map(write, jobs):
            paths.append(path)
            bar.update()
    return paths
