"""Notebook 07's review questions: right, equivalent and wrong answers."""

from __future__ import annotations

import pytest

from helpers import selfcheck
from helpers.selfcheck import notebook07


def test_private_rejects_accept_text_and_numbers():
    expected = selfcheck.QUESTIONS["07-1"].expected()
    assert selfcheck.is_correct("07-1", expected)
    assert selfcheck.is_correct("07-1", str(expected))
    assert not selfcheck.is_correct("07-1", expected + 1)


@pytest.mark.parametrize("query", [
    notebook07.REFERENCE_QUERY,
    "filter action == 'REJECT' | stats count(*) as rejected by dstPort | sort rejected desc",
    'filter action = "REJECT"\n| stats count() as c by dstPort\n| sort by c desc | limit 5',
])
def test_any_query_with_the_right_rows_is_right(query):
    assert selfcheck.is_correct("07-2", query)


@pytest.mark.parametrize("query, why", [
    ("stats count(*) as n by dstPort | sort n desc", "상위 포트는 ["),
    ("filter action = 'REJECT' | stats count(*) by srcAddr", "dstPort 열이 없습니다"),
    ("filter action = 'REJECT' | stats count(*) by", "쿼리를 실행할 수 없습니다"),
    (443, "쿼리 문자열이어야"),
])
def test_a_wrong_query_is_explained(query, why, capsys):
    selfcheck.check("07-2", query)
    out = capsys.readouterr().out
    assert "다시 생각해 보세요" in out and why in out


def test_the_delay_is_in_minutes_and_seconds_are_explained(capsys):
    minutes = selfcheck.QUESTIONS["07-3"].expected()
    assert selfcheck.is_correct("07-3", round(minutes))
    selfcheck.check("07-3", minutes * 60)
    assert "초로 답했습니다" in capsys.readouterr().out


def test_refused_addresses_in_any_order_or_spelling(capsys):
    refused = sorted(selfcheck.QUESTIONS["07-4"].expected())
    assert {"10.0.11.50", "169.254.169.254"} <= set(refused)
    assert "203.0.113.45" not in refused and "8.8.8.8" not in refused
    assert selfcheck.is_correct("07-4", list(reversed(refused)))
    assert selfcheck.is_correct("07-4", ", ".join(refused))
    selfcheck.check("07-4", refused[:1] + ["198.51.100.7"])
    out = capsys.readouterr().out
    assert "198.51.100.7는 차단할 수 있습니다" in out and "도 거부됩니다" in out
