"""Helpers the notebooks call: environment check, self-check questions, error demos."""

from __future__ import annotations

import pytest

from helpers import environment, selfcheck
from helpers.errors import CourseError, FlowLogParseError, expect_error


def test_environment_check_lists_the_core_packages():
    table = environment.check()
    assert list(table.columns) == ["package", "required", "ok"]
    assert {"pandas", "duckdb", "boto3", "matplotlib", "jupyterlab"} <= set(table["package"])
    assert table["ok"].all()
    assert "installed" in environment.check(show_versions=True).columns


@pytest.mark.parametrize("question, right, wrong", [
    ("01-1", "MySQL", "PostgreSQL"),
    ("01-2", "203.0.113.66", "10.0.1.100"),
    ("01-3", ["SYN-ACK", "FIN"], ["SYN", "FIN"]),
])
def test_self_check_accepts_the_right_answer_only(question, right, wrong, capsys):
    assert selfcheck.is_correct(question, right)
    assert not selfcheck.is_correct(question, wrong)
    assert not selfcheck.is_correct(question, ...)
    for answer in (right, wrong, ...):
        selfcheck.check(question, answer)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"[{question}] 정답입니다!"
    assert out[1].startswith(f"[{question}] 다시 생각해 보세요.")
    assert out[2].startswith(f"[{question}] 아직 답을 입력하지 않았습니다.")


@pytest.mark.parametrize("answer", [["SYN", "ACK", "FIN"], ("fin", "syn-ack"), "SYN-ACK, FIN",
                                    "SYN+ACK+FIN"])
def test_self_check_accepts_equivalent_flag_answers(answer):
    assert selfcheck.is_correct("01-3", answer)


def test_self_check_explains_a_wrong_flag_answer(capsys):
    selfcheck.check("01-3", ["SYN", "RST"])
    out = capsys.readouterr().out
    assert "빠진 플래그: ACK, FIN" in out and "19에 없는 플래그: RST" in out


def test_self_check_says_when_an_answer_cannot_be_read(capsys):
    selfcheck.check("01-3", 19)
    assert "답의 형식을 읽을 수 없습니다" in capsys.readouterr().out


def test_self_check_unknown_question():
    with pytest.raises(KeyError, match="unknown question '09-9'"):
        selfcheck.check("09-9", 1)


def test_expect_error_prints_the_message(capsys):
    with expect_error(FlowLogParseError):
        raise FlowLogParseError(3, "x y", "expected 14 fields")
    assert capsys.readouterr().out.startswith("FlowLogParseError: line 3: expected 14 fields")


def test_expect_error_fails_when_nothing_goes_wrong():
    with pytest.raises(AssertionError, match="expected CourseError, but the code ran"):
        with expect_error(CourseError):
            pass
