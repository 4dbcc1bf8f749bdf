"""The functions a query may call, each compiled to a sqlglot expression: the whitelist.

Only the names in :data:`FUNCTIONS` compile (case-insensitively); anything else is an
:class:`~helpers.errors.InsightsSyntaxError`, so no query can reach a SQL function the table
does not list. Semantics follow "Boolean, comparison, numeric, datetime, and other functions"
and "stats" in the CloudWatch Logs user guide
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Stats.html).

Choices where the guide is silent, kept here so a test can pin each one:

- ``isempty``, ``isblank`` and ``strcontains`` return 1 or 0 (the guide says Number); in a
  condition 1 is true.
- ``substr(s, start[, length])`` counts from 0, as the guide's example shows
  (``substr("xyZfooxyZ", 3, 3)`` is ``"foo"``).
- ``concat`` treats a missing argument as empty text.
- ``stddev`` is the sample standard deviation; ``pct`` is the discrete percentile (a value
  that occurs) in DuckDB and ``approx_percentile`` on Athena; ``count_distinct`` is exact
  (Insights approximates at high cardinality).
- ``earliest``/``latest`` skip events whose field is missing; ``sortsFirst``/``sortsLast``
  use plain ordering (min/max), not Insights' natural sort.
- ``/`` and ``%`` by zero give null; arithmetic is in double precision (see
  :meth:`~helpers.insights.expressions.ExpressionCompiler._operation`).
- Arguments out of range give null instead of stopping the query: ``substr`` positions beyond
  64-bit integers, ``fromMillis`` outside JavaScript's date range (±8.64e15 ms, AWS's console
  is a JavaScript application), ``round`` digits that are not a whole number.
- A time period longer than 10,000 years is an error.
- Functions other tools have but Insights does not (``isprivateaddr``, ``dateTimePart``,
  ``date_trunc``, ``length``, ...) are refused with the Insights function to use instead
  (:data:`NOT_IN_INSIGHTS`); checked against the function list of the guide's page above.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from helpers.errors import InsightsPeriodWarning
from helpers.insights import ast, ip
from helpers.insights.schema import (
    BOOL,
    FLOAT,
    INT,
    NULL,
    NUMERIC,
    STRING,
    TIME,
    Column,
    binary,
    from_millis,
)

__all__ = ["AGGREGATES", "FUNCTIONS", "NOT_IN_INSIGHTS", "as_condition", "as_double", "as_number",
           "as_text", "lookup"]


def lit(value) -> exp.Expression:
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(value)


# --- coercions: Insights values are loosely typed -----------------------------------------


def as_number(col: Column) -> exp.Expression:
    """A numeric SQL value: numbers as they are, numeric text parsed (else null), a timestamp
    as epoch milliseconds, a boolean as 1/0."""
    if col.kind in NUMERIC or col.kind == NULL:
        return col.sql
    if col.kind == TIME:
        return to_millis(col.sql)
    if col.kind == BOOL:
        return exp.cast(col.sql, "INT")
    return exp.TryCast(this=col.sql, to=exp.DataType.build("DOUBLE"))


def as_double(col: Column) -> exp.Expression:
    """A DOUBLE SQL value (Insights computes in double precision, so sums never overflow)."""
    if col.kind == STRING:
        return as_number(col)  # numeric text: already TRY_CAST(... AS DOUBLE)
    return exp.cast(as_number(col), "DOUBLE")


def as_text(col: Column) -> exp.Expression:
    if col.kind in (STRING, NULL):
        return col.sql
    return exp.cast(col.sql, "VARCHAR")


def as_condition(col: Column, node, error) -> exp.Expression:
    """A boolean SQL value; a number is true when not 0. Text or a timestamp is an error."""
    if col.kind in (BOOL, NULL):
        return col.sql
    if col.kind in NUMERIC:
        return binary(exp.NEQ, col.sql, lit(0))
    raise error(node, "a condition is needed here, such as `action = \"REJECT\"`, "
                "`bytes > 1000`, `ispresent(dstPort)` or `srcAddr like \"10.0.\"`")


def to_millis(ts: exp.Expression) -> exp.Expression:
    seconds = exp.TimeToUnix(this=ts)
    return exp.cast(exp.Round(this=binary(exp.Mul, seconds, lit(1000))), "BIGINT")


def flag(condition: exp.Expression) -> exp.Expression:
    """1 when the condition holds, else 0 (Insights' Number-valued predicates)."""
    return exp.Case(ifs=[exp.If(this=condition, true=lit(1))], default=lit(0))


# --- time periods ---------------------------------------------------------------------------

_MAX_DATE_MS = 8_640_000_000_000_000  # JavaScript's Date range, ±100,000,000 days

CAPS = {"ms": 1000, "s": 60, "m": 60, "h": 24}
"""The largest count AWS honours per unit; a larger one acts as the cap (the guide's note under
"Datetime functions": "The cap for ms is 1000, the caps for s and m are 60, and the cap for h
is 24"; its example: ``bin(300s)`` is implemented as 60 seconds). No cap is documented for
days, weeks, months, quarters or years; none is applied."""

_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_MONTHS = {"mo": 1, "q": 3, "y": 12}
_MONDAY_MS = 4 * 86_400_000  # 1970-01-05, the first Monday: weeks start on Monday (our choice)
_UNIT_WORDS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours"}


_APPROX_MS = {**_MS, "mo": 2_629_746_000, "q": 7_889_238_000, "y": 31_556_952_000}
MAX_PERIOD_MS = 10_000 * _APPROX_MS["y"]


def period(c, node) -> tuple[int, str]:
    """The (count, unit) a period argument means, after AWS's cap (with a warning)."""
    if not isinstance(node, ast.Period):
        raise c.error(node, "a time period is needed here, such as 5m, 1h or 1d")
    if node.count < 1:
        raise c.error(node, "a time period must be at least 1 of its unit")
    if node.count * _APPROX_MS[node.unit] > MAX_PERIOD_MS:
        raise c.error(node, f"the time period {node.text} is too long: at most 10,000 years "
                      "(e.g. 1y, 12mo, 52w)")
    cap = CAPS.get(node.unit)
    if cap is not None and node.count > cap:
        bigger = {"ms": "s", "s": "m", "m": "h", "h": "d"}[node.unit]
        c.warn(InsightsPeriodWarning(
            f"line {node.line}, column {node.column}: {node.text} acts as {cap}{node.unit}: "
            f"Logs Insights caps {_UNIT_WORDS[node.unit]} at {cap}. Use the next unit "
            f"instead (e.g. {bigger})."), node)
        return cap, node.unit
    return node.count, node.unit


def floor_time(ms: exp.Expression, count: int, unit: str, *, ceil: bool = False
               ) -> exp.Expression:
    """The start (or, with ``ceil``, the end) of the period holding epoch-milliseconds ``ms``.

    Fixed units count from the Unix epoch (UTC); weeks start on Monday (our choice: AWS does
    not say); months, quarters and years are calendar periods counted from January 1970.
    """
    if unit in _MS:
        size = count * _MS[unit]
        offset = _MONDAY_MS if unit == "w" else 0
        shifted = binary(exp.Sub, ms, lit(offset)) if offset else ms
        ratio = binary(exp.Div, exp.cast(shifted, "DOUBLE"), lit(size))
        rounded = exp.Ceil(this=ratio) if ceil else exp.Floor(this=ratio)
        start = binary(exp.Mul, exp.cast(rounded, "BIGINT"), lit(size))
        if offset:
            start = binary(exp.Add, start, lit(offset))
        return from_millis(start)
    months = count * _MONTHS[unit]
    ts = from_millis(ms)
    index = binary(exp.Add,
                   binary(exp.Mul, binary(exp.Sub, exp.Year(this=ts.copy()), lit(1970)),
                          lit(12)),
                   binary(exp.Sub, exp.Month(this=ts.copy()), lit(1)))
    bucket = binary(exp.Mul, exp.cast(exp.Floor(this=binary(
        exp.Div, exp.cast(index, "DOUBLE"), lit(months))), "BIGINT"), lit(months))
    start = exp.DateAdd(this=from_millis(lit(0)), expression=bucket, unit=exp.var("MONTH"))
    if not ceil:
        return start
    later = exp.DateAdd(this=start.copy(), expression=lit(months), unit=exp.var("MONTH"))
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=start.copy(), expression=ts.copy()),
                                true=start.copy())], default=later)


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A whitelisted function: its Insights spelling, arity, and how it compiles."""

    name: str
    min_args: int
    max_args: int | None
    compile: Callable  # (compiler, call node) -> Column
    aggregate: bool = False
    star: bool = False  # accepts *, as count(*)


def _args(c, call) -> list[Column]:
    return [c.expr(a) for a in call.args]


def _numeric(fn, kind=None):
    def compile_(c, call):
        cols = _args(c, call)
        out = kind or (INT if all(x.kind == INT for x in cols) else FLOAT)
        return Column(fn(*[as_number(x) for x in cols]), out)
    return compile_


def _text(fn, kind=STRING):
    def compile_(c, call):
        return Column(fn(*[as_text(x) for x in _args(c, call)]), kind)
    return compile_


def _trim(position):
    def compile_(c, call):
        cols = [as_text(x) for x in _args(c, call)]
        if len(cols) == 1:
            if position is None:
                return Column(exp.Trim(this=cols[0]), STRING)
            return Column(exp.Trim(this=cols[0], position=position), STRING)
        kwargs = {"position": position} if position else {}
        return Column(exp.Trim(this=cols[0], expression=cols[1], **kwargs), STRING)
    return compile_


def _round(c, call):
    value = as_number(c.expr(call.args[0]))
    if len(call.args) == 1:
        return Column(exp.Round(this=value), FLOAT)
    digits = call.args[1]
    if isinstance(digits, ast.Negate) and isinstance(digits.operand, ast.Number):
        count = -digits.operand.value
    else:
        count = digits.value if isinstance(digits, ast.Number) else None
    if not isinstance(count, int) or not -30 <= count <= 30:
        raise c.error(digits, "round's second argument is the number of decimal places, a "
                      "whole number from -30 to 30 written in the query, e.g. round(x, 2)")
    return Column(exp.Round(this=value, decimals=lit(count)), FLOAT)


def _concat(c, call):
    parts = [exp.Coalesce(this=as_text(x), expressions=[lit("")]) for x in _args(c, call)]
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part)
    return Column(out, STRING)


def _substr(c, call):
    cols = _args(c, call)
    start = binary(exp.Add, as_double(cols[1]), lit(1))
    kwargs = {"length": _position(as_double(cols[2]))} if len(cols) > 2 else {}
    return Column(exp.Substring(this=as_text(cols[0]), start=_position(start), **kwargs),
                  STRING)


_MAX_POSITION = 2**32 - 1  # DuckDB's substring range; no text is that long


def _position(value: exp.Expression) -> exp.Expression:
    """A substring position or length (a DOUBLE): clamped to what the engine takes, whole."""
    clamped = exp.Greatest(this=exp.Least(this=value, expressions=[lit(_MAX_POSITION)]),
                           expressions=[lit(-_MAX_POSITION)])
    return _whole(clamped)


def _whole(value: exp.Expression) -> exp.Expression:
    """A BIGINT, or null when the value is not one (beyond 64 bits, NaN)."""
    return exp.TryCast(this=value, to=exp.DataType.build("BIGINT"))


def in_date_range(ms: exp.Expression) -> exp.Expression:
    """Epoch milliseconds as BIGINT when inside JavaScript's date range, else null."""
    whole = _whole(ms)
    inside = exp.Between(this=whole, low=lit(-_MAX_DATE_MS), high=lit(_MAX_DATE_MS))
    return exp.Case(ifs=[exp.If(this=inside, true=whole.copy())])


def _strcontains(c, call):
    cols = _args(c, call)
    text, needle = as_text(cols[0]), as_text(cols[1])
    if len(cols) > 2:
        insensitive = as_condition(cols[2], call.args[2], c.error)
        text = exp.Case(ifs=[exp.If(this=insensitive, true=exp.Lower(this=text.copy()))],
                        default=text)
        needle = exp.Case(ifs=[exp.If(this=insensitive.copy(),
                                      true=exp.Lower(this=needle.copy()))], default=needle)
    return Column(flag(exp.GT(this=exp.StrPosition(this=text, substr=needle),
                              expression=lit(0))), INT)


def _isempty(c, call):
    text = as_text(c.expr(call.args[0]))
    return Column(flag(exp.or_(exp.Is(this=text, expression=exp.Null()),
                               exp.EQ(this=text.copy(), expression=lit("")))), INT)


def _isblank(c, call):
    text = as_text(c.expr(call.args[0]))
    return Column(flag(exp.or_(exp.Is(this=text, expression=exp.Null()),
                               exp.RegexpLike(this=text.copy(), expression=lit(r"^\s*$")))),
                  INT)


def _ispresent(c, call):
    col = c.expr(call.args[0])
    return Column(exp.Not(this=exp.Is(this=col.sql, expression=exp.Null())), BOOL)


def _coalesce(c, call):
    cols = _args(c, call)
    kinds = {x.kind for x in cols} - {NULL}
    if len(kinds) > 1:
        cols = [Column(as_text(x), STRING) for x in cols]
        kinds = {STRING}
    return Column(exp.Coalesce(this=cols[0].sql, expressions=[x.sql for x in cols[1:]]),
                  kinds.pop() if kinds else NULL)


# datetime


def _bin(c, call):
    count, unit = period(c, call.args[0])
    return Column(floor_time(c.timestamp_ms(call), count, unit), TIME)


def _date_round(ceil):
    def compile_(c, call):
        count, unit = period(c, call.args[1])
        return Column(floor_time(c.millis_of(call.args[0]), count, unit, ceil=ceil), TIME)
    return compile_


def _from_millis(c, call):
    return Column(from_millis(in_date_range(as_number(c.expr(call.args[0])))), TIME)


def _to_millis(c, call):
    return Column(c.millis_of(call.args[0]), INT)


def _now(c, call):
    return Column(exp.cast(exp.Floor(this=exp.TimeToUnix(this=exp.CurrentTimestamp())),
                           "BIGINT"), INT)


# IP


def _valid_ip(*checks):
    def compile_(c, call):
        text = as_text(c.expr(call.args[0]))
        tests = [check(text.copy()) for check in checks]
        return Column(exp.or_(*tests) if len(tests) > 1 else tests[0], BOOL)
    return compile_


def _in_subnet(version):
    def compile_(c, call):
        text = as_text(c.expr(call.args[0]))
        subnet = call.args[1]
        if not isinstance(subnet, ast.String):
            raise c.error(subnet, "the subnet must be a quoted CIDR block such as "
                          "\"10.0.0.0/16\" or \"2001:db8::/32\"")
        try:
            network = ip.parse_subnet(subnet.value)
        except ValueError as err:
            raise c.error(subnet, f"not a CIDR block: {err}") from err
        if version is not None and network.version != version:
            raise c.error(subnet, f"{subnet.value} is an IPv{network.version} subnet; "
                          f"{call.name} needs an IPv{version} one (isIpInSubnet takes both)")
        return Column(ip.in_subnet(text, network), BOOL)
    return compile_


# aggregates


def _count(c, call):
    if call.star or not call.args:
        return Column(exp.Count(this=exp.Star()), INT)
    return Column(exp.Count(this=c.expr(call.args[0]).sql), INT)


def _count_distinct(c, call):
    return Column(exp.Count(this=exp.Distinct(expressions=[c.expr(call.args[0]).sql])), INT)


def _sum(c, call):
    """A whole-number column sums to BIGINT (as the lesson's SQL mirrors do); anything else
    sums in double precision, so ``sum(toMillis(@timestamp))`` cannot overflow."""
    col = c.expr(call.args[0])
    if col.kind == INT and isinstance(col.sql, exp.Column):
        return Column(exp.cast(exp.Sum(this=col.sql), "BIGINT"), INT)
    return Column(exp.Sum(this=as_double(col)), FLOAT)


def _avg(c, call):
    return Column(exp.Avg(this=as_number(c.expr(call.args[0]))), FLOAT)


def _min_max(cls):
    def compile_(c, call):
        col = c.expr(call.args[0])
        return Column(cls(this=col.sql), col.kind)
    return compile_


def _stddev(c, call):
    return Column(exp.StddevSamp(this=as_number(c.expr(call.args[0]))), FLOAT)


def _pct(c, call):
    col = c.expr(call.args[0])
    p = call.args[1]
    if not isinstance(p, ast.Number) or not 0 <= p.value <= 100:
        raise c.error(p, "the percentile must be a number from 0 to 100, e.g. pct(bytes, 95)")
    fraction = lit(round(p.value / 100, 10))
    if c.dialect == "duckdb":
        return Column(exp.Quantile(this=as_number(col), quantile=fraction), FLOAT)
    return Column(exp.ApproxQuantile(this=as_number(col), quantile=fraction), FLOAT)


def _by_time(cls):
    def compile_(c, call):
        col = c.expr(call.args[0])
        return Column(cls(this=col.sql, expression=c.timestamp_ms(call)), col.kind)
    return compile_


_F = Function
FUNCTIONS: dict[str, Function] = {f.name.lower(): f for f in [
    # numeric
    _F("abs", 1, 1, _numeric(lambda a: exp.Abs(this=a))),
    _F("ceil", 1, 1, _numeric(lambda a: exp.Ceil(this=a), INT)),
    _F("floor", 1, 1, _numeric(lambda a: exp.Floor(this=a), INT)),
    _F("greatest", 1, None, _numeric(lambda a, *r: exp.Greatest(this=a, expressions=list(r)))),
    _F("least", 1, None, _numeric(lambda a, *r: exp.Least(this=a, expressions=list(r)))),
    _F("log", 1, 1, _numeric(lambda a: exp.Ln(this=a), FLOAT)),
    _F("sqrt", 1, 1, _numeric(lambda a: exp.Sqrt(this=a), FLOAT)),
    _F("round", 1, 2, _round),
    # string
    _F("strlen", 1, 1, _text(lambda s: exp.Length(this=s), INT)),
    _F("toupper", 1, 1, _text(lambda s: exp.Upper(this=s))),
    _F("tolower", 1, 1, _text(lambda s: exp.Lower(this=s))),
    _F("trim", 1, 2, _trim(None)),
    _F("ltrim", 1, 2, _trim("LEADING")),
    _F("rtrim", 1, 2, _trim("TRAILING")),
    _F("concat", 1, None, _concat),
    _F("substr", 2, 3, _substr),
    _F("replace", 3, 3, _text(lambda s, a, b: exp.Replace(this=s, expression=a,
                                                          replacement=b))),
    _F("strcontains", 2, 3, _strcontains),
    _F("isempty", 1, 1, _isempty),
    _F("isblank", 1, 1, _isblank),
    # datetime
    _F("bin", 1, 1, _bin),
    _F("datefloor", 2, 2, _date_round(False)),
    _F("dateceil", 2, 2, _date_round(True)),
    _F("fromMillis", 1, 1, _from_millis),
    _F("toMillis", 1, 1, _to_millis),
    _F("now", 0, 0, _now),
    # IP addresses
    _F("isValidIp", 1, 1, _valid_ip(ip.is_ipv4, ip.is_ipv6)),
    _F("isValidIpV4", 1, 1, _valid_ip(ip.is_ipv4)),
    _F("isValidIpV6", 1, 1, _valid_ip(ip.is_ipv6)),
    _F("isIpInSubnet", 2, 2, _in_subnet(None)),
    _F("isIpv4InSubnet", 2, 2, _in_subnet(4)),
    _F("isIpv6InSubnet", 2, 2, _in_subnet(6)),
    # general
    _F("ispresent", 1, 1, _ispresent),
    _F("coalesce", 1, None, _coalesce),
    # aggregates (stats only)
    _F("count", 0, 1, _count, aggregate=True, star=True),
    _F("count_distinct", 1, 1, _count_distinct, aggregate=True),
    _F("countDistinct", 1, 1, _count_distinct, aggregate=True),
    _F("sum", 1, 1, _sum, aggregate=True),
    _F("avg", 1, 1, _avg, aggregate=True),
    _F("min", 1, 1, _min_max(exp.Min), aggregate=True),
    _F("max", 1, 1, _min_max(exp.Max), aggregate=True),
    _F("pct", 2, 2, _pct, aggregate=True),
    _F("stddev", 1, 1, _stddev, aggregate=True),
    _F("earliest", 1, 1, _by_time(exp.ArgMin), aggregate=True),
    _F("latest", 1, 1, _by_time(exp.ArgMax), aggregate=True),
    _F("sortsFirst", 1, 1, _min_max(exp.Min), aggregate=True),
    _F("sortsLast", 1, 1, _min_max(exp.Max), aggregate=True),
]}
"""Insights function name (lower case) → :class:`Function`."""

AGGREGATES = frozenset(name for name, f in FUNCTIONS.items() if f.aggregate)


_PRIVATE = ('isIpv4InSubnet(srcAddr, "10.0.0.0/8") or isIpv4InSubnet(srcAddr, '
            '"172.16.0.0/12") or isIpv4InSubnet(srcAddr, "192.168.0.0/16")')
NOT_IN_INSIGHTS = {
    "isprivateaddr": f"test the private ranges with isIpv4InSubnet: `{_PRIVATE}`",
    "isprivateip": f"test the private ranges with isIpv4InSubnet: `{_PRIVATE}`",
    "cidrmatch": 'use isIpInSubnet(srcAddr, "10.0.0.0/16")',
    "datetimepart": "round times with datefloor(@timestamp, 1h) or group with bin(1h) in stats; "
                    "there is no function for a part (hour, weekday) of a time",
    "date_trunc": "use datefloor(@timestamp, 1h), or bin(1h) inside stats",
    "datetrunc": "use datefloor(@timestamp, 1h), or bin(1h) inside stats",
    "date_part": "use datefloor(@timestamp, 1h); there is no function for a part of a time",
    "len": "use strlen(field)", "length": "use strlen(field)",
    "upper": "use toupper(field)", "lower": "use tolower(field)",
    "contains": 'use strcontains(field, "text") or `field like "text"`',
    "percentile": "use pct(field, 95)", "distinct_count": "use count_distinct(field)",
}
"""Functions of other query languages that Insights lacks (lower case) → what to write instead."""


def lookup(c, call: ast.Call) -> Function:
    """The function a call names, with its arguments checked; errors point at the call."""
    function = FUNCTIONS.get(call.name.lower())
    if function is None:
        names = [f.name for f in FUNCTIONS.values()]
        if call.name.lower() in NOT_IN_INSIGHTS:
            raise c.error(call, f"Logs Insights has no function {call.name!r}: "
                          f"{NOT_IN_INSIGHTS[call.name.lower()]}")
        close = difflib.get_close_matches(call.name.lower(), list(FUNCTIONS), n=1)
        hint = f" Did you mean {FUNCTIONS[close[0]].name}?" if close else ""
        raise c.error(call, f"unknown function {call.name!r}.{hint} Functions: "
                      f"{', '.join(names)}")
    if call.star and not function.star:
        raise c.error(call, f"{function.name}(*) is not valid; only count(*) takes *")
    n = len(call.args)
    if n < function.min_args or (function.max_args is not None and n > function.max_args):
        if function.name == "bin" and n == 2:
            raise c.error(call, "bin takes one argument, the period, e.g. bin(1h): it always "
                          "works on @timestamp")
        if function.max_args is None:
            want = f"at least {function.min_args}"
        elif function.min_args == function.max_args:
            want = str(function.min_args)
        else:
            want = f"{function.min_args} to {function.max_args}"
        raise c.error(call, f"{function.name} takes {want} argument"
                      f"{'' if want == '1' else 's'}, not {n}")
    return function
