"""Self-check questions of notebook 01 (VPC Flow Logs 개요)."""

from __future__ import annotations

from helpers import flowlogs, reference
from helpers.paths import SAMPLE_PARQUET
from helpers.selfcheck.core import Question, as_text, register

LESSON_REJECT = ("2 123456789012 eni-xxx 10.0.1.100 10.0.11.50 54322 3306 6 0 0 1640000000 "
                 "1640000060 REJECT OK")


def _rejected_service() -> str:
    row = reference.label(flowlogs.parse_lines([LESSON_REJECT])).iloc[0]
    return row["dstport_service"]


def _top_rejected_source() -> str:
    df = flowlogs.read(SAMPLE_PARQUET)
    return df.loc[df["action"] == "REJECT", "srcaddr"].value_counts().index[0]


def _flags_19() -> list[str]:
    return reference.tcp_flag_names(19)


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
        [f"19에 없는 플래그: {', '.join(extra)}"] if extra else [])
    return "; ".join(parts) + "." if parts else None


register({
    "01-1": Question("dstport와 reference.PORTS를 보세요.", _rejected_service, as_text),
    "01-2": Question("action == 'REJECT'인 레코드의 srcaddr를 세어 보세요.",
                     _top_rejected_source, lambda a: str(a).strip()),
    "01-3": Question("reference.tcp_flag_names()가 비트를 푸는 방법을 보세요(18 = SYN + ACK).",
                     _flags_19, _flag_set, explain=_why_flags),
})
