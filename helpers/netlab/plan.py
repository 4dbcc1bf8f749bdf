"""The lab VPC as Linux network namespaces: which namespaces, links, addresses and routes.

Pure data, computed from a :class:`~helpers.traffic.topology.Topology`; :mod:`helpers.netlab.system`
turns it into ``ip`` commands. The layout::

    web ─┐                                      ┌── inet (every internet host, on lo)
    nat ─┼── vpc (the VPC router) ── igw (1:1 NAT of public addresses) ──┘
 private ┘

* one namespace per network interface of the topology (``web``, ``private``, ``nat``), its
  ``eth0`` holding the interface's private address: the "ENI" where packets are captured;
* ``vpc``, the VPC router, with one link per interface and the route tables: the private
  subnet's default route goes to the NAT gateway, the public subnet's to the internet gateway;
* ``igw``, the internet gateway: it maps each public address to a private one (1:1 NAT), as
  AWS's internet gateway does, and routes only the three documentation blocks to the internet;
* ``inet``, "the internet": the hosts of :data:`INTERNET_HOSTS`, all in the RFC 5737
  documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).

No link has an end in the host's own namespace, so no packet can leave the lab. Every link
has fixed MAC addresses and permanent neighbour entries, and IPv6 is off: the interfaces send
nothing but the lab's own traffic (no ARP, no router solicitations), so their kernel counters
can be checked against the records.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from helpers.errors import NetlabError
from helpers.traffic.hosts import HOSTS
from helpers.traffic.topology import Topology

__all__ = ["DOCUMENTATION_BLOCKS", "INTERNET_HOSTS", "Layout", "Link", "PUBLIC_ADDRESSES",
           "layout", "NAMESPACE_PREFIX"]

NAMESPACE_PREFIX = "nlab-"
"""Every namespace of every lab starts with this; ``cleanup`` removes the ones it finds."""

DOCUMENTATION_BLOCKS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
"""RFC 5737: the only "internet" the lab routes."""

INTERNET_HOSTS: dict[str, str] = {
    "admin": HOSTS["admin"],  # 198.51.100.10, the admin's workstation (trusted for SSH, ping)
    "httpbin": HOSTS["httpbin"],  # 203.0.113.80, stands in for httpbin.org
    "mirror": HOSTS["mirror"],  # 203.0.113.91, stands in for releases.ubuntu.com
    "scanner": HOSTS["scanner"],  # 203.0.113.66, scans the web instance
    "dns": "192.0.2.53",  # stands in for 8.8.8.8: the lab pings no real address
    "client": "192.0.2.10",  # a web client that browses the web instance
}
"""The internet hosts of the lab, by role; all in :data:`DOCUMENTATION_BLOCKS`."""

PUBLIC_ADDRESSES: dict[str, str] = {"web": "203.0.113.200", "nat": "203.0.113.201"}
"""The public (Elastic) addresses of the lab's interfaces. The topology's own public addresses
may be real AWS addresses, so the lab uses documentation addresses instead; flow-log records
never show them (they show private addresses), so the records are the same."""

ROUTER_LINK = ("169.254.255.1", "169.254.255.2")  # vpc ↔ igw, /30
INTERNET_LINK = ("169.254.254.1", "169.254.254.2")  # igw ↔ inet, /30


@dataclass(frozen=True)
class Link:
    """One veth pair: (namespace, device, address with prefix, MAC) at each end."""

    a_ns: str
    a_dev: str
    a_addr: str
    a_mac: str
    b_ns: str
    b_dev: str
    b_addr: str
    b_mac: str


@dataclass(frozen=True)
class Layout:
    """Everything :mod:`helpers.netlab.system` needs to build one lab."""

    tag: str
    namespaces: dict[str, str]  # role → namespace name
    links: tuple[Link, ...]
    addresses: tuple[tuple[str, str, str], ...]  # (namespace, device, address/prefix)
    routes: tuple[tuple[str, str], ...]  # (namespace, "ip route" arguments)
    rules: tuple[tuple[str, str], ...]  # (namespace, "ip rule" arguments)
    neighbours: tuple[tuple[str, str, str, str], ...]  # (namespace, device, address, MAC)
    forwarding: tuple[str, ...]  # namespaces that route
    interfaces: dict[str, str]  # ENI role → private address
    gateways: dict[str, str]  # ENI role → its subnet's router address
    hosts: dict[str, str] = field(default_factory=lambda: dict(INTERNET_HOSTS))
    public: dict[str, str] = field(default_factory=lambda: dict(PUBLIC_ADDRESSES))

    @property
    def all_namespaces(self) -> list[str]:
        return list(self.namespaces.values())


def _mac(n: int) -> str:
    return "02:4e:4c:00:{:02x}:{:02x}".format(*divmod(n, 256))


def in_documentation_range(address: str) -> bool:
    """Whether ``address`` is in one of the RFC 5737 documentation blocks."""
    ip = ipaddress.IPv4Address(address)
    return any(ip in ipaddress.IPv4Network(b) for b in DOCUMENTATION_BLOCKS)


def layout(topology: Topology, tag: str) -> Layout:
    """The namespaces, links, addresses and routes of a lab for ``topology``.

    ``tag`` makes the namespace names of one lab unique (``nlab-<tag>-web`` …).

    Raises:
        NetlabError: the topology lacks a web, private or NAT interface, or the tag is not
            a short word of letters and digits.
    """
    if not (isinstance(tag, str) and tag.isalnum() and tag.isascii() and len(tag) <= 8):
        raise NetlabError(f"tag must be 1-8 letters or digits, not {tag!r}")
    roles = {e.role: e for e in topology.interfaces}
    missing = [r for r in ("web", "private", "nat") if r not in roles]
    if missing:
        raise NetlabError(f"the topology has no {', '.join(missing)} interface: the lab needs "
                          "a web instance, a private instance and a NAT gateway")
    for host in (*INTERNET_HOSTS.values(), *PUBLIC_ADDRESSES.values()):
        assert in_documentation_range(host), host
    ns = {role: f"{NAMESPACE_PREFIX}{tag}-{role}" for role in
          ("web", "private", "nat", "vpc", "igw", "inet")}
    links, addresses, routes, rules, neighbours = [], [], [], [], []
    gateways = {}
    mac = iter(range(1, 256 * 256))
    vpc_net = ipaddress.IPv4Network(topology.vpc_cidr)
    private_tables = []
    for role in ("web", "private", "nat"):
        eni = roles[role]
        subnet = ipaddress.IPv4Network(topology.subnet(eni.subnet_id).cidr)
        gateway = str(subnet.network_address + 1)  # the VPC router is the subnet's .1
        gateways[role] = gateway
        link = Link(ns[role], "eth0", f"{eni.private_ip}/32", _mac(next(mac)),
                    ns["vpc"], f"v-{role}", f"{gateway}/32", _mac(next(mac)))
        links.append(link)
        routes += [(ns[role], f"{gateway} dev eth0 scope link"),
                   (ns[role], f"default via {gateway} dev eth0 onlink")]
        routes.append((ns["vpc"], f"{eni.private_ip}/32 dev v-{role} scope link"))
        neighbours += [(ns[role], "eth0", gateway, link.b_mac),
                       (ns["vpc"], f"v-{role}", eni.private_ip, link.a_mac)]
        if not topology.subnet(eni.subnet_id).public:
            private_tables.append(role)
    # vpc ↔ igw, igw ↔ inet
    r_vpc, r_igw = ROUTER_LINK
    up = Link(ns["vpc"], "v-igw", f"{r_vpc}/30", _mac(next(mac)),
              ns["igw"], "i-vpc", f"{r_igw}/30", _mac(next(mac)))
    i_igw, i_inet = INTERNET_LINK
    out = Link(ns["igw"], "i-inet", f"{i_igw}/30", _mac(next(mac)),
               ns["inet"], "n-igw", f"{i_inet}/30", _mac(next(mac)))
    links += [up, out]
    neighbours += [(ns["vpc"], "v-igw", r_igw, up.b_mac), (ns["igw"], "i-vpc", r_vpc, up.a_mac),
                   (ns["igw"], "i-inet", i_inet, out.b_mac),
                   (ns["inet"], "n-igw", i_igw, out.a_mac)]
    # Route tables: the public subnets' default route is the internet gateway (main table);
    # a private subnet's default route is the NAT gateway (its own table, chosen by the link
    # its packets come in on). Traffic inside the VPC always uses the local routes.
    nat_ip = roles["nat"].private_ip
    routes.append((ns["vpc"], f"default via {r_igw} dev v-igw"))
    rules.append((ns["vpc"], f"to {vpc_net} lookup main pref 100"))
    for number, role in enumerate(private_tables, start=1):
        routes.append((ns["vpc"], f"default via {nat_ip} dev v-nat onlink table {100 + number}"))
        rules.append((ns["vpc"], f"iif v-{role} lookup {100 + number} pref {200 + number}"))
    routes.append((ns["igw"], f"{vpc_net} via {r_vpc} dev i-vpc"))
    for block in DOCUMENTATION_BLOCKS:
        routes.append((ns["igw"], f"{block} via {i_inet} dev i-inet"))
    for address in PUBLIC_ADDRESSES.values():
        routes.append((ns["inet"], f"{address}/32 via {i_igw} dev n-igw"))
    for address in INTERNET_HOSTS.values():
        addresses.append((ns["inet"], "lo", f"{address}/32"))
    return Layout(tag=tag, namespaces=ns, links=tuple(links), addresses=tuple(addresses),
                  routes=tuple(routes), rules=tuple(rules), neighbours=tuple(neighbours),
                  forwarding=(ns["vpc"], ns["igw"], ns["nat"]),
                  interfaces={r: roles[r].private_ip for r in ("web", "private", "nat")},
                  gateways=gateways)
