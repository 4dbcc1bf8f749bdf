"""What the flow-log service delivers, computed from records and a flow log's settings.

Pure functions, no AWS calls: which records a flow log captures, the CloudWatch Logs events
and ``PutLogEvents`` batches it would send, and the S3 objects (keys and bodies) it would write
(through :func:`helpers.flowlogs.tree.write_tree`, the one S3-tree writer). ``helpers.aws``
sends the result to the emulator, or reads back what AWS delivered.

AWS rules followed here:
- A flow log captures the network interfaces of its resource (VPC, subnet or one interface)
  and its traffic type: ACCEPT, REJECT or ALL. NODATA and SKIPDATA records carry no action;
  they belong to ALL only (our choice: AWS does not say how the filter treats them).
- CloudWatch Logs: one log stream per network interface, named by its ID; the event
  timestamp is the record's start time in milliseconds
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html). ``PutLogEvents``
  takes at most 10,000 events and 1,048,576 bytes (each event's UTF-8 message plus 26 bytes),
  in chronological order, spanning at most 24 hours
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
- S3: a file per flow log every 5 minutes, gzip-compressed text with a header line or Parquet,
  under ``AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/]`` (or the
  Hive-compatible ``aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/…``), named
  ``<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`` or
  ``.log.parquet`` (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from helpers.errors import FlowLogFormatError
from helpers.flowlogs.fields import format_version
from helpers.flowlogs.io import format_lines
from helpers.flowlogs.tree import write_tree

__all__ = [
    "FlowLog",
    "RESOURCE_TYPES",
    "as_written",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_EVENTS",
    "captured",
    "event_batches",
    "ingested_bytes",
    "log_events",
    "s3_objects",
]

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26  # bytes PutLogEvents counts for each event besides its message
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
S3_FILE_INTERVAL = 300  # seconds: the service publishes a file every 5 minutes
RESOURCE_TYPES = {"vpc": "VPC", "subnet": "Subnet", "eni": "NetworkInterface"}
"""A flow log's ``ResourceType`` by the prefix of the resource's ID."""


@dataclass(frozen=True)
class FlowLog:
    """A flow log: its ``describe_flow_logs`` entry, with the S3 options the course asked for."""

    flow_log_id: str
    resource_id: str  # vpc-…, subnet-… or eni-…
    traffic_type: str  # "ALL", "ACCEPT" or "REJECT"
    log_format: str
    destination_type: str  # "cloud-watch-logs" or "s3"
    log_group: str | None = None
    bucket: str | None = None
    file_format: str = "plain-text"  # or "parquet" (S3 only)
    hive_compatible: bool = False
    per_hour: bool = False
    max_aggregation_interval: int = 600

    @property
    def resource_type(self) -> str:
        """``VPC``, ``Subnet`` or ``NetworkInterface``, from the resource ID's prefix."""
        kind = RESOURCE_TYPES.get(self.resource_id.split("-")[0])
        if kind is None:
            raise FlowLogFormatError(f"resource {self.resource_id!r} is not a VPC, subnet or "
                                     "network interface ID (vpc-…, subnet-…, eni-…)")
        return kind


def captured(records: pd.DataFrame, flow_log: FlowLog, interfaces: pd.DataFrame
             ) -> pd.DataFrame:
    """The records a flow log captures: its resource's interfaces and its traffic type.

    ``interfaces`` maps each ``interface_id`` to its ``subnet_id`` and ``vpc_id`` (one row per
    interface), so records need only the default-format columns.
    """
    scope = interfaces
    if flow_log.resource_type == "VPC":
        scope = interfaces[interfaces["vpc_id"] == flow_log.resource_id]
    elif flow_log.resource_type == "Subnet":
        scope = interfaces[interfaces["subnet_id"] == flow_log.resource_id]
    else:
        scope = interfaces[interfaces["interface_id"] == flow_log.resource_id]
    mask = records["interface_id"].isin(scope["interface_id"])
    if flow_log.traffic_type != "ALL":
        mask &= (records["action"] == flow_log.traffic_type).fillna(False)
    return records[mask]


def as_written(records: pd.DataFrame, log_format: str) -> pd.DataFrame:
    """The records as a flow log with this format writes them: ``version`` is the format's.

    AWS writes version 2 for the default format and, for a custom format, the highest version
    among its fields, whatever else the traffic could have told.
    """
    if "version" not in records.columns:
        return records
    return records.assign(version=pd.array([format_version(log_format)] * len(records),
                                           dtype="Int32"))


def log_events(records: pd.DataFrame, log_format: str) -> pd.DataFrame:
    """CloudWatch Logs events: ``log_stream`` (the interface ID), ``timestamp`` (ms), ``message``.

    Sorted by stream, then timestamp, as ``PutLogEvents`` needs them.
    """
    lines = format_lines(as_written(records, log_format), log_format)
    events = pd.DataFrame({
        "log_stream": records["interface_id"].astype(str).to_numpy(),
        "timestamp": records["start"].astype("int64").to_numpy() * 1000,
        "message": lines.to_numpy(zero_copy_only=False),
    })
    return events.sort_values(["log_stream", "timestamp"], kind="stable", ignore_index=True)


def ingested_bytes(records: pd.DataFrame, log_format: str) -> int:
    """Bytes CloudWatch Logs would ingest for these records: each message plus 26 bytes.

    The same count ``PutLogEvents`` uses for its batch limit; ingestion is billed on it.
    """
    messages = format_lines(as_written(records, log_format), log_format)
    lengths = pc.binary_length(messages).to_numpy(zero_copy_only=False)
    return int(lengths.sum()) + EVENT_OVERHEAD * len(records)


def event_batches(events: pd.DataFrame) -> list[tuple[str, int, int]]:
    """Split sorted events into ``PutLogEvents`` calls: ``(log_stream, start_row, end_row)``.

    Each batch holds one stream's events, at most 10,000 of them, at most 1,048,576 bytes
    counted AWS's way, spanning at most 24 hours.
    """
    sizes = events["message"].str.len().to_numpy() + EVENT_OVERHEAD  # ASCII: chars == bytes
    streams = events["log_stream"].to_numpy()
    stamps = events["timestamp"].to_numpy()
    batches, start, size = [], 0, 0
    for i in range(len(events)):  # a cheap loop over integers; records are never touched here
        if i > start and (streams[i] != streams[start] or i - start == MAX_BATCH_EVENTS
                          or size + sizes[i] > MAX_BATCH_BYTES
                          or stamps[i] - stamps[start] > MAX_BATCH_SPAN_MS):
            batches.append((streams[start], start, i))
            start, size = i, 0
        size += sizes[i]
    if len(events):
        batches.append((streams[start], start, len(events)))
    return batches


def s3_objects(records: pd.DataFrame, flow_log: FlowLog, account_id: str, region: str
               ) -> list[tuple[str, bytes, int]]:
    """The files a flow log writes for these records: ``(key, body, record_count)``.

    One file per 5 minutes of record start times, laid out as the flow log's options say, by
    the same writer as every S3 tree of the course; equal records give equal keys and bodies.
    """
    windows = records["start"].astype("int64").to_numpy() // S3_FILE_INTERVAL
    counts = np.unique(windows, return_counts=True)[1]
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tree(records, tmp, log_format=flow_log.log_format,
                           file_format=flow_log.file_format, hive=flow_log.hive_compatible,
                           per_hour=flow_log.per_hour, file_interval=S3_FILE_INTERVAL,
                           flow_log_id=flow_log.flow_log_id, account_id=account_id,
                           region=region, progress=False)
        return [(path.relative_to(tmp).as_posix(), path.read_bytes(), int(count))
                for path, count in zip(paths, counts)]
