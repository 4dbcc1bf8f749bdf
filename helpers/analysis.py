"""Traffic analysis of flow-log records: the measurements of notebook 04 (네트워크 트래픽 분석).

Pure functions over the canonical records of :func:`helpers.traffic.generate` or
:func:`helpers.flowlogs.read` (NODATA and SKIPDATA records, whose ``action`` is missing, are
left out of every count) and over the tidy NAT-gateway metrics of
:func:`helpers.monitoring.metrics.nat_metrics`. Nothing here calls AWS.

Terms used below:

- *request*: a TCP record of the side that opened the connection, ``tcp_flags`` with SYN and
  without SYN-ACK (``flags & 18 == 2``), as :mod:`helpers.detect.sql` defines it. Each is one
  new connection attempt (retransmitted SYNs share the record).
- *internal*: both ends inside the VPC. A NAT gateway's own records carry its private address
  as one end, so the packet-level addresses (``pkt_srcaddr``, ``pkt_dstaddr``, versions 3+)
  decide where a packet really came from and went to.
- *connection*: the TCP or UDP records of one interface that share an unordered pair of
  (address, port) ends and a protocol; its span runs from its first record's ``start`` to its
  last ``end``. ICMP has no ports (its records carry port 0), so pings are not connections.
- Times are UTC epoch seconds in the records; frames indexed by time use timezone-aware
  ``pandas.Timestamp`` values, in UTC unless a function says it converts to :data:`KST`.
"""

from __future__ import annotations

import ipaddress
import warnings

import numpy as np
import pandas as pd

from helpers import insights, reference, times
from helpers.detect import FINDING_TYPES
from helpers.errors import MonitoringError
from helpers.frames import require_columns
from helpers.monitoring import metrics

__all__ = ["FINDING_MEANINGS", "KST", "NAT_GATEWAY_BASICS", "NAT_LIMITS",
           "concurrent_connections", "connection_failures", "connections", "finding_labels",
           "finding_types", "hourly_profile", "inbound_per_minute", "interface_throughput",
           "is_internal", "labels_of", "locality", "nat_processed", "nat_utilisation", "port_mix",
           "probes", "reject_rates", "rejects_by_port", "requests", "run_with_warnings",
           "scan_profile", "top_talkers", "traffic_records", "web_directions", "with_times"]

KST = "Asia/Seoul"
"""Korea Standard Time (UTC+9), the lesson's local time: the web baseline peaks in its
afternoon."""

NAT_GATEWAY_BASICS = "https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html"

NAT_LIMITS = {
    "bandwidth_gbps": (5, 100),
    "packets_per_second": (1_000_000, 10_000_000),
    "connections_per_destination": (55_000, 55_000),
}
"""A NAT gateway's documented limits (checked 2026-11 on :data:`NAT_GATEWAY_BASICS`), as
(what it starts with, what it scales to automatically): 5 Gbps of bandwidth scaling to
100 Gbps; one million packets per second scaling to ten million (beyond that it drops
packets); 55,000 simultaneous connections per IPv4 address to each unique destination
(destination IP, port and protocol), after which ``ErrorPortAllocation`` counts failures."""

FINDING_MEANINGS = {
    "Recon:EC2/PortProbeUnprotectedPort":
        "인터넷의 호스트가 우리 인스턴스의 여러 포트를 두드림 (인바운드 포트 탐색)",
    "Recon:EC2/Portscan": "우리 인스턴스가 외부 호스트의 포트를 스캔함 (우리가 스캐너)",
    "UnauthorizedAccess:EC2/SSHBruteForce": "한 소스가 22번(SSH)으로 로그인을 반복해서 시도함",
    "UnauthorizedAccess:EC2/RDPBruteForce": "한 소스가 3389번(RDP)으로 로그인을 반복해서 시도함",
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom": "위협 목록에 있는 주소와 통신함",
    "Behavior:EC2/TrafficVolumeUnusual": "우리 인스턴스가 외부 한 곳으로 평소보다 훨씬 많이 보냄",
    "Inbound:EC2/DDoS": "과정 자체 유형: 많은 소스가 우리 주소 하나로 몰려듦 "
                        "(GuardDuty의 DenialOfService 유형은 우리가 공격을 보낼 때)",
    "Inbound:EC2/TrafficSpike": "과정 자체 유형: 허용된 연결이 직전 1시간 평균보다 크게 늘어남",
    "Network:EC2/RejectRateHigh": "과정 자체 유형: 인터페이스 레코드의 20%를 넘게 거부함",
}
"""What each finding type of :data:`helpers.detect.FINDING_TYPES` means, in Korean (the
notebooks' language), one line each."""

_TCP, _UDP, _SYN, _SYN_ACK = 6, 17, 2, 18
_EPHEMERAL = (1024, 65535)  # the range AWS's network ACL guide tells you to allow for replies
_REQUIRED = ("interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets",
             "bytes", "start", "end", "action")


# --- records ------------------------------------------------------------------------------------


def _check(records, columns=_REQUIRED) -> None:
    require_columns(records, columns, error=MonitoringError, what="records",
                    source="traffic.generate or flowlogs.read")


def traffic_records(records: pd.DataFrame, interface_id: str | None = None, *,
                    srcaddr: str | None = None, dstaddr: str | None = None) -> pd.DataFrame:
    """The records that describe traffic (``action`` ACCEPT or REJECT): NODATA and SKIPDATA
    records are dropped. Optionally only those of one interface, source or destination."""
    _check(records)
    keep = records["action"].notna().to_numpy(dtype=bool, copy=True)
    for column, value in (("interface_id", interface_id), ("srcaddr", srcaddr),
                          ("dstaddr", dstaddr)):
        if value is not None:
            keep &= (records[column] == value).to_numpy(dtype=bool, na_value=False)
    return records[keep]


def requests(records: pd.DataFrame) -> np.ndarray:
    """A boolean mask of the TCP records that open a connection (SYN without SYN-ACK)."""
    _check(records, ("protocol", "tcp_flags"))
    flags = records["tcp_flags"].to_numpy(dtype=float, na_value=np.nan)
    tcp = records["protocol"].to_numpy(dtype=float, na_value=np.nan) == _TCP
    known = ~np.isnan(flags)
    out = np.zeros(len(records), dtype=bool)
    out[known] = (flags[known].astype(np.int64) & _SYN_ACK) == _SYN
    return out & tcp


def is_internal(addresses, cidr: str) -> np.ndarray:
    """Whether each dotted IPv4 address lies in ``cidr`` (missing values are not)."""
    network = ipaddress.IPv4Network(cidr)
    codes, unique = pd.factorize(pd.Series(addresses, dtype=object))
    member = np.array([isinstance(a, str) and ipaddress.ip_address(a) in network
                       for a in unique] + [False], dtype=bool)
    return member[codes]  # code -1 (missing) reads the final False


def _packet_ends(records: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Where packets really came from and went to: pkt-srcaddr/pkt-dstaddr when present."""
    src, dst = records["srcaddr"], records["dstaddr"]
    if "pkt_srcaddr" in records.columns:
        src = records["pkt_srcaddr"].fillna(src)
    if "pkt_dstaddr" in records.columns:
        dst = records["pkt_dstaddr"].fillna(dst)
    return src, dst


def _minute(seconds) -> np.ndarray:
    return np.asarray(seconds, dtype=np.int64) // 60 * 60


def _stamps(seconds) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(seconds, dtype=np.int64), unit="s", utc=True)


def _roles(topology) -> dict[str, str]:
    return {e.eni_id: e.role for e in topology.interfaces}


def _address_of(topology, interface_id: str) -> str:
    for e in topology.interfaces:
        if e.eni_id == interface_id:
            return e.private_ip
    raise MonitoringError(f"interface_id {interface_id!r} is not an interface of the topology; "
                          f"it has {', '.join(e.eni_id for e in topology.interfaces)}")


def with_times(frame: pd.DataFrame, columns=("start", "end"), tz: str = "UTC") -> pd.DataFrame:
    """A copy of ``frame`` with its epoch-second ``columns`` as timestamps in ``tz``."""
    if not isinstance(frame, pd.DataFrame):
        raise MonitoringError(f"frame must be a DataFrame, not {type(frame).__name__}")
    out = frame.copy()
    for column in columns:
        out[column] = _stamps(out[column].to_numpy(dtype=np.int64)).tz_convert(tz)
    return out


def run_with_warnings(query: str, records: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Run a Logs Insights query offline (:func:`helpers.insights.run`) and keep the warnings
    it raises (a field that does not exist, ...) as text instead of showing them.

    Returns:
        The result and the warnings' messages, in order.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", insights.InsightsWarning)
        result = insights.run(query, records)
    return result, [str(w.message) for w in caught if issubclass(w.category,
                                                                 insights.InsightsWarning)]


def labels_of(addresses, records: pd.DataFrame) -> list:
    """The generator's label (ground truth) most often seen with each address, as source or
    destination; NA for an address the records do not hold or without a ``label`` column."""
    _check(records, ("srcaddr", "dstaddr"))
    if "label" not in records.columns:
        return [pd.NA] * len(list(addresses))
    ends = pd.concat([records[["srcaddr", "label"]].set_axis(["address", "label"], axis=1),
                      records[["dstaddr", "label"]].set_axis(["address", "label"], axis=1)])
    ends = ends.dropna()
    counts = ends.groupby(["address", "label"], observed=True).size().reset_index(name="n")
    top = counts.sort_values(["n", "label"], ascending=[False, True]).drop_duplicates("address")
    lookup = dict(zip(top["address"], top["label"]))
    return [lookup.get(a, pd.NA) for a in addresses]


# --- normal and abnormal patterns ----------------------------------------------------------------


def hourly_profile(records: pd.DataFrame, interface_id: str, *, tz: str = KST) -> pd.DataFrame:
    """Hour by hour of the local day (``tz``): the interface's inbound requests (new
    connections), records and bytes.

    Returns:
        Index ``hour`` (0–23, local), columns ``connections``, ``records``, ``bytes``; hours
        without traffic are 0.
    """
    part = traffic_records(records, interface_id)
    hour = _stamps(part["start"]).tz_convert(tz).hour
    frame = pd.DataFrame({"hour": hour, "connections": requests(part) & (
        part["flow_direction"] == "ingress").to_numpy(dtype=bool, na_value=False),
        "records": 1, "bytes": part["bytes"].to_numpy(dtype=np.int64)})
    return frame.groupby("hour").sum().reindex(range(24), fill_value=0).astype("int64")


def port_mix(records: pd.DataFrame, interface_id: str) -> pd.DataFrame:
    """Inbound connection attempts to an interface by destination port.

    Returns:
        One row per port, most requests first: ``dstport``, ``service`` (IANA name from
        :data:`helpers.reference.PORTS`, NA when unlisted), ``requests``, ``share`` (of all
        requests), ``accepted`` (share of that port's requests that were ACCEPTed).
    """
    part = traffic_records(records, interface_id)
    inbound = part[requests(part) & (part["flow_direction"] == "ingress").to_numpy(
        dtype=bool, na_value=False)]
    grouped = inbound.groupby("dstport").agg(
        requests=("action", "size"), accepted=("action", lambda a: (a == "ACCEPT").mean()))
    grouped = grouped.reset_index().sort_values(["requests", "dstport"],
                                                ascending=[False, True], ignore_index=True)
    grouped.insert(1, "service", grouped["dstport"].map(
        {p: s for p, (s, _) in reference.PORTS.items()}).astype("string"))
    grouped.insert(3, "share", grouped["requests"] / grouped["requests"].sum())
    return grouped


def locality(records: pd.DataFrame, topology) -> pd.DataFrame:
    """How much of each interface's traffic stays inside the VPC (both packet ends in it).

    Returns:
        Index ``role`` (the topology's interface roles), columns ``records``, ``bytes``,
        ``internal_records`` and ``internal_bytes`` (shares from 0 to 1).
    """
    part = traffic_records(records)
    src, dst = _packet_ends(part)
    inside = is_internal(src, topology.vpc_cidr) & is_internal(dst, topology.vpc_cidr)
    nbytes = part["bytes"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"role": part["interface_id"].map(_roles(topology)).to_numpy(),
                          "records": 1, "bytes": nbytes, "in_records": inside.astype(int),
                          "in_bytes": np.where(inside, nbytes, 0)})
    total = frame.groupby("role", sort=False).sum()
    return pd.DataFrame({"records": total["records"], "bytes": total["bytes"],
                         "internal_records": total["in_records"] / total["records"],
                         "internal_bytes": total["in_bytes"] / total["bytes"]}).reindex(
        [e.role for e in topology.interfaces]).dropna(how="all")


def reject_rates(records: pd.DataFrame, topology, freq: str | None = "1h") -> pd.DataFrame:
    """The share of REJECT records per interface and period (the lesson's < 5 % / > 20 %).

    Args:
        freq: a pandas frequency (``"1h"``, ``"5min"``) of UTC periods, or None for one row per
            interface over all the records.

    Returns:
        Columns ``role``, (``period`` when ``freq`` is given), ``records``, ``rejects``,
        ``rate``; periods without traffic are left out.
    """
    part = traffic_records(records)
    frame = pd.DataFrame({"role": part["interface_id"].map(_roles(topology)).to_numpy(),
                          "reject": (part["action"] == "REJECT").to_numpy(dtype=bool)})
    keys = ["role"]
    if freq is not None:
        frame["period"] = _stamps(part["start"]).floor(freq)
        keys.append("period")
    out = frame.groupby(keys, sort=True).agg(records=("reject", "size"),
                                             rejects=("reject", "sum")).reset_index()
    out["rate"] = out["rejects"] / out["records"]
    return out


def inbound_per_minute(records: pd.DataFrame, address: str, *, start: int | None = None,
                       end: int | None = None) -> pd.DataFrame:
    """What reaches one of our addresses from outside, minute by minute.

    Args:
        address: the private address of the instance (e.g. the web instance's 10.0.1.100).
        start, end: epoch seconds of the span to cover (default: the records' first and last
            minute); minutes without traffic are 0.

    Returns:
        Index ``minute`` (UTC), columns ``connections`` (requests), ``sources`` (distinct
        sources of those requests), ``packets``, ``pps`` (packets per second, the minute's
        mean) and ``bytes`` of every inbound record.
    """
    part = traffic_records(records, dstaddr=address)
    minute = _minute(part["start"])
    req = requests(part)
    frame = pd.DataFrame({"minute": minute, "connections": req.astype(int),
                          "source": np.where(req, part["srcaddr"].astype(object), None),
                          "packets": part["packets"].to_numpy(dtype=np.int64),
                          "bytes": part["bytes"].to_numpy(dtype=np.int64)})
    out = frame.groupby("minute").agg(connections=("connections", "sum"),
                                      sources=("source", "nunique"), packets=("packets", "sum"),
                                      bytes=("bytes", "sum"))
    first = _minute([start if start is not None else records["start"].min()])[0]
    last = _minute([end - 1 if end is not None else records["start"].max()])[0]
    out = out.reindex(np.arange(first, last + 60, 60), fill_value=0).astype("int64")
    out.insert(3, "pps", out["packets"] / 60)
    out.index = _stamps(out.index).rename("minute")
    return out


def probes(records: pd.DataFrame, srcaddr: str) -> pd.DataFrame:
    """The connection attempts (requests) of one source, each once.

    A request through a NAT gateway is logged on the instance's interface and again on the
    NAT's; only the interface that saw most of the source's requests (the instance's, or ours
    for an outside source) is kept, and ``dstaddr`` is the packet-level destination (the real
    target, not the NAT gateway).

    Returns:
        Columns ``start`` (epoch seconds), ``dstaddr``, ``dstport``, ``action``,
        ``interface_id``, sorted by ``start``.
    """
    part = traffic_records(records, srcaddr=srcaddr)
    part = part[requests(part)]
    _, dst = _packet_ends(part)
    frame = pd.DataFrame({"start": part["start"].to_numpy(dtype=np.int64),
                          "dstaddr": dst.to_numpy(), "dstport": part["dstport"].to_numpy(),
                          "action": part["action"].to_numpy(),
                          "interface_id": part["interface_id"].to_numpy()})
    if frame.empty:
        return frame
    frame = frame[frame["interface_id"] == frame["interface_id"].mode().iloc[0]]
    return frame.sort_values("start", kind="stable", ignore_index=True)


def scan_profile(records: pd.DataFrame, srcaddr: str) -> pd.DataFrame:
    """What one source did to each host it contacted: the lesson's three signs of a scan.

    Returns:
        One row per destination (see :func:`probes`: a scan through a NAT gateway names the
        real target once): ``srcaddr``, ``dstaddr``, ``ports`` (distinct destination ports),
        ``requests``, ``rejected`` (share of requests REJECTed), ``first``, ``last`` (UTC) and
        ``minutes`` from the first request to the last.
    """
    frame = probes(records, srcaddr)
    frame = frame.assign(reject=(frame["action"] == "REJECT").to_numpy(dtype=bool))
    out = frame.groupby("dstaddr").agg(ports=("dstport", "nunique"), requests=("dstport", "size"),
                                       rejected=("reject", "mean"), first=("start", "min"),
                                       last=("start", "max")).reset_index()
    out["minutes"] = (out["last"] - out["first"]) / 60
    out["first"], out["last"] = _stamps(out["first"]), _stamps(out["last"])
    out.insert(0, "srcaddr", srcaddr)
    return out.sort_values("requests", ascending=False, ignore_index=True)


def web_directions(records: pd.DataFrame, interface_id: str,
                   service_ports=(80, 443)) -> pd.DataFrame:
    """The lesson's normal web-server pattern, record by record on one interface.

    Every traffic record is put in one of four groups: ``ingress`` to a service port (the
    requests of web clients), ``egress`` from a service port to an ephemeral port
    (1024–65535: the replies), and everything else ``ingress``/``egress``.

    Returns:
        Index ``group``, columns ``records``, ``share`` (of the interface's traffic records) and
        ``accepted`` (share ACCEPTed).
    """
    part = traffic_records(records, interface_id)
    direction = part["flow_direction"].astype(object).to_numpy()
    service = part["dstport"].isin(service_ports).to_numpy(dtype=bool, na_value=False)
    reply = (part["srcport"].isin(service_ports) & part["dstport"].between(*_EPHEMERAL)
             ).to_numpy(dtype=bool, na_value=False)
    group = np.where((direction == "ingress") & service, "ingress: to 80/443",
                     np.where((direction == "egress") & reply,
                              "egress: from 80/443 to 1024-65535",
                              np.where(direction == "ingress", "ingress: other",
                                       "egress: other")))
    frame = pd.DataFrame({"group": group, "accepted": (part["action"] == "ACCEPT").to_numpy(
        dtype=bool)})
    out = frame.groupby("group").agg(records=("accepted", "size"), accepted=("accepted", "mean"))
    out.insert(1, "share", out["records"] / out["records"].sum())
    order = ["ingress: to 80/443", "egress: from 80/443 to 1024-65535", "ingress: other",
             "egress: other"]
    return out.reindex([g for g in order if g in out.index])


def finding_types(findings: pd.DataFrame) -> pd.DataFrame:
    """The finding types in ``findings`` (of :func:`helpers.detect.detect`): how many of each,
    whether GuardDuty has that type, and what it means (Korean)."""
    if not isinstance(findings, pd.DataFrame) or "finding_type" not in findings.columns:
        raise MonitoringError("findings must be the DataFrame helpers.detect.detect() returns")
    counts = findings["finding_type"].value_counts(sort=False)
    rows = [(name, int(n), FINDING_TYPES[name].guardduty, FINDING_TYPES[name].severity,
             FINDING_MEANINGS[name]) for name, n in counts.items()]
    out = pd.DataFrame(rows, columns=["finding_type", "findings", "guardduty", "severity",
                                      "meaning"])
    return out.sort_values(["guardduty", "findings"], ascending=False, ignore_index=True)


def finding_labels(findings: pd.DataFrame, records: pd.DataFrame, among) -> list:
    """The generator's ground truth behind each finding: the most common label of ``among``
    (scenario names) on the records that start inside the finding's window and involve, in this
    order, its source, else its destination, else its interface (a reject rate); NA when none.
    ``start`` and ``end`` may be epoch seconds or timestamps (:func:`with_times`).

    A teaching aid for generated records: real flow logs have no ``label``.
    """
    _check(records, ("label",))
    part = records[records["label"].isin(list(among)).to_numpy(dtype=bool, na_value=False)]
    start = part["start"].to_numpy(dtype=np.int64)
    ends = [part[c].astype(object).to_numpy() for c in ("srcaddr", "dstaddr", "interface_id")]
    out = []
    for finding in findings.itertuples():
        inside = (start >= times.to_epoch(finding.start)) & (start < times.to_epoch(finding.end))
        labels = part["label"].iloc[:0]
        for value in (finding.srcaddr, finding.dstaddr, finding.interface_id):
            if isinstance(value, str) and labels.empty:
                involved = inside & ((ends[0] == value) | (ends[1] == value) | (ends[2] == value))
                labels = part.loc[involved, "label"]
        out.append(labels.mode().sort_values().iloc[0] if len(labels) else pd.NA)
    return out


# --- bottlenecks --------------------------------------------------------------------------------


def _metric(nat: pd.DataFrame, name: str) -> pd.Series:
    return metrics.series(nat, name)


def nat_utilisation(nat: pd.DataFrame) -> pd.DataFrame:
    """A NAT gateway's busiest minute against its documented limits (:data:`NAT_LIMITS`).

    Bandwidth and packets are what the gateway processed in both directions (in from the
    source plus in from the destination), as a mean over the minute: a burst inside a minute
    can be higher. Connections are ``ActiveConnectionCount`` (Maximum), all destinations
    together: when that total is below the per-destination limit, no destination can reach it.

    Returns:
        Index ``measure`` (``bandwidth_gbps``, ``packets_per_second``,
        ``connections_per_destination``), columns ``peak``, ``at`` (the minute, UTC),
        ``limit``, ``scales_to`` and ``used`` (peak / limit).
    """
    bytes_ = _metric(nat, "BytesInFromSource") + _metric(nat, "BytesInFromDestination")
    packets = _metric(nat, "PacketsInFromSource") + _metric(nat, "PacketsInFromDestination")
    active = _metric(nat, "ActiveConnectionCount")
    measured = {"bandwidth_gbps": bytes_ * 8 / 60 / 1e9, "packets_per_second": packets / 60,
                "connections_per_destination": active}
    rows = []
    for name, values in measured.items():
        limit, scales_to = NAT_LIMITS[name]
        rows.append((name, float(values.max()), values.idxmax(), limit, scales_to,
                     float(values.max()) / limit))
    return pd.DataFrame(rows, columns=["measure", "peak", "at", "limit", "scales_to", "used"]
                        ).set_index("measure")


def connection_failures(nat: pd.DataFrame, freq: str = "1h") -> pd.DataFrame:
    """Connections through a NAT gateway that were never established, per period.

    A connection fails when the destination refuses it (a RST from a closed port) or never
    answers (a firewall that drops the SYN): either way no SYN-ACK comes back.

    Returns:
        Index ``period`` (UTC), columns ``attempts`` (``ConnectionAttemptCount``),
        ``established`` (``ConnectionEstablishedCount``), ``failed`` and ``failure_rate``
        (failed / attempts; NaN without attempts).
    """
    attempts = _metric(nat, "ConnectionAttemptCount")
    established = _metric(nat, "ConnectionEstablishedCount")
    out = pd.DataFrame({"attempts": attempts, "established": established}).resample(freq).sum()
    out = out.astype("int64")
    out["failed"] = (out["attempts"] - out["established"]).clip(lower=0)
    out["failure_rate"] = out["failed"] / out["attempts"].where(out["attempts"] > 0)
    out.index.name = "period"
    return out


def interface_throughput(records: pd.DataFrame, topology) -> pd.DataFrame:
    """Each instance's busiest minute, per direction, in megabits per second (minute mean).

    Only the interfaces of instances are listed (a NAT gateway's interface sees every packet
    twice, in and out: see :func:`nat_utilisation`).

    A record's bytes count in the minute it starts (records of a 60-second aggregation interval
    never span more than two minutes).

    Returns:
        Index ``role``, columns ``peak_in_mbps``, ``in_at``, ``peak_out_mbps``, ``out_at``.
    """
    part = traffic_records(records)
    frame = pd.DataFrame({"role": part["interface_id"].map(_roles(topology)).to_numpy(),
                          "direction": part["flow_direction"].astype(object).to_numpy(),
                          "minute": _minute(part["start"]),
                          "mbps": part["bytes"].to_numpy(dtype=np.int64) * 8 / 60 / 1e6})
    per_minute = frame.groupby(["role", "direction", "minute"])["mbps"].sum().reset_index()
    top = per_minute.sort_values(["mbps", "minute"], ascending=[False, True]).drop_duplicates(
        ["role", "direction"]).set_index(["role", "direction"])
    rows = []
    for e in topology.interfaces:
        if e.instance_id is None:
            continue
        row = {"role": e.role}
        for direction, key in (("ingress", "in"), ("egress", "out")):
            hit = top.loc[(e.role, direction)] if (e.role, direction) in top.index else None
            row[f"peak_{key}_mbps"] = float(hit["mbps"]) if hit is not None else 0.0
            row[f"{key}_at"] = _stamps([hit["minute"]])[0] if hit is not None else pd.NaT
        rows.append(row)
    return pd.DataFrame(rows).set_index("role")


def connections(records: pd.DataFrame, interface_id: str) -> pd.DataFrame:
    """The connections one interface saw, one row each (see the module's text).

    Returns:
        Columns ``client``, ``server`` (``address:port``; the client is the side whose port is
        higher, as clients use ephemeral ports), ``server_port``, ``protocol``, ``first``,
        ``last`` (epoch seconds), ``seconds`` (last - first), ``records``, ``bytes``,
        ``accepted`` (any record ACCEPTed) and ``label`` (the most common label, when the
        records have one). Sorted by ``first``.
    """
    part = traffic_records(records, interface_id)
    part = part[part["protocol"].isin((_TCP, _UDP)).to_numpy(dtype=bool, na_value=False)]
    sport = part["srcport"].to_numpy(dtype=np.int64, na_value=0)
    dport = part["dstport"].to_numpy(dtype=np.int64, na_value=0)
    codes, hosts = pd.factorize(pd.concat([part["srcaddr"], part["dstaddr"]]).astype(object))
    src, dst = codes[:len(part)] * 65536 + sport, codes[len(part):] * 65536 + dport
    server_is_dst = dport <= sport
    client, server = np.where(server_is_dst, src, dst), np.where(server_is_dst, dst, src)
    frame = pd.DataFrame({
        "client": client, "server": server, "protocol": part["protocol"].to_numpy(np.int64),
        "start": part["start"].to_numpy(dtype=np.int64),
        "end": part["end"].to_numpy(dtype=np.int64),
        "bytes": part["bytes"].to_numpy(dtype=np.int64),
        "accepted": (part["action"] == "ACCEPT").to_numpy(dtype=bool),
        "label": part["label"].astype(object).to_numpy() if "label" in part.columns else None})
    out = frame.groupby(["client", "server", "protocol"], sort=False).agg(
        first=("start", "min"), last=("end", "max"), records=("start", "size"),
        bytes=("bytes", "sum"), accepted=("accepted", "any"),
        label=("label", "first")).reset_index()
    out.insert(2, "server_port", out["server"] % 65536)
    names = np.asarray(hosts, dtype=object)
    for column in ("client", "server"):
        out[column] = names[out[column] // 65536] + ":" + (out[column] % 65536).astype(str)
    out.insert(6, "seconds", out["last"] - out["first"])
    return out.sort_values(["first", "client", "server"], ignore_index=True)


def concurrent_connections(records: pd.DataFrame, interface_id: str) -> pd.Series:
    """How many accepted connections of one interface were open in each minute (UTC).

    A connection counts in every minute its span (first record's start to last record's end)
    touches, like CloudWatch's ``ActiveConnectionCount`` of a NAT gateway.
    """
    conns = connections(records, interface_id)
    conns = conns[conns["accepted"]]
    if conns.empty:
        return pd.Series(dtype="int64", name="connections")
    first, last = _minute(conns["first"]), _minute(conns["last"])
    lo = first.min()
    n = (last.max() - lo) // 60 + 2
    delta = np.zeros(n, dtype=np.int64)
    np.add.at(delta, (first - lo) // 60, 1)
    np.add.at(delta, (last - lo) // 60 + 1, -1)
    counts = np.cumsum(delta)[:-1]
    return pd.Series(counts, index=_stamps(lo + 60 * np.arange(n - 1)).rename("minute"),
                     name="connections")


def top_talkers(records: pd.DataFrame, interface_id: str, n: int = 5) -> pd.DataFrame:
    """The peers that exchanged the most bytes with one interface (both directions).

    Counting on one interface counts every byte once: the same connection is also logged on
    the other interfaces it crosses (the NAT gateway's, the peer instance's).

    Returns:
        ``n`` rows, most bytes first: ``peer``, ``bytes_in`` (to the interface), ``bytes_out``,
        ``bytes``, ``records``, ``label`` (the generator's ground truth, when present).
    """
    part = traffic_records(records, interface_id)
    ingress = (part["flow_direction"] == "ingress").to_numpy(dtype=bool, na_value=False)
    nbytes = part["bytes"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"peer": np.where(ingress, part["srcaddr"].astype(object),
                                           part["dstaddr"].astype(object)),
                          "bytes_in": np.where(ingress, nbytes, 0),
                          "bytes_out": np.where(ingress, 0, nbytes)})
    out = frame.groupby("peer").agg(bytes_in=("bytes_in", "sum"), bytes_out=("bytes_out", "sum"),
                                    records=("bytes_in", "size")).reset_index()
    out.insert(3, "bytes", out["bytes_in"] + out["bytes_out"])
    out = out.sort_values(["bytes", "peer"], ascending=[False, True], ignore_index=True).head(n)
    out["label"] = labels_of(out["peer"], part)
    return out


def rejects_by_port(records: pd.DataFrame, vpc_cidr: str, n: int = 10) -> pd.DataFrame:
    """Inbound REJECT records (outside source, our destination) by destination port.

    Returns:
        ``n`` rows, most rejects first: ``dstport``, ``service``, ``rejects``, ``sources``
        (distinct) and ``label`` (the generator's most common label on that port, when present).
    """
    _check(records)
    part = records[(records["action"] == "REJECT").to_numpy(dtype=bool, na_value=False)]
    part = part[is_internal(part["dstaddr"], vpc_cidr) & ~is_internal(part["srcaddr"], vpc_cidr)]
    labels = part["label"].astype(object) if "label" in part.columns else pd.Series(
        pd.NA, index=part.index, dtype=object)
    frame = pd.DataFrame({"dstport": part["dstport"].to_numpy(), "src": part["srcaddr"].to_numpy(),
                          "label": labels.to_numpy()})
    out = frame.groupby("dstport").agg(rejects=("src", "size"), sources=("src", "nunique"),
                                       label=("label", lambda s: s.mode().iloc[0]
                                              if s.notna().any() else pd.NA)).reset_index()
    out.insert(1, "service", out["dstport"].map(
        {p: s for p, (s, _) in reference.PORTS.items()}).astype("string"))
    return out.sort_values(["rejects", "dstport"], ascending=[False, True],
                           ignore_index=True).head(n)


def nat_processed(records: pd.DataFrame, topology) -> pd.DataFrame:
    """Bytes a NAT gateway processed, per outside peer: what its data-processing charge is on.

    The two legs that enter the gateway are counted (in from the source: the upload; in from
    the destination: the download), read from the records of its network interface, so the
    total equals ``BytesInFromSource + BytesInFromDestination`` of
    :func:`helpers.monitoring.metrics.nat_metrics`.

    Returns:
        One row per outside address, most bytes first: ``peer``, ``upload`` (bytes in from
        the source), ``download`` (bytes in from the destination), ``bytes`` and ``label``.
    """
    nat = topology.interface("nat")
    part = traffic_records(records, nat.eni_id)
    part = part[(part["action"] == "ACCEPT").to_numpy(dtype=bool)]
    to_nat = (part["dstaddr"] == nat.private_ip).to_numpy(dtype=bool, na_value=False)
    from_inside = is_internal(part["srcaddr"], topology.vpc_cidr)
    _, dst = _packet_ends(part)
    peer = np.where(from_inside, dst.astype(object), part["srcaddr"].astype(object))
    nbytes = part["bytes"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"peer": peer, "upload": np.where(from_inside, nbytes, 0),
                          "download": np.where(from_inside, 0, nbytes)})[to_nat]
    out = frame.groupby("peer").sum().reset_index()
    out["bytes"] = out["upload"] + out["download"]
    out = out.sort_values(["bytes", "peer"], ascending=[False, True], ignore_index=True)
    out["label"] = labels_of(out["peer"], part)
    return out
