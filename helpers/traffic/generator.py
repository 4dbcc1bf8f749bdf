"""Seeded, vectorised flow-log records of the lab VPC: :func:`generate`.

The pipeline: each scenario draws its connection attempts (``scenarios.py``); every attempt is
routed and judged by the topology's security groups and network ACLs and becomes records
(``records.py``); then idle interfaces get NODATA records, a few busy windows become SKIPDATA,
and the records are sorted by time and typed exactly as :func:`helpers.flowlogs.read` types
them. Everything is numpy and Arrow; Python loops only over scenarios, hops and rules.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers import times
from helpers.errors import TimeValueError, TrafficError
from helpers.flowlogs.fields import FIELDS
from helpers.traffic.records import assign_ports, concat, to_records
from helpers.traffic.scenarios import (
    DEFAULT_SCENARIOS,
    SCENARIOS,
    Context,
    build,
    check_name,
    expected_records,
)
from helpers.traffic.topology import Topology, default_topology

__all__ = ["COLUMNS", "LABELS", "LESSON_START", "MAX_RECORDS", "MAX_SCALE", "az_id",
           "estimate_records", "generate", "parse_duration", "parse_start"]

VERSION = 5
LESSON_START = 1639958400  # 2021-12-20T00:00:00Z, the day of the lesson's example records
COLUMNS: tuple[str, ...] = tuple(f.column for f in FIELDS.values() if f.version <= VERSION)
"""The flow-log columns of a generated frame: every field of versions 2–5, in registry order."""

LABELS: tuple[str, ...] = (*SCENARIOS, "nodata", "skipdata")
"""Every value the ``label`` column can take."""

AGGREGATION_INTERVALS = (60, 600)  # MaxAggregationInterval, in seconds
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_OK, _NODATA, _SKIPDATA = 0, 1, 2
_SKIPDATA_EVERY = 12 * 3600  # about one SKIPDATA window per 12 hours of everyday traffic
_EVERYDAY = ("web_baseline", "lab_background")  # traffic whose records SKIPDATA may take
_STRING = pa.large_string()
_LAST_SECOND = int(pd.Timestamp.max.timestamp())  # 2262-04-11T23:47:16Z, pandas' last time

_PEAK_BYTES = 620  # memory per record at the peak of generate(), measured (see MAX_RECORDS)

MAX_RECORDS = 15_000_000
"""The most records :func:`generate` makes in one call, estimated before anything is drawn.

A generated record takes about 420 bytes in the frame and about 620 bytes at the peak of
generation (the numpy and Arrow arrays it is built from), measured with every scenario over a
day; 15 million records need about 9 GB of memory at the peak and leave a frame of about
6 GB, as much as a 16 GB laptop can hold. The benchmark's largest frame (every scenario for a
day at scale 64, 11.5 million records) fits. Make a longer span in several calls with
consecutive ``start`` times, or raise this module attribute on a machine with more memory.
"""

MAX_SCALE = 1_000_000
"""The largest ``scale``: a million times the lesson's traffic is beyond any lab, and the
scenarios' Poisson draws overflow well above it (the record estimate catches most cases first,
but some scenarios cap their connections and would not be caught)."""


def generate(scenarios=None, *, seed: int = 0, start=None, duration="1h",
             topology: Topology | None = None, aggregation: int = 60, scale: float = 1.0,
             explain: bool = False) -> pd.DataFrame:
    """Flow-log records of the lab VPC for the named scenarios, as AWS would log them.

    Args:
        scenarios: scenario names (a list, or one comma-separated string; ``"all"`` for every
            scenario of :data:`SCENARIOS`); None means lab 2's traffic over the web baseline
            (:data:`DEFAULT_SCENARIOS`).
        seed: the seed of every random draw, a whole number from 0; the same arguments give
            the same frame.
        start: the first second: epoch seconds, an ISO 8601 string or a datetime (naive
            values are UTC), from 1970-01-01; None means the lesson's date,
            2021-12-20T00:00:00Z.
        duration: how long: ``"90s"``, ``"30m"``, ``"1h"``, ``"1d"``, seconds or a timedelta.
        topology: the VPC whose rules decide ACCEPT and REJECT; None means
            :func:`helpers.traffic.topology.default_topology`.
        aggregation: the flow log's maximum aggregation interval, 60 or 600 seconds.
        scale: multiplies how many connections every scenario opens: a finite number above
            0, at most :data:`MAX_SCALE`.
        explain: add two columns for checking the rules: ``is_response`` (the record is the
            response direction of a connection) and ``icmp_type`` (8 request, 0 reply).

    Returns:
        One row per record: the canonical column of every field of versions 2–5 (registry
        order, typed like :func:`helpers.flowlogs.read`: Int32/Int64 and pyarrow strings, NA
        for ``-``), then ``label``, the scenario that produced the record (``"nodata"`` and
        ``"skipdata"`` for those records). Sorted by ``start``, then interface.

    Raises:
        TrafficError: an unknown scenario; a bad seed, start, duration, aggregation interval,
            scale or topology; or more records than :data:`MAX_RECORDS` expected
            (:func:`estimate_records`), refused before any memory is taken.

    >>> df = generate(["admin_ping"], duration="10m")
    >>> icmp = df[df.protocol == 1]
    >>> print(icmp[["interface_id", "flow_direction", "packets", "bytes", "action"]]
    ...       .to_string(index=False))
             interface_id flow_direction  packets  bytes action
    eni-01a1b2c3d4e5f6000        ingress        4    336 ACCEPT
    eni-01a1b2c3d4e5f6000         egress        4    336 REJECT
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
            or seed < 0:
        raise TrafficError(f"seed must be a whole number from 0 (the same seed gives the same "
                           f"records), not {seed!r}")
    names = scenario_names(scenarios)
    first = parse_start(start)
    seconds = parse_duration(duration)
    window = _check_aggregation(aggregation)
    factor = _check_scale(scale)
    if topology is not None and not isinstance(topology, Topology):
        raise TrafficError(f"topology must be a Topology (such as default_topology() or the "
                           f"lab's from helpers.aws), not {type(topology).__name__}")
    if not isinstance(explain, (bool, np.bool_)):
        raise TrafficError(f"explain must be True or False, not {explain!r}")
    topology = default_topology() if topology is None else topology
    estimate = estimate_records(names, seconds, scale=factor, aggregation=window,
                                interfaces=len(topology.interfaces))
    if not estimate <= MAX_RECORDS:
        raise TrafficError(
            f"duration {_shown(duration)} at scale {scale!r} would make about "
            f"{_count(estimate)} records (the expected records of {_listed(names)}, plus a "
            "NODATA record per idle interface and window); "
            f"the limit is {MAX_RECORDS:,} records, about "
            f"{MAX_RECORDS * _PEAK_BYTES / 1e9:.0f} GB of memory while generating. "
            "Use a shorter duration or a smaller scale, or make a long span in several calls "
            "with consecutive start times")
    if first + seconds > _LAST_SECOND:
        raise TrafficError(f"duration {_shown(duration)} from start {times.iso_z(first)} ends "
                           f"after {times.iso_z(_LAST_SECOND)}, the last time pandas can hold")
    ctx = Context(topology, first, first + seconds, factor)
    batches = []
    for name in names:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        batches += build(name, ctx, rng)
    assign_ports(batches, np.random.default_rng([seed, 1]))
    records = concat([
        to_records(b, topology, scenario_code=LABELS.index(b.scenario), start=ctx.start,
                   end=ctx.end, window=window)
        for b in batches if len(b)])
    keep, status = _status_records(records, ctx, window, np.random.default_rng([seed, 2]))
    return _frame(records, keep, status, topology, explain)


def estimate_records(scenarios=None, duration="1h", *, scale: float = 1.0,
                     aggregation: int = 60, interfaces: int = 3) -> float:
    """About how many records :func:`generate` makes, from the scenarios' rates alone.

    The sum of each scenario's expected records
    (:func:`helpers.traffic.scenarios.expected_records`) plus one per interface and
    aggregation window, the most NODATA records there can be. Nothing is drawn, so it is
    instant for any duration. The arguments are :func:`generate`'s; ``interfaces`` is how
    many interfaces the topology has.

    >>> round(estimate_records(["web_baseline"], "1d"))  # and 1,440 minutes × 3 interfaces
    133920
    """
    names = scenario_names(scenarios)
    seconds = parse_duration(duration)
    factor, window = _check_scale(scale), _check_aggregation(aggregation)
    if isinstance(interfaces, bool) or not isinstance(interfaces, (int, np.integer)) \
            or interfaces < 0:
        raise TrafficError(f"interfaces must be a whole number from 0, not {interfaces!r}")
    hours = seconds / 3600
    traffic = sum(expected_records(name, hours, factor) for name in names)
    return traffic + -(-seconds // window) * max(interfaces, 1)


def _check_scale(scale) -> float:
    """``scale`` as a float, if it is a finite number above 0 and at most MAX_SCALE."""
    if not _is_number(scale) or not 0 < _float(scale) <= MAX_SCALE:
        raise TrafficError(f"scale must be a finite number above 0 and at most "
                           f"{MAX_SCALE:,}, not {_shown(scale)}")
    return float(scale)


def _check_aggregation(aggregation) -> int:
    """``aggregation`` as an int, if it is 60 or 600 (seconds)."""
    if not _is_number(aggregation) or aggregation not in AGGREGATION_INTERVALS:
        raise TrafficError(f"aggregation must be 60 or 600 seconds (a flow log's "
                           f"MaxAggregationInterval), not {aggregation!r}")
    return int(aggregation)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _float(value) -> float:
    """A number as a float; infinite when it is too large for one, NaN stays NaN."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _shown(value) -> str:
    """A value for a message: its repr, shortened to one line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(n: float) -> str:
    return f"{n:,.0f}" if n < 1e18 else f"{n:.3g}"


def _listed(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{len(names)} scenarios"


def scenario_names(scenarios) -> list[str]:
    """The scenario names an argument asks for, checked, without repeats."""
    if scenarios is None:
        return list(DEFAULT_SCENARIOS)
    if isinstance(scenarios, str):
        scenarios = list(SCENARIOS) if scenarios.strip() == "all" else scenarios.split(",")
    elif isinstance(scenarios, (bytes, bytearray)) or not hasattr(scenarios, "__iter__"):
        raise TrafficError(f"scenarios must be a list of scenario names, one comma-separated "
                           f"string or 'all', not {type(scenarios).__name__} {scenarios!r}")
    names = []
    for raw in scenarios:
        if not isinstance(raw, str):
            raise TrafficError(f"scenarios must hold scenario names (text), not "
                               f"{type(raw).__name__} {raw!r}; valid scenarios: "
                               f"{', '.join(SCENARIOS)}")
        name = check_name(raw.strip())
        if name not in names:
            names.append(name)
    if not names:
        raise TrafficError(f"no scenario given; valid scenarios: {', '.join(SCENARIOS)}")
    return names


def parse_start(value) -> int:
    """Epoch seconds from None (the lesson's date), epoch seconds, ISO text or a datetime.

    >>> parse_start("2021-12-20T09:00:00+09:00")
    1639958400
    """
    if value is None:
        return LESSON_START
    try:
        seconds = times.to_epoch(value, "start")
    except TimeValueError as err:
        raise TrafficError(str(err)) from None
    if seconds < 0:
        raise TrafficError(f"start {value!r} is before 1970-01-01T00:00:00Z, where the epoch "
                           "seconds of flow-log records begin")
    return seconds


def parse_duration(value) -> int:
    """Whole seconds from ``"90s"``, ``"30m"``, ``"1h"``, ``"1d"``, seconds or a timedelta.

    >>> parse_duration("1d"), parse_duration("90s"), parse_duration(600)
    (86400, 90, 600)
    """
    if isinstance(value, (dt.timedelta, pd.Timedelta)):
        seconds = value.total_seconds()
    elif _is_number(value):
        seconds = _float(value)
    elif isinstance(value, str) and (match := re.fullmatch(
            r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value.lower())):
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise TrafficError(f"cannot read duration {value!r}: use a number of seconds or "
                           "text like '90s', '30m', '1h', '1d'")
    if math.isnan(seconds) or seconds == math.inf:
        raise TrafficError(f"duration must be a finite number of seconds, not "
                           f"{_shown(value)}")
    if not seconds >= 1:
        raise TrafficError(f"duration must be at least one second, not {value!r}")
    return int(math.ceil(seconds))


_REGION_WORDS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
                 "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}


def az_id(az: str) -> str:
    """A deterministic Availability Zone ID for an AZ name, in AWS's style.

    Real AZ IDs map to names differently in each account; this mapping only has to be stable.

    >>> az_id("ap-northeast-2a"), az_id("ap-northeast-2c"), az_id("us-gov-west-1b")
    ('apne2-az1', 'apne2-az3', 'usgw1-az2')
    """
    match = re.fullmatch(r"([a-z]{2})((?:-[a-z]+)+)-(\d{1,2})([a-z])", az) \
        if isinstance(az, str) else None
    if match is None:
        raise TrafficError(f"az must be an Availability Zone name such as 'ap-northeast-2a' "
                           f"(a Region code and a letter), not {az!r}")
    area, words, number, letter = match.groups()
    words = "".join(_REGION_WORDS.get(w, w[0] if w == "gov" else w[:2])
                    for w in words.split("-")[1:])
    return f"{area}{words}{number}-az{ord(letter) - ord('a') + 1}"


# --- NODATA and SKIPDATA ----------------------------------------------------------------------


def _status_records(records, ctx: Context, window: int, rng):
    """Choose the SKIPDATA windows and make the NODATA/SKIPDATA records.

    Every interface gets a NODATA record for each window in which it saw no traffic. About
    once every 12 hours of windows holding only everyday traffic (the web baseline and the
    lab's background), one window of one interface becomes SKIPDATA: its records are lost, as
    when AWS exceeds internal capacity. Windows holding other scenarios' records are never
    chosen, so the lessons' events stay complete.

    Returns:
        ``keep`` (a mask of the records that survive, or None for all) and the status records.
    """
    n_eni = len(ctx.topology.interfaces)
    n_windows = -(-(ctx.end - ctx.start) // window)
    cells = n_windows * n_eni
    cell = (records["start"] - ctx.start) // window * n_eni + records["eni"]
    busy = np.bincount(cell, minlength=cells) > 0
    everyday = np.isin(records["scenario"], [LABELS.index(n) for n in _EVERYDAY])
    other = np.bincount(cell, weights=~everyday, minlength=cells) > 0
    eligible = np.flatnonzero(busy & ~other)
    skip = np.empty(0, dtype=np.int64)
    keep = None
    if eligible.size:
        k = max(1, round(eligible.size * window / _SKIPDATA_EVERY))
        skip = np.sort(rng.choice(eligible, k, replace=False))
        keep = ~np.isin(cell, skip)
    idle = np.flatnonzero(~busy)
    status_cells = np.concatenate([idle, skip])
    first = ctx.start + status_cells // n_eni * window
    status = {
        "eni": (status_cells % n_eni).astype(np.int16),
        "start": first,
        "end": np.minimum(first + window - 1, ctx.end - 1),
        "log_status": np.r_[np.full(len(idle), _NODATA), np.full(len(skip), _SKIPDATA)].astype(
            np.int8),
    }
    return keep, status


# --- the typed frame --------------------------------------------------------------------------


def _strings(values, codes, mask=None) -> pa.ChunkedArray:
    """An Arrow string column: ``values[codes]``, null where ``mask`` or the value is None.

    When every value has the same length (IDs, regions, actions) the bytes are gathered with
    numpy, whose large allocations are cheaper on a cold process than Arrow's pool; other
    columns use Arrow's ``take``.
    """
    n = len(codes)
    present = [v for v in values if v is not None]
    if not present:
        return pa.chunked_array([pa.nulls(n, _STRING)])
    if None in values:
        missing = np.array([v is None for v in values])[codes]
        mask = missing if mask is None else mask | missing
    width = {len(v.encode()) for v in present}
    if len(width) > 1:
        dictionary = pa.array(values, _STRING)
        indices = pa.array(np.asarray(codes), mask=mask)
        return pa.chunked_array([dictionary.take(indices)])
    width = width.pop()
    fixed = np.array([(v or present[0]).encode() for v in values], dtype=f"S{width}")
    data = fixed[codes]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    validity, nulls = None, 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
        nulls = int(mask.sum())
    array = pa.Array.from_buffers(_STRING, n, [validity, pa.py_buffer(offsets),
                                              pa.py_buffer(data.view(np.uint8))], nulls)
    return pa.chunked_array([array])


def _ints(values, dtype, mask=None):
    """A nullable integer array (Int32/Int64) owning its mask: columns never share one."""
    values = np.asarray(values, dtype=dtype)
    mask = np.zeros(len(values), dtype=bool) if mask is None else mask.copy()
    return pd.arrays.IntegerArray(values, mask)


def _frame(records, keep, status, topology: Topology, explain: bool) -> pd.DataFrame:
    """The typed, sorted frame of the kept records and the status records."""
    n_enis = len(topology.interfaces)
    n_all, n_status = len(records["start"]), len(status["start"])
    # One index over [records..., status...], sorted by start then interface.
    start = np.concatenate([records["start"], status["start"]])
    eni = np.concatenate([records["eni"], status["eni"]]).astype(np.int64)
    rows = np.arange(n_all + n_status) if keep is None else np.flatnonzero(
        np.r_[keep, np.ones(n_status, dtype=bool)])
    order = rows[np.argsort(start[rows] * n_enis + eni[rows], kind="stable")]
    n = len(order)
    na = order >= n_all  # the status records: traffic fields are '-'
    at = np.flatnonzero(na)
    from_records = np.minimum(order, max(n_all - 1, 0))
    from_status = order[at] - n_all

    def ordered(name, fill=0, dtype=np.int64):
        values = records[name][from_records].astype(dtype, copy=False) if n_all else \
            np.zeros(n, dtype=dtype)
        values[at] = fill
        return values

    start, eni = start[order], eni[order]
    end = np.concatenate([records["end"], status["end"]])[order]
    log_status = np.full(n, _OK, dtype=np.int8)
    log_status[at] = status["log_status"][from_status]
    label = ordered("scenario", dtype=np.int16)
    label[at] = np.where(status["log_status"][from_status] == _NODATA, LABELS.index("nodata"),
                         LABELS.index("skipdata"))
    addresses = np.concatenate([ordered(c, dtype=np.uint32) for c in
                                ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr")])
    codes, uniques = pd.factorize(addresses)
    dotted = [f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
              for a in uniques.astype(np.int64).tolist()]
    codes = codes.reshape(4, n)
    enis = topology.interfaces
    constant = np.zeros(n, dtype=np.int8)
    strings = {  # column: (dictionary, codes, NA mask), built in parallel below
        "account_id": ([topology.account_id], constant, None),
        "interface_id": ([e.eni_id for e in enis], eni, None),
        "srcaddr": (dotted, codes[0], na),
        "dstaddr": (dotted, codes[1], na),
        "action": (["REJECT", "ACCEPT"], ordered("accept", dtype=np.int8), na),
        "log_status": (["OK", "NODATA", "SKIPDATA"], log_status, None),
        "vpc_id": ([topology.vpc_id], constant, None),
        "subnet_id": ([e.subnet_id for e in enis], eni, None),
        "instance_id": ([e.instance_id for e in enis], eni, None),
        "type": (["IPv4"], constant, na),
        "pkt_srcaddr": (dotted, codes[2], na),
        "pkt_dstaddr": (dotted, codes[3], na),
        "region": ([topology.region], constant, None),
        "az_id": ([az_id(topology.subnet(e.subnet_id).az) for e in enis], eni, None),
        "sublocation_type": ([None], constant, None),
        "sublocation_id": ([None], constant, None),
        "pkt_src_aws_service": ([None], constant, None),
        "pkt_dst_aws_service": ([None], constant, None),
        "flow_direction": (["ingress", "egress"], ordered("egress", dtype=np.int8), na),
        "label": (list(LABELS), label, None),
    }
    empty = [name for name, (values, _, _) in strings.items() if values == [None]]
    with ThreadPoolExecutor(max_workers=2) as pool:  # numpy and Arrow release the GIL
        names = [name for name in strings if name not in empty[1:]]
        built = dict(zip(names, pool.map(lambda name: _strings(*strings[name]), names)))
    built.update({name: built[empty[0]] for name in empty[1:]})  # one all-NA column, shared
    built = {name: pd.arrays.ArrowStringArray(chunks) for name, chunks in built.items()}
    traffic_path = ordered("traffic_path", dtype=np.int32)
    ints = {
        "version": _ints(np.full(n, VERSION), np.int32),
        "srcport": _ints(ordered("srcport"), np.int32, na),
        "dstport": _ints(ordered("dstport"), np.int32, na),
        "protocol": _ints(ordered("protocol"), np.int32, na),
        "packets": _ints(ordered("packets"), np.int64, na),
        "bytes": _ints(ordered("bytes"), np.int64, na),
        "start": _ints(start, np.int64),
        "end": _ints(end, np.int64),
        "tcp_flags": _ints(ordered("tcp_flags"), np.int32, na),
        "traffic_path": _ints(traffic_path, np.int32, na | (traffic_path == 0)),
    }
    columns = {name: built[name] if name in built else ints[name] for name in COLUMNS}
    columns["label"] = built["label"]
    if explain:
        columns["is_response"] = pd.arrays.BooleanArray(ordered("is_response", dtype=bool),
                                                        na.copy())
        icmp = ordered("icmp_type", -1, np.int32)
        columns["icmp_type"] = _ints(icmp, np.int32, icmp < 0)
    return pd.DataFrame(columns, copy=False)
