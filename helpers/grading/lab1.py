"""Lab 1 (흐름 로그 레코드): read records, reject rates per interface, ports and protocols.

Notebooks 01 and 02. Each student gets an hour of their own VPC's traffic (lab 2's commands
over the web baseline, internet noise, an SSH brute force and the admin's ping) and ten raw
lines of it in a custom format of their own. The questions:

1. ``interpret(line, log_format=None)``: the fields that matter of one raw record.
2. ``reject_rate(df)``: the share of REJECT among the records with an action, per interface.
3. ``top_rejected_ports(df, n=3)``: the destination ports with the most REJECT records.
4. ``accepted_bytes_by_protocol(df)``: bytes of ACCEPT records per protocol name.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from helpers import flowlogs, reference, traffic
from helpers.grading.core import (
    Mismatch,
    answer_key,
    as_address,
    as_int,
    as_mapping,
    as_number,
    call,
    close,
    is_missing,
    make_records,
    resolve_seed,
)

__all__ = ["FIELDS", "SCENARIOS", "accepted_bytes_by_protocol", "check_accepted_bytes",
           "check_interpret", "check_reject_rate", "check_top_ports", "interpret", "lines",
           "reject_rate", "student_data", "top_rejected_ports"]

LAB = "lab1"
SCENARIOS = (*traffic.DEFAULT_SCENARIOS, "internet_noise", "ssh_brute_force", "admin_ping")
DURATION = "1h"
FIELDS = ("srcaddr", "dstaddr", "dstport", "protocol", "action", "log_status")
"""The keys of ``interpret``'s answer."""
_REQUIRED = ("srcaddr", "dstaddr", "dstport", "protocol", "action", "log-status")
_EXTRA = ("version", "account-id", "interface-id", "srcport", "packets", "bytes", "start",
          "end", "tcp-flags", "flow-direction", "vpc-id", "instance-id")
N_LINES = 10


@lru_cache(maxsize=4)
def _records(seed: int) -> pd.DataFrame:
    return make_records(seed, SCENARIOS, DURATION)


def student_data(student_id=None, *, seed=None) -> pd.DataFrame:
    """A student's hour of flow-log records (the ``label`` column removed)."""
    return _records(resolve_seed(LAB, student_id, seed)).drop(columns="label")


def lines(student_id=None, *, seed=None) -> tuple[str, list[str]]:
    """A student's custom format and ten raw lines in it: accepted and rejected TCP, ICMP,
    NODATA and a few more, in a random order."""
    seed = resolve_seed(LAB, student_id, seed)
    rng = np.random.default_rng([seed, 101])
    fields = list(_REQUIRED) + list(rng.choice(_EXTRA, int(rng.integers(3, 6)), replace=False))
    rng.shuffle(fields)
    log_format = " ".join(f"${{{f}}}" for f in fields)
    df = _records(seed)
    kinds = [
        (df["action"] == "ACCEPT") & (df["protocol"] == 6),
        (df["action"] == "REJECT") & (df["protocol"] == 6),
        df["protocol"] == 1,
        df["log_status"] == "NODATA",
        df["action"] == "REJECT",
    ]
    picked: list[int] = []
    for mask in kinds:
        rows = np.flatnonzero(mask.fillna(False).to_numpy())
        rows = rows[~np.isin(rows, picked)]
        if len(rows):
            picked.append(int(rng.choice(rows)))
    rest = np.setdiff1d(np.arange(len(df)), picked)
    picked += [int(i) for i in rng.choice(rest, N_LINES - len(picked), replace=False)]
    rng.shuffle(picked)
    text = flowlogs.format_lines(df.iloc[picked].drop(columns="label"), log_format)
    return log_format, [str(line) for line in text.to_pylist()]


# --- answer keys ------------------------------------------------------------------------------


def _protocol_name(number) -> str | None:
    if is_missing(number):
        return None
    return reference.PROTOCOLS.get(int(number), (str(int(number)),))[0]


def _interpretations(lines: list[str], log_format: str | None) -> list[dict]:
    """The expected interpretation of each line, parsed in one call (None where ``-``)."""
    parsed = flowlogs.parse_lines(list(lines), log_format)
    out = []
    for _, row in parsed.iterrows():
        found = {name: (None if name not in row.index or is_missing(row[name]) else row[name])
                 for name in FIELDS}
        found["protocol"] = _protocol_name(found["protocol"])
        if found["dstport"] is not None:
            found["dstport"] = int(found["dstport"])
        out.append(found)
    return out


@answer_key
def interpret(line: str, log_format: str | None = None) -> dict:
    """The expected interpretation of one record (None where the record has ``-``)."""
    return _interpretations([line], log_format)[0]


@answer_key
def reject_rate(df: pd.DataFrame) -> dict[str, float]:
    """REJECT records over records with an action, per interface that has such records."""
    acted = df[df["action"].notna()]
    rates = (acted["action"] == "REJECT").groupby(acted["interface_id"]).mean()
    return {str(k): float(v) for k, v in rates.items()}


def _reject_counts(df: pd.DataFrame) -> pd.Series:
    rejected = df[(df["action"] == "REJECT") & df["dstport"].notna()]
    return rejected["dstport"].astype(int).value_counts()


@answer_key
def top_rejected_ports(df: pd.DataFrame, n: int = 3) -> list[int]:
    """The ``n`` destination ports with the most REJECT records (ties: smaller port first)."""
    counts = _reject_counts(df)
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [int(port) for port, _ in order[:n]]


@answer_key
def accepted_bytes_by_protocol(df: pd.DataFrame) -> dict[str, int]:
    """Bytes of the ACCEPT records per protocol name (TCP, UDP, ICMP, ...)."""
    accepted = df[df["action"] == "ACCEPT"]
    sums = accepted.groupby(accepted["protocol"].astype(int))["bytes"].sum()
    return {_protocol_name(p): int(b) for p, b in sums.items()}


# --- checks ---------------------------------------------------------------------------------


def _key(name) -> str:
    return str(name).lower().replace("-", "").replace("_", "").replace(" ", "")


def _same_field(name: str, given, expected) -> bool:
    if expected is None or is_missing(given):
        return expected is None and is_missing(given)
    try:
        if name in ("srcaddr", "dstaddr"):
            return as_address(given) == as_address(expected)
        if name == "dstport":
            return as_int(given) == expected
        if name == "protocol":
            if isinstance(given, str) and not given.strip().isdigit():
                return given.strip().upper() == expected.upper()
            return _protocol_name(as_int(given)) == expected
        return str(given).strip().upper() == str(expected).upper()
    except ValueError:
        return False


def _check_one(fn, line: str, log_format: str | None, expected: dict, where: str) -> None:
    given = call(fn, "interpret", line, log_format)
    if not isinstance(given, dict):
        raise Mismatch(f"`interpret`는 dict를 돌려줘야 하는데 {type(given).__name__} 값을 "
                       "돌려주었습니다.")
    by_key = {_key(k): v for k, v in given.items()}
    absent = [name for name in FIELDS if _key(name) not in by_key]
    if absent:
        raise Mismatch(f"`interpret`의 결과에 키 {', '.join(absent)}가 없습니다 "
                       f"(필요한 키: {', '.join(FIELDS)}).")
    wrong = [name for name in FIELDS if not _same_field(name, by_key[_key(name)],
                                                         expected[name])]
    if wrong:
        raise Mismatch(f"{where} `{line}`의 해석에서 {', '.join(wrong)} 값이 맞지 않습니다. "
                       "형식 문자열의 필드 순서와 `-`(값 없음)를 확인하세요.")


def check_interpret(fn, student_id=None, *, seed=None, aws_examples: bool = False) -> None:
    """``fn`` interprets the student's lines (and AWS's default-format examples) right."""
    log_format, student_lines = lines(student_id, seed=seed)
    if aws_examples:
        records = [e.record for e in flowlogs.load_examples()
                   if e.log_format is None and "older doc variant" not in e.expect]
        for record, expected in zip(records, _interpretations(records, None)):
            _check_one(fn, record, None, expected, "AWS 예제 레코드")
    expected = _interpretations(student_lines, log_format)
    for i, (line, want) in enumerate(zip(student_lines, expected), start=1):
        _check_one(fn, line, log_format, want, f"{i}번째 줄")


def check_reject_rate(fn, student_id=None, *, seed=None) -> None:
    """``fn(df)`` gives each interface's share of REJECT records (0–1, or percent)."""
    df = student_data(student_id, seed=seed)
    expected = reject_rate(df)
    given = as_mapping(call(fn, "reject_rate", df.copy()), "`reject_rate`의 결과")
    given = {str(k).strip(): v for k, v in given.items()}
    missing = [k for k in expected if k not in given]
    if missing:
        raise Mismatch(f"`reject_rate`의 결과에 인터페이스 {len(missing)}개가 빠졌습니다 "
                       f"(예: {missing[0]}).")
    extra = [k for k in given if k not in expected and not is_missing(given[k])]
    if extra:
        raise Mismatch(f"`reject_rate`의 결과에 없어야 할 키가 있습니다 (예: {extra[0]}). "
                       "키는 interface_id여야 합니다.")
    try:
        values = {k: as_number(given[k]) for k in expected}
    except (TypeError, ValueError):
        raise Mismatch("`reject_rate`의 값은 숫자(비율)여야 합니다.") from None
    for scale in (1.0, 100.0):
        if all(close(values[k], v * scale, rel=1e-6, abs_tol=1e-9) for k, v in expected.items()):
            return
    raise Mismatch("`reject_rate`의 비율이 맞지 않습니다. 분모는 action이 있는 레코드 "
                   "(NODATA, SKIPDATA 제외)입니다.")


def _as_port_list(value, name: str) -> list[int]:
    if isinstance(value, (pd.Series, pd.Index, np.ndarray)):
        value = list(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise Mismatch(f"`{name}`는 포트 번호의 리스트를 돌려줘야 하는데 "
                       f"{type(value).__name__} 값입니다.")
    try:
        return [as_int(v) for v in value]
    except ValueError:
        raise Mismatch(f"`{name}`의 원소는 포트 번호(정수)여야 합니다.") from None


def check_top_ports(fn, student_id=None, *, seed=None, n: int = 3) -> None:
    """``fn(df, n)`` lists the ``n`` most rejected destination ports, most first (equal
    counts in any order)."""
    df = student_data(student_id, seed=seed)
    counts = _reject_counts(df)
    expected = top_rejected_ports(df, n)
    given = _as_port_list(call(fn, "top_rejected_ports", df.copy(), n), "top_rejected_ports")
    if len(given) != len(expected):
        raise Mismatch(f"`top_rejected_ports(df, {n})`가 포트 {len(given)}개를 돌려주었습니다. "
                       f"{len(expected)}개여야 합니다.")
    want = [int(counts[p]) for p in expected]
    got = [int(counts.get(p, 0)) for p in given]
    if len(set(given)) != len(given) or got != want:
        raise Mismatch(f"`top_rejected_ports(df, {n})`의 포트가 맞지 않습니다. REJECT 레코드 "
                       "수가 많은 순서인지, n을 지켰는지 확인하세요.")


def check_accepted_bytes(fn, student_id=None, *, seed=None) -> None:
    """``fn(df)`` gives the bytes of ACCEPT records per protocol (names or numbers)."""
    df = student_data(student_id, seed=seed)
    expected = accepted_bytes_by_protocol(df)
    given = as_mapping(call(fn, "accepted_bytes_by_protocol", df.copy()),
                       "`accepted_bytes_by_protocol`의 결과")
    named = {}
    for key, value in given.items():
        try:
            name = (key.strip().upper() if isinstance(key, str) and not key.strip().isdigit()
                    else _protocol_name(as_int(key)).upper())
            named[name] = as_number(value)
        except (TypeError, ValueError, AttributeError):
            raise Mismatch(f"`accepted_bytes_by_protocol`의 키 {key!r}를 프로토콜로 읽을 수 "
                           "없습니다.") from None
    want = {k.upper(): v for k, v in expected.items()}
    if set(named) != set(want):
        raise Mismatch(f"`accepted_bytes_by_protocol`의 프로토콜이 맞지 않습니다: "
                       f"{', '.join(sorted(named))}. ACCEPT 레코드에 있는 프로토콜만 "
                       "이름으로 쓰세요.")
    wrong = [k for k in want if not close(named[k], want[k], rel=1e-9)]
    if wrong:
        raise Mismatch(f"`accepted_bytes_by_protocol`의 {', '.join(sorted(wrong))} 바이트 "
                       "합이 맞지 않습니다.")
