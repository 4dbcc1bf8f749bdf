"""The lab VPC the lesson assumes (SAA-Study-VPC): its specification and its resolved topology.

One specification, :data:`LAB`, says what the course builds: subnets, the internet and NAT
gateways, two instances, security groups and network ACLs. ``helpers.aws`` creates it in the
emulator or a real account and returns a :class:`Topology` with the real IDs;
:func:`default_topology` returns the same topology with fixed IDs for offline work without any
emulator. The traffic generator evaluates the rules of a :class:`Topology`, so changing a rule
(for example adding a network ACL deny entry) changes the records generated afterwards.

Rule semantics follow the VPC user guide: security groups are stateful allow-lists
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html); network ACLs are
stateless, evaluated per direction in rule-number order, first match wins, with a final
implicit deny (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-basics.html).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass, field, replace

from helpers.errors import TopologyLookupError, TrafficError

__all__ = [
    "ALL",
    "Interface",
    "LAB",
    "NaclEntry",
    "NetworkAcl",
    "SecurityGroup",
    "SgRule",
    "Subnet",
    "Topology",
    "default_topology",
]

ALL = -1  # protocol or port/ICMP type "all", as the EC2 API writes it
TCP, UDP, ICMP = 6, 17, 1


def _not_found(what: str, value, known: list[str]) -> TopologyLookupError:
    """The error for an unknown name: what was asked, a "did you mean" and the valid names."""
    close = difflib.get_close_matches(str(value), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    return TopologyLookupError(f"the topology has no {what} {value!r}{hint} it has "
                               f"{', '.join(known) or 'none'}")


def _check_int(owner: str, name: str, value, low: int, high: int, *, none: bool = False):
    """``value`` unchanged if it is an int in ``low``–``high`` (or None when allowed)."""
    if value is None and none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TrafficError(f"{owner} {name} must be a whole number from {low} to {high}"
                           f"{' or None' if none else ''}, not {value!r}")


def _check_cidr(owner: str, value) -> None:
    """An IPv4 CIDR such as ``"10.0.0.0/16"``, or an error naming the rule's field."""
    try:
        ipaddress.IPv4Network(value, strict=False)
    except (ValueError, TypeError) as err:
        raise TrafficError(f"{owner} cidr must be an IPv4 CIDR block such as "
                           f"'203.0.113.0/24', not {value!r} ({err})") from None


@dataclass(frozen=True)
class SgRule:
    """One security-group rule. Ports are inclusive; for ICMP they are the ICMP type and code."""

    direction: str  # "ingress" or "egress"
    protocol: int  # IANA number, or ALL
    from_port: int = ALL
    to_port: int = ALL
    cidr: str | None = None  # an IPv4 CIDR, or None when the peer is a security group
    source_group: str | None = None  # a security-group *name* in the spec, an ID once resolved
    description: str = ""

    def __post_init__(self):
        if self.direction not in ("ingress", "egress"):
            raise TrafficError(f"SgRule direction must be 'ingress' or 'egress', not "
                               f"{self.direction!r}")
        _check_int("SgRule", "protocol", self.protocol, ALL, 255)
        high = 255 if self.protocol == ICMP else 65535  # ICMP: its type and code
        _check_int("SgRule", "from_port", self.from_port, ALL, high)
        _check_int("SgRule", "to_port", self.to_port, ALL, high)
        if self.protocol in (TCP, UDP) and ALL not in (self.from_port, self.to_port) \
                and self.from_port > self.to_port:
            raise TrafficError(f"SgRule from_port {self.from_port} is above to_port "
                               f"{self.to_port}: a port range runs from low to high")
        if (self.cidr is None) == (self.source_group is None):
            raise TrafficError("SgRule needs exactly one peer: cidr (an IPv4 CIDR block) or "
                               f"source_group (a security group), not cidr={self.cidr!r} and "
                               f"source_group={self.source_group!r}")
        if self.cidr is not None:
            _check_cidr("SgRule", self.cidr)
        elif not isinstance(self.source_group, str):
            raise TrafficError(f"SgRule source_group must be a security group's name or ID, "
                               f"not {self.source_group!r}")


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    name: str
    description: str
    rules: tuple[SgRule, ...]


@dataclass(frozen=True)
class NaclEntry:
    """One network-ACL entry. ``icmp_type`` narrows an ICMP entry to one type (ALL = any)."""

    rule_number: int
    egress: bool
    protocol: int  # IANA number, or ALL
    action: str  # "allow" or "deny"
    cidr: str
    from_port: int | None = None  # TCP/UDP port range, inclusive
    to_port: int | None = None
    icmp_type: int = ALL
    icmp_code: int = ALL

    def __post_init__(self):
        _check_int("NaclEntry", "rule_number", self.rule_number, 1, 32766)  # AWS's range
        if not isinstance(self.egress, bool):
            raise TrafficError(f"NaclEntry egress must be True (outbound) or False (inbound), "
                               f"not {self.egress!r}")
        _check_int("NaclEntry", "protocol", self.protocol, ALL, 255)
        if self.action not in ("allow", "deny"):
            raise TrafficError(f"NaclEntry action must be 'allow' or 'deny', not "
                               f"{self.action!r}")
        _check_cidr("NaclEntry", self.cidr)
        _check_int("NaclEntry", "from_port", self.from_port, 0, 65535, none=True)
        _check_int("NaclEntry", "to_port", self.to_port, 0, 65535, none=True)
        if None not in (self.from_port, self.to_port) and self.from_port > self.to_port:
            raise TrafficError(f"NaclEntry from_port {self.from_port} is above to_port "
                               f"{self.to_port}: a port range runs from low to high")
        _check_int("NaclEntry", "icmp_type", self.icmp_type, ALL, 255)
        _check_int("NaclEntry", "icmp_code", self.icmp_code, ALL, 255)


@dataclass(frozen=True)
class NetworkAcl:
    nacl_id: str
    name: str
    subnet_ids: tuple[str, ...]
    entries: tuple[NaclEntry, ...]


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    name: str
    cidr: str
    az: str
    public: bool


@dataclass(frozen=True)
class Interface:
    """A network interface flow logs record: an instance's, or the NAT gateway's."""

    eni_id: str
    role: str  # "web", "private" or "nat"
    private_ip: str
    subnet_id: str
    instance_id: str | None  # None for requester-managed interfaces (NAT gateway)
    security_group_ids: tuple[str, ...]
    public_ip: str | None = None


@dataclass(frozen=True)
class Topology:
    """The resolved lab VPC: what the generator needs to produce and judge traffic."""

    account_id: str
    region: str
    vpc_id: str
    vpc_cidr: str
    subnets: tuple[Subnet, ...]
    interfaces: tuple[Interface, ...]
    security_groups: tuple[SecurityGroup, ...]
    network_acls: tuple[NetworkAcl, ...]
    internet_gateway_id: str
    nat_gateway_id: str
    admin_cidr: str
    extra: dict = field(default_factory=dict, compare=False)

    def interface(self, role: str) -> Interface:
        """The interface with this role ("web", "private", "nat")."""
        for eni in self.interfaces:
            if eni.role == role:
                return eni
        raise _not_found("interface with role", role, [e.role for e in self.interfaces])

    def subnet(self, subnet_id: str) -> Subnet:
        """The subnet with this ID (``subnet-…``)."""
        found = next((s for s in self.subnets if s.subnet_id == subnet_id), None)
        if found is None:
            raise _not_found("subnet", subnet_id, [s.subnet_id for s in self.subnets])
        return found

    def security_group(self, group_id: str) -> SecurityGroup:
        """The security group with this ID (``sg-…``)."""
        found = next((g for g in self.security_groups if g.group_id == group_id), None)
        if found is None:
            raise _not_found("security group", group_id,
                             [g.group_id for g in self.security_groups])
        return found

    def network_acl_for(self, subnet_id: str) -> NetworkAcl:
        """The network ACL associated with the subnet ``subnet_id``."""
        found = next((n for n in self.network_acls if subnet_id in n.subnet_ids), None)
        if found is None:
            raise _not_found("network ACL for subnet", subnet_id,
                             [i for n in self.network_acls for i in n.subnet_ids])
        return found

    def with_nacl_entry(self, subnet_id: str, entry: NaclEntry) -> Topology:
        """A copy with one more entry in the network ACL of ``subnet_id``."""
        if not isinstance(entry, NaclEntry):
            raise TrafficError(f"entry must be a NaclEntry, not {type(entry).__name__}")
        target = self.network_acl_for(subnet_id)
        if any(e.rule_number == entry.rule_number and e.egress == entry.egress
               for e in target.entries):
            direction = "egress" if entry.egress else "ingress"
            raise TrafficError(f"entry: {target.nacl_id} already has {direction} rule "
                               f"{entry.rule_number}; choose another rule_number")
        updated = replace(target, entries=tuple(sorted(
            (*target.entries, entry), key=lambda e: (e.egress, e.rule_number))))
        acls = tuple(updated if n.nacl_id == target.nacl_id else n for n in self.network_acls)
        return replace(self, network_acls=acls)


# --- the specification -----------------------------------------------------------------------

_EPHEMERAL = (1024, 65535)


@dataclass(frozen=True)
class LabSpec:
    """What the course builds, by name; IDs are assigned when it is created."""

    vpc_name: str = "SAA-Study-VPC"
    vpc_cidr: str = "10.0.0.0/16"
    admin_cidr: str = "198.51.100.0/24"  # the admin's office (documentation range, RFC 5737)
    # name, CIDR, AZ suffix, public?
    subnets: tuple[tuple[str, str, str, bool], ...] = (
        ("public-a", "10.0.1.0/24", "a", True),
        ("public-c", "10.0.2.0/24", "c", True),
        ("private-a", "10.0.11.0/24", "a", False),
        ("private-c", "10.0.12.0/24", "c", False),
    )
    # role, subnet name, private IP, security group name
    instances: tuple[tuple[str, str, str, str], ...] = (
        ("web", "public-a", "10.0.1.100", "web-sg"),
        ("private", "private-a", "10.0.11.50", "private-sg"),
    )
    nat_subnet: str = "public-a"
    nat_private_ip: str = "10.0.1.200"
    security_groups: tuple[tuple[str, str, tuple[SgRule, ...]], ...] = (
        ("web-sg", "Web/bastion: HTTP(S) from anywhere, SSH and ping from the admin range", (
            SgRule("ingress", TCP, 80, 80, "0.0.0.0/0", description="HTTP"),
            SgRule("ingress", TCP, 443, 443, "0.0.0.0/0", description="HTTPS"),
            SgRule("ingress", TCP, 22, 22, "198.51.100.0/24", description="SSH from admin"),
            SgRule("ingress", ICMP, ALL, ALL, "198.51.100.0/24", description="ping from admin"),
            SgRule("egress", ALL, cidr="0.0.0.0/0", description="all outbound"),
        )),
        ("private-sg", "Private: SSH and ping from the public subnet only", (
            SgRule("ingress", TCP, 22, 22, "10.0.1.0/24", description="SSH from public subnet"),
            SgRule("ingress", ICMP, ALL, ALL, "10.0.1.0/24", description="ping from public"),
            SgRule("egress", ALL, cidr="0.0.0.0/0", description="all outbound"),
        )),
    )
    # name, subnets, entries
    network_acls: tuple[tuple[str, tuple[str, ...], tuple[NaclEntry, ...]], ...] = (
        ("public-nacl", ("public-a", "public-c"), (
            NaclEntry(100, False, TCP, "allow", "0.0.0.0/0", 80, 80),
            NaclEntry(110, False, TCP, "allow", "0.0.0.0/0", 443, 443),
            NaclEntry(120, False, TCP, "allow", "198.51.100.0/24", 22, 22),
            NaclEntry(130, False, TCP, "allow", "0.0.0.0/0", *_EPHEMERAL),
            NaclEntry(140, False, UDP, "allow", "0.0.0.0/0", *_EPHEMERAL),
            NaclEntry(150, False, ICMP, "allow", "0.0.0.0/0"),
            NaclEntry(160, False, ALL, "allow", "10.0.0.0/16"),
            NaclEntry(100, True, TCP, "allow", "0.0.0.0/0", 0, 65535),
            NaclEntry(110, True, UDP, "allow", "0.0.0.0/0", 0, 65535),
            # Outbound ICMP only as echo requests (type 8): the instance can ping out, but its
            # replies to pings from outside are rejected on the way out. That is AWS's
            # documented ICMP example: inbound ACCEPT, response REJECT.
            NaclEntry(120, True, ICMP, "allow", "0.0.0.0/0", icmp_type=8),
            NaclEntry(130, True, ALL, "allow", "10.0.0.0/16"),
        )),
        ("private-nacl", ("private-a", "private-c"), (
            NaclEntry(100, False, ALL, "allow", "10.0.0.0/16"),
            NaclEntry(110, False, TCP, "allow", "0.0.0.0/0", *_EPHEMERAL),
            NaclEntry(120, False, UDP, "allow", "0.0.0.0/0", *_EPHEMERAL),
            NaclEntry(100, True, ALL, "allow", "0.0.0.0/0"),
        )),
    )


LAB = LabSpec()


_ACCOUNT_ID = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")


def default_topology(account_id: str = "123456789012", region: str = "ap-northeast-2") -> Topology:
    """The lab VPC with fixed IDs, for offline work that needs no emulator.

    Args:
        account_id: the AWS account ID, twelve digits.
        region: an AWS Region code such as ``"ap-northeast-2"``.

    Raises:
        TrafficError: the account ID or the Region does not look like AWS's.
    """
    if not isinstance(account_id, str) or not _ACCOUNT_ID.fullmatch(account_id):
        raise TrafficError(f"account_id must be an AWS account ID, twelve digits such as "
                           f"'123456789012', not {account_id!r}")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise TrafficError(f"region must be an AWS Region code such as 'ap-northeast-2', "
                           f"not {region!r}")
    subnet_ids = {name: f"subnet-0{i}a1b2c3d4e5f6000" for i, (name, *_) in
                  enumerate(LAB.subnets, start=1)}
    subnets = tuple(Subnet(subnet_ids[name], name, cidr, f"{region}{az}", public)
                    for name, cidr, az, public in LAB.subnets)
    group_ids = {name: f"sg-0{i}a1b2c3d4e5f6000" for i, (name, *_) in
                 enumerate(LAB.security_groups, start=1)}
    groups = tuple(SecurityGroup(group_ids[name], name, description, rules)
                   for name, description, rules in LAB.security_groups)
    interfaces = [
        Interface(f"eni-0{i}a1b2c3d4e5f6000", role, ip, subnet_ids[subnet],
                  f"i-0{i}a1b2c3d4e5f6000", (group_ids[group],),
                  "13.125.10.100" if role == "web" else None)
        for i, (role, subnet, ip, group) in enumerate(LAB.instances, start=1)
    ]
    interfaces.append(Interface("eni-09a1b2c3d4e5f6000", "nat", LAB.nat_private_ip,
                                subnet_ids[LAB.nat_subnet], None, (), "13.125.10.200"))
    acls = tuple(NetworkAcl(f"acl-0{i}a1b2c3d4e5f6000", name,
                            tuple(subnet_ids[s] for s in subnets_), entries)
                 for i, (name, subnets_, entries) in enumerate(LAB.network_acls, start=1))
    return Topology(account_id, region, "vpc-0a1b2c3d4e5f60000", LAB.vpc_cidr, subnets,
                    tuple(interfaces), groups, acls, "igw-0a1b2c3d4e5f60000",
                    "nat-0a1b2c3d4e5f60000", LAB.admin_cidr)
