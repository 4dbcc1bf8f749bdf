"""A local evaluator of CloudWatch Logs filter patterns, and of metric filters built on them.

The emulator stores metric filters but never runs them (it ignores every pattern other than
plain words), so the course evaluates them here, vectorised over a column of messages: split
each message once, then compare whole columns. Two kinds of pattern are understood, with the
rules of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html:

**Terms** (``ERROR``, ``"Failed to process"``, ``?ERROR ?WARN``, ``ERROR -Exiting``): every
plain term must occur in the message, at least one ``?`` term if there are any, and no ``-``
term; case-sensitive substring matching; ``""`` matches everything. Terms with characters
other than letters, digits and ``_`` must be quoted.

**Space-delimited** (``[ip, user, ..., status_code = 4*, bytes > 1000]``): the message is split
on whitespace, text between ``[`` ``]`` or between double quotes counting as one field; the
pattern names its fields in brackets. Without an ellipsis (``...``) the message must have
exactly as many fields as the pattern; with one it must have at least the others. Conditions:
``=``, ``!=`` on text with ``*`` wildcards, and ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` on
numbers; ``&&`` and ``||`` join conditions in one field's slot (``&&`` binds tighter) and may
name any field of the pattern. A slot left empty (``[a, , c]``) is a field without a name.

Our reading where AWS does not say: a numeric comparison with a field that is not a number
(``-`` in a NODATA record) is false, except ``!=``, which compares the text; at most one
ellipsis; no parentheses. JSON patterns (``{ $.x = 1 }``) and regular expressions (``%...%``)
are refused with a message.

>>> p = compile_pattern('[..., action = "REJECT", status]')
>>> p.match(["2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 10 70 REJECT OK",
...          "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 10 70 ACCEPT OK"]).tolist()
[True, False]
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.errors import FilterPatternError, MonitoringError

__all__ = ["Condition", "FilterPattern", "Slot", "compile_pattern", "metric_datapoints"]

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_IS_NUMBER = re.compile(_NUMBER + r"\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_TOKENS = re.compile(r"""\s*(?:(?P<ellipsis>\.\.\.)|(?P<op>!=|<=|>=|=|<|>)|(?P<and>&&)|(?P<or>\|\|)
    |(?P<comma>,)|(?P<close>\])|(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<bare>[^\s,\]=!<>&|"]+))""",
                     re.VERBOSE)
_FIELDS = re.compile(r'\[[^\]]*\]|"[^"]*"|\S+')


@dataclass(frozen=True)
class Condition:
    """``field op value``: ``number`` tells whether the value compares as a number."""

    field: str
    op: str
    value: object  # float for numbers, str (maybe with * wildcards) for text
    number: bool
    column: int  # 1-based position in the pattern text


@dataclass(frozen=True)
class Slot:
    """One comma-separated slot of a space-delimited pattern."""

    name: str | None  # None: an empty slot or the ellipsis
    ellipsis: bool
    any_of: tuple[tuple[Condition, ...], ...]  # OR of ANDs; empty: no condition
    column: int


@dataclass(frozen=True)
class FilterPattern:
    """A compiled filter pattern; :meth:`match` it against a column of messages."""

    text: str
    kind: str  # "all", "terms" or "space"
    slots: tuple[Slot, ...] = ()
    terms: tuple[tuple[str, str], ...] = ()  # (mode: "all" | "any" | "none", text)

    @property
    def names(self) -> tuple[str, ...]:
        """The named fields of a space-delimited pattern, in order."""
        return tuple(s.name for s in self.slots if s.name)

    def match(self, messages) -> np.ndarray:
        """A boolean array: which messages the pattern matches."""
        arr = _strings(messages)
        if self.kind == "all":
            return np.ones(len(arr), dtype=bool)
        if self.kind == "terms":
            return _match_terms(self.terms, arr)
        return _Fields(self, arr).matches()

    def fields(self, messages) -> pd.DataFrame:
        """The named fields of each message (NA where the message does not fit the pattern)."""
        if self.kind != "space":
            raise MonitoringError("only space-delimited patterns ([a, b, ...]) have fields")
        split = _Fields(self, _strings(messages))
        return pd.DataFrame({name: pd.arrays.ArrowStringArray(split.column(name))
                             for name in self.names})


def compile_pattern(text: str) -> FilterPattern:
    """Parse a filter pattern (terms or space-delimited) into a :class:`FilterPattern`.

    Raises:
        FilterPatternError: the pattern is malformed; the message shows the column and a caret.

    >>> compile_pattern("[a, b c]")
    Traceback (most recent call last):
    ...
    helpers.errors.FilterPatternError: filter pattern, column 7: expected ',', ']' or a \
condition (=, !=, <, <=, >, >=) after field 'b', found 'c'
      [a, b c]
            ^
    """
    if not isinstance(text, str):
        raise MonitoringError(f"a filter pattern is text, not {type(text).__name__}")
    stripped = text.strip()
    if stripped in ("", '""'):
        return FilterPattern(text, "all")
    start = len(text) - len(text.lstrip())
    if stripped.startswith("{"):
        raise FilterPatternError(text, start + 1, "JSON filter patterns ({ $.field = value }) "
                                 "are not supported by the course's evaluator; use terms or a "
                                 "space-delimited pattern [field1, field2, ...]")
    if stripped.startswith("%"):
        raise FilterPatternError(text, start + 1, "regular-expression patterns (%...%) are not "
                                 "supported by the course's evaluator")
    if stripped.startswith("["):
        return _SpaceParser(text, start).parse()
    return FilterPattern(text, "terms", terms=_parse_terms(text))


# --- term patterns ----------------------------------------------------------------------------


def _parse_terms(text: str) -> tuple[tuple[str, str], ...]:
    terms = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        mode = "all"
        if text[i] in "?-":
            mode = "any" if text[i] == "?" else "none"
            i += 1
            while i < len(text) and text[i].isspace():
                i += 1
            if i == len(text):
                raise FilterPatternError(text, i, f"a term must follow {text[i - 1]!r}")
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise FilterPatternError(text, i + 1, "this quoted term has no closing quote")
            term = text[i + 1:end]
            i = end + 1
        else:
            match = re.compile(r"\S+").match(text, i)
            term = match.group()
            if not _WORD.fullmatch(term):
                raise FilterPatternError(text, i + 1, f"the term {term!r} has characters other "
                                         f"than letters, digits and _: quote it, \"{term}\"")
            i = match.end()
        terms.append((mode, term))
    return tuple(terms)


def _match_terms(terms, arr: pa.Array) -> np.ndarray:
    def has(term):
        return _bools(pc.match_substring(arr, term))

    result = np.ones(len(arr), dtype=bool)
    anyof = [t for mode, t in terms if mode == "any"]
    for mode, term in terms:
        if mode == "all":
            result &= has(term)
        elif mode == "none":
            result &= ~has(term)
    if anyof:
        result &= np.logical_or.reduce([has(t) for t in anyof])
    return result


# --- space-delimited patterns -----------------------------------------------------------------


class _SpaceParser:
    """A small recursive-descent parser over regex tokens, keeping 1-based columns."""

    def __init__(self, text: str, start: int):
        self.text = text
        self.pos = start + 1  # after '['

    def error(self, column: int, reason: str):
        raise FilterPatternError(self.text, column, reason)

    def peek(self):
        match = _TOKENS.match(self.text, self.pos)
        if not match or match.end() == match.start():
            rest = self.text[self.pos:]
            column = self.pos + len(rest) - len(rest.lstrip()) + 1
            if not rest.strip():
                return ("end", "", column, self.pos)
            return ("bad", rest.strip()[0], column, self.pos)
        kind = match.lastgroup
        value = match.group(kind)
        return (kind, value, match.start(kind) + 1, match.end())

    def take(self):
        token = self.peek()
        self.pos = token[3]
        return token

    def parse(self) -> FilterPattern:
        slots = []
        while True:
            slots.append(self.slot())
            kind, value, column, _ = self.take()
            if kind == "close":
                break
            if kind != "comma":
                self.error(column, "expected ',' or ']'" + _found(kind, value))
        tail = self.text[self.pos:]
        if tail.strip():
            self.error(self.pos + len(tail) - len(tail.lstrip()) + 1,
                       "nothing may follow the closing ']'")
        ellipses = [s for s in slots if s.ellipsis]
        if len(ellipses) > 1:
            self.error(ellipses[1].column, "only one '...' is allowed in a pattern")
        names = [s.name for s in slots if s.name]
        seen = set()
        for s in slots:
            if s.name and s.name in seen:
                self.error(s.column, f"the field {s.name!r} is named twice")
            seen.add(s.name)
        for s in slots:
            for group in s.any_of:
                for cond in group:
                    if cond.field not in names:
                        close = difflib.get_close_matches(cond.field, names, n=1)
                        hint = f" (did you mean {close[0]!r}?)" if close else ""
                        self.error(cond.column, f"unknown field {cond.field!r}{hint}; a "
                                   f"condition names a field of the pattern: {', '.join(names)}")
        return FilterPattern(self.text, "space", slots=tuple(slots))

    def slot(self) -> Slot:
        kind, value, column, _ = self.peek()
        if kind == "ellipsis":
            self.take()
            return Slot(None, True, (), column)
        if kind in ("comma", "close"):
            return Slot(None, False, (), column)
        if kind != "bare" or not _NAME.fullmatch(value):
            if kind == "end":
                self.error(column, "the pattern ends without a closing ']'")
            self.error(column, "expected a field name (letters, digits, _), '...' or ','"
                       + _found(kind, value))
        self.take()
        name = value
        if self.peek()[0] != "op":
            nxt = self.peek()
            if nxt[0] not in ("comma", "close"):
                if nxt[0] == "end":
                    self.error(nxt[2], "the pattern ends without a closing ']'")
                self.error(nxt[2], f"expected ',', ']' or a condition (=, !=, <, <=, >, >=) "
                           f"after field {name!r}" + _found(nxt[0], nxt[1]))
            return Slot(name, False, (), column)
        any_of = [[self.condition(name, column)]]
        while self.peek()[0] in ("and", "or"):
            joiner = self.take()[0]
            kind, value, col, _ = self.peek()
            if kind != "bare" or not _NAME.fullmatch(value):
                self.error(col, "expected a field name after '&&' or '||'" + _found(kind, value))
            self.take()
            cond = self.condition(value, col)
            if joiner == "and":
                any_of[-1].append(cond)
            else:
                any_of.append([cond])
        return Slot(name, False, tuple(tuple(g) for g in any_of), column)

    def condition(self, field: str, column: int) -> Condition:
        kind, op, col, _ = self.take()
        if kind != "op":
            self.error(col, f"expected a comparison after {field!r}" + _found(kind, op))
        kind, value, vcol, _ = self.take()
        if kind == "quoted":
            text = re.sub(r"\\(.)", r"\1", value[1:-1])
            return self.check(Condition(field, op, text, False, column), vcol)
        if kind != "bare":
            self.error(vcol, f"expected a value after '{op}'" + _found(kind, value))
        if _IS_NUMBER.match(value):
            return Condition(field, op, float(value), True, column)
        return self.check(Condition(field, op, value, False, column), vcol)

    def check(self, cond: Condition, column: int) -> Condition:
        if cond.op not in ("=", "!="):
            self.error(column, f"'{cond.op}' compares numbers; {cond.value!r} is not a number "
                       "(text takes only = and !=, with * wildcards)")
        return cond


def _found(kind: str, value: str) -> str:
    if kind == "end":
        return ", found the end of the pattern"
    return f", found {value!r}"


class _Fields:
    """The messages split once into fields, with each slot's column taken on demand."""

    def __init__(self, pattern: FilterPattern, arr: pa.Array):
        self.pattern = pattern
        self.n = len(arr)
        lists = _split(arr)
        offsets = np.asarray(lists.offsets, dtype=np.int64)
        self.values = lists.flatten()
        self.begin, self.end = offsets[:-1] - offsets[0], offsets[1:] - offsets[0]
        lengths = self.end - self.begin
        slots = pattern.slots
        at = next((i for i, s in enumerate(slots) if s.ellipsis), None)
        if at is None:
            self.fits = lengths == len(slots)
        else:
            self.fits = lengths >= len(slots) - 1
        self.fits &= np.asarray(pc.is_valid(arr), dtype=bool)
        self.position = {}  # name -> ("head", index) or ("tail", index from the end)
        for i, s in enumerate(slots):
            if s.name:
                self.position[s.name] = ("head", i) if at is None or i < at else (
                    "tail", len(slots) - i)
        self.cache: dict[str, pa.Array] = {}
        self.numbers: dict[str, np.ndarray] = {}

    def column(self, name: str) -> pa.Array:
        """The field's text per message (null where the message does not fit)."""
        if name not in self.cache:
            side, k = self.position[name]
            index = self.begin + k if side == "head" else self.end - k
            index = np.where(self.fits, index, 0)
            taken = self.values.take(pa.array(index)) if len(self.values) else pa.nulls(
                self.n, pa.string())
            self.cache[name] = pc.if_else(pa.array(self.fits), taken, pa.scalar(None,
                                                                                 pa.string()))
        return self.cache[name]

    def number(self, name: str) -> np.ndarray:
        """The field as float64, NaN where it is not a number."""
        if name not in self.numbers:
            col = self.column(name)
            ok = pc.fill_null(pc.match_substring_regex(col, "^" + _NUMBER + "$"), False)
            text = pc.if_else(ok, col, pa.scalar(None, pa.string()))
            self.numbers[name] = np.asarray(pc.fill_null(pc.cast(text, pa.float64()), np.nan),
                                            dtype=float)
        return self.numbers[name]

    def test(self, cond: Condition) -> np.ndarray:
        if cond.number:
            num = self.number(cond.field)
            with np.errstate(invalid="ignore"):
                result = {"=": num == cond.value, "!=": num != cond.value,
                          "<": num < cond.value, "<=": num <= cond.value,
                          ">": num > cond.value, ">=": num >= cond.value}[cond.op]
            if cond.op == "!=":  # a non-number differs from any number
                result = np.where(np.isnan(num), True, result)
            return result & self.fits
        col = self.column(cond.field)
        if "*" in cond.value:
            regex = "^" + ".*".join(re.escape(p) for p in cond.value.split("*")) + "$"
            same = _bools(pc.match_substring_regex(col, regex))
        else:
            same = _bools(pc.equal(col, cond.value))
        return (same if cond.op == "=" else ~same) & self.fits

    def matches(self) -> np.ndarray:
        result = self.fits.copy()
        for slot in self.pattern.slots:
            if slot.any_of:
                ors = np.zeros(self.n, dtype=bool)
                for group in slot.any_of:
                    ands = np.ones(self.n, dtype=bool)
                    for cond in group:
                        ands &= self.test(cond)
                    ors |= ands
                result &= ors
        return result

    def token(self, position: int) -> pa.Array:
        """The message's ``position``-th field (1-based), wherever the slots are."""
        ok = (self.end - self.begin) >= position
        index = np.where(ok, self.begin + position - 1, 0)
        taken = self.values.take(pa.array(index)) if len(self.values) else pa.nulls(
            self.n, pa.string())
        return pc.if_else(pa.array(ok), taken, pa.scalar(None, pa.string()))


def _strings(messages) -> pa.Array:
    if isinstance(messages, str):
        messages = [messages]
    if isinstance(messages, pa.ChunkedArray):
        return messages.combine_chunks().cast(pa.string())
    if isinstance(messages, pa.Array):
        return messages.cast(pa.string())
    if isinstance(messages, (pd.Series, pd.Index, np.ndarray)):
        converted = pa.array(messages, from_pandas=True)
        if isinstance(converted, pa.ChunkedArray):
            converted = converted.combine_chunks()
        return converted.cast(pa.string())
    return pa.array(list(messages), pa.string())


def _split(arr: pa.Array) -> pa.ListArray:
    """Each message's fields: whitespace-separated, ``[...]`` and ``"..."`` kept whole."""
    special = any(pc.any(pc.match_substring(arr, c)).as_py() for c in '["')
    if not special:
        trimmed = pc.utf8_trim_whitespace(arr)
        lists = pc.utf8_split_whitespace(trimmed)  # runs of whitespace count as one
        empty = _bools(pc.equal(trimmed, ""))
        if empty.any():  # "" splits into one empty field; it has none
            lists = pa.array([[] if e else v for e, v in zip(empty, lists.to_pylist())],
                             pa.list_(pa.string()))
        return lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    rows = []
    for text in arr.to_pylist():  # quoted or bracketed fields: a regex per message
        rows.append(None if text is None else [
            f[1:-1] if f[:1] in '["' and len(f) > 1 else f for f in _FIELDS.findall(text)])
    return pa.array(rows, pa.list_(pa.string()))


def _bools(result) -> np.ndarray:
    return np.asarray(pc.fill_null(result, False), dtype=bool)


# --- metric filters ---------------------------------------------------------------------------


def metric_datapoints(messages, timestamps, pattern, *, metric_value: str = "1",
                      default_value: float | None = None) -> pd.DataFrame:
    """What a metric filter publishes for these log events: one row per minute.

    Each matching event adds ``metric_value`` (a number, or ``$field`` / ``$N`` naming a field
    of a space-delimited pattern) to its minute. A minute with events but no match reports
    ``default_value`` if there is one; a minute without events reports nothing
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MetricFilters.html).

    Args:
        messages: the events' messages.
        timestamps: the events' timestamps: integers are milliseconds since the epoch (as in
            CloudWatch Logs), or datetimes.
        pattern: the filter pattern, as text or compiled.

    Returns:
        ``timestamp`` (the minute, UTC), ``value`` (sum over the minute), ``matches`` (events
        that matched) and ``unusable`` (matches whose ``$field`` was not a number, so nothing
        was published for them: counted, never silently dropped).

    >>> points = metric_datapoints(["a REJECT", "b ACCEPT", "c ACCEPT"], [0, 1000, 61000],
    ...                            "REJECT", default_value=0)
    >>> print(points.to_string(index=False))
                    timestamp  value  matches  unusable
    1970-01-01 00:00:00+00:00    1.0        1         0
    1970-01-01 00:01:00+00:00    0.0        0         0
    """
    compiled = pattern if isinstance(pattern, FilterPattern) else compile_pattern(pattern)
    arr = _strings(messages)
    split = _Fields(compiled, arr) if compiled.kind == "space" else None  # split once
    matched = split.matches() if split is not None else compiled.match(arr)
    value = _values(compiled, split, len(arr), metric_value)
    stamps = np.asarray(timestamps)
    if np.issubdtype(stamps.dtype, np.integer) or np.issubdtype(stamps.dtype, np.floating):
        minute = stamps.astype(np.int64) // 60_000 * 60
    else:
        utc = pd.to_datetime(pd.Series(stamps), utc=True)
        minute = ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(
            np.int64) // 60 * 60
    if len(minute) != len(arr):
        raise MonitoringError(f"{len(arr)} messages but {len(minute)} timestamps")
    usable = matched & ~np.isnan(value)
    table = pd.DataFrame({"minute": minute, "value": np.where(usable, value, 0.0),
                          "matches": matched.astype(np.int64),
                          "unusable": (matched & ~usable).astype(np.int64),
                          "published": usable.astype(np.int64)}).groupby("minute").sum()
    if default_value is None:
        table = table[table["published"] > 0]
    else:
        table.loc[table["published"] == 0, "value"] = float(default_value)
    out = pd.DataFrame({
        "timestamp": pd.to_datetime(table.index.to_numpy(), unit="s", utc=True),
        "value": table["value"].to_numpy(dtype=float),
        "matches": table["matches"].to_numpy(),
        "unusable": table["unusable"].to_numpy(),
    })
    return out


def _values(pattern: FilterPattern, split, n: int, metric_value: str) -> np.ndarray:
    text = str(metric_value).strip()
    if _IS_NUMBER.match(text):
        return np.full(n, float(text))
    if not text.startswith("$"):
        raise MonitoringError(f"metric_value must be a number or $field, not {metric_value!r}")
    if pattern.kind != "space":
        raise MonitoringError(f"metric_value {text} names a field, which only a "
                              "space-delimited pattern ([a, b, ...]) has")
    ref = text[1:]
    if ref.isdigit() and int(ref) > 0:
        col = split.token(int(ref))
        ok = pc.fill_null(pc.match_substring_regex(col, "^" + _NUMBER + "$"), False)
        col = pc.if_else(ok, col, pa.scalar(None, pa.string()))
        return np.asarray(pc.fill_null(pc.cast(col, pa.float64()), np.nan), dtype=float)
    if ref not in pattern.names:
        close = difflib.get_close_matches(ref, pattern.names, n=1)
        hint = f" (did you mean ${close[0]}?)" if close else ""
        raise MonitoringError(f"metric_value {text} names no field of the pattern{hint}; "
                              f"its fields: {', '.join(pattern.names)}")
    return split.number(ref)
