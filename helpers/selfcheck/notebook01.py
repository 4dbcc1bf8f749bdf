"""Self-check questions of notebook 01 (VPC Flow Logs 개요).

The values each question states are the constants below; the notebook prints them from here,
so its text and the computed answers cannot drift apart.
"""

from __future__ import annotations

from functools import lru_cache

from helpers import flowlogs, reference
from helpers.paths import SAMPLE_PARQUET
from helpers.selfcheck.core import Question, as_number, as_text, register

__all__ = ["FLAGS", "LESSON_REJECT"]

LESSON_REJECT = ("2 123456789012 eni-xxx 10.0.1.100 10.0.11.50 54322 3306 6 0 0 1640000000 "
                 "1640000060 REJECT OK")
"""01-1: the lesson's rejected record."""

FLAGS = 22
"""01-3: a tcp-flags value that none of the notebook's examples shows."""


@lru_cache(maxsize=1)
def _sample():
    return flowlogs.read(SAMPLE_PARQUET)


def _rejected_service() -> str:
    row = reference.label(flowlogs.parse_lines([LESSON_REJECT])).iloc[0]
    return row["dstport_service"]


def _top_rejected_source() -> str:
    df = _sample()
    return df.loc[df["action"] == "REJECT", "srcaddr"].value_counts().index[0]


def _flags() -> list[str]:
    return reference.tcp_flag_names(FLAGS)


def _flag_set(answer) -> frozenset[str]:
    """Flag names as a set; SYN-ACK is SYN and ACK, so either spelling counts."""
    if isinstance(answer, str):
        answer = answer.replace(",", " ").replace("+", " ").split()
    names = set()
    for name in answer:
        name = str(name).strip().upper().replace("_", "-")
        names |= {"SYN", "ACK"} if name in ("SYN-ACK", "SYNACK") else {name}
    return frozenset(names)


def _why_flags(given: frozenset, expected: frozenset) -> str | None:
    missing, extra = sorted(expected - given), sorted(given - expected)
    parts = ([f"빠진 플래그: {', '.join(missing)}"] if missing else []) + (
        [f"{FLAGS}에 없는 플래그: {', '.join(extra)}"] if extra else [])
    return "; ".join(parts) + "." if parts else None


def _rejected_bytes() -> float:
    df = _sample()
    return float(df.loc[df["action"] == "REJECT", "bytes"].sum())


def _why_rejected_bytes(given: float, expected: float) -> str | None:
    df = _sample()
    if given == 0:
        return ("레슨은 거부된 레코드의 바이트를 0으로 적었지만, 거부된 패킷도 인터페이스에 "
                "도착했으므로 바이트가 기록됩니다.")
    if given == float(df.loc[df["action"] == "REJECT", "packets"].sum()):
        return "패킷 수(packets)를 더했습니다. 바이트 수(bytes)를 더하세요."
    if given == float(df["bytes"].sum()):
        return "모든 레코드의 바이트를 더했습니다. action이 REJECT인 레코드만 더하세요."
    return None


register({
    "01-1": Question("dstport와 reference.PORTS를 보세요.", _rejected_service, as_text),
    "01-2": Question("action == 'REJECT'인 레코드의 srcaddr를 세어 보세요.",
                     _top_rejected_source, lambda a: str(a).strip()),
    "01-3": Question("값을 2진수로 풀어 보세요: FIN 1, SYN 2, RST 4, ACK 16 (18 = SYN + ACK). "
                     "reference.tcp_flag_names()로 확인할 수 있습니다.",
                     _flags, _flag_set, explain=_why_flags),
    "01-4": Question("action == 'REJECT'인 레코드의 bytes를 더하세요.", _rejected_bytes,
                     as_number, explain=_why_rejected_bytes),
})
