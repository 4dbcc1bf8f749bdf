"""The lesson's commands, read into connections the lab can make, and the named scenarios.

:func:`parse` reads one shell command of lab 2 (``curl``, ``wget``, ``ping``, ``ssh``,
``telnet``, ``nc -zv``, ``nmap -p``) run on one host into the :class:`Connection` attempts it
makes. Host names are the lab's: ``httpbin.org`` and ``releases.ubuntu.com`` stand for the
internet hosts of :data:`~helpers.netlab.plan.INTERNET_HOSTS`, ``web``/``private`` for the
instances. An address outside the lab is refused: the lab sends nothing anywhere else.

Source ports are given in order from :data:`FIRST_PORT` (in Linux's ephemeral range), so the
same commands give the same 5-tuples run after run.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass

from helpers.errors import NetlabError
from helpers.netlab.plan import INTERNET_HOSTS, PUBLIC_ADDRESSES
from helpers.traffic.topology import ICMP, TCP, Topology

__all__ = ["BULK_BYTES", "Connection", "FIRST_PORT", "HOST_NAMES", "SCENARIOS", "parse",
           "scenario_steps"]

FIRST_PORT = 41000
BULK_BYTES = 2_000_000
"""What the lab's "large download" fetches: 2 MB, not an ISO (about 1,400 full packets)."""

HOST_NAMES = {"httpbin.org": "httpbin", "releases.ubuntu.com": "mirror"}
"""The lesson's internet names and the lab host that stands in for each."""

TOOLS = ("curl", "wget", "ping", "ssh", "telnet", "nc", "nmap")


@dataclass(frozen=True)
class Connection:
    """One attempt a command makes: from ``client`` (a role or an internet host) to ``server``.

    ``kind`` is ``"session"`` (a whole TCP exchange), ``"probe"`` (connect, then close) or
    ``"echo"`` (ICMP echo requests, ``count`` of them); ``mode`` is what the client says once
    connected (``http``, ``ssh``, ``bulk``, ``probe``).
    """

    label: str
    client: str
    server: str
    kind: str
    protocol: int
    src: str
    dst: str
    sport: int
    dport: int
    mode: str = "probe"
    count: int = 1


def _roles(topology: Topology) -> dict[str, str]:
    return {e.role: e.private_ip for e in topology.interfaces}


def resolve(topology: Topology, host: str, name: str) -> tuple[str, str]:
    """(server role, address) of ``name`` as seen from ``host``.

    Raises:
        NetlabError: an address or name outside the lab.
    """
    private = _roles(topology)
    inside = host in private
    if name in HOST_NAMES:
        name = HOST_NAMES[name]
    if name in INTERNET_HOSTS:
        return "internet", INTERNET_HOSTS[name]
    if name in private:
        if inside:
            return name, private[name]
        if name in PUBLIC_ADDRESSES:
            return name, PUBLIC_ADDRESSES[name]
        raise NetlabError(f"the {name} instance has no public address: an internet host "
                          "cannot reach it (that is what a private subnet means)")
    for role, address in private.items():
        if name == address:
            if not inside:
                raise NetlabError(f"{name} is a private address: from the internet, use the "
                                  f"public address {PUBLIC_ADDRESSES.get(role, '(none)')}")
            return role, address
    for role, address in PUBLIC_ADDRESSES.items():
        if name == address:
            return role, address
    if name in INTERNET_HOSTS.values():
        return "internet", name
    known = [*HOST_NAMES, *INTERNET_HOSTS, *private]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    stand_in = " (the lab pings 192.0.2.53 instead of 8.8.8.8)" if name == "8.8.8.8" else ""
    raise NetlabError(f"{name!r} is not a host of the lab{stand_in}{hint} The lab sends "
                      f"packets only between its own namespaces: {', '.join(known)}, or their "
                      "addresses")


def source(topology: Topology, host: str) -> str:
    """The address a command on ``host`` sends from."""
    private = _roles(topology)
    if host in private and host != "nat":
        return private[host]
    if host in INTERNET_HOSTS:
        return INTERNET_HOSTS[host]
    hosts = [r for r in private if r != "nat"] + list(INTERNET_HOSTS)
    close = difflib.get_close_matches(str(host), hosts, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    raise NetlabError(f"unknown host {host!r}{hint} commands run on {', '.join(hosts)}")


def parse(topology: Topology, host: str, command: str, first_port: int = FIRST_PORT
          ) -> list[Connection]:
    """The connections ``command`` makes when run on ``host``.

    >>> from helpers.traffic import default_topology
    >>> [(c.dst, c.dport, c.sport) for c in parse(default_topology(), "web", "nc -zv private 80")]
    [('10.0.11.50', 80, 41000)]
    """
    src = source(topology, host)
    client = host if host in _roles(topology) else "internet"
    try:
        words = shlex.split(command)
    except ValueError as err:
        raise NetlabError(f"cannot read the command {command!r}: {err}") from None
    if not words or words[0] not in TOOLS:
        raise NetlabError(f"the lab runs {', '.join(TOOLS)}, not {command!r}")
    tool, args = words[0], [w for w in words[1:]]
    options = [a for a in args if a.startswith("-")]
    plain = [a for a in args if not a.startswith("-")]

    def conn(server_name, dport, kind, mode="probe", count=1, sport=first_port, proto=TCP):
        role, dst = resolve(topology, host, server_name)
        return Connection(command, client, role, kind, proto, src, dst, sport, dport, mode,
                          count)

    if tool in ("curl", "wget"):
        url = next((a for a in plain if "://" in a), None)
        if url is None:
            raise NetlabError(f"{tool} needs a URL such as http://httpbin.org/ip")
        scheme, rest = url.split("://", 1)
        name = rest.split("/", 1)[0]
        port = 443 if scheme == "https" else 80
        if ":" in name:
            name, port = name.split(":", 1)[0], int(name.split(":", 1)[1])
        mode = "bulk" if tool == "wget" else "http"
        return [conn(name, port, "session", mode)]
    if tool == "ping":
        count = 4
        if "-c" in args:
            count = int(args[args.index("-c") + 1])
        names = [a for a in plain if a != str(count)]
        return [conn(names[-1], 0, "echo", count=count, sport=0, proto=ICMP)]
    if tool == "ssh":
        target = plain[-1].split("@")[-1]
        return [conn(target, 22, "session", "ssh")]
    if tool == "telnet" or (tool == "nc" and any("z" in o for o in options)):
        if len(plain) < 2:
            raise NetlabError(f"{tool} needs a host and a port, e.g. '{tool} private 3306'")
        return [conn(plain[0], int(plain[1]), "probe")]
    if tool == "nc":
        raise NetlabError("the lab runs nc only as a port check: nc -zv HOST PORT")
    if "-p" not in args:
        raise NetlabError("nmap needs the ports to try: nmap -p 22,80,443 web")
    ports = [int(p) for p in args[args.index("-p") + 1].split(",")]
    target = [a for a in plain if a != args[args.index("-p") + 1]][-1]
    return [conn(target, port, "probe", sport=first_port + i) for i, port in enumerate(ports)]


SCAN_PORTS = (21, 22, 23, 25, 80, 443, 3306, 3389, 8080)

SCENARIOS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "lab2": ("lab 2 of the lesson: curl, ping, ssh, the blocked telnet and nc, a web client, "
             "the admin's ping and the large download through the NAT gateway", (
                 ("web", "curl http://httpbin.org/ip"),
                 ("web", "ping -c 5 192.0.2.53"),
                 ("web", "ssh ec2-user@private"),
                 ("web", "telnet private 3306"),
                 ("web", "nc -zv private 80"),
                 ("client", "curl http://web/"),
                 ("admin", "ping -c 3 web"),
                 ("private", "wget https://releases.ubuntu.com/20.04/ubuntu-20.04.6.iso"),
             )),
    "port_scan": ("a small port scan of the web instance from an internet host", (
        ("scanner", "nmap -p " + ",".join(map(str, SCAN_PORTS)) + " web"),
    )),
}
"""Named scenarios: a description and the (host, command) steps, in order."""
SCENARIOS["all"] = ("lab 2, then the port scan",
                    SCENARIOS["lab2"][1] + SCENARIOS["port_scan"][1])


def scenario_steps(name: str) -> tuple[tuple[str, str], ...]:
    """The steps of a named scenario (a key of :data:`SCENARIOS`)."""
    if name not in SCENARIOS:
        close = difflib.get_close_matches(str(name), list(SCENARIOS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ";"
        raise NetlabError(f"unknown scenario {name!r}{hint} scenarios: {', '.join(SCENARIOS)}")
    return SCENARIOS[name][1]


def connections(topology: Topology, steps, first_port: int = FIRST_PORT) -> list[Connection]:
    """Every connection of ``steps`` ((host, command) pairs), with source ports in order."""
    out, port = [], first_port
    for host, command in steps:
        made = parse(topology, host, command, port)
        out += made
        port += max(1, len(made)) if made and made[0].protocol == TCP else 0
    return out
