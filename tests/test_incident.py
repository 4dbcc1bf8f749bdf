"""The incident write-up: the lesson's rule, a change of rules, the timeline, impact and report.

Everything runs offline on generated traffic (no emulator): a port scan over the web baseline,
its detections, the reject alarm evaluated on it, and handler answers shaped as
:func:`helpers.respond.handler` returns them.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import detect, flowlogs, incident, traffic
from helpers.detect.tradeoffs import TYPICAL_DELIVERY
from helpers.errors import DetectError, MonitoringError, ResponseError, TrafficError
from helpers.monitoring import alarms, evaluate, metrics
from helpers.traffic import NaclEntry

SCANNER = "203.0.113.66"  # helpers.traffic.hosts: the port_scan_inbound source
ADMIN = "198.51.100.10"


@pytest.fixture(scope="module")
def lab():
    return traffic.default_topology()


@pytest.fixture(scope="module")
def records(lab):
    return traffic.generate(["web_baseline", "port_scan_inbound"], topology=lab, seed=1,
                            duration="2h")


@pytest.fixture(scope="module")
def blocked(lab):
    subnet = lab.interface("web").subnet_id
    deny = NaclEntry(50, False, traffic.ALL, "deny", f"{SCANNER}/32")
    return traffic.generate(["web_baseline", "port_scan_inbound"],
                            topology=lab.with_nacl_entry(subnet, deny), seed=1, duration="2h")


@pytest.fixture(scope="module")
def alarm(lab, records):
    flow_log = flowlogs.FlowLog("fl-0a1b2c3d4e5f60000", lab.vpc_id, "ALL",
                                flowlogs.DEFAULT_FORMAT, "cloud-watch-logs",
                                log_group="/aws/vpc/flowlogs")
    rejected = alarms.rejects_filter(flow_log.log_group).datapoints(
        metrics.log_events(records, flow_log, lab))
    spec = alarms.lesson_alarms(lab.nat_gateway_id, flow_log.log_group)[3]
    return evaluate.evaluate_alarm(spec, rejected, start="2021-12-20T00:00:00Z",
                                   end="2021-12-20T02:00:00Z")


def _stamp(when: pd.Timestamp) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def answers(alarm):
    """A block at the alarm, a second request, and the expiry, as the handler answers them."""
    when = alarm.transitions.query("new_state == 'ALARM'")["time"].iloc[0]
    until = when + pd.Timedelta(minutes=60)
    who = "alarm High-Reject-Rate via arn:aws:sns:ap-northeast-2:123456789012:network-alerts"
    block = {"cidr": f"{SCANNER}/32", "rule_number": 50, "directions": ["ingress"],
             "blocked_at": _stamp(when), "until": _stamp(until), "who": who, "why": "alarm"}
    return (
        {"time": _stamp(when), "expired": [], "blocks": [block], "results": [
            {"status": "blocked", "action": "block", "address": SCANNER,
             "cidr": f"{SCANNER}/32", "rule_number": 50, "directions": ["ingress"],
             "until": _stamp(until), "reason": "alarm High-Reject-Rate: ..."}]},
        {"time": _stamp(when + pd.Timedelta(minutes=4)), "expired": [], "blocks": [block],
         "results": [{"status": "already_blocked", "action": "block", "address": SCANNER,
                      "cidr": f"{SCANNER}/32", "rule_number": 50,
                      "directions": ["ingress"], "until": _stamp(until), "reason": "finding"}]},
        {"time": _stamp(until), "results": [], "blocks": [],
         "expired": [{**block, "why": "ttl"}]},
    )


@pytest.fixture(scope="module")
def case(records, alarm, answers, blocked):
    return incident.Incident(SCANNER, records, detect.detect(records), alarm, answers,
                             blocked=blocked)


# --- the lesson's rule and a change of rules --------------------------------------------------


def test_the_lessons_block_lets_the_attacker_through_the_security_group(lab):
    opened = incident.with_lesson_rule(lab, SCANNER)
    web_sg = lab.interface("web").security_group_ids[0]
    [added] = set(opened.security_group(web_sg).rules) - set(lab.security_group(web_sg).rules)
    assert (added.direction, added.protocol, added.cidr) == ("ingress", traffic.ALL,
                                                             f"{SCANNER}/32")
    assert added.description == incident.LESSON_RULE
    # MySQL was closed by the security group; the lesson's rule opens it (the network ACL
    # allows 1024-65535). SSH stays closed only because the network ACL says so.
    assert traffic.check(lab, "web", "ingress", SCANNER, 6, 3306).action == "REJECT"
    assert traffic.check(opened, "web", "ingress", SCANNER, 6, 3306).action == "ACCEPT"
    assert "network ACL" in traffic.check(opened, "web", "ingress", SCANNER, 6, 22).reason
    # Nothing else changes: another address, another instance's group.
    assert traffic.check(opened, "web", "ingress", "203.0.113.67", 6, 3306).action == "REJECT"
    private_sg = lab.interface("private").security_group_ids[0]
    assert opened.security_group(private_sg) == lab.security_group(private_sg)


@pytest.mark.parametrize("address", ["attacker", "203.0.113.300", 42, None])
def test_the_lessons_rule_needs_an_address(lab, address):
    with pytest.raises(TrafficError, match="must be an IPv4 address"):
        incident.with_lesson_rule(lab, address)


def test_the_lessons_rule_needs_a_topology():
    with pytest.raises(TrafficError, match="Topology"):
        incident.with_lesson_rule("lab", SCANNER)


def test_rules_changed_at_a_time(records, blocked):
    at = pd.Timestamp("2021-12-20T01:42:00Z")
    both = incident.judged_at(records, blocked, at)
    cut = int(at.timestamp())
    early, late = both[both["start"] < cut], both[both["start"] >= cut]
    assert len(early) == (records["start"] < cut).sum()
    assert len(late) == (blocked["start"] >= cut).sum()
    scan = both[both["srcaddr"] == SCANNER]
    assert (scan[scan["start"] >= cut]["action"] == "REJECT").all()
    assert both["start"].is_monotonic_increasing


def test_rules_changed_at_needs_records(records):
    with pytest.raises(TrafficError, match="DataFrame of flow-log records"):
        incident.judged_at(records, [], "2021-12-20T01:42:00Z")
    with pytest.raises(TrafficError, match="lack the column"):
        incident.judged_at(records, records.drop(columns="action"), 0)


# --- the timeline -----------------------------------------------------------------------------


def test_the_timeline_is_in_time_order_with_the_playbooks_stages(case):
    events = case.timeline()
    assert list(events.columns) == ["시각 (UTC)", "단계", "사건", "근거"]
    assert events["시각 (UTC)"].is_monotonic_increasing
    assert set(events["단계"]) <= {incident.ATTACK, *incident.STAGES}
    first = events.iloc[0]
    scan = case.attack
    assert first["단계"] == incident.ATTACK
    assert first["시각 (UTC)"] == pd.Timestamp(int(scan["start"].min()), unit="s").strftime(
        "%Y-%m-%d %H:%M:%S")


def test_the_timeline_shows_the_alarm_the_block_and_the_expiry(case, alarm):
    events = case.timeline().set_index("사건")
    went = alarm.transitions.query("new_state == 'ALARM'")["time"].iloc[0]
    alarm_row = events.loc["경보 High-Reject-Rate: OK → ALARM"]
    assert alarm_row["시각 (UTC)"] == f"{went:%Y-%m-%d %H:%M:%S}"
    assert alarm_row["단계"] == incident.STAGES[0]
    value = alarm.evaluations.set_index("time").loc[went, "datapoints"][-1]
    assert f"RejectedFlows {value:,.0f} > 100" in alarm_row["근거"]
    block = [e for e in events.index if e.startswith("대응 함수: 네트워크 ACL 거부 항목 추가")]
    assert block == [f"대응 함수: 네트워크 ACL 거부 항목 추가 (규칙 50, {SCANNER}/32, 인바운드)"]
    assert "SNS 주제 network-alerts" in events.loc[block[0], "근거"]
    assert events.loc[f"대응 함수: 이미 차단됨 (규칙 50, {SCANNER}/32), 변경 없음", "단계"] == \
        incident.STAGES[1]
    expiry = events.loc[f"대응 함수: 차단 만료(TTL), 규칙 50 삭제 ({SCANNER}/32)"]
    assert expiry["단계"] == incident.STAGES[2]
    assert expiry["시각 (UTC)"] == f"{went + pd.Timedelta(minutes=60):%Y-%m-%d %H:%M:%S}"


def test_the_arrival_of_the_alarms_records_is_estimated_per_destination(case, records, alarm):
    went = alarm.transitions.query("new_state == 'ALARM'")["time"].iloc[0]
    minute = int(went.timestamp()) - 60
    part = records[(records["action"] == "REJECT") & (records["start"] >= minute)
                   & (records["start"] < minute + 60)]
    assert len(part) > 100
    published = (part["start"].astype("int64") + 60).clip(lower=part["end"].astype("int64"))
    ready = int(published.sort_values().iloc[100])  # the 101st record crosses "> 100"
    assert case.arrivals == {
        "cloud-watch-logs": pd.Timestamp(ready + TYPICAL_DELIVERY["cloud-watch-logs"],
                                         unit="s", tz="UTC"),
        "s3": pd.Timestamp(ready + TYPICAL_DELIVERY["s3"], unit="s", tz="UTC")}
    rows = case.timeline()
    rows = rows[rows["사건"].str.startswith("추정:")]
    assert list(rows["사건"]) == ["추정: 경보 데이터 포인트의 레코드가 CloudWatch Logs에 도착",
                                "추정: 경보 데이터 포인트의 레코드가 S3에 도착"]
    assert "최선의 노력" in rows["근거"].iloc[0]


def test_no_alarm_no_arrival(records, answers, lab):
    quiet = evaluate.evaluate_alarm(
        alarms.lesson_alarms(lab.nat_gateway_id, "/aws/vpc/flowlogs")[3],
        pd.Series([5.0] * 10, index=pd.date_range("2021-12-20", periods=10, freq="1min",
                                                  tz="UTC")))
    case = incident.Incident(SCANNER, records, detect.detect(records), quiet)
    assert case.arrivals == {}
    assert case.block_time is None
    assert not case.timeline()["사건"].str.startswith("추정").any()
    assert "aws_block_time" not in case.impact_facts()


# --- impact and report ------------------------------------------------------------------------


def test_the_impact_is_counted_from_the_records(case, records, blocked):
    facts = case.impact_facts()
    scan = records[records["srcaddr"] == SCANNER]
    assert facts["records"] == len(scan) and facts["ports"] == scan["dstport"].nunique()
    assert facts["rejected"] + facts["accepted"] == len(scan)
    assert facts["open_ports"] == [80, 443]  # what the web instance answers
    assert facts["targets"] == [traffic.default_topology().interface("web").private_ip]
    cut = int(case.block_time.timestamp())
    later = blocked[(blocked["srcaddr"] == SCANNER) & (blocked["start"] >= cut)]
    assert facts["after_block"] == facts["after_block_rejected"] == len(later) > 0
    assert facts["others_before"] == facts["others_after"]  # the block touches nobody else
    aws = int(facts["aws_block_time"].timestamp())
    assert facts["after_aws_block"] == int(((blocked["srcaddr"] == SCANNER)
                                            & (blocked["start"] >= aws)).sum())
    table = case.impact()
    assert list(table.columns) == ["항목", "값"]
    assert f"{len(scan):,}개" in table.set_index("항목").loc["공격자가 보낸 레코드", "값"]


def test_the_report_holds_the_lessons_four_elements(case):
    text = case.report(lessons=["추가 교훈"])
    for heading in ("사고 발생 시간 및 경위", "대응 조치 내역", "영향 범위 및 피해 규모",
                    "개선 사항 및 교훈"):
        assert f"#### {heading}" in text
    assert text.rstrip().endswith("- 추가 교훈")
    # Every time in the report is one of the timeline's, or a computed fact's.
    facts = case.impact_facts()
    windows = case.findings.loc[case.findings["srcaddr"] == SCANNER, ["start", "end"]]
    known = {t[11:] for t in case.timeline()["시각 (UTC)"]} | {
        f"{facts[k]:%H:%M:%S}" for k in ("start", "end", "block_time", "aws_block_time")} | {
        f"{pd.Timestamp(int(t), unit='s'):%H:%M:%S}" for t in windows.to_numpy().ravel()}
    found = set(re.findall(r"\b\d\d:\d\d:\d\d\b", text))
    assert found and found <= known
    assert "흐름 로그는 실시간이 아닙니다" in text


# --- bad arguments ----------------------------------------------------------------------------


def test_bad_arguments_say_what_is_needed(records, alarm):
    findings = detect.detect(records)
    with pytest.raises(TrafficError, match="nothing from the attacker"):
        incident.Incident(ADMIN, records, findings, alarm)
    with pytest.raises(TrafficError, match="IPv4 address"):
        incident.Incident("scanner", records, findings, alarm)
    with pytest.raises(DetectError, match="detect.detect"):
        incident.Incident(SCANNER, records, findings[["srcaddr"]], alarm)
    with pytest.raises(MonitoringError, match="AlarmTimeline"):
        incident.Incident(SCANNER, records, findings, alarm.transitions)
    with pytest.raises(ResponseError, match="cloud.respond"):
        incident.Incident(SCANNER, records, findings, alarm, answers=[{"status": "blocked"}])


def test_exposure_counts_what_an_address_sent(records):
    seen = incident.exposure(records, SCANNER)
    sent = records[records["srcaddr"] == SCANNER]
    assert seen == {"records": len(sent), "rejected": int((sent["action"] == "REJECT").sum()),
                    "accepted": int((sent["action"] == "ACCEPT").sum()),
                    "ports": sent["dstport"].nunique(), "open_ports": [80, 443]}
    assert incident.exposure(records, ADMIN)["records"] == 0
    with pytest.raises(TrafficError, match="IPv4 address"):
        incident.exposure(records, "scanner")
