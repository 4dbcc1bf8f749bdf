"""Lab 2 (Logs Insights 쿼리): write a query for each question; it is graded by its result.

Notebook 03. Each student gets six hours of their own VPC's traffic (lab 2's commands, the
web baseline, a port scan, SSH and RDP brute force, internet noise). The student writes Logs
Insights query text; :func:`check_query` runs it with :func:`helpers.insights.run` on the
student's data (public test) or on unseen data (hidden test) and compares the result with the
expected table by content (:func:`helpers.grading.results.compare_table`), so any query that
returns the right rows passes, whatever it calls its columns.

The questions are variations on the lesson's queries, not the lesson's queries themselves
(those are in ``helpers/queries``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from helpers import insights, traffic
from helpers.errors import InsightsError, InsightsSyntaxError, InsightsWarning
from helpers.grading.core import GradingError, Mismatch, answer_key, make_records, resolve_seed
from helpers.grading.results import compare_table

__all__ = ["QUESTIONS", "SCENARIOS", "Question", "check_query", "expected", "student_data"]

LAB = "lab2"
SCENARIOS = (*traffic.DEFAULT_SCENARIOS, "port_scan_inbound", "ssh_brute_force",
             "rdp_brute_force", "internet_noise")
DURATION = "6h"
SCAN_PORTS = 20


@dataclass(frozen=True)
class Question:
    """What a question's result holds: key columns, value columns, top N and order."""

    keys: tuple[str, ...]
    values: tuple[str, ...]
    n: int | None = None
    ordered: bool = False


QUESTIONS = {
    "q1": Question(("dstport",), ("total_bytes", "records"), n=5, ordered=True),
    "q2": Question(("srcaddr",), ("attempts",), n=5, ordered=True),
    "q3": Question(("bin",), ("rejects",)),
    "q4": Question(("srcaddr",), ("ports",)),
}
"""q1 accepted bytes and records per destination port, top 5; q2 rejected SSH/RDP attempts
per source, top 5; q3 rejected records per 10 minutes; q4 sources rejected on at least 20
distinct destination ports, with that count."""


@lru_cache(maxsize=4)
def _records(seed: int) -> pd.DataFrame:
    return make_records(seed, SCENARIOS, DURATION)


def student_data(student_id=None, *, seed=None) -> pd.DataFrame:
    """A student's six hours of flow-log records (the ``label`` column removed)."""
    return _records(resolve_seed(LAB, student_id, seed)).drop(columns="label")


@answer_key
def expected(question: str, df: pd.DataFrame) -> pd.DataFrame:
    """Every row a question's query should return (before its limit), computed with pandas."""
    rejected = df[df["action"] == "REJECT"]
    if question == "q1":
        accepted = df[df["action"] == "ACCEPT"]
        return (accepted.groupby("dstport")["bytes"].agg(total_bytes="sum", records="size")
                .reset_index())
    if question == "q2":
        tried = rejected[rejected["dstport"].isin([22, 3389])]
        return tried.groupby("srcaddr").size().rename("attempts").reset_index()
    if question == "q3":
        bins = pd.to_datetime(rejected["start"] // 600 * 600, unit="s", utc=True)
        return rejected.groupby(bins.rename("bin")).size().rename("rejects").reset_index()
    if question == "q4":
        ports = rejected.groupby("srcaddr")["dstport"].nunique().rename("ports")
        return ports[ports >= SCAN_PORTS].reset_index()
    raise GradingError(f"unknown question {question!r}; known: {', '.join(QUESTIONS)}")


def run_query(query, df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Run a student's query, turning its mistakes into Mismatch messages."""
    if query is ... or query is None:
        raise Mismatch(f"`{name}`에 아직 쿼리를 쓰지 않았습니다.")
    if not isinstance(query, str):
        raise Mismatch(f"`{name}`은(는) 쿼리 문자열이어야 하는데 {type(query).__name__} "
                       "값입니다.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InsightsWarning)
        try:
            result = insights.run(query, df)
        except InsightsSyntaxError as err:
            raise Mismatch(f"`{name}`의 쿼리 문법이 맞지 않습니다:\n{err}") from None
        except (InsightsError, GradingError, ValueError, TypeError) as err:
            raise Mismatch(f"`{name}`의 쿼리를 실행할 수 없습니다: {err}") from None
    notes = [str(w.message) for w in caught if issubclass(w.category, InsightsWarning)]
    result.attrs["warnings"] = notes
    return result


def check_query(question: str, query, student_id=None, *, seed=None) -> None:
    """The query's result on the data is the question's expected table."""
    spec = QUESTIONS[question]
    df = student_data(student_id, seed=seed)
    name = f"Q{question[1:]}"
    result = run_query(query, df, name)
    try:
        compare_table(result, expected(question, df), spec.keys, spec.values, n=spec.n,
                      ordered=spec.ordered, what=f"`{name}`")
    except Mismatch as err:
        if result.attrs.get("warnings"):
            raise Mismatch(f"{err} 경고: {result.attrs['warnings'][0]}") from None
        raise
