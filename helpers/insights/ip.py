"""IP address functions as portable SQL: validity checks and real CIDR arithmetic, v4 and v6.

Logs Insights' ``isValidIp``, ``isValidIpV4``, ``isValidIpV6``, ``isIpInSubnet``,
``isIpv4InSubnet`` and ``isIpv6InSubnet``
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html,
"IP address string functions"). The SQL uses only string functions DuckDB and Trino share, so
the same expression runs on both and survives a transpile:

- IPv4: the four octets become one number; a subnet is the range [network, broadcast],
  computed here with :mod:`ipaddress` from the CIDR literal. Leading zeros ("010.0.0.1") are
  not valid, as in Python's ``ipaddress``.
- IPv6: ``::`` is expanded to the missing zero groups, every group padded to four hex digits,
  and the 32 hex digits compared with the subnet's prefix (whole digits by equality, the last
  partial digit by range). An IPv6 address with an embedded dotted IPv4 tail
  (``::ffff:192.0.2.1``) is valid but never inside a subnet here (a documented limitation).
"""

from __future__ import annotations

import ipaddress

from sqlglot import exp

from helpers.insights.schema import binary

__all__ = ["IPV4_REGEX", "IPV6_REGEX", "in_subnet", "is_ipv4", "is_ipv6", "parse_subnet"]

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
IPV4_REGEX = rf"^{_V4}$"
_H = "[0-9a-fA-F]{1,4}"
_V6 = "|".join([
    rf"(?:{_H}:){{7}}{_H}",
    rf"(?:{_H}:){{1,7}}:",
    rf"(?:{_H}:){{1,6}}:{_H}",
    rf"(?:{_H}:){{1,5}}(?::{_H}){{1,2}}",
    rf"(?:{_H}:){{1,4}}(?::{_H}){{1,3}}",
    rf"(?:{_H}:){{1,3}}(?::{_H}){{1,4}}",
    rf"(?:{_H}:){{1,2}}(?::{_H}){{1,5}}",
    rf"{_H}:(?::{_H}){{1,6}}",
    rf":(?:(?::{_H}){{1,7}}|:)",
    rf"(?:{_H}:){{6}}{_V4}",
    rf"(?:{_H}:){{1,5}}:{_V4}",
    rf"::(?:{_H}:){{0,5}}{_V4}",
])
IPV6_REGEX = rf"^(?:{_V6})$"


def _lit(value) -> exp.Expression:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def is_ipv4(text: exp.Expression) -> exp.Expression:
    return exp.RegexpLike(this=text, expression=_lit(IPV4_REGEX))


def is_ipv6(text: exp.Expression) -> exp.Expression:
    return exp.RegexpLike(this=text, expression=_lit(IPV6_REGEX))


def parse_subnet(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network of a CIDR string; host bits are allowed (192.0.2.7/24 is 192.0.2.0/24).

    Raises ValueError for text that is not CIDR notation.
    """
    if "/" not in cidr:
        raise ValueError(f"{cidr!r} has no prefix length: write CIDR notation such as "
                         "'192.0.2.0/24' or '2001:db8::/32'")
    return ipaddress.ip_network(cidr.strip(), strict=False)


def in_subnet(text: exp.Expression, network) -> exp.Expression:
    """``text`` is a valid address of the network's family inside ``network``."""
    if network.version == 4:
        return _v4_in(text, network)
    return _v6_in(text, network)


def _v4_in(text, network) -> exp.Expression:
    number = None
    for i in range(4):
        octet = exp.TryCast(this=exp.SplitPart(this=text.copy(), delimiter=_lit("."),
                                               part_index=_lit(i + 1)),
                            to=exp.DataType.build("BIGINT"))
        term = binary(exp.Mul, octet, _lit(256 ** (3 - i))) if i < 3 else octet
        number = term if number is None else binary(exp.Add, number, term)
    low, high = int(network.network_address), int(network.broadcast_address)
    inside = exp.Between(this=exp.Paren(this=number), low=_lit(low), high=_lit(high))
    return exp.and_(is_ipv4(text.copy()), inside)


def _v6_in(text, network) -> exp.Expression:
    prefix = network.network_address.exploded.replace(":", "")
    digits, bits = divmod(network.prefixlen, 4)
    needed = -(-network.prefixlen // 16)  # only the groups the prefix covers
    hexes = _v6_hex(exp.Lower(this=text.copy()), needed)
    checks = [is_ipv6(text.copy()),
              exp.EQ(this=exp.StrPosition(this=text.copy(), substr=_lit(".")),
                     expression=_lit(0))]
    if digits:
        checks.append(exp.EQ(this=exp.Substring(this=hexes.copy(), start=_lit(1),
                                                length=_lit(digits)),
                             expression=_lit(prefix[:digits])))
    if bits:
        first = int(prefix[digits], 16) & (0xF << (4 - bits)) & 0xF
        last = first | (0xF >> bits)
        nibble = exp.Substring(this=hexes.copy(), start=_lit(digits + 1), length=_lit(1))
        checks.append(exp.Between(this=nibble, low=_lit(f"{first:x}"),
                                  high=_lit(f"{last:x}")))
    return exp.and_(*checks)


def _v6_hex(s: exp.Expression, groups: int) -> exp.Expression:
    """The first ``groups`` groups of a (lower-case, valid, no dotted tail) IPv6 address as
    4-digit hex, concatenated: "::" stands for the zero groups the two sides leave out."""
    if groups == 0:
        return _lit("")
    has = exp.GT(this=exp.StrPosition(this=s.copy(), substr=_lit("::")), expression=_lit(0))
    left = exp.Case(ifs=[exp.If(this=has.copy(), true=exp.SplitPart(
        this=s.copy(), delimiter=_lit("::"), part_index=_lit(1)))], default=s.copy())
    right = exp.Case(ifs=[exp.If(this=has.copy(), true=exp.SplitPart(
        this=s.copy(), delimiter=_lit("::"), part_index=_lit(2)))], default=_lit(""))

    def count(part):  # how many groups a side holds
        colons = binary(exp.Sub, exp.Length(this=part.copy()), exp.Length(
            this=exp.Replace(this=part.copy(), expression=_lit(":"), replacement=_lit(""))))
        return exp.Case(ifs=[exp.If(this=exp.EQ(this=part.copy(), expression=_lit("")),
                                    true=_lit(0))],
                        default=binary(exp.Add, colons, _lit(1)))

    n_left = count(left)
    right_from = binary(exp.Sub, _lit(9), count(right))  # first group of the right side
    out = None
    for i in range(1, groups + 1):
        group = exp.Case(ifs=[
            exp.If(this=exp.LTE(this=_lit(i), expression=n_left.copy()),
                   true=exp.SplitPart(this=left.copy(), delimiter=_lit(":"),
                                      part_index=_lit(i))),
            exp.If(this=exp.GTE(this=_lit(i), expression=right_from.copy()),
                   true=exp.SplitPart(this=right.copy(), delimiter=_lit(":"),
                                      part_index=binary(exp.Add, binary(
                                          exp.Sub, _lit(i), right_from.copy()), _lit(1)))),
        ], default=_lit("0"))
        group = exp.Pad(this=group, expression=_lit(4), fill_pattern=_lit("0"), is_left=True)
        out = group if out is None else exp.DPipe(this=out, expression=group)
    return out
