"""Self-check questions of notebook 04 (네트워크 트래픽 분석).

Every question is asked about :data:`EXERCISE_DAY`, a day the notebook never prints: another
seed and another mix of scenarios than the notebook's own days. The notebook prints the
settings from here, so its text and the computed answers cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from helpers import cost, detect, traffic
from helpers.selfcheck.core import Question, as_number, register
from helpers.traffic.hosts import HOSTS

__all__ = ["EXERCISE_DAY", "KST", "MIRROR", "REJECT_WINDOW", "exercise_records"]

EXERCISE_DAY = {"scenarios": ["web_baseline", "internet_noise", "lab_download",
                              "port_scan_inbound", "ssh_brute_force", "ddos",
                              "data_exfiltration"],
                "seed": 202, "duration": "1d"}
"""The day every question is about: ``traffic.generate(**EXERCISE_DAY)``."""

REJECT_WINDOW = {"seconds": 300, "rate": 0.20}
"""04-1: five-minute windows (from 00:00 UTC) and the lesson's 'abnormal' reject rate."""

MIRROR = HOSTS["mirror"]
"""04-4: the internet host the private instance downloads from (lab 2's large download)."""

KST = "Asia/Seoul"
_GB = 2**30  # the course prices per GiB, as AWS bills (helpers.cost.BYTES_PER_GB)


@lru_cache(maxsize=1)
def exercise_records() -> pd.DataFrame:
    """The exercise day's records (generated once)."""
    return traffic.generate(**EXERCISE_DAY)


def _web_records(records: pd.DataFrame) -> pd.DataFrame:
    web = traffic.default_topology().interface("web").eni_id
    return records[(records["interface_id"] == web).to_numpy(bool, na_value=False) &
                   records["action"].notna().to_numpy(bool, na_value=False)]


def _windows_over(records: pd.DataFrame, seconds: int) -> int:
    """Windows of ``seconds`` whose share of REJECT records is above the rate."""
    window = records["start"].to_numpy(np.int64) // seconds
    rejected = (records["action"] == "REJECT").to_numpy(bool, na_value=False)
    rate = pd.Series(rejected).groupby(window).mean()
    return int((rate > REJECT_WINDOW["rate"]).sum())


# --- 04-1 ---------------------------------------------------------------------------------------


def _windows_answer() -> int:
    return _windows_over(_web_records(exercise_records()), REJECT_WINDOW["seconds"])


def _why_windows(given: int, expected: int) -> str | None:
    web = _web_records(exercise_records())
    if given == _windows_over(web, 3600):
        return "1시간 창으로 셌습니다. 짧은 공격은 1시간 평균에 묻힙니다. 5분 창으로 세세요."
    if given == _windows_over(web, 60):
        return "1분 창으로 셌습니다. 문제의 창은 5분입니다."
    if given == len(detect.detect_reject_rate(exercise_records())):
        return ("탐지 건수를 셌습니다. detect_reject_rate는 이어진 창을 하나로 합치고 거부가 "
                "50건 미만인 창은 빼므로, 창의 수와 다릅니다.")
    return None


# --- 04-2 ---------------------------------------------------------------------------------------


def _ddos_start() -> pd.Timestamp:
    found = detect.detect_ddos(exercise_records())
    return pd.Timestamp(int(found["start"].min()), unit="s", tz="UTC")


def _ddos_answer() -> str:
    return _ddos_start().tz_convert(KST).strftime("%H:%M")


def as_clock(answer) -> str:
    """A time of day in KST as ``"HH:MM"``: text such as ``"21:52"``, ``"21시 52분"``,
    ``"12:52 UTC"`` (converted), or a datetime (naive means KST)."""
    if isinstance(answer, (dt.datetime, pd.Timestamp)):
        stamp = pd.Timestamp(answer)
        stamp = stamp.tz_localize(KST) if stamp.tzinfo is None else stamp.tz_convert(KST)
        return stamp.strftime("%H:%M")
    if not isinstance(answer, str):
        raise TypeError("'HH:MM' 형식의 글자로 답하세요")
    text = answer.strip().upper()
    utc = bool(re.search(r"(UTC|Z)$", text))
    text = re.sub(r"\s*(KST|UTC|Z)$", "", text)
    match = re.fullmatch(r"(\d{1,2})\s*(?::|시)\s*(\d{1,2})\s*(?:분)?(?::\d{2})?", text)
    if match is None:
        raise ValueError("'HH:MM' 형식으로 답하세요")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{hour}:{minute:02d}는 하루의 시각이 아닙니다")
    return f"{(hour + 9 * utc) % 24:02d}:{minute:02d}"


def _why_clock(given: str, expected: str) -> str | None:
    if given == _ddos_start().strftime("%H:%M"):
        return "UTC 시각을 KST라고 답했습니다. KST는 UTC+9입니다."
    hours, minutes = (int(x) for x in given.split(":"))
    want_hours, want_minutes = (int(x) for x in expected.split(":"))
    gap = abs((hours * 60 + minutes) - (want_hours * 60 + want_minutes))
    if min(gap, 1440 - gap) <= 10:
        return "거의 맞습니다. detect_ddos가 보고한 start(1분 창의 시작)를 KST로 바꾸세요."
    return None


# --- 04-3 ---------------------------------------------------------------------------------------


def _brute_force_sources() -> int:
    return int(detect.detect_ssh_brute_force(exercise_records())["srcaddr"].nunique())


def _why_sources(given: int, expected: int) -> str | None:
    records = exercise_records()
    web = _web_records(records)
    rejected_22 = web[(web["dstport"] == 22).to_numpy(bool, na_value=False) &
                      (web["action"] == "REJECT").to_numpy(bool, na_value=False)]
    if given == rejected_22["srcaddr"].nunique():
        return ("22번에서 거부된 소스를 모두 셌습니다. 인터넷 잡음(소스마다 1~3번 두드림)도 "
                "들어갑니다. 무차별 대입은 5분에 10번 이상 시도한 소스입니다.")
    if given == len(detect.detect_ssh_brute_force(records)):
        return "탐지 건수를 셌습니다. 한 소스가 여러 번 탐지될 수 있으니 소스 주소를 세세요."
    return None


# --- 04-4 ---------------------------------------------------------------------------------------


def _mirror_legs() -> tuple[int, int]:
    """Bytes the NAT gateway received from the private instance toward the mirror (upload)
    and from the mirror (download): the two legs its data-processing charge counts."""
    lab = traffic.default_topology()
    nat = lab.interface("nat")
    records = exercise_records()
    legs = records[(records["interface_id"] == nat.eni_id).to_numpy(bool, na_value=False) &
                   (records["action"] == "ACCEPT").to_numpy(bool, na_value=False) &
                   (records["dstaddr"] == nat.private_ip).to_numpy(bool, na_value=False)]
    upload = legs[(legs["pkt_dstaddr"] == MIRROR).to_numpy(bool, na_value=False)]["bytes"].sum()
    download = legs[(legs["srcaddr"] == MIRROR).to_numpy(bool, na_value=False)]["bytes"].sum()
    return int(upload), int(download)


def _nat_price() -> float:
    return float(cost.tiers("nat_gateway_data")[0][2])


def _endpoint_answer() -> float:
    return sum(_mirror_legs()) / _GB * _nat_price()


def _why_endpoint(given: float, expected: float) -> str | None:
    upload, download = _mirror_legs()
    price = _nat_price()

    def near(value: float) -> bool:
        return abs(given - value) <= 0.01 * value

    if near(download / _GB * price):
        return ("다운로드 방향(BytesInFromDestination)만 셌습니다. NAT 게이트웨이는 인스턴스가 "
                "보낸 바이트(BytesInFromSource)도 처리하고 요금을 매깁니다.")
    if near(2 * expected):
        return ("같은 바이트를 두 번 셌습니다. NAT 인터페이스에는 구간마다 들어오는 레코드와 "
                "나가는 레코드가 있으니, NAT로 들어오는 두 구간만 더하세요.")
    if near((upload + download) / 1e9 * price):
        return "1 GB를 10^9바이트로 계산했습니다. 이 과정의 가격표는 1 GB = 2^30바이트입니다."
    return None


def _whole(answer) -> int:
    """A count: a whole number, or text such as ``"5"`` or ``"5개"``."""
    if isinstance(answer, str):
        answer = re.sub(r"\s*(개|건|곳)$", "", answer.strip())
    value = as_number(answer)
    if not value.is_integer():
        raise ValueError(f"{value}: 개수는 정수입니다")
    return int(value)


register({
    "04-1": Question("analysis.reject_rates(records, lab, '5min')에서 role이 web인 창만 골라 "
                     "rate가 0.2를 넘는 창을 세세요.",
                     _windows_answer, _whole, explain=_why_windows),
    "04-2": Question("detect.detect_ddos의 start(epoch 초, UTC)를 KST로 바꾸세요.",
                     _ddos_answer, as_clock, explain=_why_clock),
    "04-3": Question("detect.detect_ssh_brute_force의 srcaddr를 중복 없이 세세요.",
                     _brute_force_sources, _whole, explain=_why_sources),
    "04-4": Question("analysis.nat_processed로 그 주소의 바이트(업로드 + 다운로드)를 구하고 "
                     "GB(2^30바이트)로 바꿔 NAT 게이트웨이 데이터 처리 단가를 곱하세요.",
                     _endpoint_answer, as_number, tolerance=0.01, explain=_why_endpoint),
})
