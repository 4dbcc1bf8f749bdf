"""Review questions of notebook 07 (핵심 정리, 토론 주제), spanning the course.

The data of each question is made from the settings below, which the notebook prints, so the
text and the computed answers cannot drift apart.
"""

from __future__ import annotations

import ipaddress
import warnings
from functools import lru_cache

from helpers import insights, traffic
from helpers.detect import tradeoffs
from helpers.errors import InsightsError, InsightsSyntaxError, InsightsWarning
from helpers.respond import check_address
from helpers.selfcheck.core import Question, as_number, register

__all__ = ["ADDRESSES", "DELAY", "QUERY_DATA", "RECORDS", "review_records"]

RECORDS = {"seed": 13, "duration": "1h"}
"""07-1: lab 2's traffic (the generator's default scenarios)."""

QUERY_DATA = {"scenarios": ["web_baseline", "port_scan_inbound", "ssh_brute_force",
                            "rdp_brute_force", "lab_blocked"], "seed": 13, "duration": "2h"}
"""07-2: the records the student's Logs Insights query runs on."""

DELAY = {"attack": "ssh_brute_force", "aggregation": 600, "destination": "s3", "seed": 5,
         "duration": "2h"}
"""07-3: the attack, aggregation interval and destination whose detection delay is asked."""

ADDRESSES = ("203.0.113.45", "10.0.11.50", "169.254.169.254", "198.51.100.7", "172.31.0.9",
             "192.0.2.10", "224.0.0.5", "8.8.8.8")
"""07-4: addresses to sort into blockable and refused."""
VPC_CIDR = ipaddress.ip_network("10.0.0.0/16")


@lru_cache(maxsize=1)
def review_records():
    """07-2's records."""
    return traffic.generate(QUERY_DATA["scenarios"], seed=QUERY_DATA["seed"],
                            duration=QUERY_DATA["duration"])


def _private_rejects() -> int:
    records = traffic.generate(seed=RECORDS["seed"], duration=RECORDS["duration"])
    private = traffic.default_topology().interface("private").eni_id
    return int(((records["interface_id"] == private) & (records["action"] == "REJECT")).sum())


REFERENCE_QUERY = ("filter action = 'REJECT' | stats count(*) as n by dstPort "
                   "| sort n desc | limit 3")


def _top_ports(answer) -> tuple[int, ...]:
    """The dstPort values of the first three rows a query returns on 07-2's records."""
    if not isinstance(answer, str):
        raise TypeError("답은 Logs Insights 쿼리 문자열이어야 합니다")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsightsWarning)
        try:
            result = insights.run(answer, review_records())
        except (InsightsSyntaxError, InsightsError) as err:
            raise ValueError(f"쿼리를 실행할 수 없습니다: {str(err).splitlines()[0]}") from None
    if "dstPort" not in result.columns:
        raise ValueError("결과에 dstPort 열이 없습니다(stats ... by dstPort)")
    return tuple(int(p) for p in result["dstPort"].head(3))


def _why_ports(given: tuple, expected: tuple) -> str:
    return f"쿼리 결과의 상위 포트는 {list(given)}입니다. REJECT만 세고, 많은 순으로 정렬했나요?"


def _delay_minutes() -> float:
    records = traffic.generate(["web_baseline", DELAY["attack"]], seed=DELAY["seed"],
                               duration=DELAY["duration"], aggregation=DELAY["aggregation"])
    seconds = tradeoffs.detection_delay(
        records, DELAY["attack"], aggregation=DELAY["aggregation"],
        delivery=tradeoffs.TYPICAL_DELIVERY[DELAY["destination"]])
    return seconds / 60


def _why_delay(given: float, expected: float) -> str | None:
    if abs(given - expected * 60) <= 60:
        return "초로 답했습니다. 분으로 바꾸세요."
    if given < expected:
        return "집계 간격이 닫힌 뒤에 레코드가 쓰이고, 그 뒤에 전달 지연이 더해집니다."
    return None


def _refused() -> frozenset[str]:
    return frozenset(a for a in ADDRESSES if check_address(a, vpc_cidrs=[VPC_CIDR])[1])


def _address_set(answer) -> frozenset[str]:
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    return frozenset(str(a).strip() for a in answer)


def _why_addresses(given: frozenset, expected: frozenset) -> str:
    parts = []
    for address in sorted(expected - given):
        parts.append(f"{address}도 거부됩니다({check_address(address, vpc_cidrs=[VPC_CIDR])[1]})")
    for address in sorted(given - expected):
        parts.append(f"{address}는 차단할 수 있습니다")
    return "; ".join(parts) + "."


register({
    "07-1": Question("traffic.generate와 default_topology().interface('private').eni_id로 "
                     "레코드를 고르세요.", _private_rejects, lambda a: int(as_number(a))),
    "07-2": Question("filter로 REJECT만 남기고, stats count(*) ... by dstPort, 그리고 sort와 "
                     "limit를 쓰세요.", lambda: REFERENCE_QUERY, _top_ports, explain=_why_ports),
    "07-3": Question("tradeoffs.detection_delay에 aggregation과 delivery(TYPICAL_DELIVERY)를 "
                     "주세요. 답은 분 단위입니다.", _delay_minutes, as_number, tolerance=0.02,
                     explain=_why_delay),
    "07-4": Question("helpers.respond.check_address(address, vpc_cidrs=[...])를 쓰거나, 노트북 "
                     "05의 거부 이유를 떠올려 보세요.", _refused, _address_set,
                     explain=_why_addresses),
})
