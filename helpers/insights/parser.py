"""Parse Logs Insights query text into the syntax tree of :mod:`helpers.insights.ast`.

The grammar lives in ``grammar.lark`` beside this module (LALR, positions on). Lark's errors are
turned into :class:`~helpers.errors.InsightsSyntaxError` at this boundary: line, column, the
query line with a caret under the offending text, and what would have been valid there, in words.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from helpers.errors import InsightsSyntaxError
from helpers.insights import ast

__all__ = ["COMMANDS", "GRAMMAR", "build_parser", "parse", "syntax_error"]

GRAMMAR = Path(__file__).with_name("grammar.lark")
COMMANDS = ("fields", "display", "filter", "where", "stats", "sort", "limit", "parse", "dedup")
"""The commands the course's compiler understands (``where`` is AWS's alias of ``filter``)."""

_UNITS = {
    "ms": ("ms", "mss", "msec", "msecs", "millisecond", "milliseconds"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "d": ("d", "day", "days"),
    "w": ("w", "week", "weeks"),
    "mo": ("mo", "mos", "mon", "mons", "month", "months"),
    "q": ("q", "qtr", "qtrs", "quarter", "quarters"),
    "y": ("y", "yr", "yrs", "year", "years"),
}
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}

# What a terminal is, in words, for "expected ..." in error messages.
_WORDS = {
    "NAME": "a field name", "QUOTED_NAME": "a `quoted field name`", "NUMBER": "a number",
    "STRING": "a quoted string", "REGEX": "a /regular expression/", "PERIOD": "a time period "
    "such as 5m", "COMPARE": "a comparison (= != < <= > >=)", "MATCH": "'=~'", "$END":
    "the end of the query", "_PIPE": "'|'", "_COMMA": "','", "_LPAR": "'('", "_RPAR": "')'",
    "_LBRACKET": "'['", "_RBRACKET": "']'", "_CARET": "'^'", "PLUS": "'+'", "MINUS": "'-'",
    "STAR": "'*'", "SLASH": "'/'", "PERCENT": "'%'",
}


def build_parser(*, strict: bool = False) -> Lark:
    """The LALR parser of ``grammar.lark`` (``strict=True`` also checks it for conflicts)."""
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, strict=strict)


@functools.cache
def _parser() -> Lark:
    return build_parser()


def parse(text: str) -> ast.Query:
    """Parse a query into an :class:`ast.Query`.

    Raises:
        InsightsSyntaxError: the text is not a query, with the line, column, a caret and what
            was expected at that point.

    >>> [type(c).__name__ for c in parse("filter action = 'REJECT' | stats count(*)").commands]
    ['Filter', 'Stats']
    """
    if not isinstance(text, str):
        raise TypeError(f"a query is text, not {type(text).__name__}")
    if not _code(text).strip():
        raise syntax_error(text, 1, 1, "the query is empty: write at least one command, e.g. "
                           "`fields @timestamp, @message`")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise _from_lark(text, err) from err
    try:
        return _ToAst(text).transform(tree)
    except VisitError as err:  # a bug in the transformer, or an error it raised on purpose
        if isinstance(err.orig_exc, InsightsSyntaxError):
            raise err.orig_exc from err
        raise


def syntax_error(text: str, line: int, column: int, reason: str, *, width: int = 1,
                 expected: tuple[str, ...] = ()) -> InsightsSyntaxError:
    """An :class:`InsightsSyntaxError` pointing at ``line``/``column`` of the query text."""
    lines = text.split("\n") or [""]
    line = min(max(line, 1), len(lines))
    return InsightsSyntaxError(reason, line=line, column=max(column, 1),
                               source_line=lines[line - 1].rstrip("\r"), width=width,
                               expected=expected)


def node_error(text: str, node: ast.Node, reason: str) -> InsightsSyntaxError:
    """An :class:`InsightsSyntaxError` pointing at a node of the query."""
    first_line_end = text.find("\n", node.start)
    end = node.end if first_line_end < 0 else min(node.end, first_line_end)
    return syntax_error(text, node.line, node.column, reason, width=end - node.start)


# --- lark errors → InsightsSyntaxError ------------------------------------------------------


def _code(text: str) -> str:
    """The text without comments (a rough cut, used only to spot an empty query)."""
    return "\n".join(line.split("#", 1)[0] for line in text.split("\n"))


def _from_lark(text: str, err: UnexpectedInput) -> InsightsSyntaxError:
    if isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        expected = _expected(err.allowed)
        reason = f"unexpected character {char!r}"
        if char in "\"'`/":
            reason = f"unclosed {_QUOTES.get(char, 'text')}: add the closing {char}"
        elif char.isspace() or not char.isprintable() or ord(char) > 127:
            reason += f" (U+{ord(char):04X}); type plain ASCII outside quotes"
        return syntax_error(text, err.line, err.column, _with_expected(reason, expected),
                            expected=expected)
    assert isinstance(err, UnexpectedToken)
    token = err.token
    expected = _expected(err.expected)
    if token.type == "$END":
        lines = text.rstrip().split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        reason = _with_expected("the query ends too early", expected)
        return syntax_error(text, line, column, reason, expected=expected)
    expected = _relevant(expected, _command_at(text, token.start_pos))
    reason = _with_expected(f"unexpected {_describe(token)}", expected)
    if str(token) == "/" and "REGEX" in err.expected:
        reason = "unclosed regular expression: add the closing /"
    if {"FIELDS", "STATS"} <= set(err.expected):
        reason = _unknown_command(token)
    return syntax_error(text, token.line, token.column, reason, width=len(str(token)),
                        expected=expected)


_QUOTES = {'"': "string", "'": "string", "`": "quoted field name", "/": "regular expression"}


def _unknown_command(token: Token) -> str:
    word = str(token)
    known = ", ".join(COMMANDS)
    if word.lower() == "bin":
        return ("bin is not a command: bin(period) is a function used inside stats, and it "
                "always works on @timestamp. Write e.g. `stats sum(bytes) as hourly_bytes by "
                "bin(1h) as hour`")
    close = difflib.get_close_matches(word.lower(), COMMANDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown command {word!r}{hint} A command starts each part of the query: {known}"


def _describe(token: Token) -> str:
    if token.type in ("NAME", "QUOTED_NAME"):
        return f"field name {str(token)!r}"
    if token.type in ("NUMBER", "STRING", "REGEX", "PERIOD"):
        return f"{_WORDS[token.type].split(' such')[0].removeprefix('a ')} {str(token)}"
    return repr(str(token))


def _expected(names) -> tuple[str, ...]:
    words = []
    for name in sorted(names):
        word = _WORDS.get(name) or f"'{name.lower()}'"
        if word not in words:
            words.append(word)
    return tuple(words)


# Keywords that belong to one command only; LALR's merged states offer them everywhere.
_OWN_WORDS = {"'as'": ("fields", "display", "stats", "parse"), "'by'": ("stats",),
              "'asc'": ("sort",), "'desc'": ("sort",)}


def _command_at(text: str, pos: int) -> str:
    """The command word of the part of the query that holds ``pos`` (a rough scan)."""
    parts = _code(text[:pos]).split("|")
    words = parts[-1].split()
    return words[0].lower() if words else ""


def _relevant(expected: tuple[str, ...], command: str) -> tuple[str, ...]:
    return tuple(w for w in expected if command in _OWN_WORDS.get(w, (command,)))


def _with_expected(reason: str, expected: tuple[str, ...]) -> str:
    if not expected:
        return reason
    if len(expected) > 12:
        shown = ", ".join(expected[:12]) + ", ..."
    else:
        shown = ", ".join(expected)
    return f"{reason}; expected {shown}"


# --- parse tree → syntax tree ---------------------------------------------------------------


def _pos(meta_or_token) -> dict:
    """line/column/start/end of a lark tree's meta or of a token."""
    if isinstance(meta_or_token, Token):
        return dict(line=meta_or_token.line, column=meta_or_token.column,
                    start=meta_or_token.start_pos, end=meta_or_token.end_pos)
    return dict(line=meta_or_token.line, column=meta_or_token.column,
                start=meta_or_token.start_pos, end=meta_or_token.end_pos)


def _unquote(token: Token) -> str:
    """A string literal's value: drop the quotes; ``\\"``, ``\\'`` and ``\\\\`` are escapes,
    any other backslash stays as written (so regex-like text keeps its backslashes)."""
    body = str(token)[1:-1]
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in "\"'\\":
            out.append(body[i + 1])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _field_name(token: Token) -> str:
    text = str(token)
    if token.type == "QUOTED_NAME":
        return text[1:-1].replace("``", "`")
    return text


def _number(text: str) -> int | float:
    if all(c.isdigit() for c in text):
        return int(text)
    return float(text)


@v_args(meta=True)
class _ToAst(Transformer):
    """Builds :mod:`ast` nodes from lark's tree (rule names as in grammar.lark)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def _slice(self, node: ast.Node) -> str:
        return self.text[node.start:node.end]

    # commands
    def start(self, meta, children):
        return ast.Query(commands=tuple(children), text=self.text, **_pos(meta))

    def fields(self, meta, children):
        return ast.Fields(items=tuple(children[1:]), **_pos(meta))

    def display(self, meta, children):
        return ast.Display(items=tuple(children[1:]), **_pos(meta))

    def filter(self, meta, children):
        return ast.Filter(condition=children[1], **_pos(meta))

    def stats(self, meta, children):
        items, by, target = [], [], None
        target = items
        for child in children[1:]:
            if isinstance(child, Token):  # BY
                target = by
            else:
                target.append(child)
        return ast.Stats(items=tuple(items), by=tuple(by), **_pos(meta))

    def sort(self, meta, children):
        return ast.Sort(keys=tuple(children[1:]), **_pos(meta))

    def sort_key(self, meta, children):
        direction = children[1].upper() if len(children) > 1 else None
        return ast.SortKey(expr=children[0], descending=direction == "DESC",
                           explicit=direction is not None, **_pos(meta))

    def limit(self, meta, children):
        token = children[1]
        count = ast.Number(value=_number(str(token)), **_pos(token))
        return ast.Limit(count=count, **_pos(meta))

    def parse(self, meta, children):
        source, pattern, names = None, None, []
        for child in children[1:]:
            if isinstance(child, ast.Field):
                source = child
            elif isinstance(child, Token) and child.type == "STRING":
                pattern = ast.String(value=_unquote(child), **_pos(child))
            elif isinstance(child, Token) and child.type == "REGEX":
                pattern = self._regex(child)
            elif isinstance(child, ast.Name):
                names.append(child)
        return ast.Parse(source=source, pattern=pattern, names=tuple(names), **_pos(meta))

    def dedup(self, meta, children):
        return ast.Dedup(fields=tuple(children[1:]), **_pos(meta))

    def item(self, meta, children):
        expr = children[0]
        alias = children[2] if len(children) > 2 else None
        return ast.Item(expr=expr, alias=alias, text=self._slice(expr), **_pos(meta))

    def name(self, meta, children):
        return ast.Name(value=_field_name(children[0]), **_pos(meta))

    # expressions
    def or_expr(self, meta, children):
        return ast.Logical(op="or", operands=tuple(c for c in children if not isinstance(
            c, Token)), **_pos(meta))

    def and_expr(self, meta, children):
        return ast.Logical(op="and", operands=tuple(c for c in children if not isinstance(
            c, Token)), **_pos(meta))

    def negation(self, meta, children):
        return ast.Not(operand=children[1], **_pos(meta))

    def compare(self, meta, children):
        left, op, right = children
        return ast.Compare(op=str(op), left=left, right=right, **_pos(meta))

    def membership(self, meta, children):
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        return ast.InList(operand=children[0], items=children[-1], negated=negated,
                          **_pos(meta))

    def list(self, meta, children):
        return tuple(children)

    def like(self, meta, children):
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        token = children[-1]
        if token.type == "REGEX":
            pattern = self._regex(token)
        else:
            pattern = ast.String(value=_unquote(token), **_pos(token))
        return ast.Like(operand=children[0], pattern=pattern, negated=negated, **_pos(meta))

    def match(self, meta, children):
        return ast.Match(operand=children[0], pattern=self._regex(children[2]), **_pos(meta))

    def sum(self, meta, children):
        return self._fold(children)

    def product(self, meta, children):
        return self._fold(children)

    def _fold(self, children):
        node = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            node = ast.Operation(op=str(op), left=node, right=right, line=node.line,
                                 column=node.column, start=node.start, end=right.end)
        return node

    def power(self, meta, children):
        left, right = children
        return ast.Operation(op="^", left=left, right=right, **_pos(meta))

    def negative(self, meta, children):
        return ast.Negate(operand=children[1], **_pos(meta))

    def number(self, meta, children):
        return ast.Number(value=_number(str(children[0])), **_pos(children[0]))

    def string(self, meta, children):
        return ast.String(value=_unquote(children[0]), **_pos(children[0]))

    def period(self, meta, children):
        token = children[0]
        text = str(token)
        digits = len(text) - len(text.lstrip("0123456789"))
        unit = _UNIT_OF[text[digits:].lower()]
        return ast.Period(count=int(text[:digits]), unit=unit, text=text, **_pos(token))

    def call(self, meta, children):
        name = str(children[0])
        rest = children[1:]
        star = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "STAR"
        args = () if star else tuple(rest)
        return ast.Call(name=name, args=args, star=star, **_pos(meta))

    def field(self, meta, children):
        return ast.Field(name=_field_name(children[0]), **_pos(children[0]))

    def _regex(self, token: Token) -> ast.Regex:
        body = str(token)[1:-1].replace("\\/", "/")
        return ast.Regex(pattern=body, **_pos(token))
