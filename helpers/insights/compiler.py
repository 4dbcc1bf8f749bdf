"""Compile a Logs Insights query into a SQL SELECT over the canonical flow-log columns.

The query's syntax tree (:mod:`helpers.insights.ast`) becomes a sqlglot expression tree, never
SQL pasted together from query text: field names become quoted identifiers, literals become
SQL literals, and only whitelisted functions (:mod:`helpers.insights.functions`) exist. Each
pipe command is one function in :data:`COMMANDS`, taking the query built so far (a
:class:`State`) and returning the next: ``fields``/``display``/``parse`` add named expressions,
``filter`` refines the current SELECT's WHERE, ``sort``/``limit`` set its order and size, and
``stats`` (and ``dedup``) wrap it in a new SELECT.

Rules from the CloudWatch Logs user guide
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html and its pages):

- Without ``limit`` a query returns at most 10,000 rows; ``limit`` takes 1 to 100,000.
- ``sort`` and ``limit`` must come after the last ``stats``; a later ``stats`` sees only the
  fields the earlier one produced ("Use multiple stats commands in a single query").
- ``dedup`` keeps the first row of each key in the current sort order (else newest
  ``@timestamp`` first), keeps every row whose key is null, and only ``limit`` may follow it.
- An unaliased result column is named by its expression's text (``count(*)``, ``bin(1h)``).
- ``display`` shows only its fields (the last one wins); several ``fields`` commands add up.

Choices where AWS is silent (each pinned by a test):

- Rows without ``sort``: events come newest ``@timestamp`` first; ``stats`` results come in
  ascending order of their columns (group keys first). Ties under any ``sort`` are broken by
  the result columns in order, ascending, so results are deterministic.
- ``sort x`` without ``asc``/``desc`` is ascending. Missing values sort last either way.
- Sort compares typed values (numbers as numbers, text as text), not Insights' natural sort.
- Loose typing: a number compared with quoted text compares as a number when the text is a
  number (``dstPort = "80"``), else as text; arithmetic parses numeric text (else null).
- A comparison with a missing field is false, and so is its negation (SQL's three-valued
  logic); ``ispresent`` tests for presence.
- Result columns: group keys first, then aggregates, in the order written.
- A field written ``-`` in the record (the traffic fields of NODATA and SKIPDATA records) is
  missing (null), as :func:`helpers.flowlogs.read` reads it, not the text "-".
- Without ``fields``, ``display`` or ``stats`` the result shows ``@timestamp`` and
  ``@message``, as the console does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlglot import exp

from helpers.errors import InsightsError
from helpers.flowlogs.fields import FIELDS
from helpers.insights import ast, functions, patterns
from helpers.insights.expressions import ExpressionCompiler
from helpers.insights.functions import as_text, lit
from helpers.insights.parser import parse
from helpers.insights.schema import NULL, STRING, TIME, Column, discovered, from_millis, quoted

__all__ = ["COMMANDS", "DEFAULT_LIMIT", "DIALECTS", "MAX_LIMIT", "Compiled", "compile_query"]

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000
DIALECTS = {"duckdb": "duckdb", "athena": "trino", "trino": "trino"}
"""Dialect names accepted → the sqlglot dialect written (Athena engine 3 is Trino)."""

DEFAULT_OUTPUTS = ("@timestamp", "@message")  # what Insights shows when nothing is chosen


@dataclass(frozen=True)
class Compiled:
    """A compiled query: its SQL text and tree, the result's column names and kinds."""

    sql: str
    tree: exp.Select
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    warnings: tuple[Warning, ...]
    dialect: str


@dataclass
class State:
    """The query built so far: a SELECT (FROM and WHERE; projections come last) and what is
    in scope."""

    select: exp.Select
    scope: dict[str, Column]
    ts_ms: exp.Expression | None  # event time, epoch ms (bin, earliest, latest, dedup)
    outputs: list[str]
    chosen: bool = False  # fields, display or stats chose the outputs
    displayed: bool = False
    order: list[tuple[exp.Expression, bool]] = field(default_factory=list)  # (key, descending)
    limit: int | None = None
    after_stats: bool = False
    layers: int = 0  # subqueries so far, for their aliases


def compile_query(query: str | ast.Query, *, columns=None, dialect: str = "duckdb",
                  table: str = "flows", log_group: str | None = None,
                  pretty: bool = True) -> Compiled:
    """Compile a query for a table with these canonical columns.

    Args:
        query: the query text (or an already parsed :class:`ast.Query`).
        columns: the table's canonical columns; None means every flow-log field.
        dialect: ``"duckdb"`` or ``"athena"`` (Trino SQL).
        table: the table the SQL reads.
        log_group: the log group name behind ``@log`` (``account-id:log-group``).
        pretty: format the SQL on several lines.

    Raises:
        InsightsSyntaxError: the query is not valid (with line, column and a caret).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    tree = parse(query) if isinstance(query, str) else query
    columns = [f.column for f in FIELDS.values()] if columns is None else list(columns)
    compiler = Compiler(tree, DIALECTS[dialect])
    select, names, kinds = compiler.compile(columns, table, log_group)
    sql = select.sql(dialect=DIALECTS[dialect], identify=True, pretty=pretty)
    return Compiled(sql=sql, tree=select, columns=tuple(names), kinds=tuple(kinds),
                    warnings=tuple(compiler.warnings), dialect=dialect)


class Compiler(ExpressionCompiler):
    """Compiles one query: :data:`COMMANDS` applies the commands, the
    :class:`~helpers.insights.expressions.ExpressionCompiler` methods the expressions."""

    def __init__(self, query: ast.Query, dialect: str):
        super().__init__(query.text, dialect)
        self.query = query
        self.live = _live_names(query)

    # --- driver -----------------------------------------------------------------------------
    def compile(self, columns, table, log_group):
        _check_order(self, self.query.commands)
        scope, ts_ms = discovered(columns, log_group=log_group)
        select = exp.select().from_(exp.to_table(table, quoted=True))
        if not scope:
            raise InsightsError("the data has none of the columns Logs Insights discovers in "
                                "flow logs (srcaddr, dstport, start, ...): nothing to query")
        outputs = [name for name in DEFAULT_OUTPUTS if name in scope] or list(scope)
        self.state = State(select=select, scope=scope, ts_ms=ts_ms, outputs=outputs)
        for command in self.query.commands:
            self.state = COMMANDS[type(command).__name__.lower()](self, self.state, command)
        return _finish(self, self.state)


# --- the commands: one function each ---------------------------------------------------------


def _fields(c: Compiler, state: State, command: ast.Fields) -> State:
    """``fields``: define (or re-define) fields; they join the result unless a display chose."""
    names = _define(c, state, command.items)
    if not state.displayed:
        if not state.chosen:
            state.outputs, state.chosen = [], True
        state.outputs += [n for n in names if n not in state.outputs]
    return state


def _display(c: Compiler, state: State, command: ast.Display) -> State:
    """``display``: define the listed fields and show only them (the last display wins)."""
    names = _define(c, state, command.items)
    state.outputs, state.chosen, state.displayed = list(dict.fromkeys(names)), True, True
    return state


def _define(c: Compiler, state: State, items) -> list[str]:
    names = []
    for item in items:
        col = c.expr(item.expr)
        state.scope[item.name] = col
        names.append(item.name)
    return names


def _filter(c: Compiler, state: State, command: ast.Filter) -> State:
    """``filter``/``where``: AND a condition into the current SELECT's WHERE."""
    if state.limit is not None:
        state = _wrap(c, state)
    condition = c.condition(command.condition)
    state.select = state.select.where(condition, copy=False)
    return state


def _stats(c: Compiler, state: State, command: ast.Stats) -> State:
    """``stats``: aggregate the current SELECT and wrap it; only its results stay in scope."""
    c.aggregates = True
    try:
        values = []
        for item in command.items:
            if not any(isinstance(n, ast.Call) and n.name.lower() in functions.AGGREGATES
                       for n in ast.walk(item.expr)):
                raise c.error(item, f"{item.text} has no aggregate function: each stats "
                              "expression needs one, such as count(*), sum(bytes) or "
                              "count_distinct(dstPort)")
            values.append((item.name, c.expr(item.expr)))
    finally:
        c.aggregates = False
    keys = [(item.name, c.expr(item.expr)) for item in command.by]
    aliases = _Aliases()
    projections, scope, outputs = [], {}, []
    for name, col in keys + values:
        if name in scope:
            continue
        alias = aliases(name)
        projections.append(exp.alias_(col.sql, alias, quoted=True))
        scope[name] = Column(quoted(alias), col.kind)
        outputs.append(name)
    grouped = state.select.copy()
    grouped.set("expressions", projections)
    if keys:
        grouped = grouped.group_by(*[col.sql.copy() for _, col in keys], copy=False)
    layer = state.layers + 1
    select = exp.select().from_(grouped.subquery(f"_stats{layer}"))
    ts_ms = None
    if scope.get("@timestamp", Column(None, NULL)).kind == TIME:
        ts_ms = functions.to_millis(scope["@timestamp"].sql)
    return State(select=select, scope=scope, ts_ms=ts_ms, outputs=outputs, chosen=True,
                 after_stats=True, layers=layer)


def _sort(c: Compiler, state: State, command: ast.Sort) -> State:
    """``sort``: set the order (a later sort replaces an earlier one)."""
    if state.limit is not None:
        state = _wrap(c, state)
    state.order = [(c.expr(key.expr).sql, key.descending) for key in command.keys]
    return state


def _limit(c: Compiler, state: State, command: ast.Limit) -> State:
    """``limit``: at most n rows (several limits: the smallest)."""
    count = command.count.value
    if not isinstance(count, int) or not 1 <= count <= MAX_LIMIT:
        raise c.error(command.count, f"limit takes a whole number from 1 to {MAX_LIMIT:,}")
    state.limit = count if state.limit is None else min(state.limit, count)
    return state


def _parse(c: Compiler, state: State, command: ast.Parse) -> State:
    """``parse``: extract fields from a text field (default @message) with a glob or regex."""
    source = (c.expr(command.source) if command.source is not None
              else c.expr(ast.Field(name="@message", line=command.line, column=command.column,
                                    start=command.start, end=command.start + 5)))
    text = as_text(source)
    if isinstance(command.pattern, ast.String):
        pattern, groups = patterns.glob_to_regex(command.pattern.value)
        if not groups:
            raise c.error(command.pattern, "a parse glob needs at least one * to extract, "
                          "e.g. parse @message \"user=* \" as user")
        if len(command.names) != len(groups):
            raise c.error(command.pattern, f"the glob has {len(groups)} * but {len(command.names)} "
                          "name(s) follow as: give one name per *")
        names = [n.value for n in command.names]
    else:
        pattern, names = c.regex(command.pattern)
        if command.names:
            raise c.error(command.names[0], "a parse regex names its fields itself with "
                          "(?<name>...); drop the `as` list")
        if not names:
            raise c.error(command.pattern, "the regex has no named group: capture fields "
                          "with (?<name>...), e.g. /(?<eni>eni-[0-9a-f]+)/")
        groups = patterns.named_group_numbers(command.pattern.pattern)
    for name, number in zip(names, groups):
        extract = exp.Case(ifs=[exp.If(
            this=exp.RegexpLike(this=text.copy(), expression=lit(pattern)),
            true=exp.RegexpExtract(this=text.copy(), expression=lit(pattern),
                                   group=lit(number)))])
        state.scope[name] = Column(extract, STRING)
    return state


def _dedup(c: Compiler, state: State, command: ast.Dedup) -> State:
    """``dedup``: keep the first row of each key in the current order; null keys stay."""
    if state.limit is not None:
        state = _wrap(c, state)  # the limit applies first
    keys = [c.expr(f).sql for f in command.fields]
    state, row, key_refs = _wrap(c, state, window=keys)
    keep = [exp.EQ(this=row, expression=lit(1))]
    keep += [exp.Is(this=ref.copy(), expression=exp.Null()) for ref in key_refs]
    state.select = state.select.where(exp.or_(*keep), copy=False)
    return state


COMMANDS = {
    "fields": _fields,
    "display": _display,
    "filter": _filter,
    "stats": _stats,
    "sort": _sort,
    "limit": _limit,
    "parse": _parse,
    "dedup": _dedup,
}
"""Command name → the function that applies it: (compiler, state, command) → next state."""


# --- layers -------------------------------------------------------------------------------------


class _Aliases:
    """Column aliases unique within one SELECT, ignoring case (DuckDB matches names so)."""

    def __init__(self):
        self.used: set[str] = set()

    def __call__(self, name: str) -> str:
        alias, n = name, 1
        while alias.lower() in self.used:
            n += 1
            alias = f"{name}_{n}"
        self.used.add(alias.lower())
        return alias


def _default_order(state: State) -> list[tuple[exp.Expression, bool]]:
    if not state.after_stats and state.ts_ms is not None:
        return [(from_millis(state.ts_ms.copy()), True)]
    return []


def _wrap(c: Compiler, state: State, window=None):
    """Make the current SELECT a subquery and select from it.

    The subquery projects what later commands may use (and the order keys), and applies the
    current order and limit. With ``window`` (dedup's key expressions) it also numbers the rows
    of each key in the current order; then returns (state, row number, key columns).
    """
    aliases = _Aliases()
    projections: list[exp.Expression] = []

    def project(sql: exp.Expression, name: str) -> exp.Column:
        alias = aliases(name)
        projections.append(exp.alias_(sql.copy(), alias, quoted=True))
        return quoted(alias)

    scope = {name: Column(project(col.sql, name), col.kind)
             for name, col in state.scope.items() if name in c.live or name in state.outputs}
    ts_ms = project(state.ts_ms, "__ts") if state.ts_ms is not None else None
    keys = state.order or _default_order(state)
    order = []
    if state.order or state.limit is not None or window is not None:
        order = [(project(key, f"__sort{i}"), descending)
                 for i, (key, descending) in enumerate(keys, 1)]
    row = key_refs = None
    if window is not None:
        ties = [(col.sql.copy(), False) for col in _tie_columns(state)]
        number = exp.Window(this=exp.RowNumber(), partition_by=[k.copy() for k in window],
                            order=exp.Order(expressions=_ordered(
                                [(k.copy(), d) for k, d in keys] + ties)))
        row = project(number, "__row")
        key_refs = [project(key, f"__key{i}") for i, key in enumerate(window, 1)]
    inner = state.select.copy()
    inner.set("expressions", projections)
    if state.limit is not None:
        ties = [(col.sql.copy(), False) for col in scope.values()]
        inner = inner.order_by(*_ordered(order + ties), copy=False).limit(state.limit,
                                                                          copy=False)
    layer = state.layers + 1
    new = replace(state, select=exp.select().from_(inner.subquery(f"_q{layer}")), scope=scope,
                  ts_ms=ts_ms, order=order if state.order else [], limit=None, layers=layer)
    c.state = new  # later expressions of the same command see the wrapped columns
    if window is None:
        return new
    return new, row, key_refs


def _named(sql: exp.Expression, alias: str) -> exp.Expression:
    """``sql AS "alias"``, or just the column when it already has that name."""
    if isinstance(sql, exp.Column) and not sql.table and sql.name == alias:
        return sql.copy()
    return exp.alias_(sql.copy(), alias, quoted=True)


def _tie_columns(state: State) -> list[Column]:
    return [state.scope[n] for n in state.outputs if n in state.scope]


def _ordered(keys) -> list[exp.Ordered]:
    return [exp.Ordered(this=key, desc=descending, nulls_first=False)
            for key, descending in keys]


def _finish(c: Compiler, state: State):
    """The final SELECT: the result columns, ordered (ties broken by the columns), limited."""
    names = [n for n in dict.fromkeys(state.outputs) if n in state.scope]
    aliases = _Aliases()
    outputs = [(aliases(n), state.scope[n]) for n in names]
    keys = state.order or _default_order(state)
    order, hidden = [], []
    for key, descending in keys:
        match = next((alias for alias, col in outputs if col.sql == key), None)
        if match is None:
            match = aliases(f"__sort{len(hidden) + 1}")
            hidden.append((match, key))
        if match not in [a for a, _ in order]:
            order.append((match, descending))
    order += [(alias, False) for alias, _ in outputs if alias not in [a for a, _ in order]]
    limit = state.limit if state.limit is not None else DEFAULT_LIMIT
    select = state.select.copy()
    select.set("expressions", [_named(col.sql, alias) for alias, col in outputs]
               + [_named(key, alias) for alias, key in hidden])
    if hidden:  # order by values that are not shown: sort in an outer SELECT
        select = exp.select(*[quoted(alias) for alias, _ in outputs]).from_(
            select.subquery("_result"))
    select = select.order_by(*_ordered([(quoted(a), d) for a, d in order]), copy=False)
    select = select.limit(limit, copy=False)
    return select, names, [state.scope[n].kind for n in names]


# --- checks and helpers -------------------------------------------------------------------------


def _check_order(c: Compiler, commands) -> None:
    """AWS's ordering rules: sort/limit after the last stats; only limit after dedup."""
    last_stats = max((i for i, cmd in enumerate(commands) if isinstance(cmd, ast.Stats)),
                     default=-1)
    for i, cmd in enumerate(commands):
        if isinstance(cmd, (ast.Sort, ast.Limit)) and i < last_stats:
            word = type(cmd).__name__.lower()
            raise c.error(cmd, f"{word} must come after the last stats command (Logs Insights "
                          f"rejects a query with {word} before stats): move it to the end")
    first_dedup = next((i for i, cmd in enumerate(commands) if isinstance(cmd, ast.Dedup)),
                       None)
    if first_dedup is not None:
        for cmd in commands[first_dedup + 1:]:
            if not isinstance(cmd, ast.Limit):
                raise c.error(cmd, "only limit may follow dedup: put this command before "
                              "the dedup")


def _live_names(query: ast.Query) -> set[str]:
    """Every name the query mentions (fields, aliases, parsed names): what layers must keep."""
    names = set()
    for node in ast.walk(query):
        if isinstance(node, ast.Field):
            names.add(node.name)
        elif isinstance(node, ast.Item):
            names.add(node.name)
        elif isinstance(node, ast.Name):
            names.add(node.value)
    return names
