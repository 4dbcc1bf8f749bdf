"""What every graded lab shares: student IDs and seeds, each student's own VPC, answer checks.

**Per-student data.** A lab's data comes from a seed derived from the student ID with a stable
hash (:func:`student_seed`, CRC-32, never Python's ``hash()``, which changes between
processes), so the grader regenerates exactly what the student saw from the ID recorded in the
submission, and two students get different answers: each seed gives its own VPC
(:func:`lab_topology`: other private addresses and resource IDs), its own day, and its own
internet hosts (:func:`remap_internet`: the documentation addresses shuffled).

**Hidden data.** The hidden tests of a lab master re-run the student's functions and queries
on data from a seed that no student copy contains; :func:`hidden_seed` lets the instructor
choose another one at grading time (environment variable ``LAB_HIDDEN_SEED``).

**Checks.** A check raises :class:`Mismatch` (an ``AssertionError``, which otter reports as a
failed test) with a Korean message for the student that never shows the expected answer.
Answers are compared in a normal form, so equivalent answers pass: an address as text or as
an ``ipaddress`` object, a port as ``22``, ``np.int32(22)`` or ``"22"``, a time as epoch
seconds, ISO text or a Timestamp, a mapping as a dict, a Series or a two-column frame.

**Answer keys.** The functions that compute expected answers are public (like
:mod:`helpers.selfcheck`), but a student's function cannot call them while it is being
checked: :func:`call` runs it inside :func:`sealed`, where every :func:`answer_key` raises.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import math
import os
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from helpers import times, traffic
from helpers.errors import GradingError, TimeValueError
from helpers.traffic.generator import LESSON_START

__all__ = [
    "GradingError",
    "Mismatch",
    "answer_key",
    "as_address",
    "as_epoch",
    "as_int",
    "as_number",
    "call",
    "check_student_id",
    "hidden_seed",
    "lab_topology",
    "make_records",
    "remap_internet",
    "resolve_seed",
    "sealed",
    "student_seed",
]

_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")
_DOC_BLOCKS = ("192.0.2.", "203.0.113.")  # RFC 5737 documentation blocks the generator uses
_DOC_HOSTS = tuple(f"{block}{i}" for block in _DOC_BLOCKS for i in range(1, 255))
_ADDRESS_COLUMNS = ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr")
DAYS = 7
"""Each seed's data starts at midnight UTC of one of the 7 days from the lesson's date."""


class Mismatch(AssertionError):
    """A student's answer is wrong; the message (Korean) says how, without the answer."""


# --- student IDs and seeds --------------------------------------------------------------------


def check_student_id(student_id) -> str:
    """The student ID as text, stripped; raises GradingError when it is missing or odd.

    >>> check_student_id(" 20240001 ")
    '20240001'
    """
    if student_id is ... or student_id is None or (isinstance(student_id, str)
                                                    and not student_id.strip()):
        raise GradingError("STUDENT_ID is empty: replace ... with your student ID as text, "
                           "e.g. STUDENT_ID = \"20240001\", and run the cells again")
    if isinstance(student_id, (int, np.integer)) and not isinstance(student_id, bool):
        student_id = str(int(student_id))
    if not isinstance(student_id, str):
        raise GradingError(f"STUDENT_ID must be text such as \"20240001\", not "
                           f"{type(student_id).__name__} {student_id!r}")
    text = student_id.strip()
    if not _ID.fullmatch(text):
        raise GradingError(f"STUDENT_ID {student_id!r} is not a student ID: use 1 to 40 "
                           "letters, digits, '.', '_' or '-', starting with a letter or digit")
    return text


def student_seed(lab: str, student_id) -> int:
    """The seed of a student's data for a lab: CRC-32 of ``"<lab>/<ID>"`` (IDs ignore case).

    >>> student_seed("lab3", "20240001") == student_seed("lab3", " 20240001")
    True
    >>> student_seed("lab3", "20240001") != student_seed("lab1", "20240001")
    True
    """
    text = f"{lab}/{check_student_id(student_id).casefold()}"
    return zlib.crc32(text.encode("utf-8"))


def hidden_seed(default: int) -> int:
    """The seed of a hidden test's data: ``LAB_HIDDEN_SEED`` if set, else ``default``."""
    value = os.environ.get("LAB_HIDDEN_SEED", "").strip()
    if not value:
        return int(default)
    if not value.isdigit():
        raise GradingError(f"LAB_HIDDEN_SEED must be a whole number, not {value!r}")
    return int(value)


def resolve_seed(lab: str, student_id=None, seed=None) -> int:
    """The data seed from exactly one of ``student_id`` (a student's copy) or ``seed``."""
    if (student_id is None) == (seed is None):
        raise GradingError("give exactly one of student_id (STUDENT_ID) or seed")
    if seed is None:
        return student_seed(lab, student_id)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GradingError(f"seed must be a whole number from 0, not {seed!r}")
    return int(seed)


# --- each seed's own VPC and internet -----------------------------------------------------------


def _hex_id(rng: np.random.Generator, prefix: str) -> str:
    return f"{prefix}-0{''.join(rng.choice(list('0123456789abcdef'), 16))}"


def lab_topology(seed: int) -> traffic.Topology:
    """The lab VPC with this seed's private addresses and resource IDs.

    The subnets, security groups and network ACLs are the lesson's; the web instance, the NAT
    gateway (both in the public subnet) and the private instance get other host numbers, and
    the VPC, interfaces, instances and NAT gateway other IDs.

    >>> lab_topology(1).interface("web").private_ip != lab_topology(2).interface("web").private_ip
    True
    """
    rng = np.random.default_rng([seed, 7])
    base = traffic.default_topology()
    web_host, nat_host = (int(h) for h in rng.choice(np.arange(10, 200), 2, replace=False))
    hosts = {"web": f"10.0.1.{web_host}", "nat": f"10.0.1.{nat_host}",
             "private": f"10.0.11.{int(rng.integers(10, 250))}"}
    public = {"web": f"13.125.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}",
              "nat": f"13.125.{int(rng.integers(1, 255))}.{int(rng.integers(1, 255))}"}
    interfaces = []
    for eni in base.interfaces:
        interfaces.append(replace(
            eni, eni_id=_hex_id(rng, "eni"), private_ip=hosts[eni.role],
            instance_id=None if eni.instance_id is None else _hex_id(rng, "i"),
            public_ip=public.get(eni.role, eni.public_ip)))
    return replace(base, vpc_id=_hex_id(rng, "vpc"), interfaces=tuple(interfaces),
                   nat_gateway_id=_hex_id(rng, "nat"))


def remap_internet(records: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The records with the internet's documentation addresses shuffled by ``seed``.

    A bijection of the hosts 1–254 of 192.0.2.0/24 and 203.0.113.0/24 onto themselves, so the
    scanner, the attackers and the exfiltration target have other addresses for every seed.
    The admin's range (198.51.100.0/24, which the rules trust), 8.8.8.8 and the VPC's own
    addresses keep theirs, so every ACCEPT and REJECT stays right.
    """
    rng = np.random.default_rng([seed, 11])
    mapping = dict(zip(_DOC_HOSTS, np.array(_DOC_HOSTS)[rng.permutation(len(_DOC_HOSTS))]))
    out = records.copy()
    for column in _ADDRESS_COLUMNS:
        if column not in out.columns:
            continue
        codes, uniques = pd.factorize(out[column])
        if not len(uniques):
            continue
        renamed = np.array([mapping.get(u, u) for u in uniques], dtype=object)
        values = np.where(codes >= 0, renamed[np.clip(codes, 0, None)], None)
        out[column] = pd.array(values, dtype=out[column].dtype)
    return out


def make_records(seed: int, scenarios, duration: str, *, day: int | None = None,
                 topology: traffic.Topology | None = None, scale: float = 1.0,
                 salt: int = 0) -> pd.DataFrame:
    """Generated records of this seed's VPC and internet, with their ``label`` column.

    The data start at midnight UTC of day ``seed % 7`` after the lesson's date (or ``day``);
    ``salt`` draws other traffic from the same VPC (a second data set of one student).
    """
    topology = lab_topology(seed) if topology is None else topology
    day = seed % DAYS if day is None else day
    records = traffic.generate(scenarios, seed=(seed * 31 + salt) % 2**32,
                               start=LESSON_START + 86400 * day, duration=duration,
                               topology=topology, scale=scale)
    return remap_internet(records, seed)


# --- answer keys and calling students' functions -----------------------------------------------

_SEALED = False


@contextlib.contextmanager
def sealed():
    """While inside, every :func:`answer_key` raises GradingError (a student's function runs)."""
    global _SEALED
    before, _SEALED = _SEALED, True
    try:
        yield
    finally:
        _SEALED = before


def answer_key(function: Callable) -> Callable:
    """Mark a function that computes expected answers: it refuses to run inside
    :func:`sealed`, so a submission cannot hand the key's answer back as its own."""

    @functools.wraps(function)
    def key(*args, **kwargs):
        if _SEALED:
            raise GradingError("the lab's answer keys are not available to a submission; "
                               "compute the answer yourself")
        return function(*args, **kwargs)

    return key


def call(function, name: str, *args, **kwargs):
    """Run a student's function sealed; a missing function or an error becomes a Mismatch."""
    if function is None or function is ...:
        raise Mismatch(f"`{name}`이(가) 정의되지 않았습니다. 문제의 셀을 실행했는지 확인하세요.")
    if not callable(function):
        raise Mismatch(f"`{name}`은(는) 함수여야 하는데 {type(function).__name__} 값입니다.")
    try:
        with sealed():
            result = function(*args, **kwargs)
    except Mismatch:
        raise
    except Exception as err:  # the student's code failed: say how, as the notebook would
        raise Mismatch(f"`{name}`을(를) 실행하다가 오류가 났습니다: "
                       f"{type(err).__name__}: {err}") from None
    if result is None:
        raise Mismatch(f"`{name}`이(가) None을 돌려주었습니다. return 문을 빠뜨렸나요?")
    if result is ...:
        raise Mismatch(f"`{name}`이(가) 아직 ...을 돌려줍니다. 함수를 완성하세요.")
    return result


# --- normal forms of answers ------------------------------------------------------------------


def is_missing(value) -> bool:
    """None, NaN, pandas' NA or flow logs' ``-``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() in ("", "-")
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def as_address(value) -> str:
    """An IP address in its normal text form; raises ValueError for anything else.

    >>> as_address(" 10.0.1.100 "), as_address(ipaddress.ip_address("10.0.1.100"))
    ('10.0.1.100', '10.0.1.100')
    """
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IP address")
    return str(ipaddress.ip_address(value.strip()))


def as_int(value) -> int:
    """A whole number from an int, a numpy integer, an integral float or digits.

    >>> as_int("22"), as_int(np.int32(22)), as_int(22.0)
    (22, 22, 22)
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError("True/False is not a number")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise ValueError(f"{value!r} is not a whole number")


def as_number(value) -> float:
    """A finite number (``"1,234.5"`` and ``"$12"`` are read as numbers)."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError("True/False is not a number")
    if isinstance(value, str):
        value = value.replace(",", "").replace("$", "").strip()
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def as_epoch(value) -> int:
    """Epoch seconds of a time: epoch seconds, ISO text, a datetime or a Timestamp."""
    try:
        return times.to_epoch(value)
    except TimeValueError as err:
        raise ValueError(str(err)) from None


def as_mapping(value, what: str) -> dict:
    """A dict from a dict, a Series, a two-column DataFrame or (key, value) pairs."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, pd.Series):
        return value.to_dict()
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if value.shape[1] == 1 else value
        if frame.shape[1] != 2:
            raise Mismatch(f"{what}: 열이 두 개(키, 값)인 표나 dict여야 하는데 열이 "
                           f"{frame.shape[1]}개입니다.")
        return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1]))
    if isinstance(value, (list, tuple)):
        try:
            return dict(value)
        except (TypeError, ValueError):
            pass
    raise Mismatch(f"{what}: dict(또는 Series)여야 하는데 {type(value).__name__} 값입니다.")


def close(a: float, b: float, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Whether two numbers agree within ``rel`` (relative) or ``abs_tol``."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
