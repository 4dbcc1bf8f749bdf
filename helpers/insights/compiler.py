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
  missing (null), as :func:`helpers.flowlogs.read` reads it, not the text "-": ``stats ... by
  srcAddr`` puts those records in one group whose key is missing, and ``filter srcAddr = "-"``
  matches nothing (with an :class:`~helpers.errors.InsightsMissingValueWarning` that
  names ``not ispresent(srcAddr)``). Neither the discovered-fields page
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html)
  nor the flow-log record page, which says "-" marks a field that is not applicable or could
  not be computed (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html),
  says what Insights shows; queries people run on Insights skip those records with
  ``filter ispresent(srcAddr)``, which works only if the field is missing there.
- Without ``fields``, ``display`` or ``stats`` the result shows ``@timestamp`` and
  ``@message``, as the console does.
- Arithmetic (``+ - * / %``) is in double precision, as Insights' numbers are: no 64-bit
  integer overflow; ``/`` and ``%`` by zero give null (the operator table,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html,
  says neither).
- After ``stats``, later commands see only its results ("Use multiple stats commands in a
  single query", on the stats page). ``sort`` takes "a specified field"
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Sort.html) and an
  unaliased result is a field named by its text, so ``stats count(*) by bin(5m) | sort
  bin(5m)`` sorts on the result ``bin(5m)`` (a call whose text, spaces aside, is a result's name
  is that result, in sort, filter, fields and a later stats's keys). An aggregate that is not a
  result (``stats sum(bytes) as b | sort sum(bytes)``) is an error naming the result to use.
- After ``stats ... by bin(p)`` that does not produce ``@timestamp`` itself, ``@timestamp`` is
  that bin key: the only time a stats row carries, and the axis Insights draws such a result
  on ("Visualize time series data", on the stats page). So ``sort @timestamp desc | limit 3``
  keeps the three newest buckets. AWS does not say what ``@timestamp`` is there.
- Two results of one ``stats`` with the same name (``count(*) as n, sum(bytes) as n``) are a
  syntax error at the second; Insights' guide does not say which one would win.
- A ``SOURCE 'group' ... |`` prefix (see :mod:`helpers.insights.parser`) selects records by log
  group where the data says which group it is: its ``log_group`` column, or ``log_group=``
  (then every record or none is in the selection). Data without either runs unselected with an
  :class:`~helpers.errors.InsightsSourceWarning`, and ``@log`` takes the SOURCE's name
  when it names one group. ``START=``/``END=`` are the console's time range, never applied
  offline (a relative ``-1w`` would depend on the clock): they warn and the query uses every
  record, so filter on ``@timestamp`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from sqlglot import exp

from helpers.errors import InsightsArgumentError, InsightsError, InsightsSourceWarning
from helpers.flowlogs.fields import FIELDS
from helpers.insights import ast, functions, patterns
from helpers.insights.expressions import ExpressionCompiler, squeeze
from helpers.insights.functions import as_text, lit
from helpers.insights.parser import log_group_name, parse
from helpers.insights.schema import (
    LOG_GROUP_COLUMN,
    NULL,
    STRING,
    TIME,
    Column,
    discovered,
    from_millis,
    quoted,
)

__all__ = ["COMMANDS", "DEFAULT_LIMIT", "DIALECTS", "MAX_LIMIT", "Compiled", "check_table",
           "compile_query"]

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
    results: dict[str, str] = field(default_factory=dict)  # last stats: item text → result name


def compile_query(query: str | ast.Query, *, columns=None, dialect: str = "duckdb",
                  table: str = "flows", log_group: str | None = None,
                  pretty: bool = True) -> Compiled:
    """Compile a query for a table with these canonical columns.

    Args:
        query: the query text (or an already parsed :class:`ast.Query`).
        columns: the table's canonical columns; None means every flow-log field.
        dialect: ``"duckdb"`` or ``"athena"`` (Trino SQL).
        table: the table the SQL reads: ``name``, ``db.name`` or ``catalog.db.name``, quoted
            as identifiers (see :func:`check_table`).
        log_group: the log group name behind ``@log`` (``account-id:log-group``), and the one
            a SOURCE prefix selects from when the data has no ``log_group`` column.
        pretty: format the SQL on several lines.

    Raises:
        InsightsSyntaxError: the query is not valid (with line, column and a caret).
        InsightsArgumentError: an argument has the wrong type or value (named in the message).
    """
    if not isinstance(dialect, str) or dialect not in DIALECTS:
        raise InsightsArgumentError(f"dialect must be one of {', '.join(DIALECTS)}, not "
                                    f"{dialect!r}")
    if isinstance(query, ast.Query):
        tree = query
    else:
        tree = parse(query)  # text, or an InsightsArgumentError naming the query
    columns = _columns(columns)
    if log_group is not None and not isinstance(log_group, str):
        raise InsightsArgumentError(f"log_group must be a log group name (a str) or None, not "
                                    f"{type(log_group).__name__}")
    compiler = Compiler(tree, DIALECTS[dialect])
    select, names, kinds = compiler.compile(columns, check_table(table), log_group)
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
        named = [g for source in self.query.sources for g in source.log_groups]
        shown_group = log_group
        if (log_group is None and LOG_GROUP_COLUMN not in columns
                and len(set(named)) == 1):
            shown_group = named[0]  # @log names the one group the SOURCE selects
        scope, ts_ms = discovered(columns, log_group=shown_group)
        select = exp.select().from_(_table(table))
        if not scope:
            raise InsightsError("the data has none of the columns Logs Insights discovers in "
                                "flow logs (srcaddr, dstport, start, ...): nothing to query")
        if self.query.sources:
            select = _select_sources(self, select, columns, log_group)
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
    _check_names(c, command)
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
        alias = aliases(name)
        projections.append(exp.alias_(col.sql, alias, quoted=True))
        scope[name] = Column(quoted(alias), col.kind)
        outputs.append(name)
    if "@timestamp" not in scope:  # after stats ... by bin(p), @timestamp is that bin
        bins = [item for item in command.by
                if isinstance(item.expr, ast.Call) and item.expr.name.lower() == "bin"]
        if bins:
            scope["@timestamp"] = Column(scope[bins[0].name].sql.copy(), TIME)
    grouped = state.select.copy()
    grouped.set("expressions", projections)
    if keys:
        grouped = grouped.group_by(*[col.sql.copy() for _, col in keys], copy=False)
    layer = state.layers + 1
    select = exp.select().from_(grouped.subquery(f"_stats{layer}"))
    ts_ms = None
    if scope.get("@timestamp", Column(None, NULL)).kind == TIME:
        ts_ms = functions.to_millis(scope["@timestamp"].sql)
    results = {squeeze(item.text): item.name for item in command.by + command.items}
    return State(select=select, scope=scope, ts_ms=ts_ms, outputs=outputs, chosen=True,
                 after_stats=True, layers=layer, results=results)


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
        source, group = pattern, number
        if number > patterns.MAX_GROUP:  # DuckDB extracts groups 0-9: make this one group 1
            source, group = patterns.only_group(pattern, number), 1
        extract = exp.Case(ifs=[exp.If(
            this=exp.RegexpLike(this=text.copy(), expression=lit(pattern)),
            true=exp.RegexpExtract(this=text.copy(), expression=lit(source),
                                   group=lit(group)))])
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


def _check_names(c: Compiler, command: ast.Stats) -> None:
    """Each result of one stats needs its own name (an alias, or the expression's text)."""
    seen: dict[str, ast.Item] = {}
    for item in sorted(command.by + command.items, key=lambda i: i.start):
        first = seen.setdefault(item.name, item)
        if first is not item:
            where = item.alias if item.alias is not None else item
            raise c.error(where, f"two results of this stats are named {item.name!r} (the "
                          f"first at column {first.column}): give each its own name with "
                          f"`as`, e.g. `{item.text} as {_suggest_alias(item, seen)}`")


def _suggest_alias(item: ast.Item, seen) -> str:
    base = re.sub(r"\W+", "_", item.text).strip("_") or "value"
    name, n = base, 1
    while name in seen:
        n += 1
        name = f"{base}_{n}"
    return name


_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*){0,2}")


def check_table(table) -> str:
    """A table name the SQL may read: ``name``, ``db.name`` or ``catalog.db.name``, each part
    letters, digits, ``_`` and ``-`` (it is quoted as an identifier, never pasted as SQL).

    Raises:
        InsightsArgumentError: anything else, e.g. text with quotes, spaces or ``;``.
    """
    if not isinstance(table, str) or not _TABLE.fullmatch(table):
        shown = repr(table) if isinstance(table, str) else type(table).__name__
        raise InsightsArgumentError(f"table must be a table name such as 'flows' or "
                                    f"'db.vpc_flow_logs' (letters, digits, _ and -, parts "
                                    f"joined by '.'), not {shown}")
    return table


def _table(table: str) -> exp.Table:
    parts = table.split(".")
    return exp.table_(parts[-1], db=parts[-2] if len(parts) > 1 else None,
                      catalog=parts[-3] if len(parts) > 2 else None, quoted=True)


def _columns(columns) -> list[str]:
    if columns is None:
        return [f.column for f in FIELDS.values()]
    try:
        names = None if isinstance(columns, str) else list(columns)
    except TypeError:
        names = None
    if names is None or not all(isinstance(c, str) for c in names):
        raise InsightsArgumentError("columns must be a list of column names (str), such as "
                                    "['srcaddr', 'dstport', 'start'], or None for every "
                                    f"flow-log field; not {columns!r:.80}")
    return names


def _select_sources(c: Compiler, select: exp.Select, columns, log_group) -> exp.Select:
    """Apply the query's SOURCE prefixes: select its log groups where the data has groups."""
    sources = c.query.sources
    first = sources[0]
    where = f"line {first.line}, column {first.column}"
    names = list(dict.fromkeys(g for source in sources for g in source.log_groups))
    listed = ", ".join(repr(n) for n in names)
    options = [f"{key}={value}" for source in sources for key, value in source.options]
    if options:
        c.warn(InsightsSourceWarning(
            f"{where}: SOURCE's {' '.join(options)} is the time range the console would query; "
            f"the offline run uses every record it is given. Narrow them with a filter on "
            f"@timestamp, e.g. `filter toMillis(@timestamp) >= 1639958400000`."))
    if LOG_GROUP_COLUMN in columns:
        return select.where(exp.In(this=quoted(LOG_GROUP_COLUMN),
                                   expressions=[lit(n) for n in names]), copy=False)
    if log_group is not None:
        if log_group_name(log_group) in names:
            return select
        c.warn(InsightsSourceWarning(
            f"{where}: SOURCE selects {listed}, but these records are log group "
            f"{log_group!r} (log_group=): no record is selected."))
        return select.where(exp.false(), copy=False)
    c.warn(InsightsSourceWarning(
        f"{where}: SOURCE selects {listed}, but the records do not say which log group they "
        f"belong to (no log_group column, no log_group= argument): every record is used."))
    return select


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
