"""Self-check questions of notebook 02b (실습 2를 실제 패킷으로, optional).

The answers never need the live lab (no root): they are computed with the rule evaluator and
the traffic generator over the same connections, which the notebook shows to agree with the
kernel. Each question is about something the notebook does not print: a network ACL entry it
never adds, the flags and addresses of records it never shows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from helpers import netlab, traffic
from helpers.selfcheck.core import Question, as_number, register

__all__ = ["DENY_ENTRY", "EXERCISE_SCENARIO", "SSH", "changed_connections"]

EXERCISE_SCENARIO = "all"
"""The steps every question is about: ``netlab.SCENARIOS["all"]`` (lab 2, then the scan)."""

DENY_ENTRY = traffic.NaclEntry(90, False, 6, "deny", "203.0.113.0/24", 0, 65535)
"""02b-2: an inbound deny entry for TCP from 203.0.113.0/24, added to the public subnet's
network ACL before its allow entries."""

_FLAGS = {"fin": 1, "syn": 2, "rst": 4, "syn-ack": 18, "synack": 18, "syn_ack": 18}


# --- 02b-1: the tcp-flags of the server's record ----------------------------------------------


SSH = ("web", "ssh ec2-user@private")
"""02b-1: the step whose server-side record the question is about."""


def _server_flags() -> int:
    """tcp-flags of the private instance's egress record of the short SSH session, as the
    generator models it for the same connection (the live lab gives the same value)."""
    records = netlab.predict([SSH])
    server = records[(records["interface"] == "private") & (records["flow_direction"] ==
                                                             "egress")]
    return int(server["tcp_flags"].iloc[0])


def _flags(answer) -> int:
    """A tcp-flags value: a number, or flag names such as "SYN-ACK, FIN"."""
    if isinstance(answer, (list, tuple, set)):
        answer = " ".join(str(a) for a in answer)
    if isinstance(answer, str) and re.search(r"[a-zA-Z]", answer.replace("0x", "")):
        names = [w for w in re.split(r"[\s,+|/]+", answer.strip().lower()) if w]
        unknown = [n for n in names if n not in _FLAGS and n not in ("ack", "psh")]
        if unknown:
            raise ValueError(f"모르는 플래그: {', '.join(unknown)}")
        # "SYN ACK" written apart is SYN-ACK
        value = 0
        for name in names:
            value |= _FLAGS.get(name, 16 if name == "ack" else 8)
        return netlab.tcp_flags([value])
    if isinstance(answer, str) and answer.strip().lower().startswith("0x"):
        return int(answer, 16)
    return int(as_number(answer))


def _why_flags(given: int, expected: int) -> str | None:
    if given == 3:
        return "3(SYN, FIN)은 연결을 연 쪽(클라이언트)의 값입니다. 서버가 보낸 패킷의 레코드입니다."
    if given == 18:
        return "SYN-ACK만 셌습니다. 같은 집계 간격 안에 연결이 닫혔으니 FIN도 OR됩니다."
    if given & 16 and given not in (18, 19):
        return ("ACK(16)와 PSH(8)는 혼자서는 tcp-flags에 기록되지 않습니다. "
                "SYN-ACK(18)만 예외입니다.")
    return None


# --- 02b-2: a network ACL deny entry ----------------------------------------------------------


def changed_connections(entry: traffic.NaclEntry = DENY_ENTRY) -> list[str]:
    """The commands of :data:`EXERCISE_SCENARIO` whose connections gain a REJECT record when
    ``entry`` is added to the public subnet's network ACL (one item per connection)."""
    topo = traffic.default_topology()
    changed = topo.with_nacl_entry(topo.interface("web").subnet_id, entry)
    before = netlab.predict(EXERCISE_SCENARIO, topo)
    after = netlab.predict(EXERCISE_SCENARIO, changed)

    def rejected(frame):
        return set(frame.loc[frame["action"] == "REJECT", "connection"])

    labels = before.drop_duplicates("connection").set_index("connection")["label"]
    return [labels[c] for c in sorted(rejected(after) - rejected(before))]


def _changed_count() -> int:
    return len(changed_connections())


def _why_changed(given: float, expected: float) -> str | None:
    changed = changed_connections()
    scan = sum(label.startswith("nmap") for label in changed)
    probes = len(netlab.SCAN_PORTS)
    if given == expected - 1:
        return ("하나가 빠졌습니다. 프라이빗 인스턴스의 다운로드는 NAT 게이트웨이를 지나고, NAT "
                "게이트웨이의 네트워크 인터페이스는 퍼블릭 서브넷에 있습니다.")
    if given == expected - scan + probes:
        return ("스캔의 프로브를 모두 셌습니다. "
                "이미 보안 그룹이나 네트워크 ACL이 거부하던 프로브는 "
                "새로 바뀌지 않습니다.")
    if given < expected - scan + 1:
        return ("인터넷에서 오는 응답 패킷도 인바운드 항목으로 다시 평가됩니다"
                "(네트워크 ACL은 상태 비저장).")
    return None


# --- 02b-3: addresses at the NAT gateway ------------------------------------------------------


@lru_cache(maxsize=1)
def _nat_pair() -> tuple[str, str]:
    """(srcaddr, pkt-srcaddr) of the NAT gateway's record of the download's data toward the
    private instance."""
    records = traffic.generate(["lab_download"], seed=5, duration="10m")
    topo = traffic.default_topology()
    nat = records[(records["interface_id"] == topo.interface("nat").eni_id)
                  & (records["flow_direction"] == "egress")
                  & (records["pkt_dstaddr"] == topo.interface("private").private_ip)]
    row = nat.iloc[0]
    return str(row["srcaddr"]), str(row["pkt_srcaddr"])


def _pair(answer) -> tuple[str, str]:
    if isinstance(answer, dict):
        keys = {k.replace("-", "_").lower(): v for k, v in answer.items()}
        answer = (keys["srcaddr"], keys["pkt_srcaddr"])
    if isinstance(answer, str):
        answer = [a for a in re.split(r"[\s,;/]+", answer.strip(" ()[]")) if a]
    values = tuple(str(a).strip().strip("'\"") for a in answer)
    if len(values) != 2:
        raise ValueError("주소 두 개(srcaddr, pkt-srcaddr)를 순서대로 적으세요")
    return values


def _why_pair(given: tuple, expected: tuple) -> str | None:
    if given == expected[::-1]:
        return ("순서가 바뀌었습니다. "
                "나가는(egress) 레코드의 srcaddr는 인터페이스 자신의 주소이고, "
                "원래 소스는 pkt-srcaddr에 남습니다.")
    if any(a in netlab.PUBLIC_ADDRESSES.values() for a in given) or any(
            a.startswith("13.") for a in given):
        return "흐름 로그 레코드에는 공인(탄력적) IP가 나오지 않습니다. 사설 주소로 답하세요."
    if given[0] == expected[1]:
        return ("srcaddr는 패킷의 소스가 아니라, "
                "이 레코드를 쓴 인터페이스(NAT 게이트웨이)의 주소입니다.")
    return None


register({
    "02b-1": Question("서버가 보낸 패킷을 처음부터 끝까지 떠올리고 그 플래그를 OR하세요. "
                      "ACK와 PSH는 혼자서는 기록되지 않습니다.",
                      _server_flags, _flags, explain=_why_flags),
    "02b-2": Question("netlab.predict(EXERCISE_SCENARIO, topology)를 항목을 더하기 전과 후의 "
                      "토폴로지로 실행해, REJECT 레코드가 새로 생긴 connection을 세세요.",
                      _changed_count, as_number, explain=_why_changed),
    "02b-3": Question("NAT 게이트웨이는 중간 인터페이스입니다. 나가는 레코드의 srcaddr와 "
                      "pkt-srcaddr의 차이를 노트북 01의 필드 표에서 확인하세요.",
                      _nat_pair, _pair, explain=_why_pair),
})
