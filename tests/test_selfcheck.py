"""The self-check questions accept right and equivalent answers and explain wrong ones."""

from __future__ import annotations

import pytest

from helpers import cost, selfcheck
from helpers.selfcheck import notebook06


def _expected(question):
    return selfcheck.QUESTIONS[question].expected()


def test_every_question_computes_its_answer():
    for question in selfcheck.QUESTIONS:
        assert _expected(question) is not None


@pytest.mark.parametrize("question", ["06-1", "06-3"])
def test_numeric_answers_accept_text_and_a_small_error(question):
    value = _expected(question)
    assert selfcheck.is_correct(question, value * 1.004)
    assert selfcheck.is_correct(question, f"${value:,.2f}")
    assert not selfcheck.is_correct(question, value * 1.05)


def test_the_class_cost_adds_the_flow_logs_and_the_nat_gateway(capsys):
    nat_hours = notebook06.CLASS["students"] * notebook06.CLASS["hours"]
    nat_hour_price = cost.tiers("nat_gateway_hour")[0][2]
    assert _expected("06-1") > nat_hours * nat_hour_price
    selfcheck.check("06-1", nat_hours * nat_hour_price)
    assert "다시 생각해 보세요" in capsys.readouterr().out


def test_the_cheapest_configuration_that_still_sees_an_upload():
    answer = _expected("06-2")
    costs = notebook06.configuration_costs()
    settings = notebook06.CONFIGURATIONS[answer]
    assert settings["traffic_type"] != "REJECT" and settings["log_format"] != "lesson"
    assert costs[answer] < costs["B"]
    assert selfcheck.is_correct("06-2", answer.lower())


@pytest.mark.parametrize("answer, why", [
    ("A", "REJECT만 기록하면"), ("C", "bytes 필드가 없어"), ("B", "더 싼 구성이 있습니다"),
    ("Z", "중 하나를 고르세요"),
])
def test_a_wrong_configuration_is_explained(answer, why, capsys):
    selfcheck.check("06-2", answer)
    assert why in capsys.readouterr().out


def test_a_flat_price_over_every_tier_is_explained(capsys):
    flat = notebook06.MONTHLY_TB * 1024 * cost.tiers("cwl_vended_delivery")[0][2]
    selfcheck.check("06-3", flat)
    assert "첫 구간 가격" in capsys.readouterr().out


def test_the_alarm_question_is_not_in_the_notebooks_table():
    assert notebook06.THRESHOLD not in (3, 10, 20, 100, 310)
    assert _expected("06-4") == notebook06.notifications(notebook06.THRESHOLD)
    assert selfcheck.is_correct("06-4", str(_expected("06-4")))
