"""The syntax tree of a Logs Insights query: small frozen dataclasses that know where they are.

Every node carries ``line`` and ``column`` (1-based, where its text starts) and ``start`` and
``end`` (character offsets into the query), so the compiler can point at the exact text in an
error message and name an unaliased result column by its text, as Insights does
(``count(*)``, ``sum(bytes)``, ``bin(1h)``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Call", "Command", "Compare", "Dedup", "Display", "Expr", "Field", "Fields", "Filter",
    "InList", "Item", "Like", "Limit", "Logical", "Match", "Name", "Negate", "Not", "Number",
    "Operation", "Parse", "Period", "Query", "Regex", "Sort", "SortKey", "Source", "Stats",
    "String", "walk",
]


@dataclass(frozen=True, kw_only=True)
class Node:
    """Where a node's text is: 1-based line and column, and character offsets [start, end)."""

    line: int
    column: int
    start: int
    end: int

    @property
    def width(self) -> int:
        return max(1, self.end - self.start)


# --- expressions --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Field(Node):
    """A field name, as written (``srcAddr``, ``@timestamp``, a `backticked name`)."""

    name: str


@dataclass(frozen=True, kw_only=True)
class Number(Node):
    value: int | float


@dataclass(frozen=True, kw_only=True)
class String(Node):
    """A quoted string, escapes already resolved."""

    value: str


@dataclass(frozen=True, kw_only=True)
class Regex(Node):
    """A /regular expression/ (the text between the slashes, ``\\/`` resolved to ``/``)."""

    pattern: str


@dataclass(frozen=True, kw_only=True)
class Period(Node):
    """A time period such as ``5m``: a count and a unit (ms, s, m, h, d, w, mo, q, y)."""

    count: int
    unit: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Negate(Node):
    """Unary minus."""

    operand: Expr


@dataclass(frozen=True, kw_only=True)
class Operation(Node):
    """Arithmetic: ``+ - * / % ^``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    """``= != < <= > >=``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class Logical(Node):
    """``and`` / ``or`` over two or more operands."""

    op: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True, kw_only=True)
class InList(Node):
    """``x in [a, b]`` or ``x not in [...]``."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True, kw_only=True)
class Like(Node):
    """``x like "text"`` (substring), ``x like /re/`` (regex search), or ``not like``."""

    operand: Expr
    pattern: String | Regex
    negated: bool


@dataclass(frozen=True, kw_only=True)
class Match(Node):
    """``x =~ /re/``: regular-expression search."""

    operand: Expr
    pattern: Regex


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    """A function call; ``star`` is True for ``count(*)``. ``name`` is as written."""

    name: str
    args: tuple[Expr, ...]
    star: bool = False


Expr = (Field | Number | String | Regex | Period | Negate | Operation | Compare | Logical | Not
        | InList | Like | Match | Call)


# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Name(Node):
    """A name after ``as`` (an alias or a parsed field)."""

    value: str


@dataclass(frozen=True, kw_only=True)
class Item(Node):
    """``expr [as alias]`` in fields, display and stats; ``text`` is the expression as typed."""

    expr: Expr
    alias: Name | None
    text: str

    @property
    def name(self) -> str:
        """The result column's name: the alias, else the expression's text."""
        if self.alias is not None:
            return self.alias.value
        if isinstance(self.expr, Field):
            return self.expr.name
        return self.text


@dataclass(frozen=True, kw_only=True)
class Fields(Node):
    items: tuple[Item, ...]


@dataclass(frozen=True, kw_only=True)
class Display(Node):
    items: tuple[Item, ...]


@dataclass(frozen=True, kw_only=True)
class Filter(Node):
    condition: Expr


@dataclass(frozen=True, kw_only=True)
class Stats(Node):
    items: tuple[Item, ...]
    by: tuple[Item, ...]


@dataclass(frozen=True, kw_only=True)
class SortKey(Node):
    expr: Expr
    descending: bool
    explicit: bool  # asc or desc was written


@dataclass(frozen=True, kw_only=True)
class Sort(Node):
    keys: tuple[SortKey, ...]


@dataclass(frozen=True, kw_only=True)
class Limit(Node):
    count: Number


@dataclass(frozen=True, kw_only=True)
class Parse(Node):
    """``parse [field] "glob"|/regex/ [as a, b]``; the field defaults to @message."""

    source: Field | None
    pattern: String | Regex
    names: tuple[Name, ...]


@dataclass(frozen=True, kw_only=True)
class Dedup(Node):
    fields: tuple[Field, ...]


Command = Fields | Display | Filter | Stats | Sort | Limit | Parse | Dedup


@dataclass(frozen=True, kw_only=True)
class Source(Node):
    """A ``SOURCE 'log-group' ... [START=t] [END=t] |`` prefix, as CloudWatch dashboards store a
    log widget's query: the log group names (an ARN's name part) and the time-range options."""

    log_groups: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()  # (START or END, value as written)


@dataclass(frozen=True, kw_only=True)
class Query(Node):
    """A whole query: its commands in order, its text, and any SOURCE prefixes before them."""

    commands: tuple[Command, ...]
    text: str
    sources: tuple[Source, ...] = ()


def walk(node):
    """Every node under ``node`` (itself included), depth first."""
    yield node
    for value in vars(node).values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Node):
                yield from walk(child)
