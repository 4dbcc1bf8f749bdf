"""NAT-gateway and log-group metrics from flow-log records (``cloud.put_metrics`` stores them).

The emulator stores metrics but no service publishes any, so the course derives them from the
same records it delivers, with AWS's definitions:

- ``AWS/NATGateway`` (dimension ``NatGatewayId``), one value a minute, from the records of the
  NAT gateway's network interface
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway-cloudwatch.html). The
  lesson writes ``AWS/NatGateway``: namespaces are case-sensitive, so that one is empty.
- ``AWS/Logs`` (dimension ``LogGroupName``): ``IncomingLogEvents`` and ``IncomingBytes`` of the
  events a flow log puts into its log group
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch-Logs-Monitoring-CloudWatch-Metrics.html).

Every function returns one tidy frame (:data:`COLUMNS`): ``timestamp`` (the minute, UTC),
``namespace``, ``metric``, ``dimension``, ``dimension_value``, ``value``, ``unit``. Each row is
one minute's value; an alarm or a dashboard aggregates minutes into its period with the
metric's statistic (:data:`METRICS`).

How the NAT interface's records map to the metrics (AWS's NAT pattern, see
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat):
a connection from an instance to the internet leaves four records on the NAT interface, told
apart by ``srcaddr``/``dstaddr`` against the NAT's private IP and the VPC CIDR:

==================  =========================================  ==============================
leg                 addresses                                  metrics (ACCEPT records only)
==================  =========================================  ==============================
in from source      dstaddr = NAT IP, srcaddr inside the VPC   Bytes/PacketsInFromSource
out to destination  srcaddr = NAT IP, dstaddr outside the VPC  Bytes/PacketsOutToDestination
in from destination dstaddr = NAT IP, srcaddr outside the VPC  Bytes/PacketsInFromDestination
out to source       srcaddr = NAT IP, dstaddr inside the VPC   Bytes/PacketsOutToSource
==================  =========================================  ==============================

- ``ConnectionAttemptCount``: TCP records *in from source* with SYN (``tcp_flags`` bit 2) but
  not SYN-ACK: each is a new connection a client opened (retransmitted SYNs share a record).
- ``ConnectionEstablishedCount``: TCP records *in from destination* carrying SYN-ACK (18): the
  destination answered. Attempts minus established = attempts nobody answered (AWS's reading).
- ``ActiveConnectionCount`` (statistic Max): established TCP connections whose span (first
  record's start to last record's end, on the destination side) covers the minute.
- ``ErrorPortAllocation``: connection starts that would exceed ``port_limit`` (55,000)
  simultaneous connections to one destination (IP, port, protocol), AWS's documented limit
  per NAT address (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html).
- ``IdleTimeoutCount``: established connections never closed by FIN or RST whose last packet
  is followed by 350 s of silence inside the data (AWS's idle timeout).
- ``PacketsDropCount``: packets of REJECT records on the NAT interface. Drops inside the NAT
  gateway itself never reach a flow log, so this counts only what the subnet's network ACL
  dropped there.

Bytes and packets of a record spanning several minutes are shared out over them in proportion
to the seconds spent in each; counts go to the minute of the record's start.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import MonitoringError
from helpers.flowlogs import delivery
from helpers.monitoring.names import LOGS, NAT
from helpers.traffic.rules import ipv4_to_int

__all__ = [
    "COLUMNS",
    "METRICS",
    "MetricDef",
    "PORT_LIMIT",
    "log_events",
    "log_group_metrics",
    "nat_metrics",
    "series",
]

COLUMNS = ("timestamp", "namespace", "metric", "dimension", "dimension_value", "value", "unit")
PORT_LIMIT = 55_000  # simultaneous connections to one destination per NAT address
IDLE_TIMEOUT = 350  # seconds without packets before a NAT gateway drops a connection
MAX_DATUMS = 1000  # PutMetricData takes at most 1,000 metrics per call
TCP, SYN, RST, FIN, SYN_ACK = 6, 2, 4, 1, 18


@dataclass(frozen=True)
class MetricDef:
    """One metric: where it lives, its unit and the statistic AWS calls most useful."""

    name: str
    namespace: str
    dimension: str
    unit: str
    statistic: str  # as alarms and dashboards name it: Sum, Maximum, ...
    meaning: str


def _nat(name: str, unit: str, meaning: str, statistic: str = "Sum") -> MetricDef:
    return MetricDef(name, NAT, "NatGatewayId", unit, statistic, meaning)


METRICS: dict[str, MetricDef] = {m.name: m for m in (
    _nat("ActiveConnectionCount", "Count", "concurrent active TCP connections", "Maximum"),
    _nat("BytesInFromDestination", "Bytes", "bytes received from the destination"),
    _nat("BytesInFromSource", "Bytes", "bytes received from clients in the VPC"),
    _nat("BytesOutToDestination", "Bytes", "bytes sent to the destination"),
    _nat("BytesOutToSource", "Bytes", "bytes sent to clients in the VPC"),
    _nat("ConnectionAttemptCount", "Count", "connection attempts (SYN from a client)"),
    _nat("ConnectionEstablishedCount", "Count", "connections established (SYN-ACK back)"),
    _nat("ErrorPortAllocation", "Count", "times no source port could be allocated"),
    _nat("IdleTimeoutCount", "Count", "connections that went idle (350 s, not closed)"),
    _nat("PacketsDropCount", "Count", "packets dropped"),
    _nat("PacketsInFromDestination", "Count", "packets received from the destination"),
    _nat("PacketsInFromSource", "Count", "packets received from clients in the VPC"),
    _nat("PacketsOutToDestination", "Count", "packets sent to the destination"),
    _nat("PacketsOutToSource", "Count", "packets sent to clients in the VPC"),
    MetricDef("IncomingLogEvents", LOGS, "LogGroupName", "Count", "Sum",
              "log events uploaded to the log group"),
    MetricDef("IncomingBytes", LOGS, "LogGroupName", "Bytes", "Sum",
              "uncompressed bytes uploaded (each message plus 26 bytes)"),
)}
"""Every metric the course derives, by name."""

_NEEDED = ("interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets",
           "bytes", "start", "end", "action", "tcp_flags")
_NUMERIC = ("srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "tcp_flags")


def _check_records(records, caller: str) -> None:
    if not isinstance(records, pd.DataFrame):
        raise MonitoringError(f"{caller}: records must be a DataFrame of flow-log records (from "
                              f"helpers.traffic.generate() or flowlogs.read_flow_logs()), not "
                              f"{type(records).__name__}")


def _check_numeric(records: pd.DataFrame, columns, caller: str) -> None:
    for column in columns:
        values = records[column]
        if not (pd.api.types.is_numeric_dtype(values) or values.isna().all()) \
                or pd.api.types.is_bool_dtype(values):
            sample = values.dropna().iloc[0] if values.notna().any() else None
            raise MonitoringError(f"{caller}: records column {column!r} must hold numbers, not "
                                  f"{values.dtype} (e.g. {sample!r}); parse the records with "
                                  "flowlogs.read_flow_logs() / parse_lines()")


def _check_topology(topology, caller: str) -> None:
    if not all(hasattr(topology, a) for a in ("interface", "vpc_cidr", "nat_gateway_id")):
        raise MonitoringError(f"{caller}: topology must be the lab VPC (a Topology: "
                              f"traffic.default_topology() or cloud.lab_vpc()), not "
                              f"{type(topology).__name__}")


def _check_flow_log(flow_log, caller: str) -> None:
    if not all(hasattr(flow_log, a) for a in ("destination_type", "log_group", "log_format",
                                              "resource_id", "traffic_type")):
        raise MonitoringError(f"{caller}: flow_log must be a FlowLog (cloud.create_flow_log(...) "
                              f"or helpers.flowlogs.delivery.FlowLog), not "
                              f"{type(flow_log).__name__}")


# --- NAT gateway ------------------------------------------------------------------------------


def nat_metrics(records: pd.DataFrame, topology, *, port_limit: int = PORT_LIMIT) -> pd.DataFrame:
    """The 14 ``AWS/NATGateway`` metrics, one value a minute, from flow-log records.

    Args:
        records: flow-log records (all interfaces are fine: the NAT interface's are picked);
            they need the default fields plus ``tcp_flags`` (version 3), as
            :func:`helpers.traffic.generate` makes them.
        topology: the lab VPC (:class:`helpers.traffic.Topology`): the NAT interface, its
            private IP, the VPC CIDR and the NAT gateway ID.
        port_limit: simultaneous connections to one destination before ``ErrorPortAllocation``
            counts (AWS: 55,000 per NAT address); lower it to see the metric move.

    Returns:
        A tidy frame (:data:`COLUMNS`) with every minute of the records' span, zeros included:
        a NAT gateway reports every minute while it exists.

    Raises:
        MonitoringError: records that are not a frame of flow-log records (a needed column
            missing, or not numbers), a topology that is not one or has no NAT interface, or
            a port limit that is not a positive whole number.
    """
    _check_records(records, "nat_metrics")
    missing = [c for c in _NEEDED if c not in records.columns]
    if missing:
        raise MonitoringError(
            f"nat_metrics needs the columns {', '.join(missing)}; connection metrics read "
            "tcp_flags (a version-3 field). Use records from helpers.traffic.generate() or a "
            "custom format that includes ${tcp-flags}")
    _check_numeric(records, _NUMERIC, "nat_metrics")
    if not (isinstance(port_limit, (int, np.integer)) and not isinstance(port_limit, bool)
            and port_limit > 0):
        raise MonitoringError(f"port_limit must be a positive whole number (connections), not "
                              f"{port_limit!r}")
    _check_topology(topology, "nat_metrics")
    try:
        nat = topology.interface("nat")
    except KeyError as err:
        raise MonitoringError(f"the topology has no NAT gateway interface ({err})") from None
    if records.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    first = int(records["start"].min()) // 60 * 60
    n = int(records["end"].max()) // 60 - first // 60 + 1
    data_end = int(records["end"].max())
    legs = _nat_legs(records, nat.eni_id, nat.private_ip, topology.vpc_cidr)

    values: dict[str, np.ndarray] = {}
    for leg, direction in (("in_src", "InFromSource"), ("out_dst", "OutToDestination"),
                           ("in_dst", "InFromDestination"), ("out_src", "OutToSource")):
        part = legs[(legs["leg"] == leg) & legs["accept"]]
        for measure in ("Bytes", "Packets"):
            values[measure + direction] = _spread(part, measure.lower(), first, n)
    values["PacketsDropCount"] = _spread(legs[~legs["accept"]], "packets", first, n)

    tcp = legs[(legs["protocol"] == TCP) & legs["accept"]]
    flags = tcp["tcp_flags"]
    attempts = tcp[(tcp["leg"] == "in_src") & ((flags & SYN) > 0) & ((flags & 16) == 0)]
    answers = tcp[(tcp["leg"] == "in_dst") & ((flags & SYN_ACK) == SYN_ACK)]
    values["ConnectionAttemptCount"] = _count(attempts, first, n)
    values["ConnectionEstablishedCount"] = _count(answers, first, n)

    connections = _connections(legs, answers)
    established = connections[connections["established"]]
    values["ActiveConnectionCount"] = _active(established, first, n)
    values["ErrorPortAllocation"] = _port_errors(connections, port_limit, first, n)
    idle = established[~established["closed"]]
    idle_at = idle["last_end"] + IDLE_TIMEOUT
    values["IdleTimeoutCount"] = np.bincount(
        ((idle_at[idle_at <= data_end] - first) // 60).to_numpy(dtype=np.int64), minlength=n
    )[:n].astype(float)

    minutes = pd.to_datetime(first + 60 * np.arange(n), unit="s", utc=True)
    frames = [_tidy(minutes, METRICS[name], topology.nat_gateway_id, values[name])
              for name in sorted(values)]
    return pd.concat(frames, ignore_index=True)


def _nat_legs(records: pd.DataFrame, eni: str, nat_ip: str, vpc_cidr: str) -> pd.DataFrame:
    """The NAT interface's traffic records with their leg (in_src, out_dst, in_dst, out_src)."""
    ipv6 = records["srcaddr"].str.contains(":", regex=False, na=True)
    at = records[(records["interface_id"] == eni) & records["packets"].notna()
                 & records["srcaddr"].notna() & ~ipv6]
    columns = ["srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes",
               "start", "end", "tcp_flags"]
    frame = pd.DataFrame({c: at[c].to_numpy() for c in columns})
    for c in ("srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "tcp_flags"):
        frame[c] = at[c].fillna(0).to_numpy(dtype=np.int64)
    src = ipv4_to_int(frame["srcaddr"].to_numpy()).astype(np.int64) if len(at) else np.empty(0)
    dst = ipv4_to_int(frame["dstaddr"].to_numpy()).astype(np.int64) if len(at) else np.empty(0)
    network = ipaddress.IPv4Network(vpc_cidr, strict=False)
    base, mask = int(network.network_address), int(network.netmask)
    me = int(ipaddress.IPv4Address(nat_ip))
    inside_src, inside_dst = (src & mask) == base, (dst & mask) == base
    to_nat, from_nat = dst == me, src == me
    frame["leg"] = np.select(
        [to_nat & inside_src, from_nat & ~inside_dst, to_nat & ~inside_src, from_nat & inside_dst],
        ["in_src", "out_dst", "in_dst", "out_src"], "other")
    frame["src"], frame["dst"] = src, dst
    frame["accept"] = (at["action"] == "ACCEPT").fillna(False).to_numpy(dtype=bool)
    return frame


def _spread(part: pd.DataFrame, column: str, first: int, n: int) -> np.ndarray:
    """Per-minute totals of ``column``, each record's amount shared by its seconds per minute."""
    if part.empty:
        return np.zeros(n)
    start, end = part["start"].to_numpy(), part["end"].to_numpy()
    amount = part[column].to_numpy(dtype=np.int64)
    m0, m1 = (start - first) // 60, (end - first) // 60
    k = m1 - m0 + 1
    row = np.repeat(np.arange(len(part)), k)
    minute = m0[row] + np.arange(len(row)) - np.repeat(np.cumsum(k) - k, k)
    span = end[row] - start[row] + 1
    lo = np.maximum(start[row], first + minute * 60) - start[row]  # seconds before the piece
    hi = np.minimum(end[row], first + minute * 60 + 59) - start[row] + 1  # ... up to its end
    share = amount[row] * hi // span - amount[row] * lo // span  # exact: shares add up
    return np.bincount(minute, weights=share, minlength=n)[:n]


def _count(part: pd.DataFrame, first: int, n: int) -> np.ndarray:
    minutes = ((part["start"].to_numpy() - first) // 60).astype(np.int64)
    return np.bincount(minutes, minlength=n)[:n].astype(float)


def _connections(legs: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """One row per connection seen on the destination side (out_dst and in_dst records).

    A connection is keyed by the remote address, the NAT's port, the remote port and the
    protocol; the columns say when it started and ended, whether the destination answered
    with SYN-ACK and whether a FIN or RST closed it.
    """
    out = legs[legs["leg"] == "out_dst"]
    back = legs[legs["leg"] == "in_dst"]
    both = pd.DataFrame({
        "remote": np.r_[out["dst"].to_numpy(), back["src"].to_numpy()],
        "nat_port": np.r_[out["srcport"].to_numpy(), back["dstport"].to_numpy()],
        "remote_port": np.r_[out["dstport"].to_numpy(), back["srcport"].to_numpy()],
        "protocol": np.r_[out["protocol"].to_numpy(), back["protocol"].to_numpy()],
        "start": np.r_[out["start"].to_numpy(), back["start"].to_numpy()],
        "end": np.r_[out["end"].to_numpy(), back["end"].to_numpy()],
        "closed": (np.r_[out["tcp_flags"].to_numpy(), back["tcp_flags"].to_numpy()]
                   & (FIN | RST)) > 0,
    })
    grouped = both.groupby(list(_KEY), sort=True).agg(
        first_start=("start", "min"), last_end=("end", "max"), closed=("closed", "any"))
    answered = pd.MultiIndex.from_arrays(
        [answers["src"], answers["dstport"], answers["srcport"], answers["protocol"]],
        names=list(_KEY))
    grouped["established"] = (grouped.index.get_level_values("protocol") == TCP) & \
        grouped.index.isin(answered)
    return grouped.reset_index()


_KEY = ("remote", "nat_port", "remote_port", "protocol")


def _active(connections: pd.DataFrame, first: int, n: int) -> np.ndarray:
    """How many connections' spans cover each minute."""
    if connections.empty:
        return np.zeros(n)
    m0 = ((connections["first_start"].to_numpy() - first) // 60).astype(np.int64)
    m1 = ((connections["last_end"].to_numpy() - first) // 60).astype(np.int64)
    delta = np.zeros(n + 1)
    np.add.at(delta, np.clip(m0, 0, n), 1)
    np.add.at(delta, np.clip(m1 + 1, 0, n), -1)
    return np.cumsum(delta)[:n]


def _port_errors(connections: pd.DataFrame, limit: int, first: int, n: int) -> np.ndarray:
    """Connection starts that find ``limit`` connections to their destination already open."""
    if connections.empty:
        return np.zeros(n)
    destination = connections.groupby(["remote", "remote_port", "protocol"]).ngroup()
    destination = destination.to_numpy()
    events = pd.DataFrame({
        "destination": np.r_[destination, destination],
        "time": np.r_[connections["first_start"].to_numpy(),
                      connections["last_end"].to_numpy() + 1],
        "step": np.r_[np.ones(len(connections), dtype=np.int64),
                      -np.ones(len(connections), dtype=np.int64)],
    }).sort_values(["destination", "time", "step"], kind="stable")  # ends before starts
    open_now = events.groupby("destination")["step"].cumsum()
    failed = events[(events["step"] == 1) & (open_now > limit)]
    minutes = ((failed["time"].to_numpy() - first) // 60).astype(np.int64)
    return np.bincount(minutes, minlength=n)[:n].astype(float)


def _tidy(minutes, metric: MetricDef, dimension_value: str, values) -> pd.DataFrame:
    return pd.DataFrame({
        "timestamp": minutes,
        "namespace": metric.namespace,
        "metric": metric.name,
        "dimension": metric.dimension,
        "dimension_value": dimension_value,
        "value": np.asarray(values, dtype=float),
        "unit": metric.unit,
    })


# --- log group --------------------------------------------------------------------------------


def log_group_metrics(records: pd.DataFrame, flow_log, topology=None) -> pd.DataFrame:
    """``IncomingLogEvents`` and ``IncomingBytes`` of a flow log's log group, per minute.

    Recomputes the events the flow log delivers (:func:`helpers.flowlogs.delivery.captured` and
    :func:`~helpers.flowlogs.delivery.log_events`), binned by the event timestamp (the record's
    start). Bytes count each message plus 26, as :func:`~helpers.flowlogs.delivery.ingested_bytes`
    does. Minutes without events have **no datapoint**, as in CloudWatch: that is why an alarm
    on ``IncomingLogEvents < 1`` needs ``TreatMissingData=breaching``. (AWS counts events when
    they arrive, about 5 minutes after the traffic; the course keeps the traffic's minute.)

    Args:
        records: flow-log records; with ``subnet_id``/``vpc_id`` columns, or pass ``topology``.
        flow_log: a :class:`helpers.flowlogs.FlowLog` with a CloudWatch Logs destination.
        topology: maps interfaces to subnets and the VPC when the records cannot.

    Raises:
        MonitoringError: the flow log writes to S3, or interfaces cannot be placed, or an
            argument is not what it should be (records, FlowLog, Topology).
    """
    _check_flow_log(flow_log, "log_group_metrics")
    if flow_log.destination_type != "cloud-watch-logs":
        raise MonitoringError(f"{flow_log.flow_log_id or 'this flow log'} writes to S3, which has "
                              "no log-group metrics; pass a flow log to CloudWatch Logs")
    events = log_events(records, flow_log, topology)
    minute = events["timestamp"].to_numpy(dtype=np.int64) // 60_000 * 60
    size = events["message"].str.len().to_numpy(dtype=np.int64) + delivery.EVENT_OVERHEAD
    table = pd.DataFrame({"minute": minute, "events": 1, "bytes": size}).groupby(
        "minute", sort=True).sum()
    minutes = pd.to_datetime(table.index.to_numpy(), unit="s", utc=True)
    return pd.concat([
        _tidy(minutes, METRICS["IncomingLogEvents"], flow_log.log_group, table["events"]),
        _tidy(minutes, METRICS["IncomingBytes"], flow_log.log_group, table["bytes"]),
    ], ignore_index=True)


def log_events(records: pd.DataFrame, flow_log, topology=None) -> pd.DataFrame:
    """The CloudWatch Logs events a flow log delivers for these records.

    ``log_stream``, ``timestamp`` (ms) and ``message``, as
    :func:`helpers.flowlogs.delivery.log_events` makes them from the records the flow log captures;
    a metric filter (:meth:`helpers.monitoring.alarms.MetricFilterSpec.datapoints`) reads them.

    Raises:
        MonitoringError: the flow log writes to S3, interfaces cannot be placed, or an
            argument is not what it should be (records with ``interface_id``, ``start`` and
            ``action``, a FlowLog, a Topology).
    """
    _check_flow_log(flow_log, "log_events")
    if flow_log.destination_type != "cloud-watch-logs":
        raise MonitoringError(f"{flow_log.flow_log_id or 'this flow log'} writes to S3, which has "
                              "no log events; pass a flow log to CloudWatch Logs")
    _check_records(records, "log_events")
    missing = [c for c in ("interface_id", "start", "action") if c not in records.columns]
    if missing:
        raise MonitoringError(f"log_events: records lack the column{'s' * (len(missing) > 1)} "
                              f"{', '.join(missing)}; use flow-log records (traffic.generate(), "
                              "flowlogs.read_flow_logs())")
    _check_numeric(records, ["start"], "log_events")
    if records["start"].isna().any():
        raise MonitoringError("log_events: records column 'start' has missing values; every "
                              "record needs its start time (epoch seconds)")
    chosen = delivery.captured(records, flow_log, _interfaces(records, topology))
    return delivery.log_events(chosen, flow_log.log_format)


def _interfaces(records: pd.DataFrame, topology) -> pd.DataFrame:
    if {"subnet_id", "vpc_id"} <= set(records.columns):
        pairs = records[["interface_id", "subnet_id", "vpc_id"]].dropna().drop_duplicates(
            "interface_id")
        return pairs.astype(str).reset_index(drop=True)
    if topology is None:
        raise MonitoringError("records without subnet_id/vpc_id columns need the topology: "
                              "log_group_metrics(records, flow_log, topology=lab)")
    if not all(hasattr(topology, a) for a in ("interfaces", "vpc_id")):
        raise MonitoringError(f"topology must be the lab VPC (a Topology: "
                              f"traffic.default_topology() or cloud.lab_vpc()), not "
                              f"{type(topology).__name__}")
    return pd.DataFrame([(e.eni_id, e.subnet_id, topology.vpc_id) for e in topology.interfaces],
                        columns=["interface_id", "subnet_id", "vpc_id"])


def series(frame: pd.DataFrame, metric: str, *, namespace: str | None = None,
           dimension_value: str | None = None) -> pd.Series:
    """One metric's per-minute values from a tidy frame, indexed by timestamp.

    Raises:
        MonitoringError: ``frame`` is not a tidy metrics frame, or holds no rows of ``metric``
            (in ``namespace``, for ``dimension_value``); the message says what it holds.
    """
    if not isinstance(frame, pd.DataFrame):
        raise MonitoringError(f"frame must be a tidy metrics frame (from nat_metrics() or "
                              f"log_group_metrics()), not {type(frame).__name__}")
    missing = [c for c in ("timestamp", "metric", "value") + (
        ("namespace",) if namespace is not None else ()) + (
        ("dimension_value",) if dimension_value is not None else ()) if c not in frame.columns]
    if missing:
        raise MonitoringError(f"frame lacks the column{'s' * (len(missing) > 1)} "
                              f"{', '.join(missing)}; build it with nat_metrics() or "
                              "log_group_metrics()")
    for arg, value in (("metric", metric), ("namespace", namespace),
                       ("dimension_value", dimension_value)):
        if value is not None and not isinstance(value, str):
            raise MonitoringError(f"{arg} must be text, not {type(value).__name__} {value!r}")
        if arg == "metric" and value is None:
            raise MonitoringError("metric must be a metric name such as 'BytesOutToDestination'")
    rows = frame[frame["metric"] == metric]
    if rows.empty:
        held = sorted(frame["metric"].dropna().astype(str).unique())
        close = difflib.get_close_matches(metric, held, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MonitoringError(f"metric {metric!r} is not in the frame{hint}; it holds "
                              + (", ".join(held) if held else "no rows"))
    if namespace is not None:
        rows = rows[rows["namespace"] == namespace]
        if rows.empty:
            held = frame.loc[frame["metric"] == metric, "namespace"].astype(str).unique()
            raise MonitoringError(f"namespace: the frame has no {metric} in {namespace!r}; it "
                                  "has it in " + ", ".join(sorted(held)))
    if dimension_value is not None:
        values = rows["dimension_value"]
        rows = rows[values == dimension_value]
        if rows.empty:
            raise MonitoringError(f"dimension_value: the frame has no {metric} for "
                                  f"{dimension_value!r}; it has "
                                  + ", ".join(sorted(values.dropna().astype(str).unique())))
    return rows.set_index("timestamp")["value"].sort_index().rename(metric)
