"""The live lab: build it, run the lesson's commands in its hosts, collect flow-log records.

::

    with netlab.Lab(interval=60) as lab:
        lab.run("web", "curl http://httpbin.org/ip")
        lab.run("web", "telnet private 3306")
    records = lab.records()

Leaving the ``with`` block (normally, on an error, or on Ctrl-C) removes the namespaces, and
with them their links and nftables tables; SIGTERM is turned into the same clean exit while a
lab runs, and an ``atexit`` hook catches the rest. ``python -m helpers.netlab cleanup`` removes
what a killed process left behind.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from helpers.errors import NetlabError
from helpers.netlab import commands, plan, records, rulesets, system
from helpers.traffic.topology import ICMP, Topology, default_topology

__all__ = ["Lab", "Result"]

SERVERS = {
    "web": ("22:ssh", "80:http", "443:http"),
    "private": ("22:ssh", "3306:mysql"),
}
"""What the instances listen on (the ports :data:`helpers.traffic.scenarios.LISTENING` says)."""

INTERNET_SERVERS = (("httpbin", "80:http"), ("mirror", "443:bulk"))

_ACTIVE: list[Lab] = []


def _stop_all() -> None:
    for lab in list(_ACTIVE):
        lab.stop()


atexit.register(_stop_all)


class Result(dict):
    """What one command did: its host, command and each connection's outcome."""

    def __repr__(self) -> str:
        conns = self["connections"]
        outcomes = ", ".join(f"{c['dport']}:{c['result']}" if len(conns) > 1 else
                             c.get("result", "?") for c in conns)
        return f"{self['host']}$ {self['command']}  →  {outcomes}"


class Lab:
    """A lab VPC of network namespaces and nftables rules, with packet capture on each ENI.

    Args:
        topology: the VPC whose security groups and network ACLs the kernel enforces; None
            means :func:`helpers.traffic.default_topology`.
        interval: the aggregation interval of the records, in seconds (AWS: 60 or 600; a
            class may use less).

    Raises:
        NetlabError: not root, no ``ip`` or ``nft``, or the lab could not be built (then
            everything it made is removed).
    """

    def __init__(self, topology: Topology | None = None, *, interval: int = 60):
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise NetlabError(f"interval must be a whole number of seconds from 1, not "
                              f"{interval!r}")
        if topology is not None and not isinstance(topology, Topology):
            raise NetlabError(f"topology must be a Topology, not {type(topology).__name__}")
        self.topology = topology or default_topology()
        self.interval = interval
        self.layout = plan.layout(self.topology, secrets.token_hex(3))
        self.results: list[Result] = []
        self._procs: list[subprocess.Popen] = []
        self._captures: dict[str, tuple[subprocess.Popen, Path]] = {}
        self._labels: list[tuple[float, str]] = []
        self._port = commands.FIRST_PORT
        self._dir: tempfile.TemporaryDirectory | None = None
        self._t0 = 0.0
        self._before: dict[str, dict[str, int]] = {}
        self._collected: dict | None = None
        self._old_handlers: dict = {}
        self.running = False

    # --- life cycle ---------------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, kind, value, trace) -> None:
        try:
            if kind is None and self.running:
                self.collect()
        finally:
            self.stop()

    def start(self) -> Lab:
        """Build the namespaces, links, rules and servers, and start the captures."""
        system.require()
        if self.running:
            return self
        self._handle_signals()
        _ACTIVE.append(self)
        self.running = True
        try:
            self._build()
        except BaseException:
            self.stop()
            raise
        return self

    def _build(self) -> None:
        ns = self.layout.namespaces
        system.create(self.layout)
        for role in ("web", "private", "nat"):
            system.load_rules(ns[role], rulesets.instance_ruleset(self.topology, role))
        system.load_rules(ns["vpc"], rulesets.router_ruleset(self.topology))
        system.load_rules(ns["nat"], rulesets.nat_ruleset(self.topology))
        system.load_rules(ns["igw"], rulesets.igw_ruleset(self.layout))
        for role, specs in SERVERS.items():
            address = self.layout.interfaces[role]
            self._spawn(ns[role], "serve", *[f"{address}:{spec}" for spec in specs])
        self._spawn(ns["inet"], "serve", *[f"{plan.INTERNET_HOSTS[h]}:{spec}"
                                           for h, spec in INTERNET_SERVERS])
        self._dir = tempfile.TemporaryDirectory(prefix="netlab-")
        for role in ("web", "private", "nat"):
            path = Path(self._dir.name) / f"{role}.tsv"
            self._captures[role] = (self._spawn(ns[role], "capture", "eth0", str(path)), path)
        self._before = {role: system.counters(ns[role]) for role in self._captures}
        self._t0 = time.time()

    def _spawn(self, namespace: str, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(system.ns_exec(namespace, sys.executable, "-u",
                                               str(system.AGENT), *args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        self._procs.append(proc)
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            raise NetlabError(f"the lab's {args[0]} in {namespace} did not start: "
                              f"{(line + proc.stderr.read()).strip()[-400:]}")
        return proc

    def _handle_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def terminate(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}: the lab is cleaned up")

        self._old_handlers[signal.SIGTERM] = signal.signal(signal.SIGTERM, terminate)

    def stop(self) -> None:
        """Stop every process of the lab and remove its namespaces (idempotent)."""
        if not self.running:
            return
        self.running = False
        try:
            for proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
            for proc in self._procs:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                for stream in (proc.stdout, proc.stderr):
                    if stream:
                        stream.close()
            for namespace in self.layout.all_namespaces:
                for pid in system.pids(namespace):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                system.run("ip", "netns", "del", namespace, check=False)
        finally:
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None
            for signum, handler in self._old_handlers.items():
                signal.signal(signum, handler)
            self._old_handlers.clear()
            if self in _ACTIVE:
                _ACTIVE.remove(self)

    # --- commands -----------------------------------------------------------------------

    def run(self, host: str, command: str) -> Result:
        """Run one of the lesson's commands on ``host`` and say what happened.

        ``host`` is ``"web"`` or ``"private"`` (the instances) or an internet host
        (``"admin"``, ``"client"``, ``"scanner"``, ...). The command is ``curl URL``,
        ``wget URL``, ``ping -c N HOST``, ``ssh [user@]HOST``, ``telnet HOST PORT``,
        ``nc -zv HOST PORT`` or ``nmap -p PORTS HOST``.

        Raises:
            NetlabError: the lab is not running, or the command or a host is not the lab's.
        """
        if not self.running:
            raise NetlabError("the lab is not running: use it inside 'with netlab.Lab() as lab:'")
        if self._collected is not None:
            raise NetlabError("the records were already collected; start a new lab to run "
                              "more commands")
        conns = commands.parse(self.topology, host, command, self._port)
        namespace = self.layout.namespaces["inet" if conns[0].client == "internet"
                                           else conns[0].client]
        first = conns[0]
        if first.protocol == ICMP:
            argv = ["ping", first.dst, "--count", str(first.count), "--src", first.src]
        elif len(conns) > 1:
            argv = ["scan", first.dst, ",".join(str(c.dport) for c in conns), "--src",
                    first.src, "--sport", str(first.sport)]
        else:
            argv = ["tcp", first.dst, str(first.dport), "--mode", first.mode, "--src",
                    first.src, "--sport", str(first.sport), "--size", str(commands.BULK_BYTES)]
        if first.protocol != ICMP:
            self._port += len(conns)
        self._labels.append((time.time(), command))
        try:
            done = subprocess.run(system.ns_exec(namespace, sys.executable, str(system.AGENT),
                                                 *argv), capture_output=True, text=True,
                                  timeout=60)
        except subprocess.TimeoutExpired:
            raise NetlabError(f"{host}$ {command} did not finish within 60 s") from None
        time.sleep(0.05)  # the last FIN/ACKs of the exchange
        outcomes = sorted((json.loads(line) for line in done.stdout.splitlines() if line.strip()),
                          key=lambda o: o.get("dport", 0))  # a scan answers in any order
        if not outcomes:
            raise NetlabError(f"{host}$ {command} failed: {done.stderr.strip()[-400:]}")
        result = Result(host=host, command=command, connections=outcomes)
        self.results.append(result)
        return result

    def run_scenario(self, name: str) -> list[Result]:
        """Run every step of a named scenario (see :data:`helpers.netlab.SCENARIOS`)."""
        return [self.run(host, command) for host, command in commands.scenario_steps(name)]

    # --- records ------------------------------------------------------------------------

    def collect(self) -> dict:
        """Stop the captures and read what the kernel saw: packets, counters, reject sets.

        Called by :meth:`records` and when the ``with`` block ends; the lab can run no more
        commands afterwards.
        """
        if self._collected is not None:
            return self._collected
        if not self.running:
            raise NetlabError("the lab is not running and nothing was collected")
        ns = self.layout.namespaces
        time.sleep(0.2)
        t1 = time.time()
        after = {role: system.counters(ns[role]) for role in self._captures}
        rejected: dict[tuple[str, str], dict] = {}
        sets = {name: system.nft_sets(ns[name]) for name in ("web", "private", "nat", "vpc")}
        for role in self._captures:
            for direction, (where, family, suffix) in rulesets.reject_sets(role).items():
                found = {}
                for key, rows in sets[where].items():
                    fam, name = key.split(":")
                    if name in (f"rej{suffix}", f"rejx{suffix}") and family in ("*", fam):
                        for src, dst, proto, sport, dport, packets in rows:
                            k = (src, dst, proto, sport, dport)
                            found[k] = found.get(k, 0) + packets
                rejected[(role, direction)] = found
        packets, other, drops = {}, {}, {}
        for role, (proc, path) in self._captures.items():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
            packets[role], other[role], drops[role] = records.parse_capture(path.read_text())
        self._collected = {"packets": packets, "other": other, "drops": drops,
                           "rejected": rejected, "before": self._before, "after": after,
                           "t0": self._t0, "t1": t1, "labels": list(self._labels)}
        return self._collected

    def records(self, explain: bool = False) -> pd.DataFrame:
        """The flow-log records of everything captured (see :func:`records.to_records`)."""
        data = self.collect()
        return records.to_records(data["packets"], data["rejected"], self.topology,
                                  t0=data["t0"], t1=data["t1"], interval=self.interval,
                                  labels=data["labels"], explain=explain)

    def counter_check(self) -> pd.DataFrame:
        """Records against the kernel's interface counters, per interface and direction.

        The counters count Ethernet frames: each IP packet plus its 14-byte Ethernet header,
        and any frame that is not IPv4 (the lab sends none: static neighbours, no IPv6).
        """
        data = self.collect()
        frame = self.records()
        roles = {e.eni_id: e.role for e in self.topology.interfaces}
        frame = frame[frame["log_status"] == "OK"].assign(role=frame["interface_id"].map(roles))
        rows = []
        for role in self._captures:
            for direction, side in (("ingress", "rx"), ("egress", "tx")):
                part = frame[(frame["role"] == role) & (frame["flow_direction"] == direction)]
                packets = int(part["packets"].sum())
                ip_bytes = int(part["bytes"].sum())
                before, after = data["before"][role], data["after"][role]
                rows.append({
                    "interface": role, "flow_direction": direction,
                    "record_packets": packets,
                    "counter_packets": after[f"{side}_packets"] - before[f"{side}_packets"],
                    "record_bytes_plus_ethernet": ip_bytes + 14 * packets,
                    "counter_bytes": after[f"{side}_bytes"] - before[f"{side}_bytes"],
                    "other_frames": data["other"][role] if direction == "ingress" else 0,
                    "capture_drops": data["drops"][role],
                })
        table = pd.DataFrame(rows)
        table["match"] = (table["record_packets"] == table["counter_packets"]) & (
            table["record_bytes_plus_ethernet"] == table["counter_bytes"])
        return table
