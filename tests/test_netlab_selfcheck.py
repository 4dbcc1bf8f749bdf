"""Notebook 02b's self-check: right, equivalent and wrong answers, each wrong one explained.

The answers are computed without the live lab, so these tests run anywhere.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers import netlab, selfcheck, traffic
from helpers.selfcheck import notebook02b

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02b-live-packets.ipynb"


def verdict(question, answer, capsys) -> str:
    selfcheck.check(question, answer)
    return capsys.readouterr().out


@pytest.mark.parametrize("answer", [19, "19", "0x13", "SYN-ACK, FIN", ["SYN-ACK", "FIN"],
                                    "syn ack fin", "SYN+ACK+FIN+PSH"])
def test_02b_1_accepts_the_value_and_the_flag_names(answer):
    assert selfcheck.is_correct("02b-1", answer)


@pytest.mark.parametrize("answer, why", [
    (3, "클라이언트"), (18, "FIN도 OR됩니다"), (27, "ACK(16)와 PSH(8)"),
    ("SYN, URG", "모르는 플래그"),
])
def test_02b_1_explains_a_wrong_value(answer, why, capsys):
    assert why in verdict("02b-1", answer, capsys)


def test_02b_1_is_the_servers_or_of_its_packets():
    assert selfcheck.QUESTIONS["02b-1"].expected() == netlab.tcp_flags([18, 24, 17]) == 19


def test_02b_2_counts_the_connections_the_deny_entry_changes(capsys):
    changed = notebook02b.changed_connections()
    assert len(changed) == selfcheck.QUESTIONS["02b-2"].expected() == 4
    assert any(label.startswith("wget") for label in changed)  # through the NAT gateway
    assert selfcheck.is_correct("02b-2", "4") and selfcheck.is_correct("02b-2", 4.0)
    assert "NAT 게이트웨이" in verdict("02b-2", 3, capsys)
    probes = 4 - 2 + len(netlab.SCAN_PORTS)
    assert "프로브를 모두" in verdict("02b-2", probes, capsys)


def test_02b_2_a_harmless_entry_changes_nothing():
    allow = traffic.NaclEntry(90, False, 6, "allow", "203.0.113.0/24", 0, 65535)
    assert notebook02b.changed_connections(allow) == []


@pytest.mark.parametrize("answer", [("10.0.1.200", "203.0.113.91"), "10.0.1.200, 203.0.113.91",
                                    ["10.0.1.200", "203.0.113.91"],
                                    {"srcaddr": "10.0.1.200", "pkt-srcaddr": "203.0.113.91"}])
def test_02b_3_accepts_every_spelling_of_the_pair(answer):
    assert selfcheck.is_correct("02b-3", answer)


@pytest.mark.parametrize("answer, why", [
    ("203.0.113.91, 10.0.1.200", "순서가 바뀌었습니다"),
    ("203.0.113.201, 203.0.113.91", "공인"),
    ("203.0.113.91, 203.0.113.91", "인터페이스(NAT 게이트웨이)의 주소"),
    ("10.0.1.200", "두 개"),
])
def test_02b_3_explains_a_wrong_pair(answer, why, capsys):
    assert why in verdict("02b-3", answer, capsys)


def test_the_notebook_leaves_every_question_unanswered_and_prints_no_answer():
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    checks = [c for c in cells if c.cell_type == "code" and 'selfcheck.check("02b-' in c.source]
    assert len(checks) >= 3
    assert all("= ..." in c.source for c in checks)
    shown = "\n".join(o.get("text", "") for c in cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "정답입니다" not in shown
    assert "203.0.113.0/24" not in "\n".join(c.source for c in cells if c.cell_type == "code"
                                             and "with_nacl_entry" in c.source)
