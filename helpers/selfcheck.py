"""Self-check questions for the notebooks: the expected answers are computed, never typed in.

Each question is a function of the course data that returns the right answer; :func:`check`
compares a student's answer with it and prints a short verdict in Korean (the notebooks'
language). An answer left as ``...`` is reported as not yet answered, so the notebook still
runs from top to bottom.
"""

from __future__ import annotations

from collections.abc import Callable

from helpers import flowlogs, reference
from helpers.paths import SAMPLE_PARQUET

__all__ = ["QUESTIONS", "check", "is_correct"]

LESSON_REJECT = ("2 123456789012 eni-xxx 10.0.1.100 10.0.11.50 54322 3306 6 0 0 1640000000 "
                 "1640000060 REJECT OK")


def _rejected_service() -> str:
    row = reference.label(flowlogs.parse_lines([LESSON_REJECT])).iloc[0]
    return row["dstport_service"]


def _top_rejected_source() -> str:
    df = flowlogs.read(SAMPLE_PARQUET)
    return df.loc[df["action"] == "REJECT", "srcaddr"].value_counts().index[0]


def _flags_19() -> set[str]:
    return set(reference.tcp_flag_names(19))


QUESTIONS: dict[str, tuple[str, Callable[[], object], Callable[[object], object]]] = {
    # id: (hint, expected answer, how to normalise the student's answer)
    "01-1": ("dstport와 reference.PORTS를 보세요.", _rejected_service,
             lambda a: str(a).strip().lower()),
    "01-2": ("action == 'REJECT'인 레코드의 srcaddr를 세어 보세요.", _top_rejected_source,
             lambda a: str(a).strip()),
    "01-3": ("reference.tcp_flag_names()가 비트를 푸는 방법을 보세요.", _flags_19,
             lambda a: {str(x).strip().upper() for x in a}),
}


def is_correct(question: str, answer) -> bool:
    """Whether ``answer`` is right for ``question`` (``...`` is never right)."""
    _, expected, normalise = _question(question)
    if answer is ...:
        return False
    try:
        return normalise(answer) == normalise(expected())
    except TypeError:
        return False


def check(question: str, answer) -> None:
    """Print a verdict on ``answer`` for ``question``: right, wrong (with a hint), or empty."""
    hint = _question(question)[0]
    if answer is ...:
        verdict = f"아직 답을 입력하지 않았습니다. 힌트: {hint}"
    elif is_correct(question, answer):
        verdict = "정답입니다!"
    else:
        verdict = f"다시 생각해 보세요. 힌트: {hint}"
    print(f"[{question}] {verdict}")


def _question(question: str):
    if question not in QUESTIONS:
        raise KeyError(f"unknown question {question!r}; known: {', '.join(QUESTIONS)}")
    return QUESTIONS[question]
