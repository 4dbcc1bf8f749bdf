"""Captured packets → VPC Flow Logs records, aggregated the way AWS does.

Pure functions over packet lists: no namespaces, no root, so they are tested with packets
written by hand. The rules, from the VPC user guide:

* **One record per network interface, 5-tuple and aggregation interval**
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html): packets the
  interface received give ``flow-direction`` ``ingress`` records, packets it sent ``egress``
  records; ``packets``/``bytes`` count IP packets and their IP bytes; ``start``/``end`` are the
  first and last packet's second within the interval. The interval (``MaxAggregationInterval``,
  60 or 600 s on AWS) is configurable here, a few seconds for a class, and every record says
  which in the ``aggregation_interval`` column.
* **tcp-flags** is the OR of the flags seen in the interval, counting only FIN (1), SYN (2),
  RST (4) and SYN-ACK (18); ACK and PSH alone count 0, so a short connection shows 3 (SYN, FIN)
  on the client's side and 19 (SYN-ACK, FIN) on the server's
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-tcp-flag).
* **ICMP** records carry ports 0.
* **An intermediate interface** (the NAT gateway's) writes its own address as ``dstaddr`` of
  what it receives and as ``srcaddr`` of what it sends; ``pkt-srcaddr``/``pkt-dstaddr`` keep
  the packet's own addresses
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat).
* **traffic-path** (egress only): 1 inside the VPC, 8 through the internet gateway, 2 for the
  NAT gateway's own traffic to the internet (as :mod:`helpers.traffic.records` writes it).
* **action** is the kernel's: REJECT when the 5-tuple is in the reject set of the rule chain
  that guards that interface and direction, else ACCEPT.
* **log-status** is OK, or NODATA for an interface and interval without packets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from helpers import flowlogs
from helpers.errors import NetlabError
from helpers.flowlogs.fields import FIELDS
from helpers.traffic.generator import az_id
from helpers.traffic.topology import ICMP, TCP, Topology

__all__ = ["COLUMNS", "LOG_FORMAT", "Packet", "parse_capture", "tcp_flags", "to_records"]

VERSION = 5
COLUMNS = tuple(f.column for f in FIELDS.values() if f.version <= VERSION)
"""The flow-log columns of the lab's records: every field of versions 2–5, as the generator."""
LOG_FORMAT = flowlogs.format_string(COLUMNS)

FIN, SYN, RST, ACK = 1, 2, 4, 16
SYN_ACK = 18


@dataclass(frozen=True)
class Packet:
    """One captured IPv4 packet at an interface."""

    ts: float
    outgoing: bool
    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    length: int  # IP total length, the bytes flow logs count
    flags: int = 0  # TCP flags byte
    icmp_type: int = -1


def parse_capture(text: str) -> tuple[list[Packet], int, int]:
    """The packets of a capture file, the count of other frames and the capture's drops.

    Returns ``(packets, other_frames, drops)``; other frames (not IPv4) are counted, not
    dropped silently.
    """
    packets, other, drops = [], 0, 0
    for number, line in enumerate(text.splitlines(), start=1):
        cols = line.split("\t")
        if not line.strip():
            continue
        if cols[0] == "# drops":
            drops = int(cols[1])
        elif len(cols) == 4 and cols[2] == "other":
            other += 1
        elif len(cols) == 10:
            packets.append(Packet(float(cols[0]), cols[1] == "out", cols[2], cols[3],
                                  int(cols[4]), int(cols[5]), int(cols[6]), int(cols[7]),
                                  int(cols[8]), int(cols[9])))
        else:
            raise NetlabError(f"capture line {number}: expected 10 tab-separated fields, got "
                              f"{len(cols)}: {line[:80]!r}")
    return packets, other, drops


def tcp_flags(flags: Iterable[int]) -> int:
    """The ``tcp-flags`` value of a flow: the OR of each packet's FIN, SYN, RST and SYN-ACK.

    >>> tcp_flags([SYN, ACK, ACK | 8, FIN | ACK])  # a client: SYN, data, FIN
    3
    >>> tcp_flags([SYN | ACK, ACK | 8, FIN | ACK])  # its server: SYN-ACK, data, FIN
    19
    >>> tcp_flags([ACK, ACK | 8])  # ACK and PSH alone are not reported
    0
    """
    value = 0
    for f in flags:
        value |= f & (FIN | SYN | RST)
        if f & SYN and f & ACK:
            value |= SYN_ACK
    return value


def _path(topology: Topology, role: str, dst: str) -> str:
    if ipaddress.IPv4Address(dst) in ipaddress.IPv4Network(topology.vpc_cidr):
        return "1"
    eni = topology.interface(role)
    if role == "nat":
        return "2"
    return "8" if topology.subnet(eni.subnet_id).public else "1"


def to_records(packets: dict[str, list[Packet]], rejected: dict[tuple[str, str], set],
               topology: Topology, *, t0: float, t1: float, interval: int,
               labels: list[tuple[float, str]] | None = None, explain: bool = False
               ) -> pd.DataFrame:
    """Flow-log records of the packets captured at each interface.

    Args:
        packets: interface role (``"web"``, ``"private"``, ``"nat"``) → its packets.
        rejected: (role, ``"ingress"``/``"egress"``) → the 5-tuples (src, dst, protocol,
            sport, dport; ports 0 for ICMP) the kernel dropped there.
        topology: the VPC: IDs, addresses, subnets.
        t0, t1: when the capture started and ended (epoch seconds); intervals start at t0.
        interval: the aggregation interval in seconds.
        labels: (time, label) pairs in time order: a record's ``label`` is the last one at or
            before its first packet (the lab labels each command it runs).
        explain: add ``is_response`` and ``icmp_type`` (as ``traffic.generate(explain=True)``)
            and ``kernel_dropped`` (packets the kernel's reject set counted).

    Returns:
        One row per record, typed like :func:`helpers.flowlogs.read` (the v2–v5 columns),
        then ``label`` and ``aggregation_interval``; sorted by start, interface, direction.
    """
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise NetlabError(f"interval must be a whole number of seconds from 1, not "
                          f"{interval!r}")
    labels = sorted(labels or [])
    groups: dict[tuple, list[Packet]] = {}
    for role, plist in packets.items():
        for p in plist:
            window = int((p.ts - t0) // interval)
            sport, dport = (p.sport, p.dport) if p.proto != ICMP else (0, 0)
            icmp = p.icmp_type if p.proto == ICMP else -1
            key = (role, "egress" if p.outgoing else "ingress", window, p.src, p.dst, p.proto,
                   sport, dport, icmp)
            groups.setdefault(key, []).append(p)
    first_seen: dict[tuple, float] = {}
    for (role, _, _, src, dst, proto, sport, dport, _), plist in groups.items():
        k = (role, src, dst, proto, sport, dport)
        first_seen[k] = min(first_seen.get(k, float("inf")), plist[0].ts)
    rows, extra = [], []
    for key in sorted(groups, key=lambda k: (groups[k][0].ts, k[0], k[1])):
        role, direction, window, src, dst, proto, sport, dport, icmp = key
        plist = groups[key]
        eni = topology.interface(role)
        own = eni.private_ip
        subnet = topology.subnet(eni.subnet_id)
        five = (src, dst, proto, sport, dport)
        dropped = rejected.get((role, direction), {})
        action = "REJECT" if five in dropped else "ACCEPT"
        egress = direction == "egress"
        flags = tcp_flags(p.flags for p in plist) if proto == TCP else None
        start = int(plist[0].ts)
        end = int(plist[-1].ts)
        reverse = first_seen.get((role, dst, src, proto, dport, sport), float("inf"))
        if proto == ICMP:
            is_response = icmp == 0
        else:
            is_response = reverse < first_seen[(role, src, dst, proto, sport, dport)]
        values = {
            "version": VERSION, "account_id": topology.account_id, "interface_id": eni.eni_id,
            "srcaddr": own if egress else src, "dstaddr": dst if egress else own,
            "srcport": sport, "dstport": dport, "protocol": proto,
            "packets": len(plist), "bytes": sum(p.length for p in plist),
            "start": start, "end": end, "action": action, "log_status": "OK",
            "vpc_id": topology.vpc_id, "subnet_id": eni.subnet_id,
            "instance_id": eni.instance_id, "tcp_flags": flags, "type": "IPv4",
            "pkt_srcaddr": src, "pkt_dstaddr": dst, "region": topology.region,
            "az_id": az_id(subnet.az), "flow_direction": direction,
            "traffic_path": _path(topology, role, dst) if egress else None,
        }
        rows.append(values)
        label = next((name for at, name in reversed(labels) if at <= plist[0].ts), None)
        extra.append({"label": label, "is_response": is_response,
                      "icmp_type": icmp if proto == ICMP else None,
                      "kernel_dropped": dropped.get(five, 0) if isinstance(dropped, dict)
                      else 0, "window": window, "role": role})
    windows = max(1, -(-int(t1 - t0) // interval))
    busy = {(x["role"], x["window"]) for x in extra}
    for window in range(windows):
        for eni in topology.interfaces:
            if eni.role in packets and (eni.role, window) not in busy:
                start = int(t0 + window * interval)
                rows.append({"version": VERSION, "account_id": topology.account_id,
                             "interface_id": eni.eni_id, "start": start,
                             "end": int(min(t1, start + interval - 1)), "log_status": "NODATA",
                             "vpc_id": topology.vpc_id, "subnet_id": eni.subnet_id,
                             "instance_id": eni.instance_id, "region": topology.region,
                             "az_id": az_id(topology.subnet(eni.subnet_id).az)})
                extra.append({"label": "nodata", "is_response": None, "icmp_type": None,
                              "kernel_dropped": 0, "window": window, "role": eni.role})
    lines = [" ".join("-" if row.get(c) is None else str(row[c]) for c in COLUMNS)
             for row in rows]
    frame = flowlogs.parse_lines(lines, LOG_FORMAT) if lines else flowlogs.parse_lines(
        [], LOG_FORMAT)
    frame.attrs = {}
    info = pd.DataFrame(extra, columns=["label", "is_response", "icmp_type", "kernel_dropped",
                                        "window", "role"])
    frame["label"] = pd.array(info["label"], dtype="string")
    frame["aggregation_interval"] = pd.array([interval] * len(frame), dtype="Int32")
    if explain:
        frame["is_response"] = pd.array(info["is_response"], dtype="boolean")
        frame["icmp_type"] = pd.array(info["icmp_type"], dtype="Int32")
        frame["kernel_dropped"] = pd.array(info["kernel_dropped"], dtype="Int64")
    order = frame.assign(_d=frame["flow_direction"].fillna("")).sort_values(
        ["start", "interface_id", "_d"], kind="stable").index
    frame = frame.loc[order].reset_index(drop=True)
    frame.attrs["aggregation_interval"] = interval
    frame.attrs["labels"] = list(dict.fromkeys(name for _, name in labels))
    return frame
