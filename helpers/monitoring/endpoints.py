"""VPC endpoint metrics (the lesson's "VPC Endpoint 메트릭"), derived from flow-log records.

What AWS publishes
(https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-cloudwatch-metrics.html):

- **Interface endpoints** publish to ``AWS/PrivateLinkEndpoints``: ``ActiveConnections``,
  ``NewConnections``, ``BytesProcessed``, ``PacketsDropped`` and ``RstPacketsReceived``, with
  the dimensions ``Endpoint Type``, ``Service Name``, ``VPC Endpoint Id`` and ``VPC Id`` (and a
  second set that adds ``Subnet Id``). The dimension names hold spaces.
- **Gateway endpoints** (S3, DynamoDB) publish no CloudWatch metrics at all.
- The lesson's ``PacketsIn``/``PacketsOut``, ``BytesIn``/``BytesOut`` and "per-service API
  call counts" are not metrics of VPC endpoints: bytes come as one ``BytesProcessed`` for
  both directions, and API calls are recorded by CloudTrail, not by the endpoint.

An interface endpoint is a network interface in your subnet, so a VPC flow log records its
traffic like any other interface's. :func:`endpoint_metrics` derives the metrics from the
records of the endpoint's interface, one value a minute, in the tidy frame of
:mod:`helpers.monitoring.metrics`:

======================  ===============================================================
metric                  from the endpoint interface's ACCEPT records
======================  ===============================================================
BytesProcessed          bytes of the records to (dstaddr) and from (srcaddr) the endpoint
NewConnections          TCP records to the endpoint whose flags hold SYN without ACK
ActiveConnections       connections (client address and port) whose span covers the minute
RstPacketsReceived      TCP records to the endpoint with RST: at least one RST each
PacketsDropped          not derived: drops inside the endpoint leave no flow-log record
======================  ===============================================================

Bytes and counts go to the minute of the record's start (the endpoint's connections are short).
The frame's one dimension is ``VPC Endpoint Id``; :attr:`Endpoint.dimensions` holds the full set
a dashboard widget or an alarm must name.

The lab VPC has no endpoint, so :func:`lab_endpoint` describes one (Systems Manager's, in the
private subnet) and :func:`endpoint_traffic` makes the records a flow log would hold for it:
the private instance's agent calling the endpoint about once a minute, with a few Run Command
sessions. Pure computation: nothing here calls AWS.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import times
from helpers.errors import MonitoringError, TimeValueError
from helpers.flowlogs import parse_lines
from helpers.monitoring.metrics import COLUMNS, MetricDef

__all__ = [
    "DERIVED",
    "ENDPOINT_METRICS",
    "NAMESPACE",
    "Endpoint",
    "endpoint_metrics",
    "endpoint_traffic",
    "lab_endpoint",
]

NAMESPACE = "AWS/PrivateLinkEndpoints"
DIMENSION = "VPC Endpoint Id"
TCP, FIN, SYN, RST, ACK = 6, 1, 2, 4, 16
HTTPS = 443


def _def(name: str, unit: str, statistic: str, meaning: str) -> MetricDef:
    return MetricDef(name, NAMESPACE, DIMENSION, unit, statistic, meaning)


ENDPOINT_METRICS: dict[str, MetricDef] = {m.name: m for m in (
    _def("ActiveConnections", "Count", "Maximum",
         "concurrent active connections through the endpoint"),
    _def("BytesProcessed", "Bytes", "Sum",
         "bytes exchanged between the endpoint and the service, both directions together"),
    _def("NewConnections", "Count", "Sum", "new connections established through the endpoint"),
    _def("PacketsDropped", "Count", "Sum", "packets the endpoint dropped"),
    _def("RstPacketsReceived", "Count", "Sum", "RST packets the endpoint received"),
)}
"""The five metrics of an interface endpoint, as AWS names them (unit, statistic, meaning)."""

DERIVED = ("ActiveConnections", "BytesProcessed", "NewConnections", "RstPacketsReceived")
"""The metrics :func:`endpoint_metrics` derives; ``PacketsDropped`` leaves no record to count."""

_ENDPOINT_ID = re.compile(r"vpce-[0-9a-f]{8,17}")
_SERVICE = re.compile(r"com\.amazonaws\.(vpce\.)?[a-z0-9-]+\.[a-z0-9.-]+")


@dataclass(frozen=True)
class Endpoint:
    """A VPC endpoint: what its metrics are keyed by, and its network interface.

    ``eni_id`` and ``private_ip`` are the interface a VPC flow log records (interface
    endpoints only; a gateway endpoint has no interface and no metrics).
    """

    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str = "Interface"
    subnet_id: str | None = None
    eni_id: str | None = None
    private_ip: str | None = None

    def __post_init__(self):
        problems = []
        if not isinstance(self.endpoint_id, str) or not _ENDPOINT_ID.fullmatch(self.endpoint_id):
            problems.append(f"endpoint_id must be a VPC endpoint ID such as "
                            f"'vpce-0a1b2c3d4e5f60000', not {self.endpoint_id!r}")
        if not isinstance(self.service_name, str) or not _SERVICE.fullmatch(self.service_name):
            problems.append(f"service_name must be a service name such as "
                            f"'com.amazonaws.ap-northeast-2.ssm', not {self.service_name!r}")
        if self.endpoint_type not in ("Interface", "Gateway", "GatewayLoadBalancer"):
            problems.append(f"endpoint_type must be 'Interface', 'Gateway' or "
                            f"'GatewayLoadBalancer', not {self.endpoint_type!r}")
        if self.private_ip is not None:
            try:
                ipaddress.IPv4Address(self.private_ip)
            except (ipaddress.AddressValueError, ValueError):
                problems.append(f"private_ip must be an IPv4 address, not {self.private_ip!r}")
        if problems:
            raise MonitoringError("Endpoint: " + "; ".join(problems))

    @property
    def service(self) -> str:
        """The short service name: ``ssm`` for ``com.amazonaws.ap-northeast-2.ssm``."""
        return self.service_name.rsplit(".", 1)[-1]

    @property
    def dimensions(self) -> tuple[tuple[str, str], ...]:
        """The dimensions AWS publishes the endpoint's metrics with (names hold spaces)."""
        return (("Endpoint Type", self.endpoint_type), ("Service Name", self.service_name),
                ("VPC Endpoint Id", self.endpoint_id), ("VPC Id", self.vpc_id))


def _hex(text: str, n: int = 17) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def lab_endpoint(topology, service: str = "ssm") -> Endpoint:
    """An interface endpoint of ``service`` in the topology's private subnet.

    The lab VPC has none; this one is described, not created: its IDs are derived from the
    VPC ID and the service (the same on every run), its address is the first free one from
    ``.100`` of the private subnet.

    Raises:
        MonitoringError: ``topology`` is not the lab VPC, or ``service`` not a short name
            such as ``"ssm"``.
    """
    if not all(hasattr(topology, a) for a in ("interface", "subnet", "vpc_id", "region")):
        raise MonitoringError(f"topology must be the lab VPC (traffic.default_topology() or "
                              f"cloud.lab_vpc()), not {type(topology).__name__}")
    if not isinstance(service, str) or not re.fullmatch(r"[a-z0-9-]+", service):
        raise MonitoringError(f"service must be a short service name such as 'ssm' or 'logs', "
                              f"not {service!r}")
    private = topology.interface("private")
    network = ipaddress.IPv4Network(topology.subnet(private.subnet_id).cidr)
    taken = {e.private_ip for e in topology.interfaces}
    address = next(str(a) for a in network.hosts() if int(a) - int(network.network_address)
                   >= 100 and str(a) not in taken)
    key = f"{topology.vpc_id}/{service}"
    return Endpoint(endpoint_id=f"vpce-{_hex(key)}", vpc_id=topology.vpc_id,
                    service_name=f"com.amazonaws.{topology.region}.{service}",
                    subnet_id=private.subnet_id, eni_id=f"eni-{_hex('eni/' + key)}",
                    private_ip=address)


_FORMAT = ("${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
           "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} "
           "${tcp-flags}")


def endpoint_traffic(topology, endpoint: Endpoint, *, start, duration: str | int = "1h",
                     seed: int = 0, every: int = 60, sessions: int | None = None
                     ) -> pd.DataFrame:
    """Flow-log records of the private instance's traffic to an interface endpoint.

    The instance's agent opens a short HTTPS connection to the endpoint about every
    ``every`` seconds; ``sessions`` Run Command sessions (default: one per two hours) add a
    connection every 2 seconds for 2-4 minutes with larger answers; about 3 % of connections
    end with the client's RST. Each connection leaves four records, as a flow log on both
    interfaces writes them: the request and the answer on the instance's interface and on
    the endpoint's. Columns: the default format's fields and ``tcp_flags``, typed as
    :func:`helpers.flowlogs.parse_lines` types them.

    Raises:
        MonitoringError: an endpoint without an interface, a bad seed, interval or number.
        TimeValueError: ``start`` is not a time.
    """
    if not isinstance(endpoint, Endpoint) or endpoint.eni_id is None \
            or endpoint.private_ip is None:
        raise MonitoringError("endpoint must be an interface Endpoint with eni_id and "
                              "private_ip (endpoints.lab_endpoint(lab)); a gateway endpoint "
                              "has no network interface")
    for name, value, low in (("seed", seed, 0), ("every", every, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise MonitoringError(f"{name} must be a whole number of at least {low}, not "
                                  f"{value!r}")
    first = times.to_epoch(start, "start")
    span = int(pd.Timedelta(duration).total_seconds()) if isinstance(duration, str) \
        else duration
    if isinstance(span, bool) or not isinstance(span, (int, np.integer)) or span < every:
        raise MonitoringError(f"duration must be at least one interval ({every} s), such as "
                              f"'1h' or 3600, not {duration!r}")
    if sessions is None:
        sessions = max(1, span // 7200)
    if isinstance(sessions, bool) or not isinstance(sessions, (int, np.integer)) \
            or sessions < 0:
        raise MonitoringError(f"sessions must be a whole number of at least 0, not "
                              f"{sessions!r}")
    rng = np.random.default_rng(seed)
    polls = first + np.arange(0, span, every) + rng.integers(0, min(every, 10), span // every)
    bursts = []
    for begin in np.sort(rng.integers(first, first + span - 240, sessions)):
        length = int(rng.integers(120, 241))
        bursts.append(begin + np.arange(0, length, 2))
    t0 = np.sort(np.concatenate([polls, *bursts])) if bursts else polls
    heavy = np.isin(t0, np.concatenate(bursts)) if bursts else np.zeros(len(t0), bool)
    n = len(t0)
    dur = rng.integers(0, 4, n)
    answer = np.where(heavy, rng.integers(20_000, 200_000, n), rng.integers(1_500, 6_000, n))
    back_packets = -(-answer // 1448) + 3
    out_packets = back_packets // 2 + 4
    out_bytes = out_packets * 52 + rng.integers(800, 3_000, n)
    back_bytes = back_packets * 52 + answer
    reset = rng.random(n) < 0.03
    client_flags = np.where(reset, SYN | RST, SYN | FIN)
    server_flags = np.full(n, SYN | ACK | FIN)
    sport = 32768 + (int(rng.integers(0, 28232)) + 7 * np.arange(n)) % 28232  # no reuse
    client = topology.interface("private")
    lines = []
    for i in range(n):
        s, e = int(t0[i]), int(t0[i] + dur[i])
        request = (f"{client.private_ip} {endpoint.private_ip} {sport[i]} {HTTPS} {TCP} "
                   f"{out_packets[i]} {out_bytes[i]} {s} {e} ACCEPT OK {client_flags[i]}")
        reply = (f"{endpoint.private_ip} {client.private_ip} {HTTPS} {sport[i]} {TCP} "
                 f"{back_packets[i]} {back_bytes[i]} {s} {e} ACCEPT OK {server_flags[i]}")
        for eni in (client.eni_id, endpoint.eni_id):
            lines += [f"{topology.account_id} {eni} {request}",
                      f"{topology.account_id} {eni} {reply}"]
    return parse_lines(lines, _FORMAT)


def endpoint_metrics(records: pd.DataFrame, endpoint: Endpoint) -> pd.DataFrame:
    """The derivable ``AWS/PrivateLinkEndpoints`` metrics (:data:`DERIVED`), one value a minute.

    Reads the ACCEPT records of the endpoint's interface (other interfaces' records are
    ignored). Every minute of the records' span has a value, zeros included.

    Returns:
        The tidy metrics frame (:data:`helpers.monitoring.metrics.COLUMNS`), dimension
        ``VPC Endpoint Id``.

    Raises:
        MonitoringError: a gateway endpoint (no metrics), an endpoint without an interface,
            or records that are not flow-log records with ``tcp_flags``.
    """
    if not isinstance(endpoint, Endpoint):
        raise MonitoringError(f"endpoint must be an Endpoint (endpoints.lab_endpoint(lab)), "
                              f"not {type(endpoint).__name__}")
    if endpoint.endpoint_type == "Gateway":
        raise MonitoringError(f"{endpoint.endpoint_id} is a gateway endpoint: gateway "
                              "endpoints (S3, DynamoDB) publish no CloudWatch metrics; look at "
                              "the flow-log records of the instances that use it instead")
    if endpoint.eni_id is None or endpoint.private_ip is None:
        raise MonitoringError(f"{endpoint.endpoint_id} needs eni_id and private_ip: the metrics "
                              "are derived from its network interface's records")
    if not isinstance(records, pd.DataFrame):
        raise MonitoringError(f"records must be a DataFrame of flow-log records, not "
                              f"{type(records).__name__}")
    needed = ("interface_id", "srcaddr", "dstaddr", "srcport", "protocol", "bytes", "start",
              "end", "action", "tcp_flags")
    missing = [c for c in needed if c not in records.columns]
    if missing:
        raise MonitoringError(f"endpoint_metrics needs the columns {', '.join(missing)}; the "
                              "connection metrics read tcp_flags (a version-3 field)")
    if records.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    try:
        first = int(records["start"].min()) // 60 * 60
        n = int(records["end"].max()) // 60 - first // 60 + 1
    except (TypeError, ValueError) as err:
        raise TimeValueError(f"records: start and end must be epoch seconds ({err})") from None
    at = records[(records["interface_id"] == endpoint.eni_id)
                 & (records["action"] == "ACCEPT").fillna(False)]
    to_ep = at[at["dstaddr"] == endpoint.private_ip]
    from_ep = at[at["srcaddr"] == endpoint.private_ip]
    flags = to_ep["tcp_flags"].fillna(0).astype("int64")
    tcp = (to_ep["protocol"] == TCP).fillna(False)

    def per_minute(part: pd.DataFrame, weights=None) -> np.ndarray:
        minute = ((part["start"].to_numpy(dtype=np.int64) - first) // 60)
        w = None if weights is None else np.asarray(weights, dtype=float)
        return np.bincount(minute, weights=w, minlength=n)[:n].astype(float)

    both = pd.concat([to_ep, from_ep])
    values = {
        "BytesProcessed": per_minute(both, both["bytes"].fillna(0).to_numpy(dtype=np.int64)),
        "NewConnections": per_minute(to_ep[tcp & ((flags & SYN) > 0) & ((flags & ACK) == 0)]),
        "RstPacketsReceived": per_minute(to_ep[tcp & ((flags & RST) > 0)]),
        "ActiveConnections": _active(to_ep[tcp], first, n),
    }
    minutes = pd.to_datetime(first + 60 * np.arange(n), unit="s", utc=True)
    return pd.concat([pd.DataFrame({
        "timestamp": minutes, "namespace": NAMESPACE, "metric": name, "dimension": DIMENSION,
        "dimension_value": endpoint.endpoint_id, "value": values[name],
        "unit": ENDPOINT_METRICS[name].unit}) for name in sorted(values)], ignore_index=True)


def _active(requests: pd.DataFrame, first: int, n: int) -> np.ndarray:
    """How many connections span each minute.

    A connection is a client address and port; records of one more than a minute apart
    (AWS's aggregation interval is at most 10 minutes, Nitro's 1) are a reused port, a new
    connection.
    """
    if requests.empty:
        return np.zeros(n)
    rows = requests.sort_values(["srcaddr", "srcport", "start"], kind="stable")
    start = rows["start"].to_numpy(dtype=np.int64)
    end = rows["end"].to_numpy(dtype=np.int64)
    key = (rows["srcaddr"].astype(str) + ":" + rows["srcport"].astype(str)).to_numpy()
    new = np.r_[True, (key[1:] != key[:-1]) | (start[1:] > end[:-1] + 60)]
    connection = np.cumsum(new)
    spans = pd.DataFrame({"c": connection, "s": start, "e": end}).groupby("c").agg(
        s=("s", "min"), e=("e", "max"))
    m0 = (spans["s"].to_numpy(dtype=np.int64) - first) // 60
    m1 = (spans["e"].to_numpy(dtype=np.int64) - first) // 60
    delta = np.zeros(n + 1)
    np.add.at(delta, np.clip(m0, 0, n), 1)
    np.add.at(delta, np.clip(m1 + 1, 0, n), -1)
    return np.cumsum(delta)[:n]
