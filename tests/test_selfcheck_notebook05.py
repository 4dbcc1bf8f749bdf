"""Notebook 05's self-check questions: computed answers, equivalent answers, explained mistakes.

05-2 and 05-3 restate rules that live on a floor the selfcheck package cannot import (the
auto-block handler; ``helpers.incident``); here they are checked against the real thing: the
handler replays 05-2's blocks in the emulator, and 05-3's topology is compared with
:func:`helpers.incident.with_lesson_rule`.
"""

from __future__ import annotations

import json

from helpers import aws, incident, selfcheck, traffic
from helpers.selfcheck import notebook05


def _says(question, answer, capsys) -> str:
    selfcheck.check(question, answer)
    return capsys.readouterr().out


# --- 05-1: which addresses to block -----------------------------------------------------------


def test_05_1_the_attackers_are_the_labelled_attacks_sources():
    records = notebook05.new_incident()
    attacks = {"port_scan_inbound", "ssh_brute_force", "rdp_brute_force"}
    lab = traffic.default_topology()
    sources = records[records["label"].isin(attacks)
                      & (records["dstaddr"] == lab.interface("web").private_ip)]
    assert notebook05.attackers() == frozenset(sources["srcaddr"].unique())
    assert len(notebook05.attackers()) >= 4  # a scanner and several guessers


def test_05_1_accepts_text_lists_and_single_address_cidrs():
    addresses = sorted(notebook05.attackers())
    for answer in (addresses, ", ".join(addresses), " ".join(addresses),
                   set(addresses), [f"{a}/32" for a in addresses], tuple(reversed(addresses))):
        assert selfcheck.is_correct("05-1", answer), answer
    assert not selfcheck.is_correct("05-1", addresses[:-1])


def test_05_1_explains_the_admin_the_vpc_and_what_is_missing(capsys):
    addresses = sorted(notebook05.attackers())
    lab = traffic.default_topology()
    said = _says("05-1", [*addresses[1:], "198.51.100.10", lab.interface("web").private_ip],
                 capsys)
    assert "198.51.100.10: 관리자 주소 범위(198.51.100.0/24)" in said
    assert f"{lab.interface('web').private_ip}: VPC 안의 주소" in said
    assert "1개가 빠졌습니다" in said
    assert "탐지되지 않았습니다" in _says("05-1", [*addresses, "192.0.2.10"], capsys)
    assert "네트워크가 아니라" in _says("05-1", "203.0.113.0/24", capsys)
    assert "IPv4 주소가 아닙니다" in _says("05-1", "scanner", capsys)


# --- 05-2: the next rule number ---------------------------------------------------------------


def test_05_2_the_handler_gives_the_computed_rule_number(capsys):
    """Replay the blocks behind BLOCK_TAGS with the real handler, then block once more."""
    cloud = aws.connect("local")
    lab = cloud.lab_vpc()
    cloud.deploy_responder(lab, ttl_minutes=60, report=False)
    tags = notebook05.BLOCK_TAGS

    def block(ip, at):
        return cloud.respond({"action": "block", "ip": ip, "reason": "05-2"}, at=at)

    block("192.0.2.99", "2021-12-20T00:05:00Z")  # rule 50, unblocked at 00:40
    for key in ("autoblock:51", "autoblock:52"):
        block(tags[key]["cidr"], tags[key]["at"])
    cloud.respond({"action": "unblock", "ip": "192.0.2.99", "reason": "false positive"},
                  at="2021-12-20T00:40:00Z")
    for key in ("autoblock:50", "autoblock:53"):
        state = block(tags[key]["cidr"], tags[key]["at"])
    held = {f"autoblock:{b['rule_number']}": (b["cidr"], b["blocked_at"], b["until"])
            for b in state["blocks"]}
    assert held == {k: (v["cidr"], v["at"], v["until"]) for k, v in tags.items()}
    answer = block("203.0.113.77", notebook05.NEW_BLOCK_AT)
    assert answer["results"][0]["rule_number"] == notebook05.next_rule_number()
    assert [e["rule_number"] for e in answer["expired"]] == [notebook05.next_rule_number()]
    cloud.teardown()
    capsys.readouterr()


def test_05_2_answers_and_mistakes(capsys):
    right = notebook05.next_rule_number()
    assert right not in (50, max(int(k.split(":")[1]) for k in notebook05.BLOCK_TAGS) + 1)
    assert selfcheck.is_correct("05-2", str(right))
    assert "가장 작은 번호" in _says("05-2", 54, capsys)
    assert "규칙 50: 01:45까지 유효한 차단" in _says("05-2", 50, capsys)
    assert "RULE_NUMBER_RANGE 50-69" in _says("05-2", 100, capsys)
    assert "더 작은 빈 번호" in _says("05-2", 60, capsys)


def test_05_2_a_full_range_has_no_number():
    tags = {f"autoblock:{n}": {"until": "2021-12-20T02:00:00Z"} for n in range(50, 53)}
    assert notebook05.next_rule_number(tags, "2021-12-20T01:00:00Z", (50, 52)) is None
    assert notebook05.next_rule_number(tags, "2021-12-20T02:00:00Z", (50, 52)) == 50


# --- 05-3: the lesson's rule for the RDP guesser ----------------------------------------------


def test_05_3_uses_the_same_rule_as_the_notebook():
    address = notebook05.rdp_attacker()
    lab = traffic.default_topology()
    assert notebook05._lesson_topology(address) == incident.with_lesson_rule(lab, address)


def test_05_3_every_rdp_attempt_gets_in(capsys):
    records = notebook05.new_incident()
    sent = records[records["srcaddr"] == notebook05.rdp_attacker()]
    assert (sent["action"] == "REJECT").all()  # the security group stops RDP today
    expected = notebook05.lesson_accepts()
    assert expected == len(sent) > 0  # after the lesson's "block", none is stopped
    assert selfcheck.is_correct("05-3", f"{expected:,}")
    assert "허용만 합니다" in _says("05-3", 0, capsys)
    both = notebook05._lesson_records()
    both = both[(both["srcaddr"] == notebook05.rdp_attacker())
                | (both["dstaddr"] == notebook05.rdp_attacker())]
    assert "응답 레코드" in _says("05-3", int((both["action"] == "ACCEPT").sum()), capsys)


def test_the_question_data_is_not_the_notebooks():
    from helpers.paths import ROOT

    path = ROOT / "notebooks" / "05-security-response.ipynb"
    notebook = json.loads(path.read_text("utf-8"))
    outputs = json.dumps([c.get("outputs", []) for c in notebook["cells"]], ensure_ascii=False)
    others = notebook05.attackers() - {"203.0.113.66"}  # the lab's one scanner is known
    assert not any(address in outputs for address in others)
    assert str(notebook05.lesson_accepts()) + "개" not in outputs
