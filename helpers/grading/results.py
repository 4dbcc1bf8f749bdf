"""Compare a query's result table with the expected one by content, not by column names.

A Logs Insights query may name its columns as it likes (``stats count(*) as n`` or
``as attempts``) and may keep extra columns; what matters is that some of its columns hold the
expected keys and values, row for row. For a "top N" question equal values may come in any
order and a tie at the N-th place may be broken either way: the result is right when its
values are the N largest, in order, and each row's key really has that value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.grading.core import Mismatch, is_missing

__all__ = ["compare_table", "normal"]

_MAX_COLUMNS = 8  # a result wider than this is not a stats result; do not try every mapping


def normal(value):
    """A hashable normal form: None for missing, epoch seconds for times, floats for numbers,
    stripped text otherwise.

    >>> normal(pd.Timestamp("2021-12-20T01:00:00Z")), normal(np.int64(3)), normal(" a ")
    (1639962000.0, 3.0, 'a')
    """
    if is_missing(value):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "timestamp"):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        return float(stamp.timestamp())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value).strip()


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _columns(frame: pd.DataFrame) -> list[list]:
    out = []
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            column = column.dt.tz_localize("UTC") if column.dt.tz is None else column
            seconds = column.astype("int64") / 10 ** {"ns": 9, "us": 6, "ms": 3, "s": 0}[
                column.dtype.unit]
            out.append([None if m else float(v) for v, m in zip(seconds, column.isna())])
        else:
            out.append([normal(v) for v in column.tolist()])
    return out


def compare_table(result, expected: pd.DataFrame, keys: Sequence[str], values: Sequence[str],
                  *, n: int | None = None, ordered: bool = False, what: str = "쿼리") -> None:
    """Raise Mismatch unless ``result`` holds ``expected``'s rows by content.

    Args:
        result: the student's result frame.
        expected: every expected row (all groups, before any limit): ``keys`` identify a row,
            ``values`` are what it holds; the first value orders a "top N" question.
        n: a "top N" question: the N rows with the largest first value (None: every row).
        ordered: the rows must come largest first (ties in any order).
        what: how the messages name the answer.
    """
    if not isinstance(result, pd.DataFrame):
        raise Mismatch(f"{what}의 결과가 표(DataFrame)가 아닙니다: {type(result).__name__}")
    want_rows = len(expected) if n is None else min(n, len(expected))
    if len(result) != want_rows:
        raise Mismatch(f"{what}의 결과가 {len(result)}행입니다. {want_rows}행이어야 합니다.")
    width = len(keys) + len(values)
    if result.shape[1] < width:
        raise Mismatch(f"{what}의 결과에 열이 {result.shape[1]}개뿐입니다. 적어도 {width}개 "
                       f"(그룹 기준 {len(keys)}개와 값 {len(values)}개)가 필요합니다.")
    if result.shape[1] > _MAX_COLUMNS:
        raise Mismatch(f"{what}의 결과에 열이 {result.shape[1]}개나 있습니다. stats로 "
                       "집계한 결과여야 합니다.")
    key_columns = _columns(expected[list(keys)])
    value_columns = _columns(expected[list(values)])
    table = dict(zip(zip(*key_columns), (list(v) for v in zip(*value_columns))))
    firsts = sorted((v[0] for v in table.values() if v[0] is not None), reverse=True)
    top = firsts[:want_rows] if n is not None else None
    columns = _columns(result)
    for chosen in itertools.permutations(range(result.shape[1]), width):
        rows = list(zip(*(columns[i] for i in chosen))) if want_rows else []
        if _matches(rows, table, len(keys), top, ordered):
            return
    raise Mismatch(f"{what}의 결과가 맞지 않습니다 ({want_rows}행은 맞음). 필터 조건, 집계 "
                   "함수, 그룹 기준, 정렬을 확인하세요. 열 이름은 채점에 쓰지 않습니다.")


def _matches(rows, table: dict, k: int, top, ordered: bool) -> bool:
    seen = set()
    for row in rows:
        key, got = tuple(row[:k]), row[k:]
        if key in seen or key not in table:
            return False
        seen.add(key)
        if not all(_same(a, b) for a, b in zip(got, table[key])):
            return False
    if top is None:
        return len(seen) == len(table)
    firsts = [row[k] for row in rows]
    if ordered:
        return all(_same(a, b) for a, b in zip(firsts, top))
    return all(_same(a, b) for a, b in zip(sorted(firsts, reverse=True), top))
