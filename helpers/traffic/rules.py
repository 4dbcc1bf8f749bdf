"""Judge traffic the way a VPC does: security groups, then network ACLs, per interface.

Two implementations of the same rules. :func:`allowed` is vectorised (arrays of flows in, one
boolean per flow out; it loops over the few rules, never over flows) and is what the traffic
generator uses. :func:`check` judges one packet in plain Python and says why; the tests use it
as the independent reference, and a notebook can use it to explain a REJECT.

The rules, from the VPC user guide:

* **Security groups** are stateful allow-lists attached to an interface
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html). A packet is
  allowed if any rule of any of the interface's groups in its direction matches: the protocol
  (or "all"), the port range for TCP/UDP or the ICMP type/code for ICMP, and the peer (a CIDR
  that contains its address, or a referenced group one of whose member interfaces has that
  private address). Response traffic of an allowed connection is allowed in both directions
  whatever the rules say. An interface without groups (a NAT gateway's) has no such check.
* **Network ACLs** are stateless and guard a subnet's edge
  (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-basics.html): inbound entries when a
  packet enters the subnet, outbound entries when it leaves, lowest rule number first, the first
  matching entry decides, and a packet no entry matches is denied. Responses are judged again,
  which is why an inbound ping can be ACCEPTed while its reply is REJECTed (AWS's example,
  https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html). Traffic
  between two addresses of the same subnet does not cross its edge and is not checked.

Every rule matches the packet's *destination* port (for TCP and UDP) in both directions: an
inbound request to a web server is judged on port 443, its outbound response on the client's
ephemeral port. The peer is the packet's source for inbound traffic, its destination for
outbound traffic.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helpers.errors import TrafficError
from helpers.traffic.topology import ALL, ICMP, TCP, UDP, Interface, Topology

__all__ = ["Verdict", "allowed", "allowed_at", "check", "is_allowed", "int_to_ipv4",
           "ipv4_to_int"]

_PORTED = (TCP, UDP)


# --- addresses ------------------------------------------------------------------------------


def ipv4_to_int(addresses) -> np.ndarray:
    """Dotted IPv4 addresses (a string or an array of strings) as ``uint32`` integers.

    Vectorised with Arrow; missing values are not allowed.

    Raises:
        TrafficError: a value is missing or is not four numbers 0–255 joined by dots.

    >>> ipv4_to_int(["10.0.1.100", "8.8.8.8"]).tolist()
    [167772516, 134744072]
    """
    if isinstance(addresses, str):
        addresses = [addresses]
    raw = np.asarray(addresses, dtype=object)
    if raw.ndim != 1:
        raise TrafficError(f"addresses must be dotted IPv4 text or a list of it, such as "
                           f"'10.0.1.100', not {_short(addresses)}")
    try:
        arr = pa.array(raw, pa.string())
        parts = pc.split_pattern(arr, ".")
        if arr.null_count or not pc.all(pc.equal(pc.list_value_length(parts), 4)).as_py():
            raise ValueError("not four octets")
        octets = pc.list_flatten(parts).cast(pa.uint8())  # fails unless every octet is 0–255
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError):
        raise TrafficError(f"addresses: {_first_bad_address(raw)!r} is not a dotted IPv4 "
                           "address (four numbers 0–255 joined by dots, such as "
                           "'10.0.1.100')") from None
    values = np.asarray(octets, dtype=np.uint8).astype(np.uint32).reshape(-1, 4)
    return (values[:, 0] << 24) | (values[:, 1] << 16) | (values[:, 2] << 8) | values[:, 3]


def _first_bad_address(values):
    """The first value :func:`ipv4_to_int` cannot read (only called once it has failed)."""
    for value in values:
        octets = value.split(".") if isinstance(value, str) else ()
        if len(octets) != 4 or not all(o.isascii() and o.isdigit() and int(o) <= 255
                                       for o in octets):
            return value
    return values[0] if len(values) else values


def _short(value) -> str:
    """A value for an error message, shortened to one line."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def int_to_ipv4(values) -> list[str]:
    """``uint32`` integers as dotted IPv4 strings (for small arrays: it loops in Python).

    Raises:
        TrafficError: a value is not a whole number from 0 to 4294967295.

    >>> int_to_ipv4([167772516])
    ['10.0.1.100']
    """
    out = []
    for v in np.asarray(values, dtype=object).ravel():
        try:
            if isinstance(v, (bool, np.bool_)) or int(v) != v:
                raise ValueError("not a whole number")
            out.append(str(ipaddress.IPv4Address(int(v))))
        except (ValueError, TypeError, OverflowError):
            raise TrafficError(f"values: {v!r} is not an IPv4 address as a whole number from "
                               "0 to 4294967295 (uint32)") from None
    return out


def _network(cidr: str) -> tuple[int, int]:
    net = ipaddress.IPv4Network(cidr, strict=False)
    return int(net.network_address), int(net.netmask)


# --- the vectorised evaluator -------------------------------------------------------------


@dataclass(frozen=True)
class _SgRules:
    """One interface's security-group rules in one direction, as arrays."""

    protocol: np.ndarray
    lo: np.ndarray  # TCP/UDP port range, or the ICMP type (ALL = any)
    hi: np.ndarray  # TCP/UDP port range, or the ICMP code (ALL = any)
    net: np.ndarray
    mask: np.ndarray
    members: tuple  # per rule: uint32 addresses of a referenced group's interfaces, or None


@dataclass(frozen=True)
class _NaclRules:
    """One network ACL's entries in one direction, in rule-number order."""

    protocol: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    icmp_type: np.ndarray
    icmp_code: np.ndarray
    net: np.ndarray
    mask: np.ndarray
    allow: np.ndarray


@dataclass(frozen=True)
class _Compiled:
    interfaces: tuple[Interface, ...]
    has_groups: tuple[bool, ...]
    subnet: tuple[tuple[int, int], ...]  # per interface: (network, mask) of its subnet
    sg: tuple[tuple[_SgRules, _SgRules], ...]  # per interface: (ingress, egress)
    nacl: tuple[tuple[_NaclRules, _NaclRules], ...]  # per interface: (ingress, egress)


@lru_cache(maxsize=16)
def _compile(topology: Topology) -> _Compiled:
    """Turn a topology's rules into small integer arrays, once per topology."""
    addresses = {eni.eni_id: int(ipaddress.IPv4Address(eni.private_ip))
                 for eni in topology.interfaces}

    def members(group: str) -> np.ndarray:
        return np.array(sorted(addresses[e.eni_id] for e in topology.interfaces
                               if any(g == group or topology.security_group(g).name == group
                                      for g in e.security_group_ids)), dtype=np.uint32)

    def sg_rules(eni: Interface, direction: str) -> _SgRules:
        rules = [r for g in eni.security_group_ids
                 for r in topology.security_group(g).rules if r.direction == direction]
        nets = [_network(r.cidr) if r.cidr else (0, 0) for r in rules]
        return _SgRules(
            protocol=np.array([r.protocol for r in rules], dtype=np.int64),
            lo=np.array([r.from_port for r in rules], dtype=np.int64),
            hi=np.array([r.to_port for r in rules], dtype=np.int64),
            net=np.array([n for n, _ in nets], dtype=np.uint32),
            mask=np.array([m for _, m in nets], dtype=np.uint32),
            members=tuple(None if r.cidr else members(r.source_group) for r in rules),
        )

    def nacl_rules(subnet_id: str, egress: bool) -> _NaclRules:
        entries = sorted((e for e in topology.network_acl_for(subnet_id).entries
                          if e.egress == egress), key=lambda e: e.rule_number)
        nets = [_network(e.cidr) for e in entries]
        return _NaclRules(
            protocol=np.array([e.protocol for e in entries], dtype=np.int64),
            lo=np.array([0 if e.from_port is None else e.from_port for e in entries],
                        dtype=np.int64),
            hi=np.array([65535 if e.to_port is None else e.to_port for e in entries],
                        dtype=np.int64),
            icmp_type=np.array([e.icmp_type for e in entries], dtype=np.int64),
            icmp_code=np.array([e.icmp_code for e in entries], dtype=np.int64),
            net=np.array([n for n, _ in nets], dtype=np.uint32),
            mask=np.array([m for _, m in nets], dtype=np.uint32),
            allow=np.array([e.action == "allow" for e in entries], dtype=bool),
        )

    enis = topology.interfaces
    return _Compiled(
        interfaces=enis,
        has_groups=tuple(bool(e.security_group_ids) for e in enis),
        subnet=tuple(_network(topology.subnet(e.subnet_id).cidr) for e in enis),
        sg=tuple((sg_rules(e, "ingress"), sg_rules(e, "egress")) for e in enis),
        nacl=tuple((nacl_rules(e.subnet_id, False), nacl_rules(e.subnet_id, True))
                   for e in enis),
    )


def _sg_allows(rules: _SgRules, peer, protocol, port) -> np.ndarray:
    ok = np.zeros(len(peer), dtype=bool)
    for i in range(len(rules.protocol)):
        proto = rules.protocol[i]
        lo, hi = rules.lo[i], rules.hi[i]
        match = np.ones(len(peer), dtype=bool) if proto == ALL else protocol == proto
        if proto in _PORTED and lo != ALL:
            match &= (port >= lo) & (port <= hi)
        elif proto == ICMP:
            if lo != ALL:
                match &= port == lo
            if hi not in (ALL, 0):  # ICMP code: echo request and reply both have code 0
                match[:] = False
        if rules.members[i] is None:
            match &= (peer & rules.mask[i]) == rules.net[i]
        else:
            match &= np.isin(peer, rules.members[i])
        ok |= match
    return ok


def _nacl_allows(rules: _NaclRules, peer, protocol, port) -> np.ndarray:
    decided = np.zeros(len(peer), dtype=bool)
    ok = np.zeros(len(peer), dtype=bool)
    for i in range(len(rules.protocol)):
        proto = rules.protocol[i]
        match = ~decided
        if proto != ALL:
            match &= protocol == proto
        if proto in _PORTED:
            match &= (port >= rules.lo[i]) & (port <= rules.hi[i])
        elif proto == ICMP:
            if rules.icmp_type[i] != ALL:
                match &= port == rules.icmp_type[i]
            if rules.icmp_code[i] not in (ALL, 0):
                match[:] = False
        match &= (peer & rules.mask[i]) == rules.net[i]
        ok[match] = rules.allow[i]
        decided |= match
    return ok  # whatever no entry matched stays denied: the implicit final "*" deny entry


def _check_topology(topology) -> None:
    if not isinstance(topology, Topology):
        raise TrafficError(f"topology must be a Topology (see default_topology()), not "
                           f"{type(topology).__name__}")


def allowed_at(topology: Topology, index: int, egress: bool, peer, protocol, port,
               is_response=False) -> np.ndarray:
    """:func:`allowed` for packets that all cross one interface in one direction.

    ``index`` is the interface's position in ``topology.interfaces``; the other arguments are
    as for :func:`allowed`, but not checked: the generator's fast path, no grouping by
    interface.
    """
    _check_topology(topology)
    compiled = _compile(topology)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
            or not 0 <= index < len(compiled.interfaces):
        raise TrafficError(f"index must be an interface's position in topology.interfaces, "
                           f"0 to {len(compiled.interfaces) - 1}, not {index!r}")
    return _allowed_on(compiled, index, egress, peer, protocol, port, is_response)


def _allowed_on(compiled: _Compiled, index: int, egress: bool, peer, protocol, port,
                is_response) -> np.ndarray:
    peer = np.asarray(peer, dtype=np.uint32)
    n = len(peer)
    protocol = np.broadcast_to(np.asarray(protocol, dtype=np.int64), n)
    port = np.broadcast_to(np.asarray(port, dtype=np.int64), n)
    is_response = np.broadcast_to(np.asarray(is_response, dtype=bool), n)
    side = 1 if egress else 0
    ok = np.ones(n, dtype=bool)
    if compiled.has_groups[index]:
        ok = is_response | _sg_allows(compiled.sg[index][side], peer, protocol, port)
    net, mask = compiled.subnet[index]
    inside = (peer & np.uint32(mask)) == np.uint32(net)
    return ok & (inside | _nacl_allows(compiled.nacl[index][side], peer, protocol, port))


def allowed(topology: Topology, interface, direction, peer, protocol, port,
            is_response=False) -> np.ndarray:
    """Whether the VPC lets each packet through at an interface, vectorised over packets.

    Args:
        topology: the VPC whose security groups and network ACLs judge the traffic.
        interface: interface index into ``topology.interfaces``, or ENI ID (``eni-…``).
        direction: ``"ingress"``/``"egress"`` or a boolean (True = egress), relative to the
            interface.
        peer: the other end's IPv4 address as ``uint32`` (see :func:`ipv4_to_int`): the
            packet's source for ingress, its destination for egress.
        protocol: IANA protocol number (6 TCP, 17 UDP, 1 ICMP).
        port: the packet's destination port for TCP/UDP; the ICMP type for ICMP (8 echo
            request, 0 echo reply).
        is_response: True for packets of a connection the other side opened and this
            interface's security groups already allowed (they pass the groups, not the ACLs).

    Every argument is a scalar or an array; they broadcast to one length.

    Returns:
        A boolean array: True = ACCEPT, False = REJECT.

    >>> from helpers.traffic.topology import default_topology
    >>> topo = default_topology()
    >>> allowed(topo, "eni-02a1b2c3d4e5f6000", "ingress", ipv4_to_int(["10.0.1.100"] * 2),
    ...         6, [22, 3306]).tolist()
    [True, False]
    """
    _check_topology(topology)
    compiled = _compile(topology)
    ids = [e.eni_id for e in compiled.interfaces]
    arrays = {"interface": interface, "direction": direction, "peer": peer,
              "protocol": protocol, "port": port, "is_response": is_response}
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    for name, low, high in (("peer", 0, 2**32 - 1), ("protocol", 0, 255), ("port", 0, 65535)):
        _check_numbers(name, arrays[name], low, high)
    try:
        interface, direction, peer, protocol, port, is_response = (
            np.ravel(a) for a in np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {np.shape(a)}" for name, a in arrays.items())
        raise TrafficError(f"the arguments must be scalars or arrays of one length; got "
                           f"shapes {shapes}") from None
    if is_response.dtype.kind not in "biu":
        raise TrafficError(f"is_response must be True or False, not {is_response.ravel()[0]!r}")
    peer = peer.astype(np.uint32)
    is_response = is_response.astype(bool)
    if interface.dtype.kind in "USO":
        unknown = sorted(set(np.unique(interface.astype(str)).tolist()) - set(ids))
        if unknown:
            raise TrafficError(f"unknown interface {unknown[0]!r}{_hint(unknown[0], ids)} the "
                               f"topology has {', '.join(ids)}")
        names, inverse = np.unique(interface, return_inverse=True)
        interface = np.array([ids.index(n) for n in names.tolist()])[inverse]
    elif interface.dtype.kind not in "iu" or (len(interface) and not (
            0 <= interface.min() and interface.max() < len(ids))):
        bad = interface[0] if interface.dtype.kind not in "iu" else next(
            i for i in interface.tolist() if not 0 <= i < len(ids))
        raise TrafficError(f"interface must be an ENI ID ({', '.join(ids)}) or its index 0 to "
                           f"{len(ids) - 1}, not {bad!r}")
    if direction.dtype.kind in "USO":
        bad = set(np.unique(direction.astype(str)).tolist()) - {"ingress", "egress"}
        if bad:
            raise TrafficError(f"direction must be 'ingress' or 'egress', not {bad.pop()!r}")
        direction = direction == "egress"
    direction = direction.astype(bool)
    out = np.zeros(interface.shape, dtype=bool)
    for index in range(len(ids)):
        for egress in (False, True):
            rows = np.flatnonzero((interface == index) & (direction == egress))
            if rows.size:
                out[rows] = _allowed_on(compiled, index, egress, peer[rows], protocol[rows],
                                        port[rows], is_response[rows])
    return out


def _check_numbers(name: str, values: np.ndarray, low: int, high: int) -> None:
    """Whole numbers from ``low`` to ``high``, or an error naming ``name`` and a bad value."""
    if values.dtype.kind in "iu" and (not values.size or (
            low <= values.min() and values.max() <= high)):
        return
    if values.dtype.kind == "f" and values.size and np.all(np.isfinite(values)) and np.all(
            values == np.round(values)) and low <= values.min() and values.max() <= high:
        return  # whole numbers written as floats
    if not values.size:
        return
    bad = next((v for v in values.ravel().tolist()
                if isinstance(v, bool) or not isinstance(v, (int, float))
                or not (math.isfinite(v) and v == round(v) and low <= v <= high)),
               values.ravel()[0])
    hint = "; convert dotted text with ipv4_to_int()" if name == "peer" else ""
    raise TrafficError(f"{name} must be whole numbers from {low} to {high}{hint}, not {bad!r}")


def _hint(name, known) -> str:
    """"; did you mean …?" for a name close to a known one, else a semicolon."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ";"


# --- the scalar reference -----------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The judgement of one packet at one interface, and the reason in one sentence."""

    allowed: bool
    reason: str

    @property
    def action(self) -> str:
        """``ACCEPT`` or ``REJECT``, as flow logs write it."""
        return "ACCEPT" if self.allowed else "REJECT"


def check(topology: Topology, interface: str, direction: str, peer: str, protocol: int,
          port: int, *, is_response: bool = False) -> Verdict:
    """Judge one packet at one interface in plain Python, rule by rule, and say why.

    ``interface`` is an ENI ID or a role (``"web"``, ``"private"``, ``"nat"``); ``peer`` is a
    dotted address; ``port`` the destination port (TCP/UDP) or the ICMP type. See
    :func:`allowed` for the meaning of the arguments.

    >>> from helpers.traffic.topology import default_topology
    >>> topo = default_topology()
    >>> check(topo, "web", "ingress", "198.51.100.10", 1, 8).action
    'ACCEPT'
    >>> v = check(topo, "web", "egress", "198.51.100.10", 1, 0, is_response=True)
    >>> v.action, v.reason
    ('REJECT', 'no outbound entry of network ACL acl-01a1b2c3d4e5f6000 matches (implicit deny)')
    """
    _check_topology(topology)
    if direction not in ("ingress", "egress"):
        raise TrafficError(f"direction must be 'ingress' or 'egress', not {direction!r}")
    eni = next((e for e in topology.interfaces if interface in (e.eni_id, e.role)), None)
    if eni is None:
        names = [n for e in topology.interfaces for n in (e.role, e.eni_id)]
        raise TrafficError(f"unknown interface {interface!r}{_hint(interface, names)} the "
                           f"topology has {', '.join(names)}")
    try:
        address = ipaddress.IPv4Address(peer)
    except (ValueError, TypeError):
        raise TrafficError(f"peer must be a dotted IPv4 address such as '198.51.100.10', not "
                           f"{peer!r}") from None
    for name, value, high in (("protocol", protocol, 255),
                              ("port", port, 255 if protocol == ICMP else 65535)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not 0 <= value <= high:
            what = " (the ICMP type for ICMP)" if name == "port" else " (6 TCP, 17 UDP, 1 ICMP)"
            raise TrafficError(f"{name} must be a whole number from 0 to {high}{what}, not "
                               f"{value!r}")
    if eni.security_group_ids and not is_response:
        if not any(_sg_rule_matches(topology, rule, address, protocol, port)
                   for group in eni.security_group_ids
                   for rule in topology.security_group(group).rules
                   if rule.direction == direction):
            groups = ", ".join(eni.security_group_ids)
            return Verdict(False, f"no {direction} rule of security group(s) {groups} "
                                  "matches (security groups only allow)")
    subnet = topology.subnet(eni.subnet_id)
    if address in ipaddress.IPv4Network(subnet.cidr):
        return Verdict(True, f"allowed: the peer is in the same subnet ({subnet.cidr}), "
                             "so the network ACL does not apply")
    acl = topology.network_acl_for(eni.subnet_id)
    word = "outbound" if direction == "egress" else "inbound"
    for entry in sorted(acl.entries, key=lambda e: e.rule_number):
        if entry.egress != (direction == "egress"):
            continue
        if _nacl_entry_matches(entry, address, protocol, port):
            if entry.action == "allow":
                why = "the security groups and " if eni.security_group_ids else ""
                return Verdict(True, f"allowed by {why}{word} rule {entry.rule_number} of "
                                     f"network ACL {acl.nacl_id}")
            return Verdict(False, f"denied by {word} rule {entry.rule_number} of network "
                                  f"ACL {acl.nacl_id}")
    return Verdict(False, f"no {word} entry of network ACL {acl.nacl_id} matches "
                          "(implicit deny)")


def is_allowed(topology: Topology, interface: str, direction: str, peer: str,
               protocol: int, port: int, *, is_response: bool = False) -> bool:
    """:func:`check`'s answer alone: True = ACCEPT."""
    return check(topology, interface, direction, peer, protocol, port,
                 is_response=is_response).allowed


def _sg_rule_matches(topology, rule, address, protocol, port) -> bool:
    if rule.protocol != ALL and rule.protocol != protocol:
        return False
    if rule.protocol in _PORTED and rule.from_port != ALL:
        if not rule.from_port <= port <= rule.to_port:
            return False
    if rule.protocol == ICMP:
        if rule.from_port != ALL and rule.from_port != port:
            return False
        if rule.to_port not in (ALL, 0):
            return False
    if rule.cidr is not None:
        return address in ipaddress.IPv4Network(rule.cidr, strict=False)
    for eni in topology.interfaces:
        names = {g for g in eni.security_group_ids}
        names |= {topology.security_group(g).name for g in eni.security_group_ids}
        if rule.source_group in names and ipaddress.IPv4Address(eni.private_ip) == address:
            return True
    return False


def _nacl_entry_matches(entry, address, protocol, port) -> bool:
    if entry.protocol != ALL and entry.protocol != protocol:
        return False
    if entry.protocol in _PORTED:
        low = 0 if entry.from_port is None else entry.from_port
        high = 65535 if entry.to_port is None else entry.to_port
        if not low <= port <= high:
            return False
    if entry.protocol == ICMP:
        if entry.icmp_type != ALL and entry.icmp_type != port:
            return False
        if entry.icmp_code not in (ALL, 0):
            return False
    return address in ipaddress.IPv4Network(entry.cidr, strict=False)
