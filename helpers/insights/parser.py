"""Parse Logs Insights query text into the syntax tree of :mod:`helpers.insights.ast`.

The grammar lives in ``grammar.lark`` beside this module (LALR, positions on). Lark's errors are
turned into :class:`~helpers.errors.InsightsSyntaxError` at this boundary: line, column, the
query line with a caret under the offending text, and what would have been valid there, in words.

Spellings outside AWS's command pages, decided here (each pinned by a test):

- ``SOURCE 'log-group' [START=t END=t] |`` prefixes (one or several) are read before the grammar:
  CloudWatch dashboards store a log widget's query that way (the CDK's ``LogQueryWidget`` writes
  ``SOURCE 'a' | SOURCE 'b' | query``) and the console's Log Analytics links put
  ``SOURCE "group-or-arn" START=-1w END=0s |`` at the head
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Source.html). The
  ``SOURCE logGroups(...)`` form selects groups inside CloudWatch and is refused offline.
- ``sort by x desc``: accepted; the console's own sample query for Lambda writes
  ``sort by @billedDuration desc``.
- ``==``: accepted as ``=``. The operator table lists only ``=``
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html),
  but queries sent to Logs Insights' StartQuery with ``==`` run (public flow-log tools build
  ``filter action == "REJECT"`` and ``filter interfaceId == "eni-..."`` queries for it).
- ``order by`` (SQL, PPL) and an ``as a, b`` after a ``|`` (a parse's names on a command of their
  own): refused, with the Insights spelling in the message.
- A number literal beyond the double range (``1e400``) is an error here (AWS does not say).
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from helpers.errors import InsightsArgumentError, InsightsSyntaxError
from helpers.insights import ast

__all__ = ["COMMANDS", "GRAMMAR", "build_parser", "log_group_name", "parse", "read_sources",
           "syntax_error"]

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
        raise InsightsArgumentError(f"query must be Logs Insights query text (a str), not "
                                    f"{type(text).__name__}, e.g. \"fields @timestamp, @message\"")
    if not _code(text).strip():
        raise syntax_error(text, 1, 1, "the query is empty: write at least one command, e.g. "
                           "`fields @timestamp, @message`")
    sources, rest = read_sources(text)
    if not _code(rest).strip():
        last = sources[-1]
        raise syntax_error(text, last.line, last.column, "the query has only a SOURCE prefix: "
                           "add the commands after its '|', e.g. `SOURCE 'vpc-flow-logs' | "
                           "fields @timestamp, @message`", width=last.end - last.start)
    try:
        tree = _parser().parse(rest)
    except UnexpectedInput as err:
        raise _from_lark(text, err) from err
    try:
        return _ToAst(text, sources).transform(tree)
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


# --- SOURCE prefixes -------------------------------------------------------------------------

_SOURCE = re.compile(r"source(?![A-Za-z0-9_])", re.IGNORECASE)
_QUOTED = re.compile(r"'(?:\\.|[^'\\\n])*'" + r'|"(?:\\.|[^"\\\n])*"')
_OPTION = re.compile(r"(start|end)\s*=\s*([^\s|#]+)", re.IGNORECASE)
_SELECTOR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\(")
_ARN = re.compile(r"arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+?)(?::\*)?")


def read_sources(text: str) -> tuple[tuple[ast.Source, ...], str]:
    """The ``SOURCE ... |`` prefixes at the head of a query, and the query with them blanked.

    Blanking keeps every other character where it was (newlines stay), so line and column
    numbers in the rest of the query still point into the text as written.

    >>> sources, rest = read_sources("SOURCE 'a' | SOURCE 'b' START=-1h END=0s | limit 5")
    >>> [(s.log_groups, s.options) for s in sources]
    [(('a',), ()), (('b',), (('START', '-1h'), ('END', '0s')))]
    >>> rest.strip()
    'limit 5'
    """
    sources: list[ast.Source] = []
    chars = list(text)
    pos = _skip_blank(text, 0)
    while _SOURCE.match(text, pos):
        start = pos
        i = _SOURCE.match(text, pos).end()
        names: list[str] = []
        options: list[tuple[str, str]] = []
        while True:
            i = _skip_blank(text, i)
            if i >= len(text) or text[i] == "|":
                break
            if text[i] in "'\"":
                token = _QUOTED.match(text, i)
                if token is None:
                    raise _error_at(text, i, f"unclosed string: add the closing {text[i]}")
                names.append(log_group_name(_unquote_text(token.group())))
                i = token.end()
            elif _OPTION.match(text, i):
                option = _OPTION.match(text, i)
                options.append((option.group(1).upper(), option.group(2)))
                i = option.end()
            elif _SELECTOR.match(text, i):
                raise _error_at(text, i, "SOURCE logGroups(...) and the other selector functions "
                                "choose log groups inside CloudWatch; offline, name the log "
                                "group in quotes: `SOURCE 'vpc-flow-logs' | ...`",
                                width=_SELECTOR.match(text, i).end() - i - 1)
            else:
                raise _error_at(text, i, f"unexpected {text[i]!r} in SOURCE; expected a quoted "
                                "log group name, START=..., END=... or '|'")
        if not names:
            raise _error_at(text, start, "SOURCE needs a quoted log group name, e.g. "
                            "`SOURCE 'vpc-flow-logs' | fields @timestamp`", width=6)
        if i >= len(text):
            raise _error_at(text, start, "the query has only a SOURCE prefix: add '|' and the "
                            "commands, e.g. `SOURCE 'vpc-flow-logs' | fields @timestamp`",
                            width=6)
        line, column = _line_column(text, start)
        sources.append(ast.Source(log_groups=tuple(names), options=tuple(options), line=line,
                                  column=column, start=start, end=i))
        for j in range(start, i + 1):  # the prefix and its "|"
            if chars[j] != "\n":
                chars[j] = " "
        pos = _skip_blank(text, i + 1)
    return tuple(sources), "".join(chars)


def _skip_blank(text: str, i: int) -> int:
    """The position of the next character that is not white space or in a # comment."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        else:
            break
    return i


def _line_column(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _error_at(text: str, pos: int, reason: str, *, width: int = 1) -> InsightsSyntaxError:
    line, column = _line_column(text, pos)
    return syntax_error(text, line, column, reason, width=width)


def log_group_name(value: str) -> str:
    """A log group's name from its name or ARN (``arn:aws:logs:...:log-group:NAME[:*]``)."""
    arn = _ARN.fullmatch(value.strip())
    return arn.group(1) if arn else value.strip()


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
    if word.lower() == "order":
        return ("Logs Insights has no `order by` (that is SQL): sort with `sort field desc` "
                "or `sort field asc`, e.g. `sort bytes desc`")
    if word.lower() == "as":
        return ("'as' is not a command: a parse's names belong to the parse itself, without a "
                "'|' before them: `parse @message \"* * *\" as a, b, c`")
    if word.lower() == "source":
        return ("SOURCE comes first, before every command: `SOURCE 'vpc-flow-logs' | "
                "fields @timestamp, @message`")
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
_OWN_WORDS = {"'as'": ("fields", "display", "stats", "parse"), "'by'": ("stats", "sort"),
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
    return _unquote_text(str(token))


def _unquote_text(literal: str) -> str:
    body = literal[1:-1]
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

    def __init__(self, text: str, sources: tuple[ast.Source, ...] = ()):
        super().__init__()
        self.text = text
        self.sources = sources

    def _slice(self, node: ast.Node) -> str:
        return self.text[node.start:node.end]

    # commands
    def start(self, meta, children):
        return ast.Query(commands=tuple(children), text=self.text, sources=self.sources,
                         **_pos(meta))

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
        keys = tuple(c for c in children[1:] if isinstance(c, ast.SortKey))  # after SORT [BY]
        return ast.Sort(keys=keys, **_pos(meta))

    def sort_key(self, meta, children):
        direction = children[1].upper() if len(children) > 1 else None
        return ast.SortKey(expr=children[0], descending=direction == "DESC",
                           explicit=direction is not None, **_pos(meta))

    def limit(self, meta, children):
        token = children[1]
        count = ast.Number(value=self._number(token), **_pos(token))
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
        return ast.Compare(op="=" if str(op) == "==" else str(op), left=left, right=right,
                           **_pos(meta))

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
        return ast.Number(value=self._number(children[0]), **_pos(children[0]))

    def _number(self, token: Token) -> int | float:
        value = _number(str(token))
        if isinstance(value, float) and math.isinf(value):
            raise syntax_error(self.text, token.line, token.column, f"the number {token} is too "
                               "large: numbers are 64-bit floating point, at most about 1.8e308",
                               width=len(str(token)))
        return value

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
