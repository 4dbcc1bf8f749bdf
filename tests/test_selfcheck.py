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


# --- notebooks 01-03 ----------------------------------------------------------------------------


def _says(question, answer, capsys) -> str:
    selfcheck.check(question, answer)
    return capsys.readouterr().out


def test_01_flags_accept_every_spelling_of_syn_ack(capsys):
    from helpers.selfcheck import notebook01

    assert notebook01.FLAGS == 22  # SYN-ACK (18) + RST (4): not among the notebook's examples
    for answer in (["SYN-ACK", "RST"], ["SYN", "ACK", "RST"], "SYN+ACK+RST", "rst, syn_ack",
                   "SYNACK RST"):
        assert selfcheck.is_correct("01-3", answer), answer
    assert "빠진 플래그: ACK" in _says("01-3", "SYN, RST", capsys)
    assert "22에 없는 플래그: FIN" in _says("01-3", ["SYN-ACK", "RST", "FIN"], capsys)


def test_01_rejected_bytes_explain_the_lessons_zero_and_packets(capsys):
    from helpers import flowlogs
    from helpers.paths import SAMPLE_PARQUET

    sample = flowlogs.read(SAMPLE_PARQUET)
    rejected = sample[sample["action"] == "REJECT"]
    value = int(rejected["bytes"].sum())
    assert value > 0
    assert selfcheck.is_correct("01-4", value) and selfcheck.is_correct("01-4", f"{value:,}")
    assert "0으로 적었지만" in _says("01-4", 0, capsys)
    assert "패킷 수" in _says("01-4", int(rejected["packets"].sum()), capsys)
    assert "REJECT인 레코드만" in _says("01-4", int(sample["bytes"].sum()), capsys)


def test_01_other_answers():
    assert selfcheck.is_correct("01-1", "mysql") and selfcheck.is_correct("01-1", " MySQL ")
    assert not selfcheck.is_correct("01-1", "SSH")
    assert selfcheck.is_correct("01-2", _expected("01-2") + " ")
    assert not selfcheck.is_correct("01-2", "10.0.1.100")


PARSE = 'parse @message "* * * * * * * *" as srcAddr, dstAddr, srcPort, dstPort, protocol, ' \
        'action, start, end'


@pytest.mark.parametrize("answer", [
    PARSE,
    PARSE.replace("@message ", ""),  # @message is parse's default field
    "| " + PARSE + ' | filter action = "REJECT"',  # a whole query: its parse command counts
    "parse @message /(?<srcAddr>\\S+) (?<dstAddr>\\S+) (?<srcPort>\\S+) (?<dstPort>\\S+) "
    "(?<protocol>\\S+) (?<action>\\S+) (?<start>\\S+) (?<end>\\S+)/",
])
def test_02_parse_accepts_a_glob_a_regex_and_a_whole_query(answer):
    assert selfcheck.is_correct("02-1", answer)


@pytest.mark.parametrize("answer, why", [
    (PARSE.replace("action, start, end", "start, end, action"), "action에는 end의 값"),
    (PARSE.replace("srcAddr", "src"), "이름 srcAddr이(가) 없습니다"),
    ('parse @message "* * *" as a, b', "* 3개에 이름 2개"),
    ("fields @message", "parse 명령이 없습니다"),
    ('parse @logStream "*" as srcAddr', "@message여야"),
])
def test_02_parse_explains_a_wrong_order_or_name(answer, why, capsys):
    assert not selfcheck.is_correct("02-1", answer)
    assert why in _says("02-1", answer, capsys)


def test_02_parse_is_checked_on_the_custom_formats_messages():
    from helpers.selfcheck import notebook02

    messages = notebook02.custom_messages()
    assert len(messages) > 1000 and messages.str.split().str.len().max() == 8
    assert (messages.str.split().str[5] == "REJECT").any()  # action is the sixth field


def test_02_size_accepts_percent_or_fraction_and_explains_mistakes(capsys):
    from helpers import flowlogs
    from helpers.flowlogs import delivery
    from helpers.selfcheck import notebook02

    value = _expected("02-2")
    assert 50 < value < 100
    for answer in (value, f"{value:.1f}%", value / 100, round(value)):
        assert selfcheck.is_correct("02-2", answer), answer
    assert not selfcheck.is_correct("02-2", value + 3)
    records = notebook02._records()
    lesson = 100 * delivery.ingested_bytes(records, notebook02.LESSON_CUSTOM) / \
        delivery.ingested_bytes(records, flowlogs.DEFAULT_FORMAT)
    assert "레슨의 8개 필드" in _says("02-2", lesson, capsys)
    text = {fmt: delivery.ingested_bytes(records, fmt) - 26 * len(records)
            for fmt in (notebook02.SIZE_FORMAT, flowlogs.DEFAULT_FORMAT)}
    assert "26바이트" in _says("02-2", 100 * text[notebook02.SIZE_FORMAT]
                              / text[flowlogs.DEFAULT_FORMAT], capsys)


def test_02_the_policys_actions_are_the_courses():
    from helpers.aws import policies
    from helpers.selfcheck import notebook02

    assert notebook02.FLOW_LOG_ACTIONS == policies.FLOW_LOG_ACTIONS


def test_02_policy_accepts_json_text_any_account_and_stream_arns(capsys):
    import json

    tight = _expected("02-3")
    assert selfcheck.is_correct("02-3", tight)
    assert selfcheck.is_correct("02-3", json.dumps(tight))
    group = "arn:aws:logs:ap-northeast-2:210987654321:log-group:/aws/vpc/kim/flowlogs-reject"
    statement = {"Effect": "Allow", "Resource": [group, group + ":*"],
                 "Action": [a.lower() for a in reversed(tight["Statement"][0]["Action"])]}
    assert selfcheck.is_correct("02-3", {"Statement": statement})
    broad = _says("02-3", {"Statement": [{"Effect": "Allow", "Action": "logs:*",
                                           "Resource": "*"}]}, capsys)
    assert "와일드카드" in broad and "모든 로그 그룹" in broad
    prefix = dict(tight["Statement"][0], Resource=group.replace("flowlogs-reject", "flowlogs*"))
    assert "밖의 리소스" in _says("02-3", {"Statement": [prefix]}, capsys)
    fewer = dict(tight["Statement"][0], Action=["logs:PutLogEvents"])
    assert "빠진 작업" in _says("02-3", {"Statement": [fewer]}, capsys)
    assert "JSON으로 읽을 수 없습니다" in _says("02-3", "{Statement:", capsys)


def test_03_the_day_is_the_one_notebook_06_reuses():
    from helpers.selfcheck import notebook03

    for key in ("scenarios", "seed", "duration", "end"):
        assert notebook03.DAY[key] == notebook06.ALARM_DAY[key]


def test_03_treat_missing_data_has_one_answer_and_explains_the_others(capsys):
    from helpers.selfcheck import notebook03

    assert _expected("03-1") == "breaching"
    for answer in ("breaching", "Breaching", " BREACHING ", "누락된 데이터를 위반으로 처리"):
        assert selfcheck.is_correct("03-1", answer), answer
    assert "INSUFFICIENT_DATA" in _says("03-1", "missing", capsys)
    assert notebook03.final_state("notBreaching") == "OK"
    assert "상태는 OK" in _says("03-1", "not breaching", capsys)
    assert "중 하나를 고르세요" in _says("03-1", "alarm", capsys)


def test_03_minutes_accept_utc_kst_and_timestamps(capsys):
    import pandas as pd

    peak = _expected("03-2")
    kst = peak.tz_convert("Asia/Seoul")
    for answer in (f"{peak:%H:%M}", f"{peak:%H:%M} UTC", f"{peak:%Y-%m-%d %H:%M:%S}",
                   f"{kst:%H:%M} KST", peak, peak.tz_localize(None),
                   kst.to_pydatetime()):
        assert selfcheck.is_correct("03-2", answer), answer
    assert "KST" in _says("03-2", f"{kst:%H:%M}", capsys)
    near = peak + pd.Timedelta(minutes=2)
    assert "가깝습니다" in _says("03-2", f"{near:%H:%M}", capsys)


def test_03_the_missing_alarm_time_explains_counting_only_n_periods(capsys):
    import pandas as pd

    from helpers.selfcheck import notebook03

    stop = pd.Timestamp(notebook03.DAY["stop"])
    expected = _expected("03-4")
    assert expected > stop + pd.Timedelta(minutes=5 * notebook03.EVALUATION_PERIODS)
    assert selfcheck.is_correct("03-4", f"{expected:%H:%M}")
    naive = stop + pd.Timedelta(minutes=5 * notebook03.EVALUATION_PERIODS)
    assert "N + 2" in _says("03-4", f"{naive:%H:%M}", capsys)


@pytest.mark.parametrize("answer", [
    'filter srcAddr = "10.0.1.200" and not isIpv4InSubnet(dstAddr, "10.0.0.0/16") '
    '| stats sum(bytes) as sent by dstAddr | sort sent desc',
    'filter not isIpInSubnet(dstAddr, "10.0.0.0/16") and srcAddr = "10.0.1.200" '
    '| stats sum(bytes) by dstAddr',  # another order, another function, no alias, no sort
    'fields srcAddr, dstAddr, bytes | filter srcAddr = "10.0.1.200" '
    '| filter not isIpv4InSubnet(dstAddr, "10.0.0.0/16") | stats sum(bytes) as total by dstAddr '
    '| sort total desc | limit 10',
])
def test_03_queries_that_give_the_same_rows_are_right(answer):
    assert selfcheck.is_correct("03-3", answer)


@pytest.mark.parametrize("answer, why", [
    ('filter srcaddr = "10.0.1.200" | stats sum(bytes) by dstaddr', "camelCase"),
    ('filter srcAddr = "10.0.1.200" | stats sum(bytes) as b by dstAddr', "VPC 안의 주소"),
    ('filter srcAddr = "10.0.1.200" and not isIpv4InSubnet(dstAddr, "10.0.0.0/16") '
     '| stats count(*) as n by dstAddr', "값이 다릅니다"),
    ("stats count(*) by", "답의 형식을 읽을 수 없습니다"),
])
def test_03_wrong_queries_are_explained(answer, why, capsys):
    assert not selfcheck.is_correct("03-3", answer)
    assert why in _says("03-3", answer, capsys)
