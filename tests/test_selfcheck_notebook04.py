"""Notebook 04's self-check: right, equivalent and wrong answers, each wrong one explained."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers import analysis, cost, detect, selfcheck, traffic
from helpers.selfcheck import notebook04

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04-traffic-analysis.ipynb"
LAB = traffic.default_topology()


def expected(question):
    return selfcheck.QUESTIONS[question].expected()


def verdict(question, answer, capsys) -> str:
    selfcheck.check(question, answer)
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def day():
    return notebook04.exercise_records()


def test_the_exercise_day_is_not_a_day_the_notebook_prints():
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells)
    assert f"SEED = {notebook04.EXERCISE_DAY['seed']}" not in source
    assert "notebook04.EXERCISE_DAY" in source and "notebook04.MIRROR" in source


def test_every_question_is_unanswered_in_the_saved_notebook():
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    checks = [c for c in cells if c.cell_type == "code" and "selfcheck.check(\"04-" in c.source]
    assert len(checks) == 4
    for cell in checks:
        assert "= ...\n" in cell.source
        assert "아직 답을 입력하지 않았습니다" in cell.outputs[-1]["text"]


# --- 04-1: five-minute windows above 20 % ---------------------------------------------------------


def test_windows_match_the_analysis_helper(day):
    rates = analysis.reject_rates(day, LAB, "5min").query("role == 'web'")
    assert expected("04-1") == int((rates["rate"] > 0.20).sum()) > 0


@pytest.mark.parametrize("form", [lambda n: n, str, lambda n: f"{n}개", float])
def test_windows_accept_equivalent_forms(form, capsys):
    assert "정답입니다" in verdict("04-1", form(expected("04-1")), capsys)


def test_windows_counted_by_the_hour_are_explained(day, capsys):
    web = analysis.traffic_records(day, LAB.interface("web").eni_id)
    hourly = analysis.reject_rates(day, LAB, "1h").query("role == 'web'")
    assert len(web) and int((hourly["rate"] > 0.2).sum()) != expected("04-1")
    assert "1시간 창" in verdict("04-1", int((hourly["rate"] > 0.2).sum()), capsys)


def test_windows_counted_as_findings_are_explained(day, capsys):
    findings = len(detect.detect_reject_rate(day))
    assert findings != expected("04-1")
    assert "탐지 건수" in verdict("04-1", findings, capsys)


def test_a_fraction_of_a_window_is_not_a_count(capsys):
    assert "정수" in verdict("04-1", expected("04-1") + 0.5, capsys)


# --- 04-2: when the DDoS started, in KST ----------------------------------------------------------


def test_the_ddos_start_is_the_detectors_window_in_kst(day):
    start = pd.Timestamp(int(detect.detect_ddos(day)["start"].min()), unit="s", tz="UTC")
    assert expected("04-2") == start.tz_convert("Asia/Seoul").strftime("%H:%M")


def test_equivalent_times_are_accepted(day, capsys):
    start = pd.Timestamp(int(detect.detect_ddos(day)["start"].min()), unit="s", tz="UTC")
    kst = start.tz_convert("Asia/Seoul")
    for answer in (kst.strftime("%H:%M"), kst.strftime("%H:%M KST"), kst.strftime("%H시 %M분"),
                   start.strftime("%H:%M UTC"), start, kst.tz_localize(None).to_pydatetime()):
        assert "정답입니다" in verdict("04-2", answer, capsys), answer


def test_a_utc_time_given_as_kst_is_explained(day, capsys):
    start = pd.Timestamp(int(detect.detect_ddos(day)["start"].min()), unit="s", tz="UTC")
    assert "KST는 UTC+9" in verdict("04-2", start.strftime("%H:%M"), capsys)


def test_a_near_miss_and_a_bad_format_are_explained(capsys):
    hours, minutes = (int(x) for x in expected("04-2").split(":"))
    near = f"{hours:02d}:{(minutes + 3) % 60:02d}"
    assert "거의 맞습니다" in verdict("04-2", near, capsys)
    assert "HH:MM" in verdict("04-2", "noon", capsys)
    assert "하루의 시각이 아닙니다" in verdict("04-2", "25:10", capsys)


# --- 04-3: SSH brute-force sources ----------------------------------------------------------------


def test_brute_force_sources_are_the_scenarios_attackers(day):
    attackers = day.loc[day["label"] == "ssh_brute_force", "srcaddr"].nunique()
    assert expected("04-3") == attackers > 0


def test_every_source_rejected_on_22_is_explained(day, capsys):
    web = analysis.traffic_records(day, LAB.interface("web").eni_id)
    rejected = web[(web["dstport"] == 22) & (web["action"] == "REJECT")]["srcaddr"].nunique()
    assert rejected > expected("04-3")
    assert "인터넷 잡음" in verdict("04-3", rejected, capsys)
    assert "정답입니다" in verdict("04-3", f"{expected('04-3')}개", capsys)


# --- 04-4: what an S3 gateway endpoint would save -------------------------------------------------


def test_the_saving_is_the_nat_charge_on_the_mirrors_bytes(day):
    processed = analysis.nat_processed(day, LAB).set_index("peer")
    price = cost.prices().query("item == 'nat_gateway_data'")["price_usd"].iloc[0]
    gb = processed.loc[notebook04.MIRROR, "bytes"] / 2**30
    assert expected("04-4") == pytest.approx(gb * price)
    assert processed.loc[notebook04.MIRROR, "label"] == "lab_download"


def test_the_saving_accepts_text_and_a_small_error(capsys):
    value = expected("04-4")
    assert "정답입니다" in verdict("04-4", f"${value:.2f}", capsys)
    assert "정답입니다" in verdict("04-4", value * 1.008, capsys)
    assert "다시 생각해 보세요" in verdict("04-4", value * 1.05, capsys)


def test_wrong_savings_are_explained(day, capsys):
    upload, download = notebook04._mirror_legs()
    price = cost.prices().query("item == 'nat_gateway_data'")["price_usd"].iloc[0]
    assert "다운로드 방향" in verdict("04-4", download / 2**30 * price, capsys)
    assert "두 번 셌습니다" in verdict("04-4", 2 * expected("04-4"), capsys)
    assert "10^9" in verdict("04-4", (upload + download) / 1e9 * price, capsys)
