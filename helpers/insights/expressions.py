"""Compile Logs Insights expressions into sqlglot expressions, with Insights' loose typing.

:class:`ExpressionCompiler` turns one expression node into a
:class:`~helpers.insights.schema.Column` (its SQL and its kind) in the scope of the query built
so far; function calls go through the whitelist of :mod:`helpers.insights.functions`. The
typing choices (where AWS is silent) are listed in :mod:`helpers.insights.compiler`.
"""

from __future__ import annotations

from sqlglot import exp

from helpers.errors import InsightsFieldWarning, InsightsMissingValueWarning
from helpers.insights import ast, functions, patterns
from helpers.insights.functions import as_condition, as_number, as_text, lit
from helpers.insights.parser import node_error
from helpers.insights.schema import (
    BOOL,
    DISCOVERED,
    FLOAT,
    INT,
    NULL,
    NUMERIC,
    STRING,
    TIME,
    Column,
    binary,
    from_millis,
    group,
    suggest,
)

_INT64 = (-(2**63), 2**63 - 1)

__all__ = ["ExpressionCompiler"]


class ExpressionCompiler:
    """Compiles expressions against ``self.state`` (the query built so far: its scope, its
    event-time column); collects warnings and makes positioned errors."""

    def __init__(self, text: str, dialect: str):
        self.text = text
        self.dialect = dialect
        self.warnings: list[Warning] = []
        self._warned: set[str] = set()
        self.state = None  # a compiler.State, set by the compiler as it goes
        self.aggregates = False  # inside stats items
        self._in_aggregate = False

    def error(self, node: ast.Node, reason: str):
        return node_error(self.text, node, reason)

    def warn(self, warning: Warning, node: ast.Node | None = None) -> None:
        key = str(warning)
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(warning)

    def regex(self, node: ast.Regex) -> tuple[str, list[str]]:
        """A query regex ready for DuckDB and Trino, and its named groups."""
        try:
            return patterns.portable_regex(node.pattern)
        except ValueError as err:
            raise self.error(node, str(err)) from err

    def expr(self, node) -> Column:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def condition(self, node) -> exp.Expression:
        return as_condition(self.expr(node), node, self.error)

    def timestamp_ms(self, node) -> exp.Expression:
        """The event time in epoch ms, for bin/earliest/latest; an error after a stats that
        did not keep @timestamp."""
        if self.state.ts_ms is None:
            if self.state.after_stats:
                raise self.error(node, "this needs @timestamp, which the previous stats did "
                                 "not keep: add e.g. `max(@timestamp) as @timestamp` to it, or "
                                 "use datefloor(field, period) on a time field it kept")
            return exp.Null()
        return self.state.ts_ms.copy()

    def millis_of(self, node) -> exp.Expression:
        """Epoch milliseconds of a time-valued argument (``@timestamp`` directly if it can)."""
        if (isinstance(node, ast.Field) and node.name == "@timestamp" and not self.state.after_stats
                and self.state.ts_ms is not None
                and self.state.scope.get("@timestamp", Column(None, NULL)).sql
                == from_millis(self.state.ts_ms)):
            return self.state.ts_ms.copy()
        col = self.expr(node)
        if col.kind == TIME:
            return functions.to_millis(col.sql)
        if col.kind in NUMERIC or col.kind == NULL:
            return functions.in_date_range(col.sql)  # null outside the dates Insights shows
        raise self.error(node, "a timestamp is needed here, such as @timestamp")

    def _field(self, node: ast.Field) -> Column:
        scope = self.state.scope
        if node.name in scope:
            col = scope[node.name]
            return Column(col.sql.copy(), col.kind)
        where = " after stats" if self.state.after_stats else ""
        known = list(scope)
        available = ("; after stats only its results exist: " + ", ".join(known)
                     if self.state.after_stats else "")
        self.warn(InsightsFieldWarning(
            f"line {node.line}, column {node.column}: field {node.name!r} does not "
            f"exist{where}{available}. Logs Insights treats it as missing (null), so a filter "
            f"on it matches nothing and a stats by it has one empty group."
            f"{suggest(node.name, known)}"), node)
        return Column(exp.Null(), NULL)

    def _number(self, node: ast.Number) -> Column:
        value = node.value
        if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            return Column(lit(float(value)), FLOAT)  # beyond 64-bit integers: a double
        return Column(lit(value), INT if isinstance(value, int) else FLOAT)

    def _string(self, node: ast.String) -> Column:
        return Column(lit(node.value), STRING)

    def _regex(self, node: ast.Regex) -> Column:
        raise self.error(node, "a /regular expression/ can only follow like, =~ or parse")

    def _period(self, node: ast.Period) -> Column:
        raise self.error(node, f"a time period ({node.text}) can only be an argument of bin, "
                         "datefloor or dateceil")

    def _negate(self, node: ast.Negate) -> Column:
        col = self.expr(node.operand)
        return Column(exp.Neg(this=group(as_number(col))),
                      col.kind if col.kind in NUMERIC else FLOAT)

    def _operation(self, node: ast.Operation) -> Column:
        """Arithmetic in double precision, as Insights computes it: the left operand is made a
        DOUBLE, so ``+ - * / %`` never overflow 64-bit integers; ``/`` and ``%`` by zero give
        null (AWS does not say what they give; a DuckDB error would stop the whole query)."""
        left, right = self.expr(node.left), self.expr(node.right)
        a, b = functions.as_double(left), as_number(right)
        if node.op == "^":
            return Column(exp.Pow(this=as_number(left), expression=b), FLOAT)
        if node.op in ("/", "%"):
            b = exp.Nullif(this=b, expression=lit(0))
        return Column(binary(_ARITHMETIC[node.op], a, b), FLOAT)

    def _compare(self, node: ast.Compare) -> Column:
        self._check_dash(node.left, node.right)
        a, b = _comparable(self.expr(node.left), node.left, self.expr(node.right), node.right)
        op = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT,
              ">=": exp.GTE}[node.op]
        return Column(binary(op, a, b), BOOL)

    def _logical(self, node: ast.Logical) -> Column:
        parts = [exp.Paren(this=self.condition(n)) for n in node.operands]
        combine = exp.and_ if node.op == "and" else exp.or_
        return Column(combine(*parts), BOOL)

    def _not(self, node: ast.Not) -> Column:
        return Column(exp.Not(this=exp.Paren(this=self.condition(node.operand))), BOOL)

    def _inlist(self, node: ast.InList) -> Column:
        """``x in [a, b, ...]``: each item compares with ``x`` as ``x = item`` would; items that
        coerce ``x`` the same way share one SQL ``IN`` (so ``dstPort in [22, "ssh"]`` compares
        22 as a number and "ssh" as text, instead of failing on the mix)."""
        left = self.expr(node.operand)
        groups: dict[str, tuple[exp.Expression, list[exp.Expression]]] = {}
        for item_node in node.items:
            self._check_dash(node.operand, item_node)
            a, b = _comparable(left, node.operand, self.expr(item_node), item_node)
            groups.setdefault(a.sql(), (a, []))[1].append(b)
        tests = [exp.In(this=group(a), expressions=items) for a, items in groups.values()]
        if not tests:
            result = exp.false()
        elif len(tests) == 1:
            result = tests[0]
        else:
            result = exp.or_(*[exp.Paren(this=t) for t in tests])
        if node.negated:
            result = exp.Not(this=exp.Paren(this=result))
        return Column(result, BOOL)

    def _check_dash(self, field, value) -> None:
        """Warn about ``srcAddr = "-"``: a flow-log field written ``-`` is missing, not text."""
        if isinstance(value, ast.Field) and isinstance(field, ast.String):
            field, value = value, field
        if (isinstance(field, ast.Field) and field.name in DISCOVERED
                and isinstance(value, ast.String) and value.value.strip() == "-"):
            self.warn(InsightsMissingValueWarning(
                f"line {value.line}, column {value.column}: {field.name} is never the text "
                f"'-': a flow-log field written '-' (NODATA and SKIPDATA records) is missing, "
                f"so this compares with nothing. Test for it with `not ispresent({field.name})`"
                f" or `logStatus in [\"NODATA\", \"SKIPDATA\"]`."), value)

    def _like(self, node: ast.Like) -> Column:
        text = as_text(self.expr(node.operand))
        if isinstance(node.pattern, ast.Regex):
            test = exp.RegexpLike(this=text, expression=lit(self.regex(node.pattern)[0]))
        else:  # a quoted string: a case-sensitive substring
            test = exp.GT(this=exp.StrPosition(this=text, substr=lit(node.pattern.value)),
                          expression=lit(0))
        if node.negated:
            test = exp.Not(this=exp.Paren(this=test))
        return Column(test, BOOL)

    def _match(self, node: ast.Match) -> Column:
        text = as_text(self.expr(node.operand))
        return Column(exp.RegexpLike(this=text, expression=lit(self.regex(node.pattern)[0])),
                      BOOL)

    def _call(self, node: ast.Call) -> Column:
        function = functions.lookup(self, node)
        after_stats = self.state is not None and self.state.after_stats
        if after_stats and not (function.aggregate and self.aggregates):
            result = self._stats_result(node)  # a stats result named by this text
            if result is not None:
                return result
        if function.aggregate:
            if after_stats and not self.aggregates:
                raise self.error(node, self._not_a_result(node))
            if not self.aggregates:
                raise self.error(node, f"{function.name}() is an aggregate function: use it "
                                 "in stats, e.g. `stats " + node.name + "(...) by srcAddr`")
            if self._in_aggregate:
                raise self.error(node, "an aggregate function cannot be inside another one")
            self._in_aggregate = True
            try:
                return function.compile(self, node)
            finally:
                self._in_aggregate = False
        return function.compile(self, node)


    def _stats_result(self, node: ast.Node) -> Column | None:
        """The previous stats' result whose name is this expression's text (``bin(5m)``,
        ``count(*)``: Insights names an unaliased result by its text), or None."""
        text = squeeze(self.text[node.start:node.end])
        names = [n for n in self.state.outputs if n in self.state.scope]
        match = [n for n in names if squeeze(n) == text] or \
            [n for n in names if squeeze(n).lower() == text.lower()]
        if len(match) != 1:
            return None
        col = self.state.scope[match[0]]
        return Column(col.sql.copy(), col.kind)

    def _not_a_result(self, node: ast.Call) -> str:
        text = self.text[node.start:node.end]
        names = ", ".join(n for n in self.state.outputs if n in self.state.scope)
        named = self.state.results.get(squeeze(text))
        if named is not None:
            return (f"{text} is a result of the stats, named {named!r} there: after stats, "
                    f"refer to its results by name, e.g. `sort {_plain(named)} desc`")
        return (f"{text} is not a result of the stats (its results: {names}); an aggregate "
                f"is computed in stats only. Add it to the stats with a name and use the name, "
                f"e.g. `stats {text} as total ... | sort total desc`")


def squeeze(text: str) -> str:
    """An expression's text without white space, to match result names written differently."""
    return "".join(text.split())


def _plain(name: str) -> str:
    """A result name as a query writes it (backticks unless it is a plain field name)."""
    if name.replace("_", "a").replace(".", "a").replace("@", "a").isalnum():
        return name
    return "`" + name.replace("`", "``") + "`"


_ARITHMETIC = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod}


def _comparable(left: Column, left_node, right: Column, right_node):
    """Both sides of a comparison, coerced to a common kind the way Insights' loose typing
    behaves (see the module docstring)."""
    kinds = {left.kind, right.kind}
    if left.kind == right.kind or NULL in kinds or kinds <= set(NUMERIC):
        return left.sql, right.sql
    if kinds & set(NUMERIC) and STRING in kinds:
        text, text_node = (left, left_node) if left.kind == STRING else (right, right_node)
        number = right if text is left else left
        if isinstance(text_node, ast.String):
            try:
                value = float(text_node.value)
            except ValueError:
                out = (text.sql, as_text(number))
            else:
                literal = lit(int(value) if value.is_integer() else value)
                out = (literal, number.sql)
        else:
            out = (as_number(text), number.sql)
        return out if text is left else (out[1], out[0])
    if TIME in kinds and kinds & set(NUMERIC):
        return as_number(left), as_number(right)
    if BOOL in kinds and kinds & set(NUMERIC):
        return as_number(left), as_number(right)
    return as_text(left), as_text(right)
