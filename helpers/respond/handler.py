"""The auto-block Lambda: deny an attacker's IPv4 address in a network ACL, safely.

This module is the whole deployment package: it imports only the standard library, boto3 and
botocore (both in every Python Lambda runtime), so the zip holds this one file and its handler
is ``handler.handler``. Its clients come from the ordinary environment, as on Lambda; set
``AWS_ENDPOINT_URL`` to point them at an emulator.

Why a network ACL. The lesson's Lambda calls ``authorize_security_group_ingress``: that *adds
an allow rule*. Security groups cannot deny. A network ACL can: its entries are evaluated per
direction in rule-number order, lowest first, and the first match decides
(https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html). So a deny entry numbered
below the allow rules stops the address before any allow rule is reached.

Configuration (Lambda environment variables,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html):

- ``NACL_ID`` (required): the network ACL to edit, ``acl-...``. The VPC's own CIDR blocks are
  discovered from it (``DescribeNetworkAcls`` then ``DescribeVpcs``) and never blocked.
- ``ALLOWLIST``: comma-separated IPv4 addresses or CIDRs never to block (the admin's office).
- ``RULE_NUMBER_RANGE`` (default ``50-69``): the rule numbers reserved for blocks. Every allow
  rule of the directions it edits must be numbered above it, or it refuses to run.
- ``MAX_BLOCKS`` (default 10): blocks held at once; a new block past the cap expires the
  oldest. A network ACL holds 20 rules per direction by default (quota "Rules per network
  ACL", adjustable to 40, counted apart for IPv4 and IPv6,
  https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html), and the allow
  rules use some of them; ``NACL_RULE_QUOTA`` (default 20) tells the handler the account's
  value, and it evicts the oldest block rather than hit it.
- ``BLOCK_TTL_MINUTES`` (default 60): a block's lifetime; every invocation first removes the
  blocks past it (a schedule that invokes ``{"action": "expire"}`` keeps that punctual).
- ``SNS_TOPIC_ARN`` (optional): where to report what was done.
- ``RESPOND_CLOCK`` (tests and the offline course only): the time to act at, ISO 8601 or epoch
  seconds, instead of the system clock.

Events:

- Direct invocation: ``{"action": "block" | "unblock" | "expire", "ip": "203.0.113.66" (or a
  CIDR, or a list), "reason": "...", "egress": false, "requested_by": "..."}``.
- SNS (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html): each ``Records[].Sns``.
  Its ``Message`` is either such a request as JSON, or the JSON CloudWatch publishes for an
  alarm (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html).
  An alarm notification names the alarm, its metric and dimensions and the datapoints that
  crossed the threshold, never the addresses behind them: a metric filter counts REJECT
  records, it does not keep their sources. So the address comes from the detection step that
  found it (a Logs Insights query or the course's detections): either it invokes the function
  directly, or it relays the alarm with an SNS message attribute ``ip`` (String, one address
  or comma-separated; ``egress`` = ``"true"`` adds an outbound entry). An alarm notification
  without an address is refused with code ``no-address``; one for a state other than ALARM is
  ignored. Messages this function published itself (attribute ``source`` = ``autoblock``) are
  ignored, so reporting to the topic that triggers it cannot loop.
- An alarm whose action is the function itself (``{"source": "aws.cloudwatch", "alarmData":
  ...}``, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-actions-Lambda.html):
  no address either, so likewise refused (``no-address``) or ignored.

Returns (JSON): ``{"nacl_id", "time", "results": [...], "expired": [...], "blocks": [...],
"audit": [...], "notified"}``. Each result has ``status``: ``blocked``, ``already_blocked``,
``refused`` (with ``code`` and ``reason``), ``unblocked``, ``not_blocked`` or ``ignored``.
``already_blocked`` reports the existing block (an address inside a blocked network counts)
and changes nothing, not even its directions or expiry.
``expired`` lists the blocks removed by their TTL (``why: "ttl"``) or to make room under the
cap (``why: "cap"``).

Audit trail. Network ACL entries cannot carry tags or descriptions, so each block is recorded
in a tag on the network ACL itself, key ``autoblock:<rule number>``, value a compact JSON
(cidr, blocked at, expires at, directions, who, why; at most 256 characters): anyone looking at
the ACL sees why rule 50 exists, and the handler reads its state back from there on the next
invocation (Lambda keeps none). Every action (block, unblock, expire, evict, refuse) is also
one JSON line in the function's log (CloudWatch Logs, ``/aws/lambda/<function>``) and in the
returned ``audit`` list, with the time, the requester (``who``), the reason (``why``), the rule
number and the function's request ID.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

__all__ = ["ConfigurationError", "Settings", "check_address", "handler", "now"]

TAG_PREFIX = "autoblock:"
SOURCE = "autoblock"  # the ``source`` message attribute of the reports this function publishes
DEFAULT_RULE = 32767  # the final "*" deny entry every network ACL has; it counts toward no quota
TAG_VALUE_LIMIT = 256  # EC2 tag values: at most 256 characters
MIN_PREFIX = 16  # a wider block is an outage, not a response
STAMP = "%Y-%m-%dT%H:%M:%SZ"

LOG = logging.getLogger("autoblock")
LOG.setLevel(logging.INFO)

# Address space an automatic block must never touch, with a reason code and the why. Python's
# ``ipaddress.is_private`` is not used: it also counts the RFC 5737 documentation ranges
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) as private, and they stand for internet
# addresses throughout the course.
PROTECTED = tuple((ipaddress.IPv4Network(cidr), code, why) for cidr, code, why in (
    ("0.0.0.0/8", "reserved", "'this network' (RFC 1122)"),
    ("10.0.0.0/8", "private", "private address space (RFC 1918)"),
    ("100.64.0.0/10", "private", "shared address space for carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link-local", "link-local (RFC 3927): the instance metadata service "
                                     "169.254.169.254, Amazon Time Sync and DNS live there"),
    ("172.16.0.0/12", "private", "private address space (RFC 1918)"),
    ("192.168.0.0/16", "private", "private address space (RFC 1918)"),
    ("224.0.0.0/4", "multicast", "multicast (RFC 5771)"),
    ("240.0.0.0/4", "reserved", "reserved and broadcast (RFC 1112, RFC 919)"),
))


class ConfigurationError(ValueError):
    """The function's environment variables or its network ACL make blocking unsafe."""


# --- configuration ----------------------------------------------------------------------------


def _whole(env, name: str, default: int, low: int, high: int) -> int:
    text = (env.get(name) or str(default)).strip()
    if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
        raise ConfigurationError(f"{name} must be a whole number from {low} to {high}, not "
                                 f"{text!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    """The handler's configuration, read from environment variables (:meth:`from_env`)."""

    nacl_id: str
    allowlist: tuple[ipaddress.IPv4Network, ...] = ()
    first_rule: int = 50
    last_rule: int = 69
    max_blocks: int = 10
    ttl: timedelta = timedelta(minutes=60)
    topic_arn: str | None = None
    quota: int = 20

    @classmethod
    def from_env(cls, env=None) -> Settings:
        """Settings from ``env`` (default ``os.environ``).

        Raises:
            ConfigurationError: a variable is missing or malformed; the message names it.
        """
        env = os.environ if env is None else env
        nacl_id = (env.get("NACL_ID") or "").strip()
        if not re.fullmatch(r"acl-[0-9a-f]{8,17}", nacl_id):
            raise ConfigurationError(f"NACL_ID must be a network ACL ID such as "
                                     f"'acl-0123456789abcdef0', not {nacl_id!r}")
        allowlist = []
        for item in (env.get("ALLOWLIST") or "").split(","):
            if item.strip():
                try:
                    allowlist.append(ipaddress.IPv4Network(item.strip(), strict=False))
                except ValueError as err:
                    raise ConfigurationError(f"ALLOWLIST entry {item.strip()!r} is not an "
                                             f"IPv4 address or CIDR ({err})") from None
        text = (env.get("RULE_NUMBER_RANGE") or "50-69").strip()
        found = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
        if not found or not 1 <= int(found[1]) <= int(found[2]) <= 32766:
            raise ConfigurationError(f"RULE_NUMBER_RANGE must be 'first-last' with 1 <= first "
                                     f"<= last <= 32766 (network ACL rule numbers), not "
                                     f"{text!r}")
        first, last = int(found[1]), int(found[2])
        size = last - first + 1
        topic = (env.get("SNS_TOPIC_ARN") or "").strip() or None
        if topic is not None and not topic.startswith("arn:aws"):
            raise ConfigurationError(f"SNS_TOPIC_ARN must be an SNS topic ARN, not {topic!r}")
        return cls(nacl_id=nacl_id, allowlist=tuple(allowlist), first_rule=first,
                   last_rule=last,
                   max_blocks=_whole(env, "MAX_BLOCKS", min(10, size), 1, size),
                   ttl=timedelta(minutes=_whole(env, "BLOCK_TTL_MINUTES", 60, 1, 43200)),
                   topic_arn=topic, quota=_whole(env, "NACL_RULE_QUOTA", 20, 1, 40))

    @property
    def rules(self) -> range:
        return range(self.first_rule, self.last_rule + 1)


def now() -> datetime:
    """The time to act at: ``RESPOND_CLOCK`` when set (tests, offline runs), else the clock."""
    text = (os.environ.get("RESPOND_CLOCK") or "").strip()
    if not text:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"RESPOND_CLOCK must be ISO 8601 or epoch seconds, not "
                                 f"{text!r}") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else \
        when.astimezone(timezone.utc)


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime(STAMP)


def _parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=timezone.utc)


# --- the safety checks ------------------------------------------------------------------------


def check_address(value, *, allowlist=(), vpc_cidrs=()):
    """``(network, None, None)`` when ``value`` may be blocked, else ``(network or None,
    code, reason)``.

    Refused: anything not an IPv4 address or CIDR (``invalid``, ``ipv6``); blocks wider than
    /16 (``too-wide``); what overlaps the allowlist (``allowlisted``), the VPC's own CIDR
    blocks (``vpc``) or the protected ranges (``private``, ``loopback``, ``link-local``,
    ``multicast``, ``reserved``). The RFC 5737 documentation ranges may be blocked.

    >>> check_address("203.0.113.66")[0]
    IPv4Network('203.0.113.66/32')
    >>> check_address("169.254.169.254")[1]
    'link-local'
    """
    if not isinstance(value, str) or not value.strip():
        return None, "invalid", f"{value!r} is not an IPv4 address or CIDR"
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, "invalid", f"{text!r} is not an IPv4 address or CIDR"
    if network.version != 4:
        return None, "ipv6", (f"{text} is IPv6: this function writes IPv4 entries only (the "
                              "lab's network ACL has no IPv6 rules)")
    if network.prefixlen < MIN_PREFIX:
        return network, "too-wide", (f"{network} is wider than /{MIN_PREFIX}: blocking it "
                                     "would cut off a large part of the internet")
    for allowed in allowlist:
        if network.overlaps(allowed):
            return network, "allowlisted", f"{network} overlaps the allowlist entry {allowed}"
    for cidr in vpc_cidrs:
        if network.overlaps(cidr):
            return network, "vpc", (f"{network} overlaps the VPC's own CIDR block {cidr}: "
                                    "blocking it would cut the VPC's own traffic")
    for cidr, code, why in PROTECTED:
        if network.overlaps(cidr):
            return network, code, f"{network} overlaps {cidr}, {why}: never blocked"
    return network, None, None


# --- events -----------------------------------------------------------------------------------


@dataclass
class Request:
    """One thing asked of the handler."""

    action: str  # "block", "unblock", "expire", or "ignore" / "refuse" (nothing to do)
    address: object = None
    reason: str = ""
    who: str = "direct invocation"
    egress: bool = False
    code: str | None = None  # for "refuse"


def _addresses(value) -> list:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()] or [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _direct(body: dict, who: str) -> list[Request]:
    action = body.get("action")
    if action not in ("block", "unblock", "expire"):
        return [Request("refuse", body.get("ip"), who=who, code="invalid",
                        reason=f"action must be 'block', 'unblock' or 'expire', not "
                               f"{action!r}")]
    if action == "expire":
        return [Request("expire", who=who)]
    if "ip" not in body:
        return [Request("refuse", None, who=who, code="invalid",
                        reason=f"a {action} request needs 'ip' (an IPv4 address or CIDR)")]
    reason = str(body.get("reason") or f"{action} requested")[:500]
    who = str(body.get("requested_by") or who)[:200]
    return [Request(action, address, reason, who, _truthy(body.get("egress")))
            for address in _addresses(body["ip"])]


def _no_address(alarm) -> str:
    return (f"alarm {alarm} names no address: a CloudWatch alarm notification carries the "
            "metric, not the sources behind it. Find them (Logs Insights: stats count(*) by "
            "srcAddr) and invoke with {'action': 'block', 'ip': ...}, or relay the alarm with "
            "the SNS message attribute 'ip'")


def _from_sns(record: dict) -> list[Request]:
    sns = record.get("Sns") or {}
    attributes = sns.get("MessageAttributes") or {}
    topic = sns.get("TopicArn", "SNS")

    def attribute(name):
        item = attributes.get(name)
        return item.get("Value") if isinstance(item, dict) else None

    if attribute("source") == SOURCE:
        return [Request("ignore", who=topic, reason="this function's own report")]
    try:
        message = json.loads(sns.get("Message") or "")
    except ValueError:
        message = None
    if isinstance(message, dict) and "action" in message:
        return _direct(message, f"SNS {topic}")
    if not (isinstance(message, dict) and "AlarmName" in message):
        return [Request("refuse", who=topic, code="unrecognised",
                        reason="the SNS message is neither a CloudWatch alarm notification "
                               "nor a block request")]
    alarm, state = message.get("AlarmName"), message.get("NewStateValue")
    who = f"alarm {alarm} via {topic}"
    if state != "ALARM":
        return [Request("ignore", who=who, reason=f"alarm {alarm} is now {state}")]
    address = attribute("ip") or message.get("ip")
    if not address:
        return [Request("refuse", who=who, code="no-address", reason=_no_address(alarm))]
    reason = f"alarm {alarm}: {message.get('NewStateReason', '')}"[:500]
    egress = _truthy(attribute("egress"))
    return [Request("block", a, reason, who, egress) for a in _addresses(address)]


def requests_from(event) -> list[Request]:
    """The requests an event carries: SNS records, or one direct invocation."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        found = []
        for record in event["Records"]:
            if isinstance(record, dict) and "Sns" in record:
                found += _from_sns(record)
            else:
                found.append(Request("refuse", code="unrecognised",
                                     reason="a record that is not an SNS notification"))
        return found
    if isinstance(event, dict) and "action" in event:
        return _direct(event, "direct invocation")
    if isinstance(event, dict) and event.get("source") == "aws.cloudwatch" \
            and isinstance(event.get("alarmData"), dict):
        # An alarm whose action invokes the function directly: the same facts as its SNS
        # notification, in another shape, and no more of an address.
        data = event["alarmData"]
        alarm, state = data.get("alarmName"), (data.get("state") or {}).get("value")
        who = f"alarm {alarm} (alarm action)"
        if state != "ALARM":
            return [Request("ignore", who=who, reason=f"alarm {alarm} is now {state}")]
        return [Request("refuse", who=who, code="no-address", reason=_no_address(alarm))]
    return [Request("refuse", code="unrecognised",
                    reason="the event is neither an SNS notification nor "
                           "{'action': 'block' | 'unblock' | 'expire', 'ip': ...}")]


# --- the network ACL's state ------------------------------------------------------------------


@dataclass
class Block:
    """One block, as recorded in its ``autoblock:<rule>`` tag on the network ACL."""

    rule_number: int
    cidr: str
    at: datetime
    until: datetime
    directions: tuple[str, ...]
    who: str = ""
    why: str = ""

    def tag_value(self) -> str:
        """The compact JSON of the tag, the reason shortened to fit 256 characters."""
        record = {"cidr": self.cidr, "at": _stamp(self.at), "until": _stamp(self.until),
                  "dirs": "+".join(self.directions), "who": self.who[:80], "why": self.why}
        text = json.dumps(record, separators=(",", ":"))
        while len(text) > TAG_VALUE_LIMIT and record["why"]:
            cut = max(0, len(record["why"]) - (len(text) - TAG_VALUE_LIMIT) - 3)
            record["why"] = record["why"][:cut] + "..." if cut else ""
            text = json.dumps(record, separators=(",", ":"))
        return text[:TAG_VALUE_LIMIT]

    @classmethod
    def from_tag(cls, rule_number: int, value: str) -> Block | None:
        try:
            record = json.loads(value)
            return cls(rule_number, str(ipaddress.IPv4Network(record["cidr"])),
                       _parse_stamp(record["at"]), _parse_stamp(record["until"]),
                       tuple(record.get("dirs", "ingress").split("+")),
                       record.get("who", ""), record.get("why", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def summary(self) -> dict:
        return {"cidr": self.cidr, "rule_number": self.rule_number,
                "directions": list(self.directions), "blocked_at": _stamp(self.at),
                "until": _stamp(self.until), "who": self.who, "why": self.why}


_CLIENTS: dict = {}


def _clients():
    """EC2 and SNS clients from the environment (region, credentials, ``AWS_ENDPOINT_URL``),
    made once per distinct environment."""
    key = tuple(os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_REGION",
                                            "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID"))
    if key not in _CLIENTS:
        _CLIENTS.clear()
        session = boto3.session.Session(
            region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
        config = BotoConfig(retries={"max_attempts": 5, "mode": "standard"})
        _CLIENTS[key] = (session.client("ec2", config=config),
                         session.client("sns", config=config))
    return _CLIENTS[key]


class _Acl:
    """The network ACL as read at the start of an invocation, and the changes made to it."""

    def __init__(self, ec2, settings: Settings, when: datetime, audit):
        self.ec2, self.settings, self.when, self.audit = ec2, settings, when, audit
        try:
            acl = ec2.describe_network_acls(NetworkAclIds=[settings.nacl_id])["NetworkAcls"][0]
        except (ClientError, IndexError) as err:
            raise ConfigurationError(f"NACL_ID {settings.nacl_id}: cannot read the network ACL "
                                     f"({err})") from err
        self.vpc_id = acl["VpcId"]
        vpc = ec2.describe_vpcs(VpcIds=[self.vpc_id])["Vpcs"][0]
        cidrs = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", [])
                 if a.get("CidrBlockState", {}).get("State", "associated") == "associated"]
        self.vpc_cidrs = tuple(ipaddress.IPv4Network(c) for c in (cidrs or [vpc["CidrBlock"]]))
        # Every entry holds its (direction, number), IPv6 ones too; the default "*" entries
        # (32767, and 32768 for IPv6) hold none and count toward no quota.
        self.entries = {(bool(e["Egress"]), int(e["RuleNumber"])): e
                        for e in acl.get("Entries", []) if int(e["RuleNumber"]) < DEFAULT_RULE}
        self.blocks: dict[int, Block] = {}
        self.broken: list[int] = []
        for tag in acl.get("Tags", []):
            key = tag["Key"]
            if not key.startswith(TAG_PREFIX) or not key[len(TAG_PREFIX):].isdigit():
                continue
            number = int(key[len(TAG_PREFIX):])
            block = Block.from_tag(number, tag.get("Value", ""))
            if block is None or number not in settings.rules:
                self.broken.append(number)
            else:
                self.blocks[number] = block

    # --- reading
    def _has(self, egress: bool, number: int) -> bool:
        return (egress, number) in self.entries

    def count(self, egress: bool) -> int:
        """IPv4 entries in one direction: the quota counts IPv4 and IPv6 rules apart."""
        return sum(1 for (e, _), entry in self.entries.items()
                   if e == egress and "CidrBlock" in entry)

    def lowest_allow(self, egress: bool) -> int | None:
        """The lowest IPv4 allow rule in one direction (an IPv6 rule never sees IPv4)."""
        numbers = [n for (e, n), entry in self.entries.items()
                   if e == egress and entry.get("RuleAction") == "allow" and "CidrBlock" in entry]
        return min(numbers, default=None)

    def covering(self, network) -> Block | None:
        for block in sorted(self.blocks.values(), key=lambda b: b.rule_number):
            if network.subnet_of(ipaddress.IPv4Network(block.cidr)):
                return block
        return None

    def free_number(self) -> int | None:
        for number in self.settings.rules:
            if number not in self.blocks and not self._has(False, number) \
                    and not self._has(True, number):
                return number
        return None

    # --- writing
    def _remove(self, block: Block) -> None:
        for direction in block.directions:
            egress = direction == "egress"
            if self._has(egress, block.rule_number):
                self.ec2.delete_network_acl_entry(NetworkAclId=self.settings.nacl_id,
                                                  RuleNumber=block.rule_number, Egress=egress)
                self.entries.pop((egress, block.rule_number), None)
        self._untag(block.rule_number)
        self.blocks.pop(block.rule_number, None)

    def _untag(self, number: int) -> None:
        self.ec2.delete_tags(Resources=[self.settings.nacl_id],
                             Tags=[{"Key": f"{TAG_PREFIX}{number}"}])

    def tidy(self) -> None:
        """Drop tags that record no block any more (broken, or whose entries are gone)."""
        for number in self.broken:
            self._untag(number)
            self.audit("stale", rule_number=number, why="unreadable or out-of-range tag removed")
        for block in list(self.blocks.values()):
            if not any(self._has(d == "egress", block.rule_number) for d in block.directions):
                self._untag(block.rule_number)
                self.blocks.pop(block.rule_number)
                self.audit("stale", cidr=block.cidr, rule_number=block.rule_number,
                           why="its network ACL entry was deleted by hand; tag removed")

    def expire(self, why: str, block: Block) -> dict:
        self._remove(block)
        self.audit("expire" if why == "ttl" else "evict", cidr=block.cidr,
                   rule_number=block.rule_number, directions=list(block.directions),
                   why=("block reached its TTL" if why == "ttl" else
                        "oldest block removed to stay under the cap"))
        return {**block.summary(), "why": why}

    def expire_due(self) -> list[dict]:
        due = sorted((b for b in self.blocks.values() if b.until <= self.when),
                     key=lambda b: (b.at, b.rule_number))
        return [self.expire("ttl", b) for b in due]

    def add(self, number: int, network, request: Request) -> Block:
        directions = ("ingress", "egress") if request.egress else ("ingress",)
        block = Block(number, str(network), self.when, self.when + self.settings.ttl,
                      directions, request.who, request.reason)
        acl = self.settings.nacl_id
        # The tag first: if the function dies between the two calls, the next invocation finds
        # a tag without an entry and removes it, rather than an unrecorded deny that never ends.
        self.ec2.create_tags(Resources=[acl], Tags=[{"Key": f"{TAG_PREFIX}{number}",
                                                     "Value": block.tag_value()}])
        self.blocks[number] = block
        try:
            for direction in directions:
                self.ec2.create_network_acl_entry(
                    NetworkAclId=acl, RuleNumber=number, Egress=direction == "egress",
                    Protocol="-1", RuleAction="deny", CidrBlock=str(network))
                self.entries[(direction == "egress", number)] = {
                    "RuleNumber": number, "Egress": direction == "egress", "RuleAction": "deny",
                    "CidrBlock": str(network), "Protocol": "-1"}
        except ClientError:
            self._remove(block)
            raise
        return block


# --- the handler ------------------------------------------------------------------------------


def _result(status: str, request: Request, **fields) -> dict:
    base = {"status": status, "action": request.action,
            "address": request.address if isinstance(request.address, str) else
            (None if request.address is None else repr(request.address)),
            "cidr": None, "rule_number": None, "directions": [], "until": None,
            "reason": request.reason}
    return {**base, **fields}


def _block(acl: _Acl, request: Request) -> dict:
    settings = acl.settings
    network, code, why = check_address(request.address, allowlist=settings.allowlist,
                                       vpc_cidrs=acl.vpc_cidrs)
    if code:
        acl.audit("refuse", cidr=str(network) if network else request.address, why=why,
                  who=request.who)
        return _result("refused", request, cidr=str(network) if network else None, code=code,
                       reason=why)
    existing = acl.covering(network)
    if existing is not None:
        return _result("already_blocked", request, cidr=existing.cidr,
                       rule_number=existing.rule_number,
                       directions=list(existing.directions), until=_stamp(existing.until))
    directions = ("ingress", "egress") if request.egress else ("ingress",)
    for direction in directions:
        lowest = acl.lowest_allow(direction == "egress")
        if lowest is not None and lowest <= settings.last_rule:
            raise ConfigurationError(
                f"{settings.nacl_id} has an {direction} allow rule numbered {lowest}, not above "
                f"RULE_NUMBER_RANGE {settings.first_rule}-{settings.last_rule}: a deny entry "
                "there would be evaluated after it and block nothing. Choose a range below "
                "every allow rule")
    evicted = []

    def room() -> bool:
        return (len(acl.blocks) < settings.max_blocks and acl.free_number() is not None
                and all(acl.count(d == "egress") < settings.quota for d in directions))

    while not room() and acl.blocks:
        oldest = min(acl.blocks.values(), key=lambda b: (b.at, b.rule_number))
        evicted.append(acl.expire("cap", oldest))
    if not room():
        why = (f"no room in {settings.nacl_id}: rules {settings.first_rule}-"
               f"{settings.last_rule} are taken by entries this function did not make, or the "
               f"ACL holds its quota of {settings.quota} rules per direction")
        acl.audit("refuse", cidr=str(network), why=why, who=request.who)
        return _result("refused", request, cidr=str(network), code="full", reason=why,
                       evicted=evicted)
    number = acl.free_number()
    try:
        block = acl.add(number, network, request)
    except ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") not in ("NetworkAclEntryLimitExceeded",
                                     "NetworkAclEntryAlreadyExists"):
            raise
        why = f"{error.get('Code')}: {error.get('Message', '')}"
        acl.audit("refuse", cidr=str(network), why=why, who=request.who)
        return _result("refused", request, cidr=str(network), code="full", reason=why,
                       evicted=evicted)
    acl.audit("block", cidr=block.cidr, rule_number=number, directions=list(block.directions),
              who=request.who, why=request.reason, until=_stamp(block.until))
    return _result("blocked", request, cidr=block.cidr, rule_number=number,
                   directions=list(block.directions), until=_stamp(block.until),
                   evicted=evicted)


def _unblock(acl: _Acl, request: Request) -> dict:
    network, code, why = check_address(request.address)
    if network is None:
        return _result("refused", request, code=code, reason=why)
    block = next((b for b in acl.blocks.values() if b.cidr == str(network)), None)
    if block is None:
        return _result("not_blocked", request, cidr=str(network),
                       reason=f"{network} is not blocked by this function")
    acl._remove(block)
    acl.audit("unblock", cidr=block.cidr, rule_number=block.rule_number,
              directions=list(block.directions), who=request.who, why=request.reason)
    return _result("unblocked", request, cidr=block.cidr, rule_number=block.rule_number,
                   directions=list(block.directions))


def _report(sns, settings: Settings, results: list[dict], expired: list[dict],
            audit: list[dict]) -> bool:
    acted = [r for r in results if r["status"] in ("blocked", "unblocked", "refused")]
    if settings.topic_arn is None or not (acted or expired):
        return False
    lines = []
    for r in acted:
        where = f" (rule {r['rule_number']}, {'+'.join(r['directions'])})" \
            if r["rule_number"] is not None else ""
        lines.append(f"{r['status']} {r['cidr'] or r['address']}{where}: {r['reason']}")
    lines += [f"expired {e['cidr']} (rule {e['rule_number']}, {e['why']})" for e in expired]
    counts = {s: sum(r["status"] == s for r in acted) for s in ("blocked", "unblocked",
                                                                "refused")}
    subject = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if expired:
        subject += f"{', ' if subject else ''}{len(expired)} expired"
    sns.publish(TopicArn=settings.topic_arn,
                Subject=f"Auto-block {settings.nacl_id}: {subject}"[:100],
                Message="\n".join(lines) + "\n\nAudit:\n" + json.dumps(audit, indent=1),
                MessageAttributes={"source": {"DataType": "String", "StringValue": SOURCE}})
    return True


def handler(event, context=None) -> dict:
    """The Lambda entry point: act on ``event`` (see the module's docstring); what was done.

    Raises:
        ConfigurationError: the environment variables are wrong, the network ACL cannot be
            read, or an allow rule sits inside or below the reserved range.
    """
    settings = Settings.from_env()
    when = now()
    ec2, sns = _clients()
    function = getattr(context, "function_name", None) or \
        os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "in-process"
    request_id = getattr(context, "aws_request_id", None)
    audit: list[dict] = []

    def record(action: str, **fields) -> None:
        entry = {"time": _stamp(when), "action": action, "nacl_id": settings.nacl_id,
                 **fields, "by": function, "request_id": request_id}
        audit.append(entry)
        LOG.info(json.dumps({"audit": entry}))

    acl = _Acl(ec2, settings, when, record)
    acl.tidy()
    expired = acl.expire_due()
    results = []
    for request in requests_from(event):
        if request.action == "block":
            outcome = _block(acl, request)
            expired += outcome.get("evicted", [])
        elif request.action == "unblock":
            outcome = _unblock(acl, request)
        elif request.action == "refuse":
            record("refuse", why=request.reason, who=request.who)
            outcome = _result("refused", request, code=request.code)
        elif request.action == "ignore":
            outcome = _result("ignored", request)
        else:  # "expire": the sweep above did it
            continue
        results.append(outcome)
    notified = _report(sns, settings, results, expired, audit)
    return {"nacl_id": settings.nacl_id, "time": _stamp(when), "results": results,
            "expired": expired,
            "blocks": [b.summary() for b in sorted(acl.blocks.values(),
                                                   key=lambda b: b.rule_number)],
            "audit": audit, "notified": notified}
