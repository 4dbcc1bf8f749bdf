"""Write records as a flow log delivers them to S3: a tree of files under ``AWSLogs/``.

The one writer of S3-style trees, used by the traffic command line and by the offline delivery
to the emulator's buckets. Folders and file names are AWS's (:mod:`helpers.flowlogs.layout`).
AWS publishes a file per flow log every 5 minutes
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html), into the day's (or with
``PerHourPartition`` the hour's) folder; ``file_interval=300`` does the same, while the
default writes one file per folder, which is quicker for days of generated traffic and reads
back the same. AWS stamps a file with the time it was written and a random hash; here the
stamp is the file's last record ``end`` and the hash is derived from the flow-log ID and the
file's window, so the same records give the same tree. :func:`helpers.flowlogs.read` reads the
tree back, with the partition values as columns.
"""

from __future__ import annotations

import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from helpers.errors import FlowLogFormatError
from helpers.flowlogs import layout
from helpers.flowlogs.fields import FIELDS, format_string, format_version, parse_format
from helpers.flowlogs.io import arrow_schema, write_text

__all__ = ["DEFAULT_FLOW_LOG_ID", "FLOW_LOG_ID", "check_flow_log_id", "write_tree"]

DEFAULT_FLOW_LOG_ID = "fl-0a1b2c3d4e5f60000"
FLOW_LOG_ID = re.compile(r"fl-(?:[0-9a-f]{8}|[0-9a-f]{17})")
"""AWS flow-log IDs: ``fl-`` and 8 (older) or 17 hexadecimal digits."""
ACCOUNT_ID = re.compile(r"[0-9]{12}")
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_PROGRESS_ABOVE = 24  # files; fewer are written without a progress bar


def check_flow_log_id(flow_log_id) -> str:
    """The ID unchanged if it looks like AWS's (``fl-`` + 8 or 17 hex digits), else an error.

    It becomes part of every file name, so nothing else (a ``/``, ``..``) may get through.
    """
    if not isinstance(flow_log_id, str) or not FLOW_LOG_ID.fullmatch(flow_log_id):
        raise FlowLogFormatError(
            f"flow_log_id {flow_log_id!r} is not a flow-log ID: expected 'fl-' followed by 8 "
            "or 17 lowercase hexadecimal digits, e.g. 'fl-0a1b2c3d4e5f60000'")
    return flow_log_id


def write_tree(df: pd.DataFrame, root: str | os.PathLike, *, log_format: str | None = None,
               file_format: str = "parquet", hive: bool = True, per_hour: bool = False,
               file_interval: int | None = None, flow_log_id: str = DEFAULT_FLOW_LOG_ID,
               account_id: str | None = None, region: str | None = None,
               progress: bool | None = None, workers: int | None = None) -> list[Path]:
    """Write records under ``root`` as S3 delivery lays them out; return the paths written.

    Args:
        df: records with ``start`` (and ``account_id``/``region`` columns unless given as
            arguments): a generated frame, or one read back. ``label`` and other columns
            that are not flow-log fields are not written.
        root: the folder that receives ``AWSLogs/...``.
        log_format: the flow log's format: only its fields are written, in its order, with
            ``version`` as AWS writes it for that format. None writes every field column.
        file_format: ``"parquet"`` (gzip-compressed, AWS's column names and types) or
            ``"plain-text"`` (``.log.gz`` with a header line): a flow log's ``FileFormat``.
        hive: Hive-compatible prefixes (``year=2021/``) instead of plain ones (``2021/``).
        per_hour: hourly folders instead of daily ones (``PerHourPartition``).
        file_interval: seconds per file, by record ``start``; 300 is AWS's cadence. None
            writes one file per folder. Must divide the folder's hour or day.
        flow_log_id: the flow log's ID, part of every file name (checked: ``fl-`` + hex).
        account_id, region: the values for the paths when the frame has no such columns
            (or to override them).
        progress: show a progress bar; None shows one when more than 24 files are written.
        workers: threads that write files in parallel (default: the number of CPUs).

    Raises:
        FlowLogFormatError: a bad option, flow-log ID or format, or records that lack what
            places them in a folder.
    """
    if file_format not in layout.FILE_FORMATS:
        raise FlowLogFormatError(f"file_format must be 'parquet' or 'plain-text', not "
                                 f"{file_format!r}")
    check_flow_log_id(flow_log_id)
    period = 3600 if per_hour else 86400
    interval = period if file_interval is None else file_interval
    if isinstance(interval, bool) or not isinstance(interval, (int, np.integer)) \
            or interval <= 0 or period % interval:
        raise FlowLogFormatError(f"file_interval must be a whole number of seconds that "
                                 f"divides {period} (e.g. 300), not {file_interval!r}")
    if not isinstance(df, pd.DataFrame):
        raise FlowLogFormatError(f"records must be a DataFrame, not {type(df).__name__}")
    account_ids = _column_or(df, "account_id", account_id)
    regions = _column_or(df, "region", region)
    if "start" not in df.columns or df["start"].isna().any():
        raise FlowLogFormatError("every record needs a start time to be placed in a folder "
                                 "(the 'start' column is missing or has missing values)")
    if log_format is None:
        names = [c for c in df.columns if c.replace("_", "-") in FIELDS]
    else:
        fields = parse_format(log_format)
        names = [f.replace("-", "_") for f in fields]
        missing = [n for n in names if n not in df.columns and n != "version"]
        if missing:
            raise FlowLogFormatError(f"the records lack {', '.join(missing)} for the format "
                                     f"{format_string(fields)!r}")
        if "version" in names:  # AWS writes the format's version, whatever the traffic was
            df = df.assign(version=pd.array([format_version(log_format)] * len(df),
                                            dtype="Int32"))
    root = Path(root)
    start = df["start"].to_numpy(dtype=np.int64)
    end = df["end"].to_numpy(dtype=np.int64, na_value=0) if "end" in df.columns else start
    slot = start // interval
    account, accounts = pd.factorize(account_ids)
    region_code, region_names = pd.factorize(regions)
    span = int(slot.max() - slot.min() + 1) if len(df) else 1
    key = (account.astype(np.int64) * len(region_names) + region_code) * span \
        + (slot - (slot.min() if len(df) else 0))
    order = None if np.all(key[1:] >= key[:-1]) else np.argsort(key, kind="stable")
    if order is not None:
        key, start, end = key[order], start[order], end[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(key)) + 1, len(key)] if len(key) else np.r_[0]
    firsts = bounds[:-1]
    stamps = np.maximum.reduceat(end, firsts) if len(firsts) else firsts
    if file_format == "parquet":
        data = pa.Table.from_pandas(df[names], schema=arrow_schema(names), preserve_index=False)
        if order is not None:
            data = data.take(order)
    else:
        data = df[names] if order is None else df[names].iloc[order]
    jobs = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        row = a if order is None else order[a]
        account_text = str(accounts[account[row]])
        region_text = str(region_names[region_code[row]])
        window = int(start[a]) // interval * interval
        name = f"{flow_log_id}/{account_text}/{region_text}/{window}"
        digest = f"{zlib.crc32(name.encode()):08x}"
        key_text = layout.s3_key(account_text, region_text, window, hive=hive,
                                 per_hour=per_hour, file_format=file_format,
                                 flow_log_id=flow_log_id, stamp=int(stamps[i]), digest=digest)
        jobs.append((root / key_text, int(a), int(b)))

    def write(job):
        path, a, b = job
        path.parent.mkdir(parents=True, exist_ok=True)
        if file_format == "parquet":
            pq.write_table(data.slice(a, b - a), path, compression="gzip", compression_level=3)
        else:
            write_text(data.iloc[a:b], path, log_format)
        return path

    show = len(jobs) > _PROGRESS_ABOVE if progress is None else progress
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool, \
            tqdm(total=len(jobs), unit="file", disable=not show, desc="writing") as bar:
        paths = []
        for path in pool.map(write, jobs):
            paths.append(path)
            bar.update()
    return paths


def _column_or(df: pd.DataFrame, column: str, value: str | None) -> pd.Series:
    """The frame's column, or ``value`` for every record; an error when neither is there.

    The values become folder names, so each must look like an account ID (12 digits) or a
    region code (``ap-northeast-2``): nothing else may reach the path.
    """
    if value is not None:
        values = pd.Series([value] * len(df), dtype=object)
    elif column not in df.columns or df[column].isna().any():
        raise FlowLogFormatError(f"every record needs {column} to be placed in a folder: the "
                                 f"column is missing or has missing values; pass {column}=")
    else:
        values = df[column]
    pattern, example = (ACCOUNT_ID, "123456789012") if column == "account_id" else (
        REGION, "ap-northeast-2")
    bad = [v for v in pd.unique(values) if not (isinstance(v, str) and pattern.fullmatch(v))]
    if bad:
        raise FlowLogFormatError(f"{column} {bad[0]!r} cannot name an S3 folder: expected "
                                 f"something like {example!r}")
    return values
