"""Self-check questions: the expected answer is computed from the course data, never typed in.

A :class:`Question` holds a hint, a function that computes the right answer, a way to put an
answer into a comparable form (so equivalent answers count: ``"mysql"`` and ``"MySQL"``,
``["SYN", "ACK"]`` and ``["SYN-ACK"]``), a tolerance for numbers, and an explanation of a
wrong answer. :func:`check` prints the verdict in Korean (the notebooks' language); an answer
left as ``...`` is reported as not yet answered, so a notebook still runs top to bottom.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from helpers.errors import UnknownQuestionError

__all__ = ["Question", "UnknownQuestionError", "as_number", "as_text", "check", "is_correct",
           "register"]


def as_text(answer) -> str:
    """Text compared without case or surrounding spaces."""
    return str(answer).strip().lower()


def as_number(answer) -> float:
    """A number; text such as ``"1,234.5"`` or ``"$12"`` is read as one."""
    if isinstance(answer, bool):
        raise TypeError("True/False is not a number")
    if isinstance(answer, str):
        answer = answer.replace(",", "").replace("$", "").strip()
    return float(answer)


@dataclass(frozen=True)
class Question:
    """One self-check question.

    Attributes:
        hint: where to look, in Korean.
        expected: computes the right answer from the course data.
        normalise: makes an answer comparable (raises TypeError/ValueError for a malformed one).
        tolerance: relative tolerance for numeric answers (0: exact).
        explain: ``explain(answer, expected)`` of two normalised values: why a wrong answer is
            wrong, in Korean, or None to give only the hint.
    """

    hint: str
    expected: Callable[[], object]
    normalise: Callable[[object], object] = as_text
    tolerance: float = 0.0
    explain: Callable[[object, object], str | None] | None = None

    def matches(self, answer, expected) -> bool:
        if self.tolerance and isinstance(answer, float) and isinstance(expected, float):
            return math.isclose(answer, expected, rel_tol=self.tolerance)
        return answer == expected


QUESTIONS: dict[str, Question] = {}


def register(questions: dict[str, Question]) -> None:
    """Add a notebook's questions (IDs like ``"06-1"``)."""
    QUESTIONS.update(questions)


def _question(question: str) -> Question:
    if question not in QUESTIONS:
        raise UnknownQuestionError(f"unknown question {question!r}; known: "
                                   f"{', '.join(sorted(QUESTIONS))}")
    return QUESTIONS[question]


def _verdict(question: str, answer) -> tuple[bool, str | None]:
    """(right?, why not) for an answer that is not ``...``."""
    q = _question(question)
    try:
        given = q.normalise(answer)
    except (TypeError, ValueError) as err:
        return False, f"답의 형식을 읽을 수 없습니다({err})."
    expected = q.normalise(q.expected())
    if q.matches(given, expected):
        return True, None
    return False, q.explain(given, expected) if q.explain else None


def is_correct(question: str, answer) -> bool:
    """Whether ``answer`` is right for ``question`` (``...`` is never right)."""
    return answer is not ... and _verdict(question, answer)[0]


def check(question: str, answer) -> None:
    """Print a verdict on ``answer``: right, wrong (why, and a hint), or not yet answered."""
    hint = _question(question).hint
    if answer is ...:
        print(f"[{question}] 아직 답을 입력하지 않았습니다. 힌트: {hint}")
        return
    right, why = _verdict(question, answer)
    if right:
        print(f"[{question}] 정답입니다!")
    else:
        print(f"[{question}] 다시 생각해 보세요. {why + ' ' if why else ''}힌트: {hint}")
