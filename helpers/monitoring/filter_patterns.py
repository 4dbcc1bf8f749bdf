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
import math
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers import times
from helpers.errors import FilterPatternError, MonitoringError, TimeValueError

__all__ = ["Condition", "FilterPattern", "Slot", "compile_pattern", "metric_datapoints",
           "parse_metric_value"]

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


def _strings(messages, what: str = "messages") -> pa.Array:
    """Messages as one Arrow string array; a course error for anything that is not text."""
    if isinstance(messages, str):
        messages = [messages]
    if isinstance(messages, (bytes, Mapping, Set)) or not hasattr(messages, "__iter__"):
        raise MonitoringError(f"{what} must be a list, Series or Arrow array of log messages "
                              f"(text), not {type(messages).__name__}")
    items = None
    if not isinstance(messages, (pa.ChunkedArray, pa.Array, pd.Series, pd.Index, np.ndarray)):
        items = list(messages)
        bad = next((i for i, m in enumerate(items) if m is not None and not isinstance(m, str)),
                   None)
        if bad is not None:
            raise MonitoringError(f"{what} must be text; item {bad} is a "
                                  f"{type(items[bad]).__name__} ({items[bad]!r})")
    try:
        if items is not None:
            arr = pa.array(items, pa.string())
        elif isinstance(messages, pa.ChunkedArray):
            arr = messages.combine_chunks()
        elif isinstance(messages, pa.Array):
            arr = messages
        else:
            arr = pa.array(messages, from_pandas=True)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
    except (pa.ArrowException, TypeError, ValueError) as err:
        raise MonitoringError(f"{what} must be log messages (text): {err}") from None
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
            or pa.types.is_null(arr.type)):
        raise MonitoringError(f"{what} must be text, not a column of {arr.type}")
    return arr.cast(pa.string())


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
    of a space-delimited pattern, see :func:`parse_metric_value`) to its minute. A minute with
    events but no match reports ``default_value`` if there is one; a minute without events
    reports nothing (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MetricFilters.html).

    Args:
        messages: the events' messages.
        timestamps: the events' timestamps: integers are milliseconds since the epoch (as in
            CloudWatch Logs), or datetimes.
        pattern: the filter pattern, as text or compiled.

    Returns:
        ``timestamp`` (the minute, UTC), ``value`` (sum over the minute), ``matches`` (events
        that matched) and ``unusable`` (matches whose ``$field`` was not a number, so nothing
        was published for them: counted, never silently dropped).

    Raises:
        MonitoringError: messages that are not text, a metric value that is neither a number
            nor a field of the pattern, a default value that is not a finite number, or as
            many timestamps as messages missing.
        FilterPatternError: the pattern is malformed.
        TimeValueError: a timestamp is not a time.

    >>> points = metric_datapoints(["a REJECT", "b ACCEPT", "c ACCEPT"], [0, 1000, 61000],
    ...                            "REJECT", default_value=0)
    >>> print(points.to_string(index=False))
                    timestamp  value  matches  unusable
    1970-01-01 00:00:00+00:00    1.0        1         0
    1970-01-01 00:01:00+00:00    0.0        0         0
    """
    compiled = _compiled(pattern)
    source = parse_metric_value(compiled, metric_value)
    if default_value is not None and not _finite_number(default_value):
        raise MonitoringError(f"default_value must be a finite number or None, not "
                              f"{default_value!r}")
    arr = _strings(messages)
    minute = _event_minutes(timestamps)
    if len(minute) != len(arr):
        raise MonitoringError(f"timestamps: {len(arr)} messages but {len(minute)} timestamps; "
                              "give one timestamp per message")
    split = _Fields(compiled, arr) if compiled.kind == "space" else None  # split once
    matched = split.matches() if split is not None else compiled.match(arr)
    value = _values(source, split, len(arr))
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


def _compiled(pattern) -> FilterPattern:
    if isinstance(pattern, FilterPattern):
        return pattern
    if not isinstance(pattern, str):
        raise MonitoringError(f"pattern must be a filter pattern (text, or compile_pattern's "
                              f"result), not {type(pattern).__name__}")
    return compile_pattern(pattern)


def _finite_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and math.isfinite(value))


def _event_minutes(timestamps) -> np.ndarray:
    """Epoch seconds of each event's minute: integers/floats are milliseconds, else times."""
    if isinstance(timestamps, (str, bytes, Mapping, Set)) or not hasattr(timestamps, "__len__"):
        raise MonitoringError(f"timestamps must be a sequence of event times (milliseconds "
                              f"since the epoch, or datetimes), not {type(timestamps).__name__}")
    stamps = np.asarray(timestamps)
    if stamps.dtype.kind in "iuf":
        if stamps.dtype.kind == "f" and not np.isfinite(stamps).all():
            bad = int(np.flatnonzero(~np.isfinite(stamps))[0])
            raise TimeValueError(f"timestamps: item {bad} is {float(stamps[bad])!r}, not a time "
                                 "in milliseconds since the epoch")
        return np.floor_divide(stamps, 60_000).astype(np.int64) * 60
    if stamps.dtype.kind == "b":
        raise TimeValueError("timestamps: True/False are not times; give milliseconds since "
                             "the epoch or datetimes")
    return times.epoch_seconds(stamps, "timestamps") // 60 * 60


def parse_metric_value(pattern, metric_value) -> tuple[str, object]:
    """What a metric filter's ``metricValue`` publishes for a matching event.

    A number (``"1"``, ``"0.5"``, or a Python number) publishes itself; ``$name`` publishes
    the field of that name, which the pattern must name: AWS takes a field value only from a
    field "matched using the pattern" (``$fieldName`` for space-delimited patterns,
    https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.aws_logs/MetricFilterProps.html and
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MetricFilters.html), and refuses
    the metric filter otherwise (``InvalidParameterException``). ``$N`` names the event's N-th
    space-separated field. ``metricValue`` is at most 100 characters
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html).

    Returns:
        ``("number", value)``, ``("field", name)`` or ``("position", n)``.

    Raises:
        MonitoringError: anything else, naming the value and what the pattern offers.

    >>> parse_metric_value(compile_pattern("[host, bytes]"), "$bytes")
    ('field', 'bytes')
    >>> parse_metric_value(compile_pattern("ERROR"), "$bytes")
    Traceback (most recent call last):
    ...
    helpers.errors.MonitoringError: metric_value $bytes names a field, which only a \
space-delimited pattern ([a, b, ...]) has; the pattern 'ERROR' has none
    """
    compiled = _compiled(pattern)
    if _finite_number(metric_value):
        return ("number", float(metric_value))
    if not isinstance(metric_value, str):
        raise MonitoringError(f"metric_value must be a number or a $field of the pattern (text "
                              f"such as '1' or '$bytes'), not {metric_value!r}")
    text = metric_value.strip()
    if len(metric_value) > 100:
        raise MonitoringError(f"metric_value is at most 100 characters, not "
                              f"{len(metric_value)}")
    if _IS_NUMBER.match(text) and math.isfinite(float(text)):
        return ("number", float(text))
    names = compiled.names
    if not text.startswith("$"):
        hint = f" (did you mean ${text}?)" if text in names else ""
        raise MonitoringError(f"metric_value must be a number or $field, not "
                              f"{metric_value!r}{hint}")
    if compiled.kind != "space":
        raise MonitoringError(f"metric_value {text} names a field, which only a "
                              f"space-delimited pattern ([a, b, ...]) has; the pattern "
                              f"{compiled.text!r} has none")
    ref = text[1:]
    if ref.isdigit() and int(ref) > 0:
        slots = len(compiled.slots)
        if not any(s.ellipsis for s in compiled.slots) and int(ref) > slots:
            raise MonitoringError(f"metric_value {text} names field {int(ref)}, but the "
                                  f"pattern matches events of {slots} fields")
        return ("position", int(ref))
    if ref not in names:
        close = difflib.get_close_matches(ref, names, n=1)
        hint = f" (did you mean ${close[0]}?)" if close else ""
        listed = ", ".join(names) if names else "none (name one, e.g. [..., bytes])"
        raise MonitoringError(f"metric_value {text} names no field of the pattern{hint}; "
                              f"its fields: {listed}")
    return ("field", ref)


def _values(source: tuple[str, object], split, n: int) -> np.ndarray:
    kind, what = source
    if kind == "number":
        return np.full(n, float(what))
    if kind == "position":
        col = split.token(int(what))
        ok = pc.fill_null(pc.match_substring_regex(col, "^" + _NUMBER + "$"), False)
        col = pc.if_else(ok, col, pa.scalar(None, pa.string()))
        return np.asarray(pc.fill_null(pc.cast(col, pa.float64()), np.nan), dtype=float)
    return split.number(what)
