"""Flow-log sizes measured, not assumed: bytes per record and records per flow.

Everything here is measured on records from :func:`helpers.traffic.generate` with a fixed seed,
so the numbers are the same run after run and change only when the generator or the writers
change. Four containers, each the way AWS counts or stores it:

- ``cloudwatch``: bytes CloudWatch Logs ingests, each record's text plus 26 bytes per event
  (:func:`helpers.flowlogs.delivery.ingested_bytes`; PutLogEvents,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
- ``text``: the records as uncompressed text, one line each: what the course bills as the
  vended-log volume delivered to S3 (AWS does not say whether it counts bytes before
  compression; the course assumes it does).
- ``gzip``: an S3 text file as the flow log writes it, ``.log.gz`` with its header line
  (:func:`helpers.flowlogs.write_text`).
- ``parquet``: an S3 Parquet file, gzip-compressed as AWS writes it
  (:func:`helpers.flowlogs.write_parquet`).

Files are measured as one file for the whole sample, the large-volume limit; AWS writes a file
every 5 minutes per flow log, and a small file carries a relatively larger header (the VPC user
guide warns that Parquet under 100 KB per file can be larger than gzip text,
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html). Synthetic traffic
repeats a few addresses, so it compresses somewhat better than a busy real VPC.

The aggregation interval (``MaxAggregationInterval``, 600 s by default or 60 s) changes how many
records a flow makes: a flow is a 5-tuple on one network interface, and it gets one record per
interval it is active in (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html). On
Nitro instances the interval is always 60 s or less, whatever the setting.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import pandas as pd

from helpers.errors import CostError, FlowLogFormatError
from helpers.flowlogs import DEFAULT_FORMAT, field, parse_format, write_parquet, write_text
from helpers.flowlogs.delivery import as_written, ingested_bytes
from helpers.traffic import COLUMNS as GENERATED_COLUMNS
from helpers.traffic import generate

__all__ = [
    "AGGREGATIONS",
    "CONTAINERS",
    "FORMATS",
    "LESSON_FORMAT",
    "TRAFFIC_TYPES",
    "Sizes",
    "bytes_per_record",
    "check_aggregation",
    "check_traffic_type",
    "measure_sizes",
    "record_counts",
    "resolve_format",
    "size_table",
]

LESSON_FORMAT = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
"""The custom format of the lesson's 실습 3."""

FORMATS = MappingProxyType({"default": DEFAULT_FORMAT, "lesson": LESSON_FORMAT,
                            "custom": LESSON_FORMAT})
"""Format names :func:`resolve_format` knows ("custom" is the lesson's custom format)."""

CONTAINERS = ("cloudwatch", "text", "gzip", "parquet")
TRAFFIC_TYPES = ("ALL", "ACCEPT", "REJECT")
AGGREGATIONS = (60, 600)
"""The two ``MaxAggregationInterval`` values AWS accepts, in seconds."""

_FLOW_KEY = ["interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol"]
_CONTAINER_NOTES = {
    "cloudwatch": "CloudWatch Logs ingested bytes: record text + 26 bytes per event",
    "text": "uncompressed record text, one line per record (vended volume to S3)",
    "gzip": "S3 text file (.log.gz, header line included)",
    "parquet": "S3 Parquet file (gzip-compressed columns)",
}


def resolve_format(log_format) -> str:
    """The format string of ``log_format``: a name of :data:`FORMATS` or a ``${field}`` string.

    The fields must be ones the traffic generator makes (flow-log versions 2 to 5), since
    sizes are measured on its records.

    >>> resolve_format("lesson") == LESSON_FORMAT
    True
    """
    if isinstance(log_format, str) and log_format in FORMATS:
        return FORMATS[log_format]
    if not isinstance(log_format, str) or "$" not in log_format:
        names = ", ".join(repr(n) for n in FORMATS)
        shown = repr(log_format) if isinstance(log_format, str) else type(log_format).__name__
        close = difflib.get_close_matches(str(log_format), list(FORMATS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CostError(f"log_format {shown} is not a format{hint}: give {names} or a format "
                        "string of ${field} tokens such as '${srcaddr} ${dstaddr} ${action}'")
    try:
        names = parse_format(log_format)
    except FlowLogFormatError as err:
        raise CostError(f"log_format: {err}") from err
    missing = [n for n in names if field(n).column not in GENERATED_COLUMNS]
    if missing:
        raise CostError(f"log_format: the generator makes fields of versions 2-5 only, so the "
                        f"size of {', '.join(missing)} cannot be measured here")
    return log_format


def check_aggregation(aggregation, argument: str = "aggregation") -> int:
    """``aggregation`` as an int if it is 60 or 600 (seconds), else a CostError."""
    if isinstance(aggregation, bool) or aggregation not in AGGREGATIONS:
        raise CostError(f"{argument} must be 60 or 600 seconds (a flow log's "
                        f"MaxAggregationInterval), not {aggregation!r}")
    return int(aggregation)


def bytes_per_record(records: pd.DataFrame, log_format: str = "default") -> dict[str, float]:
    """Bytes per record of ``records`` in each container of :data:`CONTAINERS`.

    ``log_format`` is a name of :data:`FORMATS` or a format string; the records are written as
    a flow log with that format writes them (``version`` is the format's).

    Raises:
        CostError: an empty frame or a bad ``log_format``.
    """
    log_format = resolve_format(log_format)
    if not isinstance(records, pd.DataFrame) or records.empty:
        raise CostError("records must be a non-empty DataFrame of flow-log records, such as "
                        "helpers.traffic.generate()")
    written = as_written(records, log_format)
    n = len(written)
    sizes = {"cloudwatch": ingested_bytes(written, log_format) / n}
    with tempfile.TemporaryDirectory() as tmp:
        text = write_text(written, os.path.join(tmp, "r.log"), log_format, header=False)
        gz = write_text(written, os.path.join(tmp, "r.log.gz"), log_format)
        pq = write_parquet(written, os.path.join(tmp, "r.parquet"), log_format)
        sizes["text"] = text.stat().st_size / n
        sizes["gzip"] = gz.stat().st_size / n
        sizes["parquet"] = pq.stat().st_size / n
    return sizes


@dataclass(frozen=True)
class Sizes:
    """Measured sizes of one format on one generated sample.

    Attributes:
        log_format: the format string.
        bytes_per_record: container (:data:`CONTAINERS`) → bytes per record, measured on the
            sample with 600-second aggregation.
        records: ``(aggregation, traffic_type)`` → records of the sample (every record counts
            for ALL, including NODATA and SKIPDATA; ACCEPT and REJECT by ``action``).
        traffic_records: aggregation → records of traffic (log-status OK).
        flows: aggregation → distinct flows (5-tuple per interface) among those records.
        sample: how the sample was generated.
    """

    log_format: str
    bytes_per_record: MappingProxyType
    records: MappingProxyType
    traffic_records: MappingProxyType
    flows: MappingProxyType
    sample: str

    def share(self, traffic_type: str, aggregation: int = 600) -> float:
        """The share of the records a flow log of this traffic type keeps (ALL keeps 1)."""
        traffic_type = check_traffic_type(traffic_type)
        aggregation = check_aggregation(aggregation)
        return self.records[aggregation, traffic_type] / self.records[aggregation, "ALL"]

    def records_per_flow(self, aggregation: int = 600) -> float:
        """Traffic records per flow: how many intervals a flow is active in, on average."""
        aggregation = check_aggregation(aggregation)
        return self.traffic_records[aggregation] / self.flows[aggregation]

    def aggregation_factor(self, aggregation: int, measured_at: int = 600) -> float:
        """How many times more records ``aggregation`` makes than ``measured_at`` does."""
        aggregation = check_aggregation(aggregation)
        measured_at = check_aggregation(measured_at, "measured_aggregation")
        return self.records[aggregation, "ALL"] / self.records[measured_at, "ALL"]

    def to_frame(self) -> pd.DataFrame:
        """Bytes per record, one row per container: container, bytes_per_record, note."""
        return pd.DataFrame({
            "container": list(CONTAINERS),
            "bytes_per_record": [self.bytes_per_record[c] for c in CONTAINERS],
            "note": [_CONTAINER_NOTES[c] for c in CONTAINERS],
        })

    def counts_frame(self) -> pd.DataFrame:
        """Record counts: aggregation, traffic_type, records, share, flows, records_per_flow."""
        rows = [(a, t, self.records[a, t], self.share(t, a), self.flows[a],
                 self.records_per_flow(a)) for a in AGGREGATIONS for t in TRAFFIC_TYPES]
        return pd.DataFrame(rows, columns=["aggregation", "traffic_type", "records", "share",
                                           "flows", "records_per_flow"])


def check_traffic_type(traffic_type) -> str:
    """``traffic_type`` if it is ALL, ACCEPT or REJECT (AWS's TrafficType), else a CostError."""
    if not isinstance(traffic_type, str) or traffic_type not in TRAFFIC_TYPES:
        raise CostError(f"traffic_type must be one of {', '.join(TRAFFIC_TYPES)} (a flow "
                        f"log's TrafficType), not {traffic_type!r}")
    return traffic_type


def measure_sizes(log_format: str = "default", *, scenarios=None, seed: int = 0,
                  duration="1h") -> Sizes:
    """Measure a format's bytes per record and the sample's records per flow and shares.

    Generates the scenarios (:func:`helpers.traffic.generate`; None means the lesson's lab
    traffic over the web baseline) twice, with 600- and 60-second aggregation, and measures
    the 600-second records. Results are cached per argument set; a 1-hour sample takes well
    under a second.

    Raises:
        CostError: a bad ``log_format``.
        TrafficError: a bad scenario, seed or duration (from the generator).
    """
    log_format = resolve_format(log_format)
    key = tuple(scenarios) if isinstance(scenarios, (list, tuple)) else scenarios
    try:
        hash((key, seed, duration))
    except TypeError:
        return _measure(log_format, scenarios, seed, duration)
    return _measure_cached(log_format, key, seed, duration)


@lru_cache(maxsize=32)
def _measure_cached(log_format, scenarios, seed, duration) -> Sizes:
    return _measure(log_format, scenarios, seed, duration)


def _measure(log_format, scenarios, seed, duration) -> Sizes:
    chosen = list(scenarios) if isinstance(scenarios, tuple) else scenarios
    records, traffic, flows = {}, {}, {}
    measured = None
    for aggregation in AGGREGATIONS:
        frame = _sample(chosen, seed, duration, aggregation)
        records[aggregation, "ALL"] = len(frame)
        for action in ("ACCEPT", "REJECT"):
            records[aggregation, action] = int((frame["action"] == action).fillna(False).sum())
        ok = frame[(frame["log_status"] == "OK").fillna(False).to_numpy()]
        traffic[aggregation] = len(ok)
        flows[aggregation] = max(len(ok.drop_duplicates(_FLOW_KEY)), 1)
        if aggregation == 600:
            measured = bytes_per_record(frame, log_format)
    shown = "the lesson's lab traffic" if scenarios is None else repr(scenarios)
    return Sizes(log_format, MappingProxyType(measured), MappingProxyType(records),
                 MappingProxyType(traffic), MappingProxyType(flows),
                 f"{shown}, seed={seed}, duration={duration!r}")


def _sample(scenarios, seed, duration, aggregation) -> pd.DataFrame:
    frame = generate(scenarios, seed=seed, duration=duration, aggregation=aggregation)
    if frame.empty:
        raise CostError(f"scenarios {scenarios!r} over duration {duration!r} made no records "
                        "to measure; use a longer duration or other scenarios")
    return frame


def size_table(formats=("default", "lesson"), *, scenarios=None, seed: int = 0,
               duration="1h") -> pd.DataFrame:
    """Bytes per record for each format and container: format, container, bytes_per_record,
    note (one row each), measured by :func:`measure_sizes`."""
    if isinstance(formats, str):
        formats = [formats]
    frames = []
    for name in formats:
        sizes = measure_sizes(name, scenarios=scenarios, seed=seed, duration=duration)
        frames.append(sizes.to_frame().assign(format=name))
    table = pd.concat(frames, ignore_index=True)
    return table[["format", "container", "bytes_per_record", "note"]]


def record_counts(scenarios=None, *, seed: int = 0, duration="1h") -> pd.DataFrame:
    """Records of a generated sample by aggregation interval and traffic type.

    Columns: aggregation, traffic_type, records, share (of ALL), flows, records_per_flow.
    Shows what the 60-second interval and REJECT-only logging do to the record count.
    """
    return measure_sizes("default", scenarios=scenarios, seed=seed,
                         duration=duration).counts_frame()
