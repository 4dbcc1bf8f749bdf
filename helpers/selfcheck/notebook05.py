"""Self-check questions of notebook 05 (보안 이벤트 탐지 및 대응).

The data of each question are the constants below, and the notebook prints them from here, so
its text and the computed answers cannot drift apart. The notebook never shows the answers'
data: 05-1 and 05-3 use a new incident (another seed and another mix of attacks than the
notebook's), 05-2 a network ACL's block tags the notebook never made.

This package sits on floor 2 (DESIGN.md §3), below the auto-block handler (``helpers.respond``,
floor 3), and ``helpers.incident`` has no floor of its own yet, so neither is imported here.
05-2 restates the handler's two rules for a new block's rule number (blocks past their
``until`` are removed first; then the lowest free number of the range is taken) and 05-3 the
lesson's security-group rule (:func:`helpers.incident.with_lesson_rule`);
``tests/test_selfcheck_notebook05.py`` checks both against the real handler and module.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from functools import lru_cache

import pandas as pd

from helpers import detect, times, traffic
from helpers.selfcheck.core import Question, as_number, register

__all__ = ["ATTACKS", "BLOCK_TAGS", "NEW_BLOCK_AT", "NEW_INCIDENT", "RULE_NUMBER_RANGE",
           "attackers", "lesson_accepts", "new_incident", "next_rule_number", "rdp_attacker"]

NEW_INCIDENT = {"scenarios": ["web_baseline", "ssh_brute_force", "rdp_brute_force",
                              "port_scan_inbound", "admin_ping"],
                "seed": 23, "duration": "2h"}
"""05-1 and 05-3: two hours of the lab VPC with more attackers than the notebook's incident."""

ATTACKS = ("Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce",
           "UnauthorizedAccess:EC2/RDPBruteForce")
"""05-1: the finding types of an attack from outside, whose source is the address to block."""

RULE_NUMBER_RANGE = (50, 69)
"""05-2: the handler's RULE_NUMBER_RANGE (its default)."""

BLOCK_TAGS = {
    "autoblock:50": {"cidr": "192.0.2.226/32", "at": "2021-12-20T00:45:00Z",
                     "until": "2021-12-20T01:45:00Z", "dirs": "ingress"},
    "autoblock:51": {"cidr": "203.0.113.104/32", "at": "2021-12-20T00:10:00Z",
                     "until": "2021-12-20T01:10:00Z", "dirs": "ingress"},
    "autoblock:52": {"cidr": "203.0.113.85/32", "at": "2021-12-20T00:15:00Z",
                     "until": "2021-12-20T01:15:00Z", "dirs": "ingress"},
    "autoblock:53": {"cidr": "192.0.2.229/32", "at": "2021-12-20T00:50:00Z",
                     "until": "2021-12-20T01:50:00Z", "dirs": "ingress"},
}
"""05-2: the ``autoblock:<rule>`` tags on the network ACL just before a new block (TTL 60 min;
rule 50 was freed by an unblock at 00:40 and taken again at 00:45)."""

NEW_BLOCK_AT = "2021-12-20T01:12:00Z"
"""05-2: when the next block request arrives."""

LESSON_RULE = "Auto-blocked malicious IP"  # the lesson's rule description (helpers.incident)


@lru_cache(maxsize=1)
def new_incident() -> pd.DataFrame:
    """05-1 and 05-3: the records of :data:`NEW_INCIDENT` in the lab VPC."""
    return traffic.generate(NEW_INCIDENT["scenarios"], seed=NEW_INCIDENT["seed"],
                            duration=NEW_INCIDENT["duration"])


@lru_cache(maxsize=1)
def _findings() -> pd.DataFrame:
    return detect.detect(new_incident())


def attackers() -> frozenset[str]:
    """05-1: the sources of the attacks from outside found in the new incident."""
    found = _findings()
    return frozenset(str(a) for a in found.loc[found["finding_type"].isin(ATTACKS), "srcaddr"])


def _addresses(answer) -> frozenset[str]:
    """Addresses from text (comma- or space-separated) or a collection; ``/32`` is allowed."""
    items = answer.replace(",", " ").split() if isinstance(answer, str) else list(answer)
    out = set()
    for item in items:
        try:
            network = ipaddress.IPv4Network(str(item).strip(), strict=False)
        except ValueError:
            raise ValueError(f"{item!r}: IPv4 주소가 아닙니다") from None
        if network.prefixlen != 32:
            raise ValueError(f"{network}: 네트워크가 아니라 주소를 하나씩 적으세요")
        out.add(str(network.network_address))
    if not out:
        raise ValueError("주소가 하나도 없습니다")
    return frozenset(out)


def _why_addresses(given: frozenset, expected: frozenset) -> str:
    lab = traffic.default_topology()
    admin, vpc = ipaddress.IPv4Network(lab.admin_cidr), ipaddress.IPv4Network(lab.vpc_cidr)
    notes = []
    for address in sorted(given - expected, key=ipaddress.IPv4Address):
        ip = ipaddress.IPv4Address(address)
        if ip in admin:
            notes.append(f"{address}: 관리자 주소 범위({admin})라 허용 목록에 있고, 대응 함수도 "
                         "차단을 거부합니다.")
        elif ip in vpc:
            notes.append(f"{address}: VPC 안의 주소입니다. 공격의 대상이지 소스가 아닙니다.")
        else:
            notes.append(f"{address}: 이 주소의 공격은 탐지되지 않았습니다.")
    missing = len(expected - given)
    if missing:
        notes.append(f"탐지된 공격 소스 중 {missing}개가 빠졌습니다.")
    return " ".join(notes)


def next_rule_number(tags: dict = BLOCK_TAGS, at=NEW_BLOCK_AT,
                     rule_range: tuple[int, int] = RULE_NUMBER_RANGE) -> int | None:
    """05-2: the rule number the handler gives a new block at ``at``.

    The handler first removes the blocks whose ``until`` has come, then takes the lowest
    number of its range that no block holds (None: the range is full).
    """
    when = times.to_epoch(at, "at")
    held = {int(key.split(":")[1]) for key, tag in tags.items()
            if times.to_epoch(tag["until"], "until") > when}
    first, last = rule_range
    return next((n for n in range(first, last + 1) if n not in held), None)


def _why_rule(given: int, expected: int) -> str:
    first, last = RULE_NUMBER_RANGE
    when = times.to_epoch(NEW_BLOCK_AT, "at")
    tags = {int(k.split(":")[1]): v for k, v in BLOCK_TAGS.items()}
    if not first <= given <= last:
        return (f"대응 함수는 RULE_NUMBER_RANGE {first}-{last} 안의 번호만 씁니다. 허용 규칙보다 "
                "앞서 평가되어야 하기 때문입니다.")
    if given in tags and times.to_epoch(tags[given]["until"], "until") > when:
        return f"규칙 {given}: {tags[given]['until'][11:16]}까지 유효한 차단이 쓰고 있습니다."
    if given == max(tags) + 1:
        return ("가장 큰 번호의 다음이 아니라, 비어 있는 가장 작은 번호를 씁니다. 만료 시각이 지난 "
                "차단은 새 차단보다 먼저 지워집니다.")
    return "더 작은 빈 번호가 있습니다. 만료 시각이 지난 차단은 새 차단보다 먼저 지워집니다."


def rdp_attacker() -> str:
    """05-3: the source of the new incident's RDP brute force."""
    found = _findings()
    rdp = found[found["finding_type"] == "UnauthorizedAccess:EC2/RDPBruteForce"]
    return str(rdp["srcaddr"].iloc[0])


def _lesson_topology(address: str) -> traffic.Topology:
    """The lab after the lesson's Lambda ran for ``address`` (as helpers.incident does it)."""
    lab = traffic.default_topology()
    rule = traffic.SgRule("ingress", traffic.ALL, cidr=f"{address}/32", description=LESSON_RULE)
    web = set(lab.interface("web").security_group_ids)
    return replace(lab, security_groups=tuple(
        replace(g, rules=(*g.rules, rule)) if g.group_id in web else g
        for g in lab.security_groups))


@lru_cache(maxsize=1)
def _lesson_records() -> pd.DataFrame:
    return traffic.generate(NEW_INCIDENT["scenarios"], seed=NEW_INCIDENT["seed"],
                            duration=NEW_INCIDENT["duration"],
                            topology=_lesson_topology(rdp_attacker()))


def lesson_accepts() -> int:
    """05-3: the attacker's records that would be ACCEPT after the lesson's "block"."""
    sent = _lesson_records()
    sent = sent[sent["srcaddr"] == rdp_attacker()]
    return int((sent["action"] == "ACCEPT").sum())


def _why_accepts(given: int, expected: int) -> str | None:
    if given == 0:
        return ("보안 그룹 규칙은 허용만 합니다. 레슨의 규칙은 이 주소의 모든 프로토콜과 포트를 "
                "허용합니다. 네트워크 ACL이 3389번 포트를 막는지도 확인해 보세요(traffic.check).")
    both = _lesson_records()
    both = both[(both["srcaddr"] == rdp_attacker()) | (both["dstaddr"] == rdp_attacker())]
    if given == int((both["action"] == "ACCEPT").sum()):
        return "응답 레코드(웹 인스턴스 → 공격자)는 빼고 공격자가 보낸 레코드만 세세요."
    return None


register({
    "05-1": Question("notebook05.new_incident()를 detect.detect에 넣고, 밖에서 들어온 공격(포트 "
                     "탐색, SSH·RDP 무차별 대입)의 srcaddr를 모으세요.", attackers, _addresses,
                     explain=_why_addresses),
    "05-2": Question("대응 함수는 먼저 until이 지난 차단을 지우고, RULE_NUMBER_RANGE에서 비어 "
                     "있는 가장 작은 번호를 씁니다.", next_rule_number,
                     lambda a: int(as_number(a)), explain=_why_rule),
    "05-3": Question("incident.with_lesson_rule로 레슨의 규칙을 넣은 토폴로지를 만들고, "
                     "notebook05.NEW_INCIDENT의 트래픽을 그 토폴로지로 다시 생성해 이 주소가 "
                     "보낸 ACCEPT 레코드를 세세요.", lesson_accepts,
                     lambda a: int(as_number(a)), explain=_why_accepts),
})
