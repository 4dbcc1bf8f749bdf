"""The VPC Flow Logs field registry: one table that drives parsing, writing and naming.

Source: "Flow log records" → "Available fields" in the Amazon VPC user guide,
https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html . Each field carries the
flow-log version that introduced it, its Parquet data type (INT_32, INT_64 or STRING: in plain-text
files every field is a string), the canonical column name (hyphens become underscores, as in AWS's
Parquet files and Athena tables) and, for the default-format fields, the name CloudWatch Logs
Insights discovers (``srcAddr``, ``dstPort``, ...). Insights discovers fields only for the default
format; custom formats need ``parse``. The table covers versions 2 to 11 (read 2026-11).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from helpers.errors import FlowLogFormatError

__all__ = [
    "DEFAULT_FORMAT",
    "FIELDS",
    "Field",
    "field",
    "field_table",
    "format_string",
    "format_version",
    "parse_format",
]


@dataclass(frozen=True)
class Field:
    """One flow-log field as AWS documents it."""

    name: str
    version: int
    parquet_type: str  # "INT_32", "INT_64" or "STRING"
    description: str
    insights_name: str | None = None
    choices: tuple[str, ...] | None = None  # documented values, checked when parsing
    max_value: int | None = None  # inclusive upper bound for integers, checked when parsing

    @property
    def column(self) -> str:
        """The canonical column name: the field name with hyphens turned into underscores."""
        return self.name.replace("-", "_")

    @property
    def is_integer(self) -> bool:
        return self.parquet_type != "STRING"


_I32, _I64, _STR = "INT_32", "INT_64", "STRING"

_ECS = "Amazon ECS: "
_INTERFACE_TYPES = ("nat_gateway", "network_load_balancer", "regional_nat_gateway",
                    "transit_gateway", "vpc_endpoint")
FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        # version 2: the default format, in this order
        Field("version", 2, _I32, "Flow-log version: 2 for the default format, else the highest "
              "version among the fields of a custom format.", "version"),
        Field("account-id", 2, _STR, "AWS account that owns the source network interface; "
              "'unknown' for some interfaces AWS services create.", "accountId"),
        Field("interface-id", 2, _STR, "ID of the network interface the traffic is recorded for.",
              "interfaceId"),
        Field("srcaddr", 2, _STR, "Source address: for incoming traffic the sender, for outgoing "
              "traffic the interface's own private IPv4 or IPv6 address.", "srcAddr"),
        Field("dstaddr", 2, _STR, "Destination address: for outgoing traffic the receiver, for "
              "incoming traffic the interface's own private IPv4 or IPv6 address.", "dstAddr"),
        Field("srcport", 2, _I32, "Source port (0 for protocols without ports, such as ICMP).",
              "srcPort", max_value=65535),
        Field("dstport", 2, _I32, "Destination port (0 for protocols without ports, such as ICMP).",
              "dstPort", max_value=65535),
        Field("protocol", 2, _I32, "IANA protocol number (6 TCP, 17 UDP, 1 ICMP, ...).",
              "protocol", max_value=255),
        Field("packets", 2, _I64, "Packets transferred during the flow.", "packets"),
        Field("bytes", 2, _I64, "Bytes transferred during the flow.", "bytes"),
        Field("start", 2, _I64, "Time the first packet of the flow was received within the "
              "aggregation interval, in Unix seconds.", "startTime"),
        Field("end", 2, _I64, "Time the last packet of the flow was received within the "
              "aggregation interval, in Unix seconds.", "endTime"),
        Field("action", 2, _STR, "ACCEPT or REJECT: whether security groups and network ACLs "
              "allowed the traffic.", "action", choices=("ACCEPT", "REJECT")),
        Field("log-status", 2, _STR, "OK (data logged normally), NODATA (no traffic in the "
              "interval) or SKIPDATA (records skipped, for example over capacity).", "logStatus",
              choices=("OK", "NODATA", "SKIPDATA")),
        # version 3
        Field("vpc-id", 3, _STR, "ID of the VPC that contains the network interface."),
        Field("subnet-id", 3, _STR, "ID of the subnet that contains the network interface."),
        Field("instance-id", 3, _STR, "ID of the instance the interface is attached to, if you own "
              "it; '-' for requester-managed interfaces such as a NAT gateway's."),
        Field("tcp-flags", 3, _I32, "Bitmask of the TCP flags seen in the interval, OR-ed "
              "together: FIN 1, SYN 2, RST 4, SYN-ACK 18. ACK and PSH alone are not reported "
              "(0); 19 is SYN-ACK and FIN in one interval.", max_value=255),
        Field("type", 3, _STR, "Traffic type: IPv4, IPv6 or EFA.", choices=("IPv4", "IPv6", "EFA")),
        Field("pkt-srcaddr", 3, _STR, "Packet-level (original) source address; differs from "
              "srcaddr when the interface is an intermediate hop such as a NAT gateway."),
        Field("pkt-dstaddr", 3, _STR, "Packet-level (original) destination address; differs from "
              "dstaddr when the interface is an intermediate hop such as a NAT gateway."),
        # version 4
        Field("region", 4, _STR, "Region that contains the network interface."),
        Field("az-id", 4, _STR, "ID of the Availability Zone that contains the interface."),
        Field("sublocation-type", 4, _STR, "Type of sublocation: wavelength, outpost or localzone.",
              choices=("wavelength", "outpost", "localzone")),
        Field("sublocation-id", 4, _STR, "ID of the sublocation (Wavelength Zone, Outpost or "
              "Local Zone) that contains the interface."),
        # version 5
        Field("pkt-src-aws-service", 5, _STR, "Name of the AWS service subset of the pkt-srcaddr "
              "IP address range (for example S3, EC2, ROUTE53), when it belongs to one."),
        Field("pkt-dst-aws-service", 5, _STR, "Name of the AWS service subset of the pkt-dstaddr "
              "IP address range, when it belongs to one."),
        Field("flow-direction", 5, _STR, "ingress or egress, relative to the interface.",
              choices=("ingress", "egress")),
        Field("traffic-path", 5, _I32, "Path egress traffic takes to its destination: 1 another "
              "resource in the same VPC, 2 internet gateway or gateway VPC endpoint, 3 virtual "
              "private gateway, 4 intra-Region VPC peering, 5 inter-Region VPC peering, 6 Local "
              "Zone or Wavelength Zone, 7 gateway VPC endpoint, 8 internet gateway; '-' when "
              "none applies (always for ingress).", max_value=8),
        # version 7: Amazon ECS
        Field("ecs-cluster-arn", 7, _STR, _ECS + "ARN of the cluster, if the task's traffic is "
              "from a running ECS task."),
        Field("ecs-cluster-name", 7, _STR, _ECS + "name of the cluster."),
        Field("ecs-container-instance-arn", 7, _STR, _ECS + "ARN of the container instance (EC2 "
              "launch type)."),
        Field("ecs-container-instance-id", 7, _STR, _ECS + "ID of the container instance (EC2 "
              "launch type)."),
        Field("ecs-container-id", 7, _STR, _ECS + "Docker runtime ID of the task's container, or "
              "of the first container when there are several."),
        Field("ecs-second-container-id", 7, _STR, _ECS + "Docker runtime ID of the second "
              "container, when the task has more than one."),
        Field("ecs-service-name", 7, _STR, _ECS + "name of the ECS service, if the task was "
              "started by one."),
        Field("ecs-task-definition-arn", 7, _STR, _ECS + "ARN of the task definition."),
        Field("ecs-task-arn", 7, _STR, _ECS + "ARN of the task."),
        Field("ecs-task-id", 7, _STR, _ECS + "ID of the task."),
        # version 8
        Field("reject-reason", 8, _STR, "Why traffic was rejected: BPA (VPC Block Public Access) "
              "or EC (encryption controls of a VPC endpoint); '-' for any other reason.",
              choices=("BPA", "EC")),
        # version 9
        Field("resource-id", 9, _STR, "ID of the regional NAT gateway for its flows; '-' "
              "otherwise."),
        # version 10
        Field("encryption-status", 10, _I32, "0 not encrypted, 1 encrypted by the Nitro "
              "hardware, 2 encrypted by the application, 3 both; '-' when encryption controls "
              "are off or the status is unknown.", max_value=3),
        # version 11: tags and next hop
        Field("instance-tag", 11, _STR, "Value of the first instance tag chosen for the flow log."),
        Field("instance-tag-2", 11, _STR, "Value of the second instance tag chosen."),
        Field("interface-tag", 11, _STR, "Value of the first network-interface tag chosen."),
        Field("interface-tag-2", 11, _STR, "Value of the second network-interface tag chosen."),
        Field("asg-tag", 11, _STR, "Value of the first Auto Scaling group tag chosen."),
        Field("asg-tag-2", 11, _STR, "Value of the second Auto Scaling group tag chosen."),
        Field("interface-type", 11, _STR, "Type of an AWS-managed interface.",
              choices=_INTERFACE_TYPES),
        Field("next-hop-interface-id", 11, _STR, "Interface the flow goes to next."),
        Field("next-hop-subnet-id", 11, _STR, "Subnet of the next-hop interface."),
        Field("next-hop-az-id", 11, _STR, "Availability Zone ID of the next-hop interface."),
        Field("next-hop-vpc-id", 11, _STR, "VPC of the next-hop interface."),
        Field("next-hop-interface-type", 11, _STR, "Type of the next-hop interface.",
              choices=_INTERFACE_TYPES),
    ]
}

DEFAULT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS.values() if f.version == 2)

DEFAULT_FORMAT = " ".join(f"${{{name}}}" for name in DEFAULT_FIELDS)
"""The AWS default format: the 14 version-2 fields, in the documented order."""

_TOKEN = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"[a-z0-9-]+")

_OTHER_NAMES: dict[str, tuple[str, str]] = {
    # the lesson's names (from a CloudWatch metric-filter example), wrong as field names
    "windowstart": ("start", "the lesson's name"),
    "windowend": ("end", "the lesson's name"),
    "flowlogstatus": ("log-status", "the lesson's name"),
    "destport": ("dstport", "the lesson's filter-pattern name"),
    # what Logs Insights calls the default-format fields
    **{f.insights_name: (f.name, "the Logs Insights name") for f in FIELDS.values()
       if f.insights_name and f.insights_name != f.name},
}
"""Names students meet for a field that are not its format name, and where they come from."""


def field(name: str) -> Field:
    """Look a field up by its AWS name (``dstport``) or column name (``log_status``)."""
    if not isinstance(name, str):
        raise FlowLogFormatError(
            f"a field name must be a string such as 'dstport', not {_kind(name)}")
    key = name.replace("_", "-")
    if key in FIELDS:
        return FIELDS[key]
    raise FlowLogFormatError(f"unknown flow-log field {name!r}{_did_you_mean(name)}")


def parse_format(text: str | None) -> tuple[str, ...]:
    """Return the field names of a flow-log format string, in order.

    ``None`` means the default format. The format is AWS's ``LogFormat`` parameter:
    ``${field}`` tokens separated by single spaces, e.g. ``"${srcaddr} ${dstaddr} ${action}"``.
    The header line of an S3 text file (field names without ``${}``) is accepted too.

    Raises:
        FlowLogFormatError: an unknown field (with a suggestion, which knows the lesson's
            ``windowstart``/``windowend``/``flowlogstatus`` and the Logs Insights names), a
            repeated field, text that is neither a ``${field}`` token nor a bare field name,
            or a ``log_format`` that is not a string.

    >>> parse_format("${srcaddr} ${dstaddr} ${action}")
    ('srcaddr', 'dstaddr', 'action')
    """
    if text is None:
        return DEFAULT_FIELDS
    if not isinstance(text, str):
        raise FlowLogFormatError(
            "log_format must be a string of ${field} tokens such as '${srcaddr} ${dstaddr}', "
            f"or None for the default format, not {_kind(text)}")
    tokens = text.split()
    if not tokens:
        raise FlowLogFormatError(
            "empty flow-log format: name at least one field, e.g. '${srcaddr}'")
    names: list[str] = []
    for token in tokens:
        match = _TOKEN.fullmatch(token)
        name = match.group(1) if match else token
        problem = name_problem(name, names, where=f" in format {text!r}")
        if problem is not None:
            if not _NAME.fullmatch(name) and _suggestion(name) is None:
                raise FlowLogFormatError(
                    f"cannot read {token!r} in flow-log format {text!r}: "
                    "expected ${field} tokens separated by spaces"
                )
            raise FlowLogFormatError(problem)
        names.append(name)
    return tuple(names)


def name_problem(name: str, before=(), where: str = "") -> str | None:
    """Why ``name`` cannot be the next field of a format after ``before``, or None if it can.

    The reason reads "unknown flow-log field 'windowstart'<where>; ..." (with a suggestion)
    or "field 'srcaddr' appears twice<where>".
    """
    if name in FIELDS:
        return f"field {name!r} appears twice{where}" if name in before else None
    return f"unknown flow-log field {name!r}{where}{_did_you_mean(name)}"


def format_string(names) -> str:
    """The ``LogFormat`` string for field names or column names, e.g. ``${srcaddr} ${action}``.

    >>> format_string(["srcaddr", "log_status"])
    '${srcaddr} ${log-status}'
    """
    if isinstance(names, str) or not _is_iterable(names):
        raise FlowLogFormatError(
            "names must be a list of field or column names such as ['srcaddr', 'dstport'], "
            f"not {_kind(names)}" + ("; parse_format() reads a format string"
                                     if isinstance(names, str) else ""))
    fields = [field(n).name for n in names]
    for i, name in enumerate(fields):
        if name in fields[:i]:
            raise FlowLogFormatError(f"field {name!r} appears twice in names {list(names)!r}")
    return " ".join(f"${{{name}}}" for name in fields)


def format_version(log_format: str | None) -> int:
    """The ``version`` AWS writes for a format: the highest version among its fields.

    >>> format_version("${srcaddr} ${dstaddr} ${tcp-flags}")
    3
    """
    return max(FIELDS[name].version for name in parse_format(log_format))


def field_table(version: int | None = None):
    """The registry as a DataFrame (one row per field), optionally only one version's fields."""
    import pandas as pd

    versions = sorted({f.version for f in FIELDS.values()})
    if version is not None and (isinstance(version, bool) or version not in versions):
        raise FlowLogFormatError(
            f"version must be one of {', '.join(map(str, versions))} or None (all fields), "
            f"not {_kind(version)}")
    rows = [
        {
            "field": f.name,
            "version": f.version,
            "column": f.column,
            "parquet_type": f.parquet_type,
            "insights_name": f.insights_name,
            "description": f.description,
        }
        for f in FIELDS.values()
        if version is None or f.version == version
    ]
    return pd.DataFrame(rows)


def canonical_name(name: str) -> str | None:
    """The field a name stands for: itself, its column name, its Logs Insights name, the
    lesson's name for it, or the same in other letter case; None for anything else.

    >>> canonical_name("windowstart"), canonical_name("log_status"), canonical_name("srcAddr")
    ('start', 'log-status', 'srcaddr')
    """
    for candidate in (name, name.lower()):
        if candidate in _OTHER_NAMES:
            return _OTHER_NAMES[candidate][0]
        key = candidate.replace("_", "-")
        if key in FIELDS:
            return key
    return None


def _suggestion(name: str) -> str | None:
    """The field a wrong name most likely means, with why, or None."""
    if name in _OTHER_NAMES:
        right, where = _OTHER_NAMES[name]
        return f"{name!r} is {where}; the flow-log field is {right!r}"
    lowered = name.lower()
    if lowered in _OTHER_NAMES:
        right, where = _OTHER_NAMES[lowered]
        return f"{lowered!r} is {where}; the flow-log field is {right!r}"
    key = lowered.replace("_", "-")
    if key in FIELDS:
        return f"did you mean {key!r}? (field names are lower case, with hyphens)"
    close = difflib.get_close_matches(key, list(FIELDS), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _did_you_mean(name: str) -> str:
    suggestion = _suggestion(name)
    return f"; {suggestion}" if suggestion else "; see helpers.flowlogs.FIELDS"


def _is_iterable(value) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _kind(value) -> str:
    """A value for an error message: its type and a short repr."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
