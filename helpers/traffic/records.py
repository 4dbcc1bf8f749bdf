"""From connection attempts to flow-log records: route, judge, count, split into windows.

For each batch of :class:`~helpers.traffic.scenarios.Flows` (one scenario, one client/server
pair, so one route) everything is vectorised over the flows:

1. **Route.** Internet ↔ public instance goes through the internet gateway; a private instance
   reaches the internet through the NAT gateway, whose interface is an intermediate hop.
2. **Judge.** Each hop is checked where AWS checks it: on the sending interface (egress) and on
   the receiving one (ingress), request first, then the response back along the same hops
   (:func:`helpers.traffic.rules.allowed_at`). The first REJECT ends the packet's journey:
   later interfaces record nothing.
3. **Count.** What each side sends follows from the outcome: a completed connection carries the
   scenario's packets; a rejected SYN is retransmitted 1–3 times (60 bytes each); a port that
   nobody listens on answers with a RST.
4. **Split.** A connection longer than the aggregation interval gives one record per interval
   (``start``/``end`` clipped to it), its packets and bytes shared out, TCP flags OR-ed per
   interval: SYN (2) in the first, FIN (1) in the last, 3 and 19 when both fall in one.

Addresses follow AWS's rules for an intermediate interface (the NAT gateway's): on the way in,
``dstaddr`` is the interface's own address; on the way out, ``srcaddr`` is; ``pkt-srcaddr`` and
``pkt-dstaddr`` always give the packet's real ends
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.errors import TrafficError
from helpers.traffic.rules import allowed_at, ipv4_to_int
from helpers.traffic.scenarios import (
    CLOSED,
    ECHO,
    EPHEMERAL,
    LISTENING,
    OPEN,
    PROBE,
    SESSION,
    SILENT,
    SYN,
    Flows,
)
from helpers.traffic.topology import ICMP, TCP, Topology

__all__ = ["assign_ports", "to_records", "RECORD_COLUMNS"]

EPHEMERAL_LOW, EPHEMERAL_HIGH = 32768, 60999  # Linux net.ipv4.ip_local_port_range
RST = 40  # a RST segment, in IP bytes
PROBE_SYN = 44  # nmap's SYN probe (one MSS option), in IP bytes

# Outcome of an attempt, decided by the rules and the server.
DONE, REFUSED, FWD_DENIED, NO_ANSWER, REV_DENIED = 0, 1, 2, 3, 4
# traffic-path values (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html)
PATH_VPC, PATH_IGW_OR_ENDPOINT, PATH_IGW = 1, 2, 8

RECORD_COLUMNS = ("eni", "egress", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr",
                  "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
                  "accept", "tcp_flags", "traffic_path", "scenario", "is_response", "icmp_type")
"""The internal record arrays :func:`to_records` returns (codes, not strings)."""


@dataclass(frozen=True)
class Hop:
    """One leg of a route: from ``sender`` to ``receiver`` (interface indexes, -1 = internet).

    ``via_nat`` marks the NAT gateway's leg to the internet, where the request's source is the
    NAT gateway's address (and the response's destination).
    """

    sender: int
    receiver: int
    via_nat: bool = False


def route(topology: Topology, client: str, server: str) -> tuple[Hop, ...]:
    """The hops between two nodes (interface roles, or ``"internet"``) of the lab VPC."""
    _check_topology(topology)
    index = {e.role: i for i, e in enumerate(topology.interfaces)}
    for node in (client, server):
        if node != "internet" and node not in index:
            raise TrafficError(f"the topology has no {node!r} interface; roles: "
                               f"{', '.join(index)}")
    if client != "internet" and server != "internet":
        return (Hop(index[client], index[server]),)
    if client == "internet" and server == "internet":
        raise TrafficError("a flow between two internet hosts never enters the VPC")
    inside = server if client == "internet" else client
    eni = topology.interface(inside)
    public = topology.subnet(eni.subnet_id).public and eni.public_ip is not None
    if client == "internet":
        if not public:
            raise TrafficError(f"the {inside} instance has no public address in a public "
                               "subnet: internet hosts cannot open connections to it")
        return (Hop(-1, index[inside]),)
    if public:
        return (Hop(index[inside], -1),)
    return (Hop(index[inside], index["nat"]), Hop(index["nat"], -1, via_nat=True))


def assign_ports(batches: list[Flows], rng) -> None:
    """Give every ``EPHEMERAL`` source port a value, in place, as a Linux client would.

    Each client address walks through 32768–60999 from a random offset in the order of its
    connections, so no two connections of one client share a port until it has opened
    28,232 of them: one flow-log record per 5-tuple and window, as AWS aggregates.
    """
    if not all(isinstance(b, Flows) for b in batches):
        bad = next(b for b in batches if not isinstance(b, Flows))
        raise TrafficError(f"batches must hold Flows (what scenarios build), not "
                           f"{type(bad).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TrafficError(f"rng must be a numpy Generator (np.random.default_rng(seed)), not "
                           f"{type(rng).__name__}")
    picks = [np.flatnonzero(b.sport == EPHEMERAL) for b in batches]
    src = np.concatenate([b.src[p] for b, p in zip(batches, picks)])
    if not len(src):
        return
    t0 = np.concatenate([b.t0[p] for b, p in zip(batches, picks)])
    order = np.argsort((src.astype(np.int64) << 32) | (t0 - t0.min()), kind="stable")
    s = src[order]
    new_group = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    rank = np.arange(len(s)) - first[group]
    span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1
    ports = np.empty(len(s), dtype=np.int32)
    ports[order] = EPHEMERAL_LOW + (rng.integers(0, span, len(first))[group] + rank) % span
    offset = 0
    for b, p in zip(batches, picks):
        b.sport[p] = ports[offset: offset + len(p)]
        offset += len(p)


def merge_echoes(flows: Flows, start: int, window: int) -> Flows:
    """Merge ICMP echo exchanges between the same two hosts in the same window into one.

    ICMP has no ports, so two pings in one aggregation interval share a 5-tuple and AWS
    counts them in one record: packets and bytes add up, the times stretch.
    """
    if flows.kind != ECHO or len(flows) < 2:
        return flows
    w = (flows.t0 - start) // window
    order = np.lexsort((flows.t0, w, flows.dst, flows.src))
    f = flows.take(order)
    w = w[order]
    new = np.r_[True, (f.src[1:] != f.src[:-1]) | (f.dst[1:] != f.dst[:-1]) | (w[1:] != w[:-1])]
    if new.all():
        return f
    first = np.flatnonzero(new)
    merged = f.take(first)
    for name in ("fwd_packets", "fwd_bytes", "rev_packets", "rev_bytes", "retries"):
        setattr(merged, name, np.add.reduceat(getattr(f, name), first))
    last_end = np.maximum.reduceat(f.t0 + f.dur, first)
    merged.dur = last_end - merged.t0
    return merged


def _checks(hops: tuple[Hop, ...]):
    """Where the request and then the response are judged: (hop, is_response, interface,
    egress), in the order the packets meet them."""
    out = []
    for hop in hops:
        if hop.sender >= 0:
            out.append((hop, False, hop.sender, True))
        if hop.receiver >= 0:
            out.append((hop, False, hop.receiver, False))
    for hop in reversed(hops):
        if hop.receiver >= 0:
            out.append((hop, True, hop.receiver, True))
        if hop.sender >= 0:
            out.append((hop, True, hop.sender, False))
    return out


def to_records(flows: Flows, topology: Topology, *, scenario_code: int, start: int, end: int,
               window: int) -> dict[str, np.ndarray]:
    """The flow-log records of one batch of flows, as arrays named in :data:`RECORD_COLUMNS`.

    ``start``/``end`` bound the generated span (epoch seconds, end exclusive) and ``window``
    is the aggregation interval in seconds.
    """
    if not isinstance(flows, Flows):
        raise TrafficError(f"flows must be Flows (what scenarios build), not "
                           f"{type(flows).__name__}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window <= 0:
        raise TrafficError(f"window must be a whole number of seconds above 0, not {window!r}")
    if not end > start:
        raise TrafficError(f"end must be after start (epoch seconds), not start={start!r}, "
                           f"end={end!r}")
    hops = route(topology, flows.client, flows.server)
    flows = merge_echoes(flows, start, window)
    n = len(flows)
    ips = ipv4_to_int([e.private_ip for e in topology.interfaces]).astype(np.uint32)
    roles = [e.role for e in topology.interfaces]
    nat_ip = ips[roles.index("nat")] if "nat" in roles else np.uint32(0)
    icmp = flows.protocol == ICMP

    def packet(hop: Hop, response: bool):
        """(source, destination, source port, destination port) of the packet on a hop."""
        client = nat_ip if hop.via_nat else flows.src
        if response:
            return flows.dst, client, flows.dport, flows.sport
        return client, flows.dst, flows.sport, flows.dport

    checks = _checks(hops)
    exists, accepts = [], []
    alive = np.ones(n, dtype=bool)
    answer = _answers(flows, topology)
    fwd_ok = None
    for hop, response, eni, egress in checks:
        if response and fwd_ok is None:
            fwd_ok = alive.copy()
            alive &= answer != SILENT
        src, dst, _, dport = packet(hop, response)
        peer = dst if egress else src
        port = (0 if response else 8) if flows.kind == ECHO else dport
        ok = allowed_at(topology, eni, egress, peer, flows.protocol, port, response)
        exists.append(alive.copy())
        accepts.append(ok)
        alive &= ok
    if fwd_ok is None:
        fwd_ok = alive.copy()
    rev_ok = alive
    outcome = np.select(
        [~fwd_ok, answer == SILENT, ~rev_ok, answer == CLOSED],
        [FWD_DENIED, NO_ANSWER, REV_DENIED, REFUSED], DONE)
    seg = _segments(flows, outcome, answer, start, end, window)
    parts = []
    for (hop, response, eni, egress), exist, ok in zip(checks, exists, accepts):
        rows = np.flatnonzero(exist[seg["flow"]])
        if not rows.size:
            continue
        f = seg["flow"][rows]
        src, dst, sport, dport = packet(hop, response)
        src = np.broadcast_to(src, n)[f]
        dst = np.broadcast_to(dst, n)[f]
        own = ips[eni]
        k = len(rows)
        side = "rev" if response else "fwd"
        toward = hop.sender if response else hop.receiver
        path = 0
        if egress:
            path = PATH_VPC if toward >= 0 else (
                PATH_IGW_OR_ENDPOINT if roles[eni] == "nat" else PATH_IGW)
        parts.append({
            "eni": np.full(k, eni, dtype=np.int16),
            "egress": np.full(k, egress, dtype=bool),
            "srcaddr": np.full(k, own, dtype=np.uint32) if egress else src,
            "dstaddr": dst if egress else np.full(k, own, dtype=np.uint32),
            "pkt_srcaddr": src,
            "pkt_dstaddr": dst,
            "srcport": sport[f],
            "dstport": dport[f],
            "protocol": np.full(k, flows.protocol, dtype=np.int16),
            "packets": seg[f"{side}_packets"][rows],
            "bytes": seg[f"{side}_bytes"][rows],
            "start": seg["start"][rows],
            "end": seg["end"][rows],
            "accept": ok[f],
            "tcp_flags": seg[f"{side}_flags"][rows],
            "traffic_path": np.full(k, path, dtype=np.int8),
            "scenario": np.full(k, scenario_code, dtype=np.int16),
            "is_response": np.full(k, response, dtype=bool),
            "icmp_type": np.full(k, (0 if response else 8) if icmp else -1, dtype=np.int16),
        })
    return concat(parts)


_EMPTY_TYPES = {"eni": np.int16, "egress": bool, "srcaddr": np.uint32, "dstaddr": np.uint32,
                "pkt_srcaddr": np.uint32, "pkt_dstaddr": np.uint32, "srcport": np.int32,
                "dstport": np.int32, "protocol": np.int16, "accept": bool,
                "tcp_flags": np.int32, "traffic_path": np.int8, "scenario": np.int16,
                "is_response": bool, "icmp_type": np.int16}


def _check_topology(topology) -> None:
    if not isinstance(topology, Topology):
        raise TrafficError(f"topology must be a Topology (see default_topology()), not "
                           f"{type(topology).__name__}")


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Record arrays of several batches, one after the other."""
    if not parts:
        return {name: np.empty(0, dtype=_EMPTY_TYPES.get(name, np.int64))
                for name in RECORD_COLUMNS}
    return {name: np.concatenate([p[name] for p in parts]) for name in RECORD_COLUMNS}


def _answers(flows: Flows, topology: Topology) -> np.ndarray:
    """How the server answers an attempt that reaches it: a lab instance by the ports it
    listens on (and every ping), an internet server as the scenario says."""
    if flows.server == "internet":
        return flows.answer
    if flows.kind == ECHO or flows.protocol != TCP:
        return np.full(len(flows), OPEN, dtype=np.int8)
    listening = LISTENING.get(topology.interface(flows.server).role, ())
    return np.where(np.isin(flows.dport, listening), OPEN, CLOSED).astype(np.int8)


def _segments(flows: Flows, outcome, answer, start: int, end: int, window: int):
    """Packets, bytes, flags and times of each flow in each window it spans, both directions.

    Returns arrays per segment: ``flow`` (row in ``flows``), ``start``/``end`` and
    ``fwd_*``/``rev_*`` packets, bytes and TCP flags.
    """
    n = len(flows)
    kind = flows.kind
    tcp = flows.protocol == TCP
    retries = flows.retries
    retry_time = np.choose(np.clip(retries, 1, 3) - 1, [0, 1, 3])  # SYN retransmits: 1 s, 2 s
    opened = answer == OPEN
    syn = PROBE_SYN if kind == PROBE else SYN
    # What each side sends, by outcome (then overridden for completed sessions and pings).
    fp = np.where(outcome == REFUSED, 1, retries)
    fb = fp * syn
    ff = np.full(n, 2, dtype=np.int64)
    rp = np.where(outcome == REV_DENIED, retries, 1)
    rb = rp * np.where(opened, syn, RST)
    rf = np.where(opened, 18, 4)
    dur = np.where(outcome == REFUSED, 0, retry_time)
    if kind == PROBE:
        done = outcome == DONE  # an open port: SYN, SYN-ACK, then the scanner's RST
        fp = np.where(done, 2, fp)
        fb = np.where(done, PROBE_SYN + RST, fb)
        ff = np.where(done, 6, ff)
    elif kind == ECHO or not tcp:
        fp, fb, rp, rb = flows.fwd_packets, flows.fwd_bytes, flows.rev_packets, flows.rev_bytes
        ff = rf = np.zeros(n, dtype=np.int64)
        dur = flows.dur
    else:
        done = outcome == DONE
        fp = np.where(done, flows.fwd_packets, fp)
        fb = np.where(done, flows.fwd_bytes, fb)
        rp = np.where(done, flows.rev_packets, rp)
        rb = np.where(done, flows.rev_bytes, rb)
        dur = np.where(done, flows.dur, dur)
    session = (outcome == DONE) & (kind == SESSION) & tcp
    t0 = flows.t0
    w0 = (t0 - start) // window
    window_end = start + (w0 + 1) * window - 1
    t1 = np.minimum(t0 + np.maximum(dur, 0), end - 1)
    truncated = session & (t0 + dur > end - 1)
    nseg = (t1 - start) // window - w0 + 1
    single = ~session | (nseg > np.minimum(fp, rp))  # too few packets to fill every window
    t1 = np.where(single, np.minimum(t1, window_end), t1)
    fin = np.where(~truncated, 1, 0)
    # Flows within one window (nearly all) keep their counts; flags are OR-ed over the flow.
    one = np.flatnonzero(single)
    seg = {"flow": one, "start": t0[one], "end": t1[one]}
    for side, packets, size, flags, syn_flag in (("fwd", fp, fb, ff, 2), ("rev", rp, rb, rf, 18)):
        seg[f"{side}_packets"] = packets[one]
        seg[f"{side}_bytes"] = size[one]
        seg[f"{side}_flags"] = np.where(session[one], syn_flag | fin[one], flags[one]).astype(
            np.int32)
    many = np.flatnonzero(~single)
    if not many.size:
        return seg
    # Longer sessions: one segment per window, packets by the time spent in each window (at
    # least one per window), bytes shared in proportion, SYN in the first, FIN in the last.
    nseg = ((t1 - start) // window - w0 + 1)[many]
    flow = np.repeat(many, nseg)
    first = np.cumsum(nseg) - nseg
    k = np.arange(len(flow)) - np.repeat(first, nseg)
    m = np.repeat(nseg, nseg)
    wstart = start + (w0[flow] + k) * window
    seg_start = np.maximum(t0[flow], wstart)
    seg_end = np.minimum(t1[flow], wstart + window - 1)
    span = (t1 - t0 + 1)[flow]
    covered = seg_end - t0[flow] + 1  # seconds up to the end of segment k
    covered_before = seg_start - t0[flow]
    more = {"flow": flow, "start": seg_start, "end": seg_end}
    for side, packets, size, syn_flag in (("fwd", fp, fb, 2), ("rev", rp, rb, 18)):
        p, b = np.maximum(packets[flow], 1), size[flow]
        upto = k + 1 + (p - m) * covered // span  # packets up to and including segment k
        before = k + (p - m) * covered_before // span
        more[f"{side}_packets"] = upto - before
        more[f"{side}_bytes"] = b * upto // p - b * before // p
        more[f"{side}_flags"] = (np.where(k == 0, syn_flag, 0)
                                 | np.where(k == m - 1, fin[flow], 0)).astype(np.int32)
    return {name: np.concatenate([seg[name], more[name]]) for name in seg}
