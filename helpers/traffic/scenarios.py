"""The scenarios: who opens which connections, when, and how much each would carry.

A scenario is a function of a :class:`Context` and a seeded random generator that returns
:class:`Flows`: one row per connection attempt (client → server), as numpy arrays. It says what
the client *tries*; whether the VPC lets it through is not its business. ``records.py`` judges
every attempt with the topology's rules and turns it into flow-log records, so the same
scenario yields ACCEPT or REJECT depending on the security groups and network ACLs.

Sizes are IP bytes, as flow logs count them: a TCP segment carries 40–60 bytes of headers
(1448 bytes of payload per full 1500-byte packet), an ICMP echo of ``ping`` is 84 bytes.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from helpers.errors import TrafficError
from helpers.traffic.hosts import address, pool
from helpers.traffic.rules import ipv4_to_int
from helpers.traffic.topology import ICMP, TCP, Topology

__all__ = ["DEFAULT_SCENARIOS", "LISTENING", "SCENARIOS", "Context", "Flows", "build",
           "check_name", "expected_records"]

# What a flow is: a whole TCP connection, one scanner probe (a SYN), or an ICMP echo exchange.
SESSION, PROBE, ECHO = 0, 1, 2
# How an internet server answers a TCP attempt that reaches it.
OPEN, CLOSED, SILENT = 0, 1, 2
EPHEMERAL = -1  # the client's kernel picks the source port (see records.assign_ports)

LISTENING: dict[str, tuple[int, ...]] = {"web": (22, 80, 443), "private": (22, 3306)}
"""TCP ports the lab's instances listen on; an allowed attempt to any other port gets a RST."""

MSS = 1448  # TCP payload of a full 1500-byte packet with timestamps (20 IP + 32 TCP)
ACK = 52  # an empty TCP segment with timestamps, in IP bytes
SYN = 60  # a SYN or SYN-ACK with options, in IP bytes
PING = 84  # an ICMP echo of ping's default 56-byte payload, in IP bytes


@dataclass
class Flows:
    """Connection attempts of one scenario between two kinds of node, one row per attempt.

    ``client``/``server`` are interface roles of the topology (``"web"``, ``"private"``) or
    ``"internet"``. Packet and byte counts say what a connection carries when it completes;
    ``retries`` is how many packets the client sends when nobody answers (SYN retransmissions).
    """

    scenario: str
    client: str
    server: str
    kind: int
    protocol: int
    src: np.ndarray  # uint32
    dst: np.ndarray  # uint32
    sport: np.ndarray  # int32, EPHEMERAL = chosen later
    dport: np.ndarray  # int32, 0 for ICMP
    t0: np.ndarray  # int64 epoch seconds of the first packet
    dur: np.ndarray  # int64 seconds from the first to the last packet, if it completes
    fwd_packets: np.ndarray
    fwd_bytes: np.ndarray
    rev_packets: np.ndarray
    rev_bytes: np.ndarray
    retries: np.ndarray
    answer: np.ndarray  # int8: OPEN, CLOSED or SILENT (internet servers only)

    def __len__(self) -> int:
        return len(self.t0)

    def take(self, index) -> Flows:
        """The rows at ``index`` (an integer array or a boolean mask)."""
        arrays = {f.name: getattr(self, f.name)[index] for f in fields(self)
                  if isinstance(getattr(self, f.name), np.ndarray)}
        return Flows(self.scenario, self.client, self.server, self.kind, self.protocol,
                     **arrays)


@dataclass(frozen=True)
class Context:
    """What a scenario needs to know: the VPC, the time span and the volume."""

    topology: Topology
    start: int  # epoch seconds, inclusive
    end: int  # epoch seconds, exclusive
    scale: float = 1.0

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600

    def ip(self, role: str) -> int:
        """The private address of the interface with this role, as an integer."""
        return int(ipv4_to_int(self.topology.interface(role).private_ip)[0])

    def count(self, rng, per_hour: float, minimum: int = 1) -> int:
        """How many times a scenario's event happens: Poisson, scaled, at least ``minimum``."""
        return max(minimum, int(rng.poisson(per_hour * self.hours * self.scale)))

    def times(self, rng, n: int, begin: int | None = None, length: int | None = None):
        """``n`` sorted start times, uniform over the span (or over one burst of it)."""
        begin = self.start if begin is None else begin
        length = self.end - begin if length is None else length
        return np.sort(begin + (rng.random(n) * length).astype(np.int64))

    def burst(self, rng, seconds: int) -> tuple[int, int]:
        """A burst of activity of ``seconds`` (shortened to fit) at a random place in the span."""
        length = int(min(seconds, self.end - self.start))
        return self.start + int(rng.integers(0, self.end - self.start - length + 1)), length


def make_flows(scenario, client, server, kind, protocol, *, src, dst, t0, sport=EPHEMERAL,
               dport=0, dur=0, fwd_packets=1, fwd_bytes=SYN, rev_packets=1, rev_bytes=SYN,
               retries=1, answer=OPEN) -> Flows:
    """Flows from arrays and scalars, broadcast to the length of ``t0``."""
    n = len(t0)

    def arr(value, dtype=np.int64):
        return np.array(np.broadcast_to(np.asarray(value, dtype=dtype), n))

    return Flows(scenario, client, server, kind, protocol, src=arr(src, np.uint32),
                 dst=arr(dst, np.uint32), sport=arr(sport, np.int32),
                 dport=arr(dport, np.int32), t0=arr(t0),
                 dur=arr(dur), fwd_packets=arr(fwd_packets), fwd_bytes=arr(fwd_bytes),
                 rev_packets=arr(rev_packets), rev_bytes=arr(rev_bytes), retries=arr(retries),
                 answer=arr(answer, np.int8))


def _bulk(rng, n, low, high):
    """A one-way bulk transfer of ``low``–``high`` bytes of payload: (data packets, bytes,
    ACK packets, ACK bytes) in IP bytes, with the handshake and the FINs."""
    payload = rng.integers(low, high, n)
    data_packets = -(-payload // MSS) + 2
    ack_packets = data_packets // 2 + 3
    return data_packets, payload + data_packets * ACK, ack_packets, ack_packets * ACK


# --- the scenarios --------------------------------------------------------------------------

Builder = Callable[[Context, np.random.Generator], list[Flows]]
Estimate = Callable[[float, float], float]
_BUILDERS: dict[str, Builder] = {}
_ESTIMATES: dict[str, Estimate] = {}
SCENARIOS: dict[str, str] = {}
"""Every scenario by name, with a one-line description of what it generates."""


def scenario(name: str, description: str, *, records: Estimate):
    """Register a scenario's builder under ``name``.

    ``records(hours, scale)`` is how many traffic records the scenario makes on average over
    ``hours`` at ``scale`` with 1-minute aggregation: its connections (the Poisson rates and
    minimums of its code) times the records per connection measured with the default topology
    (one per interface, direction and window crossed). The generator uses it to refuse a
    request too large for memory before drawing anything.
    """
    def register(fn: Builder) -> Builder:
        _BUILDERS[name] = fn
        _ESTIMATES[name] = records
        SCENARIOS[name] = description
        return fn
    return register


def _busiest(hours: float) -> float:
    """The web baseline's highest mean rate over ``hours``, relative to its daily mean.

    The rate is ``1 + 0.75 cos(2π t / 24 h)``; the mean of a cosine over a window of ``w``
    radians is at most ``|sin(w/2)| / (w/2)``, reached by a window centred on the peak.
    """
    half = np.pi * hours / 24
    return 1 + 0.75 * (abs(np.sin(half)) / half if half > 0 else 1.0)


@scenario("web_baseline", "internet clients browse the web instance on 80/443 with a daily "
          "rhythm (peak in the Seoul afternoon)",
          # 40 connections a minute over a day, 2.25 records each (in and out, some longer);
          # a span shorter than a day may fall in the busy afternoon
          records=lambda h, s: 2400 * h * s * 2.25 * _busiest(h))
def web_baseline(ctx: Context, rng) -> list[Flows]:
    step = 60
    minutes = np.arange(ctx.start, ctx.end, step, dtype=np.int64)
    share = np.minimum(ctx.end - minutes, step) / step
    local_hour = ((minutes + 9 * 3600) % 86400) / 3600  # Korea Standard Time, UTC+9
    rate = 40 * ctx.scale * share * (1 + 0.75 * np.cos(2 * np.pi * (local_hour - 14) / 24))
    counts = rng.poisson(rate)
    n = int(counts.sum())
    t0 = np.repeat(minutes, counts) + (rng.random(n) * np.repeat(share * step, counts)).astype(
        np.int64)
    clients = pool("web_clients")
    weight = 1 / (1 + rng.permutation(len(clients))) ** 0.8  # a few clients are heavy users
    src = clients[rng.choice(len(clients), n, p=weight / weight.sum())]
    body = np.clip(rng.lognormal(np.log(12_000), 1.3, n), 200, 20_000_000).astype(np.int64)
    rev_packets = -(-body // MSS) + 2
    fwd_packets = rev_packets // 2 + 3
    keep_alive = rng.random(n) < 0.1
    dur = (rng.exponential(1.5, n) + body / 4e6 + keep_alive * rng.uniform(5, 120, n))
    return [make_flows(
        "web_baseline", "internet", "web", SESSION, TCP, src=src, dst=ctx.ip("web"), t0=t0,
        dport=np.where(rng.random(n) < 0.8, 443, 80), dur=dur.astype(np.int64),
        fwd_packets=fwd_packets, fwd_bytes=fwd_packets * ACK + rng.integers(300, 1500, n),
        rev_packets=rev_packets, rev_bytes=body + rev_packets * ACK,
        retries=rng.integers(1, 4, n))]


@scenario("lab_curl", "lab 2: curl http://httpbin.org/ip from the public (web) instance",
          records=lambda h, s: 2 * max(1, 3 * h * s))
def lab_curl(ctx: Context, rng) -> list[Flows]:
    n = ctx.count(rng, 3)
    return [make_flows(
        "lab_curl", "web", "internet", SESSION, TCP, src=ctx.ip("web"),
        dst=address("httpbin"), t0=ctx.times(rng, n), dport=80, dur=rng.integers(0, 2, n),
        fwd_packets=6, fwd_bytes=6 * ACK + 80, rev_packets=5, rev_bytes=5 * ACK + 420,
        retries=3)]


@scenario("lab_ping", "lab 2: ping -c 5 8.8.8.8 from the public (web) instance",
          records=lambda h, s: 2 * max(1, 2 * h * s))
def lab_ping(ctx: Context, rng) -> list[Flows]:
    n = ctx.count(rng, 2)
    return [make_flows(
        "lab_ping", "web", "internet", ECHO, ICMP, src=ctx.ip("web"), dst=address("google_dns"),
        t0=ctx.times(rng, n), sport=0, dport=0, dur=4, fwd_packets=5, fwd_bytes=5 * PING,
        rev_packets=5, rev_bytes=5 * PING, retries=5)]


@scenario("lab_ssh", "lab 2: ssh ec2-user@PRIVATE_IP from the public instance to the private one",
          records=lambda h, s: 45 * max(1, 0.5 * h * s))  # sessions of 2–20 minutes
def lab_ssh(ctx: Context, rng) -> list[Flows]:
    n = ctx.count(rng, 0.5)
    dur = rng.integers(120, 1200, n)
    fwd = (dur * rng.uniform(1, 3, n)).astype(np.int64) + 10
    rev = (fwd * rng.uniform(0.8, 1.2, n)).astype(np.int64) + 10
    return [make_flows(
        "lab_ssh", "web", "private", SESSION, TCP, src=ctx.ip("web"), dst=ctx.ip("private"),
        t0=ctx.times(rng, n), dport=22, dur=dur, fwd_packets=fwd,
        fwd_bytes=fwd * rng.integers(60, 120, n), rev_packets=rev,
        rev_bytes=rev * rng.integers(80, 200, n), retries=3)]


@scenario("lab_blocked", "lab 2: telnet PRIVATE_IP 3306 and nc -zv PRIVATE_IP 80 from the "
          "public instance (the private security group rejects them)",
          records=lambda h, s: 2 * 2 * max(1, 2 * h * s))
def lab_blocked(ctx: Context, rng) -> list[Flows]:
    out = []
    for port, retries, tool_time in ((3306, 3, 5), (80, 2, 3)):  # telnet (timeout 5), nc -w 3
        n = ctx.count(rng, 2)
        out.append(make_flows(
            "lab_blocked", "web", "private", SESSION, TCP, src=ctx.ip("web"),
            dst=ctx.ip("private"), t0=ctx.times(rng, n), dport=port, dur=tool_time,
            fwd_packets=5, fwd_bytes=5 * ACK + 20, rev_packets=4, rev_bytes=4 * ACK + 95,
            retries=retries))
    return out


@scenario("lab_download", "lab 2: a large download (wget of an Ubuntu ISO) by the private "
          "instance through the NAT gateway",
          records=lambda h, s: 12 * max(1, 0.5 * h * s))
def lab_download(ctx: Context, rng) -> list[Flows]:
    n = ctx.count(rng, 0.5)
    data_packets, data_bytes, ack_packets, ack_bytes = _bulk(rng, n, 500_000_000, 4_300_000_000)
    dur = data_bytes // rng.integers(20_000_000, 80_000_000, n)  # 20–80 MB/s
    return [make_flows(
        "lab_download", "private", "internet", SESSION, TCP, src=ctx.ip("private"),
        dst=address("mirror"), t0=ctx.times(rng, n), dport=443, dur=dur,
        fwd_packets=ack_packets, fwd_bytes=ack_bytes, rev_packets=data_packets,
        rev_bytes=data_bytes, retries=3)]


_WELL_KNOWN = (1433, 1521, 2049, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 11211,
               27017)


def _scan(ctx, rng, name, client, server, src, dst, answer_of):
    """One or more nmap-style SYN scans: ports 1–1024 and well-known high ports, one fixed
    source port per scan, a few minutes per scan, 1–2 probes per port."""
    out = []
    for _ in range(ctx.count(rng, 1 / 24)):
        ports = rng.permutation(np.r_[np.arange(1, 1025), _WELL_KNOWN])
        begin, length = ctx.burst(rng, int(rng.integers(120, 300)))
        n = len(ports)
        out.append(make_flows(
            name, client, server, PROBE, TCP, src=src, dst=dst,
            t0=begin + np.sort((rng.random(n) * length).astype(np.int64)),
            sport=int(rng.integers(33000, 61000)), dport=ports, retries=rng.integers(1, 3, n),
            answer=answer_of(ports, rng)))
    return out


@scenario("port_scan_inbound", "an internet host SYN-scans about 1,000 ports of the web "
          "instance within minutes (most are rejected)",
          records=lambda h, s: 1040 * max(1, h * s / 24))
def port_scan_inbound(ctx: Context, rng) -> list[Flows]:
    return _scan(ctx, rng, "port_scan_inbound", "internet", "web", address("scanner"),
                 ctx.ip("web"), lambda ports, rng: OPEN)


@scenario("port_scan_outbound", "the compromised private instance SYN-scans an internet host "
          "through the NAT gateway (GuardDuty's Recon:EC2/Portscan)",
          records=lambda h, s: 5500 * max(1, h * s / 24))  # 1,038 probes, through the NAT
def port_scan_outbound(ctx: Context, rng) -> list[Flows]:
    def answer(ports, rng):
        silent = rng.random(len(ports)) < 0.25  # a firewall drops a quarter of the probes
        out = np.where(silent, SILENT, CLOSED)
        return np.where(np.isin(ports, (22, 80, 443)), OPEN, out)

    return _scan(ctx, rng, "port_scan_outbound", "private", "internet", ctx.ip("private"),
                 address("scan_target"), answer)


@scenario("ssh_brute_force", "internet hosts try SSH logins on the web instance, one connection "
          "every few seconds (rejected unless they come from the admin range)",
          records=lambda h, s: 165 * min(44, max(2, 0.5 * h * s)))  # ≤ 44 attackers
def ssh_brute_force(ctx: Context, rng) -> list[Flows]:
    attackers = pool("ssh_attackers")
    k = min(len(attackers), ctx.count(rng, 0.5, minimum=2))
    out = []
    for src in rng.choice(attackers, k, replace=False):
        n = int(rng.integers(30, 300))
        begin, length = ctx.burst(rng, n * int(rng.integers(2, 9)))
        pk = rng.integers(15, 30, n)
        out.append(make_flows(
            "ssh_brute_force", "internet", "web", SESSION, TCP, src=src, dst=ctx.ip("web"),
            t0=ctx.times(rng, n, begin, length), dport=22, dur=rng.integers(2, 7, n),
            fwd_packets=pk, fwd_bytes=pk * rng.integers(90, 140, n), rev_packets=pk,
            rev_bytes=pk * rng.integers(100, 180, n), retries=rng.integers(1, 4, n)))
    return out


@scenario("ddos", "a 10–20 minute HTTPS flood: about 200 internet hosts open many connections "
          "with high packet counts to web:443",
          # 892 connections a minute for 15 minutes on average (fewer in a shorter span)
          records=lambda h, s: 2.9 * 892 * s * min(15, 60 * h))
def ddos(ctx: Context, rng) -> list[Flows]:
    bots = pool("ddos_bots")
    begin, length = ctx.burst(rng, int(rng.integers(600, 1200)))
    n = int(rng.poisson(4 * len(bots) * length / 60 * ctx.scale))
    pk = rng.integers(100, 2000, n)
    rev = (pk * rng.uniform(0.5, 1.0, n)).astype(np.int64) + 2
    return [make_flows(
        "ddos", "internet", "web", SESSION, TCP, src=rng.choice(bots, n),
        dst=ctx.ip("web"), t0=ctx.times(rng, n, begin, length), dport=443,
        dur=rng.integers(5, 50, n), fwd_packets=pk, fwd_bytes=pk * rng.integers(60, 120, n),
        rev_packets=rev, rev_bytes=rev * rng.integers(100, 600, n), retries=rng.integers(1, 4, n))]


@scenario("data_exfiltration", "the compromised private instance uploads gigabytes through the "
          "NAT gateway to a single internet host on 443",
          records=lambda h, s: 250)  # 1–3 uploads of at most 4 GB: independent of scale
def data_exfiltration(ctx: Context, rng) -> list[Flows]:
    n = int(rng.integers(1, 4))
    begin, length = ctx.burst(rng, 3600)
    data_packets, data_bytes, ack_packets, ack_bytes = _bulk(
        rng, n, 1_000_000_000, 4_000_000_000)
    return [make_flows(
        "data_exfiltration", "private", "internet", SESSION, TCP, src=ctx.ip("private"),
        dst=address("drop"), t0=ctx.times(rng, n, begin, length // 2), dport=443,
        dur=data_bytes // rng.integers(2_000_000, 5_000_000, n), fwd_packets=data_packets,
        fwd_bytes=data_bytes, rev_packets=ack_packets, rev_bytes=ack_bytes, retries=3)]


@scenario("admin_ping", "the admin pings the web instance: the request is accepted, the reply "
          "rejected by the public network ACL (AWS's documented ICMP pair)",
          records=lambda h, s: 2 * max(1, h * s))
def admin_ping(ctx: Context, rng) -> list[Flows]:
    n = ctx.count(rng, 1)
    return [make_flows(
        "admin_ping", "internet", "web", ECHO, ICMP, src=address("admin"), dst=ctx.ip("web"),
        t0=ctx.times(rng, n), sport=0, dport=0, dur=3, fwd_packets=4, fwd_bytes=4 * PING,
        rev_packets=4, rev_bytes=4 * PING, retries=4)]


# --- scenarios for the detections of helpers.detect -------------------------------------------


@scenario("rdp_brute_force", "internet hosts try RDP logins on 3389 of the web instance, one "
          "connection every one to five seconds (the security group rejects them)",
          records=lambda h, s: 220 * min(17, max(1, 0.25 * h * s)))  # ≤ 17 attackers
def rdp_brute_force(ctx: Context, rng) -> list[Flows]:
    attackers = pool("rdp_attackers")
    k = min(len(attackers), ctx.count(rng, 0.25))
    out = []
    for src in rng.choice(attackers, k, replace=False):
        n = int(rng.integers(40, 400))
        begin, length = ctx.burst(rng, n * int(rng.integers(1, 6)))
        pk = rng.integers(20, 40, n)
        out.append(make_flows(
            "rdp_brute_force", "internet", "web", SESSION, TCP, src=src, dst=ctx.ip("web"),
            t0=ctx.times(rng, n, begin, length), dport=3389, dur=rng.integers(2, 9, n),
            fwd_packets=pk, fwd_bytes=pk * rng.integers(100, 400, n), rev_packets=pk,
            rev_bytes=pk * rng.integers(100, 600, n), retries=rng.integers(1, 4, n)))
    return out


_BEACON_EVERY = 60  # seconds between a beacon's calls home


@scenario("malicious_ip_caller", "a host of the threat list (data/threat-list.txt) calls the "
          "web instance on 443, and the private instance beacons to another listed host",
          records=lambda h, s: 240)  # a few dozen sessions: independent of scale
def malicious_ip_caller(ctx: Context, rng) -> list[Flows]:
    caller, home = rng.choice(pool("threat_actors"), 2, replace=False)
    begin, length = ctx.burst(rng, int(rng.integers(600, 1800)))
    n = int(rng.integers(5, 30))
    body = rng.integers(2_000, 60_000, n)
    rev = -(-body // MSS) + 2
    fwd = rev // 2 + 3
    inbound = make_flows(
        "malicious_ip_caller", "internet", "web", SESSION, TCP, src=caller, dst=ctx.ip("web"),
        t0=ctx.times(rng, n, begin, length), dport=443, dur=rng.integers(0, 3, n),
        fwd_packets=fwd, fwd_bytes=fwd * ACK + rng.integers(300, 1200, n), rev_packets=rev,
        rev_bytes=body + rev * ACK, retries=3)
    begin, length = ctx.burst(rng, int(rng.integers(600, 2400)))
    calls = max(1, length // _BEACON_EVERY)
    t0 = begin + np.arange(calls) * _BEACON_EVERY + rng.integers(0, 5, calls)
    beacons = make_flows(
        "malicious_ip_caller", "private", "internet", SESSION, TCP, src=ctx.ip("private"),
        dst=home, t0=np.minimum(t0, ctx.end - 1), dport=443, dur=rng.integers(0, 2, calls),
        fwd_packets=8, fwd_bytes=8 * ACK + 900, rev_packets=7, rev_bytes=7 * ACK + 1500,
        retries=3)
    return [inbound, beacons]


@scenario("traffic_spike", "a flash crowd: for 10-20 minutes web clients open ten times the "
          "day's mean rate of connections to the web instance",
          # 400 connections a minute for 15 minutes on average, 2.25 records each
          records=lambda h, s: 2.25 * 400 * s * min(15, 60 * h))
def traffic_spike(ctx: Context, rng) -> list[Flows]:
    span = ctx.end - ctx.start
    length = int(min(rng.integers(600, 1200), span))
    # a spike needs a baseline before it: start after the first hour when the span allows
    earliest = ctx.start + min(3600, span - length)
    begin = earliest + int(rng.integers(0, ctx.end - length - earliest + 1))
    n = max(1, int(rng.poisson(400 * ctx.scale * length / 60)))
    clients = pool("web_clients")
    src = clients[rng.integers(0, len(clients), n)]  # a crowd: every client alike
    body = np.clip(rng.lognormal(np.log(12_000), 1.3, n), 200, 20_000_000).astype(np.int64)
    rev_packets = -(-body // MSS) + 2
    fwd_packets = rev_packets // 2 + 3
    dur = rng.exponential(1.5, n) + body / 4e6
    return [make_flows(
        "traffic_spike", "internet", "web", SESSION, TCP, src=src, dst=ctx.ip("web"),
        t0=ctx.times(rng, n, begin, length), dport=np.where(rng.random(n) < 0.8, 443, 80),
        dur=dur.astype(np.int64), fwd_packets=fwd_packets,
        fwd_bytes=fwd_packets * ACK + rng.integers(300, 1500, n), rev_packets=rev_packets,
        rev_bytes=body + rev_packets * ACK, retries=rng.integers(1, 4, n))]


_NOISE_PORTS = np.array([22, 22, 23, 80, 443, 445, 1433, 3306, 3389, 3389, 5900, 6379, 8080,
                         8443])


@scenario("internet_noise", "background noise of the internet: scattered hosts send one to three "
          "SYN probes each to common ports of the web instance (most rejected)",
          # a visit a minute, 2 probes: the internet's noise does not grow with the lab's scale
          records=lambda h, s: 1.2 * 2 * max(1, 60 * h))
def internet_noise(ctx: Context, rng) -> list[Flows]:
    visits = max(1, int(rng.poisson(60 * ctx.hours)))
    per_visit = rng.integers(1, 4, visits)
    n = int(per_visit.sum())
    sources = pool("noise_sources")
    src = np.repeat(sources[rng.integers(0, len(sources), visits)], per_visit)
    t0 = np.repeat(ctx.times(rng, visits), per_visit) + rng.integers(0, 3, n)
    order = np.argsort(t0, kind="stable")
    return [make_flows(
        "internet_noise", "internet", "web", PROBE, TCP, src=src[order], dst=ctx.ip("web"),
        t0=np.minimum(t0[order], ctx.end - 1),
        dport=_NOISE_PORTS[rng.integers(0, len(_NOISE_PORTS), n)],
        retries=rng.integers(1, 3, n))]


@scenario("db_queries", "the web application keeps pooled MySQL connections to the private "
          "instance (rejected unless private-sg allows 3306 from the web)",
          records=lambda h, s: 2 * max(1, 4 * h * s))  # two records per rejected connection
def db_queries(ctx: Context, rng) -> list[Flows]:
    n = ctx.count(rng, 4)
    dur = rng.integers(600, 3000, n)
    queries = (dur * rng.uniform(2, 8, n)).astype(np.int64) + 4
    return [make_flows(
        "db_queries", "web", "private", SESSION, TCP, src=ctx.ip("web"), dst=ctx.ip("private"),
        t0=ctx.times(rng, n), dport=3306, dur=dur, fwd_packets=2 * queries,
        fwd_bytes=2 * queries * ACK + queries * rng.integers(60, 400, n),
        rev_packets=2 * queries, rev_bytes=2 * queries * ACK + queries * rng.integers(100, 4000, n),
        retries=3)]


# --- the background of a real lab VPC ----------------------------------------------------------

HEARTBEAT_EVERY = 300  # s: SSM Agent reports to Systems Manager (UpdateInstanceInformation)
METRICS_EVERY = 60  # s: the CloudWatch agent's default metrics_collection_interval
CHECK_EVERY = 30  # s: a Route 53 health check's default RequestInterval, per health checker
UPDATE_EVERY = 3600  # s: the package manager refreshes its repository metadata about hourly
CHANNEL_PIECE = 3600  # s: SSM Agent's control channel is one long connection; one piece an hour
TLS = 5_000  # IP bytes a short HTTPS call carries each way with its TLS handshake, roughly


def _every(ctx: Context, rng, period: int, jitter: int) -> np.ndarray:
    """Start times of a task that runs every ``period`` seconds from a random phase."""
    t0 = np.arange(ctx.start + int(rng.integers(0, period)), ctx.end, period, dtype=np.int64)
    return np.minimum(t0 + rng.integers(0, jitter + 1, len(t0)), ctx.end - 1)


def _https_calls(ctx: Context, rng, role: str, host: str, t0, up: int, down: int) -> Flows:
    """Short HTTPS calls from an instance to an AWS endpoint: ``up``/``down`` payload bytes."""
    n = len(t0)
    sent = up + rng.integers(0, up // 4 + 1, n) + TLS // 5
    received = down + rng.integers(0, down // 4 + 1, n) + TLS
    fwd_packets, rev_packets = -(-sent // MSS) + 5, -(-received // MSS) + 4
    return make_flows(
        "lab_background", role, "internet", SESSION, TCP, src=ctx.ip(role), dst=address(host),
        t0=t0, dport=443, dur=rng.integers(0, 2, n), fwd_packets=fwd_packets,
        fwd_bytes=sent + fwd_packets * ACK, rev_packets=rev_packets,
        rev_bytes=received + rev_packets * ACK, retries=3)


def _control_channel(ctx: Context, rng, role: str) -> Flows:
    """SSM Agent's control channel to ssmmessages: a WebSocket held open, a ping a minute."""
    t0 = np.arange(ctx.start + int(rng.integers(0, 60)), ctx.end, CHANNEL_PIECE, dtype=np.int64)
    dur = np.minimum(CHANNEL_PIECE - 1, ctx.end - 1 - t0)
    pings = dur // 60 + 1
    return make_flows(
        "lab_background", role, "internet", SESSION, TCP, src=ctx.ip(role),
        dst=address("ssmmessages"), t0=t0, dport=443, dur=dur, fwd_packets=2 * pings + 6,
        fwd_bytes=pings * (2 * ACK + 40) + TLS // 5, rev_packets=2 * pings + 6,
        rev_bytes=pings * (2 * ACK + 40) + TLS, retries=3)


@scenario("lab_background", "a lab VPC's own traffic: SSM and CloudWatch agents and package "
          "updates (private instance via NAT), Route 53 health checks",
          # per hour: 24 heartbeats, 120 metric calls, 2 updates and 2 channel pieces (one
          # window a minute each), 360 health checks; about 4 records per instance call, 2 per
          # check. Agents run whatever the scale.
          records=lambda h, s: 1800 * h + 16)
def lab_background(ctx: Context, rng) -> list[Flows]:
    """The traffic every lab instance makes on its own, so the lesson's events stand out.

    Both instances run SSM Agent (a heartbeat to Systems Manager about every five minutes and a
    control channel to ssmmessages held open) and the CloudWatch agent (``PutMetricData`` each
    ``metrics_collection_interval``, 60 s by default), and refresh their package metadata about
    hourly (sometimes a full download). The web instance reaches the endpoints through the
    internet gateway, the private one through the NAT gateway. Three Route 53 health checkers
    (the fewest regions a health check may use) request the web page every 30 seconds, their
    default ``RequestInterval`` (Route 53 Developer Guide, "How Amazon Route 53 determines
    whether a health check is healthy").

    Left out because flow logs do not record it (VPC User Guide, flow-log limitations): DNS
    queries to the VPC's resolver, the instance metadata service, Amazon Time Sync (chrony on
    Amazon Linux), DHCP.
    """
    out = []
    for role in ("web", "private"):
        out.append(_https_calls(ctx, rng, role, "ssm", _every(ctx, rng, HEARTBEAT_EVERY, 5),
                                up=1_500, down=800))
        out.append(_https_calls(ctx, rng, role, "monitoring", _every(ctx, rng, METRICS_EVERY, 2),
                                up=2_500, down=300))
        updates = _every(ctx, rng, UPDATE_EVERY, 120)
        full = rng.random(len(updates)) < 0.1  # new metadata: the whole file, not just repomd
        out.append(_https_calls(ctx, rng, role, "repository", updates, up=600,
                                down=np.where(full, 18_000_000, 40_000)))
        out.append(_control_channel(ctx, rng, role))
    checks = [_every(ctx, rng, CHECK_EVERY, 1) for _ in pool("health_checkers")]
    t0 = np.concatenate(checks)
    src = np.repeat(pool("health_checkers"), [len(c) for c in checks])
    order = np.argsort(t0, kind="stable")
    out.append(make_flows(
        "lab_background", "internet", "web", SESSION, TCP, src=src[order], dst=ctx.ip("web"),
        t0=t0[order], dport=80, dur=0, fwd_packets=5, fwd_bytes=5 * ACK + 120, rev_packets=4,
        rev_bytes=4 * ACK + 350, retries=3))
    return out


DEFAULT_SCENARIOS: tuple[str, ...] = (
    "web_baseline", "lab_curl", "lab_ping", "lab_ssh", "lab_blocked", "lab_download")
"""What :func:`helpers.traffic.generate` makes without ``scenarios``: lab 2 over the baseline."""


def check_name(name) -> str:
    """``name`` unchanged if it is a scenario's name, else an error with a suggestion."""
    if not isinstance(name, str):
        raise TrafficError(f"a scenario name must be text, not {type(name).__name__} {name!r}"
                           f"; valid scenarios: {', '.join(SCENARIOS)}")
    if name not in SCENARIOS:
        close = difflib.get_close_matches(name, list(SCENARIOS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise TrafficError(f"unknown scenario {name!r}{hint} Valid scenarios: "
                           f"{', '.join(SCENARIOS)}")
    return name


def build(name: str, ctx: Context, rng) -> list[Flows]:
    """The flows of one scenario (``name`` must be a key of :data:`SCENARIOS`)."""
    return _BUILDERS[check_name(name)](ctx, rng)


def expected_records(name: str, hours: float, scale: float = 1.0) -> float:
    """About how many traffic records scenario ``name`` makes over ``hours`` at ``scale``.

    An average with 1-minute aggregation and the default topology (10-minute aggregation
    makes fewer records); NODATA and SKIPDATA records are not included.

    >>> round(expected_records("web_baseline", 24))  # a day: 40 connections a minute
    129600
    """
    return float(_ESTIMATES[check_name(name)](hours, scale))
