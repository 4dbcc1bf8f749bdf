"""nftables rulesets generated from a topology's security groups and network ACLs.

The kernel, not Python, decides what passes. Where each rule sits:

* **Network ACL, inbound** (stateless, rule-number order, first match, implicit deny): a
  ``netdev`` ingress chain on the interface's ``eth0`` in its own namespace. The ingress hook
  runs before connection tracking, so every packet is judged on its own, responses included.
* **Security group, inbound** (stateful allow-list): an ``inet`` input chain in the
  interface's namespace; ``ct state established,related`` lets the responses of connections
  the interface opened come back, whatever the rules say.
* **Network ACL and security group, outbound**: the VPC router's forward chain, for packets
  coming in on the interface's link: first the ACL's outbound entries, then the group's
  outbound rules (again stateful, through the router's connection tracking).

Packets from an address in the interface's own subnet skip the network ACL: they do not cross
the subnet's edge (the same rule as :func:`helpers.traffic.rules.check`). An interface without
security groups (the NAT gateway's) has only the ACL.

Every drop goes through a chain that first adds the packet's 5-tuple to a set with a counter
(``rej`` for TCP/UDP, ``rejx`` for other protocols, one pair per interface and direction), so
the records' ``action`` is read from the kernel afterwards: a 5-tuple in the set was rejected.
The rule semantics are AWS's
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html,
https://docs.aws.amazon.com/vpc/latest/userguide/nacl-basics.html).
"""

from __future__ import annotations

import ipaddress

from helpers.netlab.plan import Layout
from helpers.traffic.topology import ALL, ICMP, TCP, UDP, NaclEntry, SgRule, Topology

__all__ = ["TABLE", "instance_ruleset", "router_ruleset", "nat_ruleset", "igw_ruleset",
           "reject_sets"]

TABLE = "netlab"
"""The name of every table the lab creates (always inside the lab's own namespaces)."""

_SET_TYPES = {
    "rej": "ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service",
    "rejx": "ipv4_addr . ipv4_addr . inet_proto",
}


def _sets(suffix: str) -> list[str]:
    return [f"  set {kind}{suffix} {{ type {spec}; flags dynamic; counter; size 65535; }}"
            for kind, spec in _SET_TYPES.items()]


def _deny_chain(name: str, suffix: str) -> list[str]:
    return [f"  chain {name} {{",
            f"    meta l4proto {{ tcp, udp }} add @rej{suffix} {{ ip saddr . ip daddr . "
            "meta l4proto . th sport . th dport } drop",
            f"    add @rejx{suffix} {{ ip saddr . ip daddr . meta l4proto }} drop",
            "  }"]


def _ports(protocol: int, low, high) -> str:
    name = "tcp" if protocol == TCP else "udp"
    low = 0 if low in (None, ALL) else low
    high = 65535 if high in (None, ALL) else high
    if (low, high) == (0, 65535):
        return f"meta l4proto {name}"
    return f"{name} dport {low}" if low == high else f"{name} dport {low}-{high}"


def _protocol(protocol: int, low, high, icmp_type=ALL, icmp_code=ALL) -> str:
    """The match of a rule's protocol and ports (TCP/UDP) or ICMP type and code."""
    if protocol == ALL:
        return ""
    if protocol in (TCP, UDP):
        return _ports(protocol, low, high)
    if protocol == ICMP:
        parts = ["meta l4proto icmp"]
        if icmp_type != ALL:
            parts = [f"icmp type {icmp_type}"]
        if icmp_code != ALL:
            parts.append(f"icmp code {icmp_code}")
        return " ".join(parts)
    return f"meta l4proto {protocol}"


def _peer(cidr: str | None, members: list[str] | None, egress: bool) -> str:
    side = "daddr" if egress else "saddr"
    if members is not None:
        # a group without members matches nobody: an address no packet carries
        return f"ip {side} {{ {', '.join(members) or '0.0.0.0'} }}"
    net = ipaddress.IPv4Network(cidr, strict=False)
    return "" if net.prefixlen == 0 else f"ip {side} {net}"


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _group_members(topology: Topology, group: str) -> list[str]:
    return sorted(e.private_ip for e in topology.interfaces
                  if any(g == group or topology.security_group(g).name == group
                         for g in e.security_group_ids))


def sg_lines(topology: Topology, role: str, direction: str, allow: str) -> list[str]:
    """One nft rule per security-group rule of the interface in ``direction``."""
    eni = topology.interface(role)
    lines = []
    for group_id in eni.security_group_ids:
        group = topology.security_group(group_id)
        for rule in group.rules:
            if rule.direction != direction:
                continue
            lines.append(f"    {_sg_match(topology, rule, direction == 'egress')} {allow}"
                         f"  # {group.name}: {rule.description or 'rule'}")
    return lines


def _sg_match(topology: Topology, rule: SgRule, egress: bool) -> str:
    members = None if rule.cidr is not None else _group_members(topology, rule.source_group)
    if rule.protocol == ICMP:
        proto = _protocol(ICMP, None, None, rule.from_port, rule.to_port)
    else:
        proto = _protocol(rule.protocol, rule.from_port, rule.to_port)
    return _join(_peer(rule.cidr, members, egress), proto) or "meta nfproto ipv4"


def nacl_lines(topology: Topology, role: str, egress: bool, allow: str, deny: str,
               anything: str = "meta protocol ip") -> list[str]:
    """The interface's network ACL entries in one direction, in rule-number order."""
    eni = topology.interface(role)
    subnet = topology.subnet(eni.subnet_id)
    acl = topology.network_acl_for(eni.subnet_id)
    side = "daddr" if egress else "saddr"
    lines = [f"    ip {side} {subnet.cidr} {allow}  # same subnet: the ACL does not apply"]
    entries: list[NaclEntry] = sorted((e for e in acl.entries if e.egress == egress),
                                      key=lambda e: e.rule_number)
    for e in entries:
        match = _join(_peer(e.cidr, None, egress),
                      _protocol(e.protocol, e.from_port, e.to_port, e.icmp_type, e.icmp_code))
        verdict = allow if e.action == "allow" else deny
        lines.append(f"    {match or anything} {verdict}  # {acl.name} rule "
                     f"{e.rule_number} {e.action}")
    lines.append(f"    {deny}  # {acl.name} rule * deny (no entry matched)")
    return lines


def instance_ruleset(topology: Topology, role: str) -> str:
    """The ruleset of an interface's own namespace: inbound network ACL, then inbound
    security groups (none for an interface without groups)."""
    eni = topology.interface(role)
    out = [f"table netdev {TABLE} {{", *_sets(""), *_deny_chain("deny", ""),
           "  chain nacl_in {",
           '    type filter hook ingress device "eth0" priority filter; policy accept;',
           "    meta protocol != ip accept",
           *nacl_lines(topology, role, False, "accept", "goto deny"),
           "  }", "}"]
    if eni.security_group_ids:
        out += [f"table inet {TABLE} {{", *_sets(""), *_deny_chain("deny", ""),
                "  chain sg_in {",
                "    type filter hook input priority filter; policy accept;",
                '    iifname "lo" accept',
                "    meta nfproto != ipv4 accept",
                "    ct state established,related accept",
                *sg_lines(topology, role, "ingress", "accept"),
                "    goto deny",
                "  }", "}"]
    return "\n".join(out) + "\n"


def router_ruleset(topology: Topology, roles=("web", "private", "nat")) -> str:
    """The VPC router's ruleset: each interface's outbound network ACL, then its outbound
    security groups, for the packets it sends."""
    out = [f"table inet {TABLE} {{"]
    jumps = []
    for role in roles:
        eni = topology.interface(role)
        out += _sets(f"_{role}") + _deny_chain(f"deny_{role}", f"_{role}")
        after_acl = f"goto sg_{role}" if eni.security_group_ids else "accept"
        out += [f"  chain out_{role} {{",
                *nacl_lines(topology, role, True, after_acl, f"goto deny_{role}",
                            "meta nfproto ipv4"),
                "  }"]
        if eni.security_group_ids:
            out += [f"  chain sg_{role} {{",
                    "    ct state established,related accept",
                    *sg_lines(topology, role, "egress", "accept"),
                    f"    goto deny_{role}",
                    "  }"]
        jumps.append(f'    iifname "v-{role}" meta nfproto ipv4 jump out_{role}')
    out += ["  chain forward {",
            "    type filter hook forward priority filter; policy accept;",
            *jumps, "  }", "}"]
    return "\n".join(out) + "\n"


def nat_ruleset(topology: Topology) -> str:
    """The NAT gateway's address translation: traffic from the VPC to outside it leaves with
    the gateway's private address (the internet gateway then maps that to its public one)."""
    vpc = topology.vpc_cidr
    nat_ip = topology.interface("nat").private_ip
    return "\n".join([
        f"table ip {TABLE}_nat {{",
        "  chain postrouting {",
        "    type nat hook postrouting priority srcnat; policy accept;",
        f"    ip saddr {vpc} ip daddr != {vpc} snat to {nat_ip}",
        "  }", "}"]) + "\n"


def igw_ruleset(layout: Layout) -> str:
    """The internet gateway: 1:1 NAT between each public address and its private one, and
    nothing else from the VPC goes out (an instance without a public address has no route)."""
    pairs = [(layout.public[role], layout.interfaces[role]) for role in sorted(layout.public)]
    allowed = ", ".join(private for _, private in pairs)
    lines = [f"table ip {TABLE} {{",
             "  chain prerouting {",
             "    type nat hook prerouting priority dstnat; policy accept;",
             *[f"    ip daddr {public} dnat to {private}" for public, private in pairs],
             "  }",
             "  chain postrouting {",
             "    type nat hook postrouting priority srcnat; policy accept;",
             *[f"    ip saddr {private} snat to {public}" for public, private in pairs],
             "  }",
             "  chain forward {",
             "    type filter hook forward priority filter; policy accept;",
             f'    iifname "i-vpc" ip saddr != {{ {allowed} }} drop',
             "  }", "}"]
    return "\n".join(lines) + "\n"


def reject_sets(role: str) -> dict[str, tuple[str, str, str]]:
    """Where the kernel's rejections of an interface are kept: direction → (namespace role,
    nft family, set suffix)."""
    return {"ingress": (role, "*", ""), "egress": ("vpc", "inet", f"_{role}")}
