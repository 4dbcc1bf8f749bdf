"""Talking to the kernel: what the lab needs, building and removing namespaces, reading state.

Every command here acts inside the lab's own namespaces (``ip -n``, ``ip netns exec``); the
host's interfaces, routes and nftables ruleset are never touched. :func:`cleanup` removes
every namespace whose name starts with :data:`~helpers.netlab.plan.NAMESPACE_PREFIX`, after
stopping the processes that run inside them (the lab's own servers and captures).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.errors import NetlabError
from helpers.netlab.plan import NAMESPACE_PREFIX, Layout

__all__ = ["AGENT", "INSTALL", "cleanup", "counters", "create", "lab_namespaces",
           "missing", "nft_sets", "require", "run"]

AGENT = Path(__file__).resolve().with_name("agent.py")
"""The script the lab runs inside namespaces (standard library only)."""

INSTALL = "apt-get install nftables iproute2"
"""How to install what the lab needs on Debian or Ubuntu."""


def _have(tool: str) -> bool:
    return shutil.which(tool) is not None or Path(f"/usr/sbin/{tool}").exists()


def _can_make_namespaces() -> str | None:
    """None if a network namespace can be made here, else why not (a container may forbid
    it even to root)."""
    probe = f"{NAMESPACE_PREFIX}probe{os.getpid()}"
    done = subprocess.run([_tool("ip"), "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        return done.stderr.strip() or f"ip netns add exited with {done.returncode}"
    subprocess.run([_tool("ip"), "netns", "del", probe], capture_output=True)
    return None


def missing() -> list[str]:
    """What this machine lacks for the live lab, one sentence each (empty: it can run)."""
    problems = []
    if not sys.platform.startswith("linux"):
        problems.append(f"the lab needs Linux network namespaces; this is {sys.platform}")
        return problems
    if os.geteuid() != 0:
        problems.append("the lab needs root (network namespaces and nftables); run it as root, "
                        "e.g. in a container or VM of your own")
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if not _have(tool):
            problems.append(f"the '{tool}' command is missing (package {package}): "
                            f"{INSTALL}")
    if not problems:
        why = _can_make_namespaces()
        if why:
            problems.append(f"this machine does not allow network namespaces ({why}); a "
                            "container needs the NET_ADMIN and SYS_ADMIN capabilities")
    return problems


def require() -> None:
    """Raise :class:`NetlabError` saying what is missing and how to install it."""
    problems = missing()
    if problems:
        raise NetlabError("the live-packet lab cannot run here: " + "; ".join(problems)
                          + ". Every other notebook works without it.")


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def run(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    """Run one command (``ip``/``nft``/...), returning its output or raising NetlabError."""
    argv = (_tool(argv[0]), *argv[1:]) if argv[0] in ("ip", "nft") else argv
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise NetlabError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def ns_exec(namespace: str, *argv: str) -> list[str]:
    """The argv that runs ``argv`` inside ``namespace``."""
    return [_tool("ip"), "netns", "exec", namespace, *argv]


def lab_namespaces() -> list[str]:
    """Every namespace of a lab on this machine (current or left over)."""
    if not _have("ip"):
        return []
    out = run("ip", "netns", "list", check=False)
    return sorted(line.split()[0] for line in out.splitlines()
                  if line.split() and line.split()[0].startswith(NAMESPACE_PREFIX))


def _sysctl(namespace: str, forwarding: bool) -> None:
    values = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
              "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
              "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
              "net.ipv4.conf.all.accept_redirects=0",
              f"net.ipv4.ip_forward={1 if forwarding else 0}"]
    run(*ns_exec(namespace, "sysctl", "-q", "-w", *values))


def create(layout: Layout) -> None:
    """Build the namespaces, links, addresses, routes and neighbours of ``layout``."""
    for namespace in layout.all_namespaces:
        run("ip", "netns", "add", namespace)
        _sysctl(namespace, namespace in layout.forwarding)
        run("ip", "-n", namespace, "link", "set", "dev", "lo", "up")
    for link in layout.links:
        run("ip", "link", "add", "name", link.a_dev, "netns", link.a_ns, "address", link.a_mac,
            "type", "veth", "peer", "name", link.b_dev, "netns", link.b_ns,
            "address", link.b_mac)
        for ns, dev, addr in ((link.a_ns, link.a_dev, link.a_addr),
                              (link.b_ns, link.b_dev, link.b_addr)):
            run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            # one wire packet per packet: no segmentation offload to merge segments, so the
            # capture and the counters see what a real network would carry
            run("ip", "-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1", "up")
    for ns, dev, addr in layout.addresses:
        run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
    for ns, dev, addr, mac in layout.neighbours:
        run("ip", "-n", ns, "neigh", "replace", addr, "lladdr", mac, "dev", dev, "nud",
            "permanent")
    for ns, args in layout.routes:
        run("ip", "-n", ns, "route", "add", *args.split())
    for ns, args in layout.rules:
        run("ip", "-n", ns, "rule", "add", *args.split())


def load_rules(namespace: str, ruleset: str) -> None:
    """Load an nftables ruleset into one of the lab's namespaces (never the host's)."""
    if not namespace.startswith(NAMESPACE_PREFIX):
        raise NetlabError(f"refusing to load nftables rules outside the lab: {namespace!r}")
    run(*ns_exec(namespace, _tool("nft"), "-f", "-"), stdin=ruleset)


def pids(namespace: str) -> list[int]:
    """The processes running inside a lab namespace."""
    out = run("ip", "netns", "pids", namespace, check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def cleanup(quiet: bool = True) -> list[str]:
    """Remove every lab namespace on this machine (with its links and nftables tables).

    The processes inside them (the lab's servers and captures) are stopped first; a namespace
    with a process left in it would keep its links alive. Returns the namespaces removed.
    """
    removed = []
    for namespace in lab_namespaces():
        for pid in pids(namespace):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 2
        while pids(namespace) and time.monotonic() < deadline:
            time.sleep(0.02)
        run("ip", "netns", "del", namespace, check=False)
        removed.append(namespace)
        if not quiet:
            print(f"removed namespace {namespace}")
    return removed


def counters(namespace: str, device: str = "eth0") -> dict[str, int]:
    """The kernel's interface counters: rx/tx packets and bytes (Ethernet frames)."""
    data = json.loads(run("ip", "-n", namespace, "-s", "-j", "link", "show", "dev", device))
    stats = data[0]["stats64"]
    return {"rx_packets": stats["rx"]["packets"], "rx_bytes": stats["rx"]["bytes"],
            "tx_packets": stats["tx"]["packets"], "tx_bytes": stats["tx"]["bytes"]}


_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1}


def nft_sets(namespace: str) -> dict[str, list[tuple]]:
    """Every reject set of a namespace: name → [(src, dst, proto, sport, dport, packets)]."""
    data = json.loads(run(*ns_exec(namespace, _tool("nft"), "-j", "list", "ruleset")))
    found: dict[str, list[tuple]] = {}
    for item in data["nftables"]:
        s = item.get("set")
        if not s or not s["name"].startswith("rej"):
            continue
        rows = found.setdefault(f"{s['family']}:{s['name']}", [])
        for element in s.get("elem", []):
            value = element["elem"]["val"]["concat"] if isinstance(element, dict) and \
                "elem" in element else element
            packets = element["elem"].get("counter", {}).get("packets", 0) \
                if "elem" in element else 0
            proto = value[2]
            proto = _PROTOCOLS.get(proto, proto) if isinstance(proto, str) else int(proto)
            sport, dport = (value[3], value[4]) if len(value) == 5 else (0, 0)
            rows.append((value[0], value[1], int(proto), int(sport), int(dport), int(packets)))
    return found
