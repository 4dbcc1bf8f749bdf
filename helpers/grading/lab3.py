"""Lab 3 (사고 조사): find the scanner, the brute-force target, the exfiltration and its window.

Notebooks 01–03 (reading records, Insights) and the lesson's 보안 이벤트 탐지 및 대응. Each
student gets three hours of their own VPC's traffic: the web baseline and internet noise, and in
it a port scan, an SSH brute force, an exfiltration by the private instance through the NAT
gateway, and a large legitimate download as a decoy. The answers are defined by rules on the
records, which the questions state; ``tests/test_labs.py`` checks that the rules find what the
generator's ground-truth ``label`` says, seed after seed.

1. ``find_scanner(df)``: the source rejected on the most distinct destination ports.
2. ``brute_force_target(df)``: the (destination address, port) with the most REJECT records.
3. ``exfiltration(df)``: (internal host, internet address) of the pair with the most bytes
   sent from the VPC to the internet, the host being the instance, not the NAT gateway.
4. ``exfiltration_window(df)``: the first ``start`` and last ``end`` of the records between
   that pair (either direction, any interface).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

import numpy as np
import pandas as pd

from helpers.grading.core import (
    Mismatch,
    answer_key,
    as_address,
    as_epoch,
    as_int,
    call,
    make_records,
    resolve_seed,
)

__all__ = ["SCENARIOS", "brute_force_target", "check_brute_force", "check_exfiltration",
           "check_scanner", "check_window", "exfiltration", "exfiltration_window",
           "find_scanner", "labelled_data", "student_data", "truth"]

LAB = "lab3"
SCENARIOS = ("web_baseline", "internet_noise", "port_scan_inbound", "ssh_brute_force",
             "data_exfiltration", "lab_download")
DURATION = "3h"
WINDOW_TOLERANCE = 60
"""Seconds a window's ends may be off: one aggregation interval."""
VPC = ipaddress.ip_network("10.0.0.0/16")


@lru_cache(maxsize=4)
def _records(seed: int) -> pd.DataFrame:
    return make_records(seed, SCENARIOS, DURATION)


def labelled_data(student_id=None, *, seed=None) -> pd.DataFrame:
    """The records with the generator's ground-truth ``label`` (for the lab's own tests)."""
    return _records(resolve_seed(LAB, student_id, seed)).copy()


def student_data(student_id=None, *, seed=None) -> pd.DataFrame:
    """A student's three hours of flow-log records (the ``label`` column removed)."""
    return _records(resolve_seed(LAB, student_id, seed)).drop(columns="label")


def _internal(addresses: pd.Series) -> pd.Series:
    """Whether each address is in the VPC (missing: False), computed once per address."""
    codes, uniques = pd.factorize(addresses)
    inside = np.array([ipaddress.ip_address(a) in VPC for a in uniques] + [False])
    return pd.Series(inside[codes], index=addresses.index)


# --- answer keys (the rules the questions state) ---------------------------------------------


@answer_key
def find_scanner(df: pd.DataFrame) -> str:
    """The source address rejected on the most distinct destination ports."""
    rejected = df[df["action"] == "REJECT"]
    return str(rejected.groupby("srcaddr")["dstport"].nunique().idxmax())


@answer_key
def brute_force_target(df: pd.DataFrame) -> tuple[str, int]:
    """The (destination address, destination port) with the most REJECT records."""
    rejected = df[df["action"] == "REJECT"]
    address, port = rejected.groupby(["dstaddr", "dstport"]).size().idxmax()
    return str(address), int(port)


def _nat_addresses(df: pd.DataFrame) -> set[str]:
    """Addresses that appear as a record's ``srcaddr`` while ``pkt_srcaddr`` differs: the NAT
    gateway's interface (an intermediate hop)."""
    hop = df[df["srcaddr"] != df["pkt_srcaddr"]]
    return set(hop.loc[_internal(hop["srcaddr"]), "srcaddr"].dropna())


@answer_key
def exfiltration(df: pd.DataFrame) -> tuple[str, str]:
    """(internal host, internet address) of the pair with the most bytes sent VPC → internet,
    the NAT gateway's own address excluded."""
    src_in, dst_in = _internal(df["srcaddr"]), _internal(df["dstaddr"])
    out = df[src_in & ~dst_in & df["dstaddr"].notna() & ~df["srcaddr"].isin(_nat_addresses(df))]
    src, dst = out.groupby(["srcaddr", "dstaddr"])["bytes"].sum().idxmax()
    return str(src), str(dst)


@answer_key
def exfiltration_window(df: pd.DataFrame) -> tuple[int, int]:
    """The first ``start`` and last ``end`` (epoch seconds) of the records between the pair."""
    host, target = exfiltration(df)
    ends = {host, target}
    pair = df[(df["pkt_srcaddr"].isin(ends) & df["pkt_dstaddr"].isin(ends))
              | (df["srcaddr"].isin(ends) & df["dstaddr"].isin(ends))]
    return int(pair["start"].min()), int(pair["end"].max())


def truth(df: pd.DataFrame) -> dict:
    """What the generator's labels say (``df`` with its ``label`` column)."""
    scan = df[df["label"] == "port_scan_inbound"]
    brute = df[(df["label"] == "ssh_brute_force") & (df["action"] == "REJECT")]
    exfil = df[df["label"] == "data_exfiltration"]
    first = exfil[exfil["srcaddr"] == exfil["pkt_srcaddr"]].iloc[0]
    host, target = (first["srcaddr"], first["dstaddr"]) if _internal(
        pd.Series([first["srcaddr"]])).iloc[0] else (first["dstaddr"], first["srcaddr"])
    return {"scanner": scan["srcaddr"].mode().iloc[0],
            "brute_force_target": (brute["dstaddr"].mode().iloc[0], 22),
            "exfiltration": (host, target),
            "window": (int(exfil["start"].min()), int(exfil["end"].max()))}


# --- checks ---------------------------------------------------------------------------------


def _pair(value, name: str, size: int = 2) -> tuple:
    if isinstance(value, (pd.Series, pd.Index)):
        value = tuple(value)
    if isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, tuple) or len(value) != size:
        raise Mismatch(f"`{name}`는 값 {size}개의 튜플을 돌려줘야 합니다 "
                       f"(받은 값: {type(value).__name__}).")
    return value


def _address(value, name: str) -> str:
    try:
        return as_address(value)
    except ValueError:
        raise Mismatch(f"`{name}`가 IP 주소가 아닌 값 {value!r}을(를) 돌려주었습니다.") from None


def check_scanner(fn, student_id=None, *, seed=None) -> None:
    """``fn(df)`` names the scanner."""
    df = student_data(student_id, seed=seed)
    given = _address(call(fn, "find_scanner", df.copy()), "find_scanner")
    if given != find_scanner(df):
        raise Mismatch(f"`find_scanner`가 돌려준 {given}은(는) 스캐너가 아닙니다. REJECT "
                       "레코드에서 소스별로 서로 다른 대상 포트 수를 세어 보세요.")


def check_brute_force(fn, student_id=None, *, seed=None) -> None:
    """``fn(df)`` gives the brute-force target as (address, port)."""
    df = student_data(student_id, seed=seed)
    address, port = _pair(call(fn, "brute_force_target", df.copy()), "brute_force_target")
    address = _address(address, "brute_force_target")
    try:
        port = as_int(port)
    except ValueError:
        raise Mismatch(f"`brute_force_target`의 포트 {port!r}가 정수가 아닙니다.") from None
    want_address, want_port = brute_force_target(df)
    if address != want_address:
        raise Mismatch(f"`brute_force_target`의 주소 {address}가 공격 대상이 아닙니다. 대상 "
                       "주소와 포트의 조합별로 REJECT 레코드를 세어 보세요.")
    if port != want_port:
        raise Mismatch(f"`brute_force_target`의 포트 {port}가 맞지 않습니다.")


def check_exfiltration(fn, student_id=None, *, seed=None) -> None:
    """``fn(df)`` gives (internal host, internet address) of the exfiltration."""
    df = student_data(student_id, seed=seed)
    host, target = _pair(call(fn, "exfiltration", df.copy()), "exfiltration")
    host, target = _address(host, "exfiltration"), _address(target, "exfiltration")
    want_host, want_target = exfiltration(df)
    if host in _nat_addresses(df):
        raise Mismatch(f"{host}는 NAT 게이트웨이의 주소입니다. 데이터를 보낸 인스턴스는 "
                       "`pkt_srcaddr`에 보입니다.")
    if (host, target) == (want_target, want_host):
        raise Mismatch("`exfiltration`의 두 주소 순서가 바뀌었습니다: (내부 호스트, 인터넷 "
                       "주소) 순서로 돌려주세요.")
    if host != want_host or target != want_target:
        raise Mismatch(f"`exfiltration`이 돌려준 ({host}, {target})는 유출 쌍이 아닙니다. "
                       "VPC 안에서 밖으로 **보낸** 바이트만 더했는지(다운로드 제외) 확인하세요.")


def check_window(fn, student_id=None, *, seed=None) -> None:
    """``fn(df)`` gives the exfiltration's (start, end), each within a minute."""
    df = student_data(student_id, seed=seed)
    start, end = _pair(call(fn, "exfiltration_window", df.copy()), "exfiltration_window")
    try:
        start, end = as_epoch(start), as_epoch(end)
    except ValueError:
        raise Mismatch("`exfiltration_window`의 값은 시각(epoch 초, ISO 문자열 또는 "
                       "Timestamp)이어야 합니다.") from None
    want_start, want_end = exfiltration_window(df)
    if abs(start - want_start) > WINDOW_TOLERANCE:
        raise Mismatch("`exfiltration_window`의 시작 시각이 맞지 않습니다 (1분까지 "
                       "허용). 유출 쌍 사이의 레코드 중 가장 이른 start를 보세요.")
    if abs(end - want_end) > WINDOW_TOLERANCE:
        raise Mismatch("`exfiltration_window`의 끝 시각이 맞지 않습니다 (1분까지 허용). "
                       "유출 쌍 사이의 레코드 중 가장 늦은 end를 보세요.")
