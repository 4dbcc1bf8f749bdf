"""Self-check questions of notebook 03 (CloudWatch 네트워크 모니터링).

Every question is about the notebook's simulated six hours (:data:`DAY`): the notebook builds
its day from these settings and prints them, so its text and the computed answers cannot
drift apart.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd

from helpers import flowlogs, insights, traffic
from helpers.errors import InsightsWarning
from helpers.monitoring import alarms, evaluate, metrics
from helpers.selfcheck.core import Question, register

__all__ = ["DAY", "DEFAULT_GROUP", "MODE_GOAL", "QUERY_GOAL", "delivered", "day_metrics"]

DAY = {"scenarios": ["web_baseline", "lab_background", "internet_noise", "lab_download",
                     "data_exfiltration", "port_scan_inbound", "ssh_brute_force", "ddos"],
       "seed": 3, "duration": "6h", "stop": "2021-12-20T05:30:00Z",
       "end": "2021-12-20T06:30:00Z"}
"""The notebook's six hours: traffic.generate(scenarios, seed=3, duration="6h"); the flow log is
deleted at ``stop`` (no record starting later is delivered); alarms are evaluated to ``end``."""

DEFAULT_GROUP = "/aws/vpc/flowlogs"
MODE_GOAL = "NAT-Connection-Errors"
"""03-1: the alarm whose TreatMissingData the student chooses."""
QUERY_GOAL = {"nat_ip": "10.0.1.200", "vpc_cidr": "10.0.0.0/16"}
"""03-3: the NAT gateway's address and the VPC's range."""
EVALUATION_PERIODS = 3
"""03-4: FlowLogs-Missing with this many evaluation periods instead of 2."""

_DATE = dt.date(2021, 12, 20)
_MODES = {"missing": "missing", "notbreaching": "notBreaching", "breaching": "breaching",
          "ignore": "ignore"}
# The console's Korean choices for TreatMissingData, by a word each holds.
_CONSOLE = (("누락으로", "missing"), ("정상", "notBreaching"), ("위반", "breaching"),
            ("무시", "ignore"), ("유지", "ignore"))


@lru_cache(maxsize=1)
def _day() -> tuple[pd.DataFrame, object]:
    lab = traffic.default_topology()
    records = traffic.generate(DAY["scenarios"], topology=lab, seed=DAY["seed"],
                               duration=DAY["duration"])
    return records, lab


def delivered() -> pd.DataFrame:
    """The records the flow log delivered: those that started before it was deleted."""
    records, _ = _day()
    return records[records["start"] < int(pd.Timestamp(DAY["stop"]).timestamp())]


@lru_cache(maxsize=1)
def day_metrics() -> pd.DataFrame:
    """The NAT gateway's and the log group's metrics of the day, as the notebook derives them."""
    records, lab = _day()
    flow_log = flowlogs.FlowLog("fl-0a1b2c3d4e5f60000", lab.vpc_id, "ALL",
                                flowlogs.DEFAULT_FORMAT, "cloud-watch-logs",
                                log_group=DEFAULT_GROUP)
    return pd.concat([metrics.nat_metrics(records, lab),
                      metrics.log_group_metrics(delivered(), flow_log, lab)], ignore_index=True)


def _alarm(name: str) -> alarms.AlarmSpec:
    _, lab = _day()
    return next(a for a in alarms.lesson_alarms(lab.nat_gateway_id, DEFAULT_GROUP)
                if a.name == name)


# --- 03-1: TreatMissingData for a goal ------------------------------------------------------


def _mode(answer) -> str:
    if not isinstance(answer, str):
        raise TypeError("TreatMissingData 값을 문자열로 적으세요(예: \"missing\")")
    key = re.sub(r"[\s_\-`\"']", "", answer).lower()
    if key in _MODES:
        return _MODES[key]
    for word, mode in _CONSOLE:
        if word in answer:
            return mode
    return answer.strip()


def final_state(mode: str) -> str:
    """The state of :data:`MODE_GOAL` at the day's end with this TreatMissingData."""
    alarm = replace(_alarm(MODE_GOAL), treat_missing_data=mode)
    return evaluate.evaluate_alarm(alarm, day_metrics(), end=DAY["end"]).state


def _alarm_on_silence() -> str:
    """The one mode that puts the alarm in ALARM once its metric is gone."""
    chosen = [mode for mode in alarms.TREAT_MISSING if final_state(mode) == "ALARM"]
    assert len(chosen) == 1, chosen
    return chosen[0]


def _why_mode(given: str, expected: str) -> str | None:
    if given not in alarms.TREAT_MISSING:
        return f"{', '.join(alarms.TREAT_MISSING)} 중 하나를 고르세요."
    end = pd.Timestamp(DAY["end"])
    return f"`{given}`이면 {end:%H:%M} UTC의 상태는 {final_state(given)}입니다."


# --- 03-2 and 03-4: a minute of the day ----------------------------------------------------


def _minute(answer) -> pd.Timestamp:
    """A minute of the day in UTC: "03:16", "2021-12-20 03:16", "12:16 KST", a Timestamp."""
    if isinstance(answer, (pd.Timestamp, dt.datetime)):
        stamp = pd.Timestamp(answer)
    elif isinstance(answer, str):
        text = answer.strip()
        kst = "KST" in text.upper() or "+09" in text
        text = re.sub(r"(?i)\b(UTC|KST)\b", "", text).strip()
        if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
            text = f"{_DATE} {text}"
        stamp = pd.Timestamp(text)
        if kst and stamp.tzinfo is None:
            stamp = stamp.tz_localize("Asia/Seoul")
    else:
        raise TypeError("시각을 \"03:16\" 같은 문자열이나 Timestamp로 적으세요")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("min")


def _peak_download() -> pd.Timestamp:
    series = metrics.series(day_metrics(), "BytesInFromDestination")
    return series.idxmax()


def _why_minute(given: pd.Timestamp, expected: pd.Timestamp) -> str | None:
    gap = given - expected
    if gap == pd.Timedelta(hours=9):
        return "한국 시간(KST)으로 읽은 것 같습니다. UTC로 답하거나 \"KST\"를 붙이세요."
    if abs(gap) <= pd.Timedelta(minutes=5):
        return "가깝습니다. 5분 합계가 아니라 1분 값이 가장 큰 분을 찾으세요."
    return None


def _missing_alarm_time() -> pd.Timestamp:
    alarm = replace(_alarm("FlowLogs-Missing"), evaluation_periods=EVALUATION_PERIODS)
    timeline = evaluate.evaluate_alarm(alarm, day_metrics(), end=DAY["end"])
    alarmed = timeline.transitions[timeline.transitions["new_state"] == "ALARM"]
    return pd.Timestamp(alarmed["time"].iloc[0])


def _why_missing(given: pd.Timestamp, expected: pd.Timestamp) -> str | None:
    stop = pd.Timestamp(DAY["stop"])
    if given == stop + pd.Timedelta(minutes=5 * EVALUATION_PERIODS):
        return ("평가 기간 N개(5분씩)만 세었습니다. 평가할 때마다 CloudWatch는 N보다 많은 데이터 "
                "포인트를 가져오고(이 과정: N + 2개), 그 안에 실제 데이터 포인트가 하나라도 "
                "남아 있으면 그것으로 평가합니다.")
    return _why_minute(given, expected)


# --- 03-3: a Logs Insights query --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Result:
    """A query's result as rows of values (column names and orders do not matter)."""

    rows: tuple
    notes: tuple = ()

    def __eq__(self, other):
        return isinstance(other, _Result) and self.rows == other.rows

    __hash__ = None


def _value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _run(answer) -> _Result:
    if not isinstance(answer, str):
        raise TypeError("쿼리를 문자열로 적으세요")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InsightsWarning)
        result = insights.run(answer, delivered())
    notes = tuple(str(w.message) for w in caught if issubclass(w.category, InsightsWarning))
    rows = sorted(tuple(sorted(_value(v) for v in row))
                  for row in result.itertuples(index=False))
    return _Result(tuple(rows), notes)


def _in(value: str, network) -> bool:
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False


def _reference_query() -> str:
    goal = QUERY_GOAL
    return (f'filter srcAddr = "{goal["nat_ip"]}" and not isIpv4InSubnet(dstAddr, '
            f'"{goal["vpc_cidr"]}")\n| stats sum(bytes) as sent by dstAddr\n'
            f'| sort sent desc')


def _why_query(given: _Result, expected: _Result) -> str | None:
    if given.notes:
        fields = sorted(set(re.findall(r"field '([^']+)' does not exist", " ".join(given.notes))))
        if fields:
            return (f"Logs Insights가 찾지 못하는 필드: {', '.join(fields)}. 기본 형식의 필드 "
                    "이름은 camelCase(srcAddr, dstAddr, …)입니다.")
        return "Logs Insights가 경고한 부분이 있습니다: " + given.notes[0]
    vpc = ipaddress.ip_network(QUERY_GOAL["vpc_cidr"])
    inside = sorted({v for row in given.rows for v in row if _in(v, vpc)})
    if inside:
        return (f"VPC 안의 주소({', '.join(inside)})가 결과에 있습니다. NAT 게이트웨이가 "
                "인터넷 쪽으로 보낸 것만 남기세요(isIpv4InSubnet).")
    if len(given.rows) != len(expected.rows):
        return f"결과가 {len(given.rows)}행입니다. {len(expected.rows)}행이어야 합니다."
    if given.rows and len(given.rows[0]) != len(expected.rows[0]):
        return "열이 둘(대상 주소와 바이트 합)이어야 합니다."
    return ("행은 맞게 나왔지만 값이 다릅니다. NAT 게이트웨이가 보낸 레코드(srcAddr)와 VPC 밖의 "
            "대상(isIpv4InSubnet)으로 걸렀는지 확인하세요.")


register({
    "03-1": Question("alarms.TREAT_MISSING의 네 값으로 evaluate.evaluate_alarm을 해 보고, 데이터가 "
                     "끊긴 뒤의 상태를 비교하세요.", _alarm_on_silence, _mode, explain=_why_mode),
    "03-2": Question("metrics.series(nat, 'BytesInFromDestination')의 idxmax()", _peak_download,
                     _minute, explain=_why_minute),
    "03-3": Question("filter로 NAT 게이트웨이가 보낸 레코드(srcAddr)와 VPC 밖의 대상"
                     "(isIpv4InSubnet)을 고르고, stats sum(bytes) … by dstAddr를 쓰세요.",
                     _reference_query, _run,
                     explain=_why_query),
    "03-4": Question("replace(경보, evaluation_periods=...)로 바꿔 evaluate.evaluate_alarm을 하고, "
                     "ALARM으로 바뀐 시각을 보세요.", _missing_alarm_time, _minute,
                     explain=_why_missing),
})
