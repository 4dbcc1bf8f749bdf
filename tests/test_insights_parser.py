"""The Logs Insights grammar and parser: what parses into what, and how syntax errors read."""

from __future__ import annotations

import re

import pytest

from helpers.errors import CourseError, InsightsArgumentError, InsightsSyntaxError
from helpers.insights import ast, parser


def test_grammar_builds_in_lark_strict_mode():
    # Strict mode (no shift/reduce conflicts, no terminal collisions) needs `interegular`.
    parser.build_parser(strict=True)


def only(query: str):
    """The single command of a one-command query."""
    commands = parser.parse(query).commands
    assert len(commands) == 1
    return commands[0]


@pytest.mark.parametrize("query, kind", [
    ("fields @timestamp, @message", ast.Fields),
    ("display srcAddr", ast.Display),
    ("filter action = 'REJECT'", ast.Filter),
    ("where action = 'REJECT'", ast.Filter),
    ("stats count(*) by srcAddr", ast.Stats),
    ("sort bytes desc", ast.Sort),
    ("limit 5", ast.Limit),
    ('parse @message "* [*] *" as a, b, c', ast.Parse),
    ("dedup srcAddr, dstAddr", ast.Dedup),
])
def test_each_command_parses_to_its_node(query, kind):
    assert isinstance(only(query), kind)


@pytest.mark.parametrize("query", [
    "FIELDS @timestamp | FILTER action = 'ACCEPT' | STATS COUNT(*) BY srcAddr | SORT 1 DESC",
    "Fields @timestamp | Filter action = 'ACCEPT' And Not ispresent(x) | Limit 3",
])
def test_keywords_are_case_insensitive(query):
    assert len(parser.parse(query).commands) >= 3


def test_comments_and_newlines_are_ignored():
    query = "fields @timestamp, @message  # the default columns\n# | filter x = 1\n| limit 5"
    commands = parser.parse(query).commands
    assert [type(c) for c in commands] == [ast.Fields, ast.Limit]


def test_a_hash_inside_quotes_is_not_a_comment():
    condition = only("filter @message like '#1' ").condition
    assert condition.pattern.value == "#1"


@pytest.mark.parametrize("literal, value", [
    ('"double"', "double"),
    ("'single'", "single"),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'it\'s'", "it's"),
    (r'"back\\slash"', "back\\slash"),
    (r'"a\.b"', r"a\.b"),  # other backslashes stay
    ('"한글 ✓"', "한글 ✓"),
])
def test_string_literals_and_escapes(literal, value):
    assert only(f"filter x = {literal}").condition.right.value == value


def test_backticks_quote_field_names():
    items = only("fields `foo-bar`, `a``b`, @logStream").items
    assert [i.expr.name for i in items] == ["foo-bar", "a`b", "@logStream"]


def test_regex_literal_keeps_its_text_and_escaped_slash():
    like = only(r"filter srcAddr like /^10\.0\/x/").condition
    assert isinstance(like.pattern, ast.Regex)
    assert like.pattern.pattern == r"^10\.0/x"


@pytest.mark.parametrize("text, count, unit", [
    ("5ms", 5, "ms"), ("5msec", 5, "ms"), ("2milliseconds", 2, "ms"),
    ("30s", 30, "s"), ("30sec", 30, "s"), ("30secs", 30, "s"), ("1second", 1, "s"),
    ("5m", 5, "m"), ("5min", 5, "m"), ("5mins", 5, "m"), ("5minutes", 5, "m"),
    ("1h", 1, "h"), ("1hr", 1, "h"), ("2hrs", 2, "h"), ("1hour", 1, "h"), ("3hours", 3, "h"),
    ("1d", 1, "d"), ("1day", 1, "d"), ("2days", 2, "d"),
    ("1w", 1, "w"), ("1week", 1, "w"), ("2weeks", 2, "w"),
    ("1mo", 1, "mo"), ("1mon", 1, "mo"), ("1month", 1, "mo"), ("6months", 6, "mo"),
    ("1q", 1, "q"), ("1qtr", 1, "q"), ("1quarter", 1, "q"), ("2quarters", 2, "q"),
    ("1y", 1, "y"), ("1yr", 1, "y"), ("1year", 1, "y"), ("2years", 2, "y"),
    ("5M", 5, "m"), ("1H", 1, "h"),
])
def test_time_periods_with_every_unit_aws_lists(text, count, unit):
    period = only(f"stats count(*) by bin({text})").by[0].expr.args[0]
    assert (period.count, period.unit, period.text) == (count, unit, text)


def test_operator_precedence():
    expr = only("fields a + b * c ^ 2 as x").items[0].expr
    assert expr.op == "+" and expr.right.op == "*" and expr.right.right.op == "^"
    cond = only("filter a = 1 or b = 2 and not c = 3").condition
    assert cond.op == "or" and cond.operands[1].op == "and"
    assert isinstance(cond.operands[1].operands[1], ast.Not)


def test_in_like_and_match_with_not():
    cond = only("filter a in [1, 2] and b not in ['x'] and c not like 'y' and d =~ /z/")
    kinds = [type(o) for o in cond.condition.operands]
    assert kinds == [ast.InList, ast.InList, ast.Like, ast.Match]
    assert [cond.condition.operands[i].negated for i in (0, 1, 2)] == [False, True, True]


def test_items_keep_their_text_alias_and_position():
    stats = only("stats  sum(bytes)  as b, count(*) by bin(1h), srcAddr as src")
    assert [i.name for i in stats.items] == ["b", "count(*)"]
    assert [i.name for i in stats.by] == ["bin(1h)", "src"]
    assert (stats.items[1].line, stats.items[1].column) == (1, 26)


def test_count_star_and_empty_count():
    star, empty = only("stats count(*), count()").items
    assert star.expr.star and not star.expr.args
    assert not empty.expr.star and not empty.expr.args


def test_parse_source_defaults_to_none_and_takes_names():
    glob = only('parse "user=* " as user')
    assert glob.source is None and [n.value for n in glob.names] == ["user"]
    regex = only("parse @message /(?<eni>eni-\\S+)/")
    assert regex.source.name == "@message" and regex.names == ()


def test_node_positions_span_lines():
    query = "fields @timestamp\n| filter bytes > 10\n| limit 5"
    command = parser.parse(query).commands[1]
    assert (command.line, command.column) == (2, 3)
    assert query[command.start:command.end] == "filter bytes > 10"


# --- syntax errors: class, position, message ------------------------------------------------


@pytest.mark.parametrize("query, line, column, words", [
    ("fields", 1, 7, "the query ends too early; expected"),
    ("filter bytes >", 1, 15, "the query ends too early"),
    ("stats count(*) by", 1, 18, "the query ends too early"),
    ("fields a,\n| limit 5", 2, 1, "unexpected '|'"),
    ("filter x = 'open", 1, 12, "unclosed string: add the closing '"),
    ("filter x like /abc", 1, 15, "unclosed regular expression"),
    ("fields `foo", 1, 8, "unclosed quoted field name"),
    ("fields a ; drop table flows", 1, 10, "unexpected character ';'"),
    ("filter x = 1 /* comment */", 1, 15, "unexpected '*'"),
    ("filter a\u00a0= 1", 1, 9, "U+00A0"),
    ("sort bytes upward", 1, 12, "unexpected field name 'upward'; expected"),
    ("limit", 1, 6, "the query ends too early"),
    ("stats count(*) | ", 1, 17, "the query ends too early"),
    ("filter x === 1", 1, 12, "unexpected '='"),  # "==" is "=", so the third "=" is extra
])
def test_syntax_errors_give_line_column_and_words(query, line, column, words):
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse(query)
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert words in str(err)
    assert isinstance(err, CourseError) and isinstance(err, ValueError)


def test_syntax_error_message_shows_the_line_and_a_caret():
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse("fields @timestamp\n| filter bytes >> 5")
    lines = str(info.value).split("\n")
    assert lines[0].startswith("line 2, column 17: unexpected '>'")
    assert lines[1] == "  | filter bytes >> 5"
    assert lines[2] == "  " + " " * 16 + "^"
    assert info.value.source_line == "| filter bytes >> 5"


def test_expected_tokens_are_in_words():
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse("filter")
    assert "a field name" in info.value.expected
    assert "a quoted string" in info.value.expected
    assert "a number" in info.value.expected


def test_expected_words_belong_to_the_command():
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse("filter a = 1 b")
    assert "'desc'" not in info.value.expected and "'by'" not in info.value.expected


def test_unknown_command_names_the_commands_and_suggests():
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse("fields a | fitler a = 1")
    err = info.value
    assert (err.line, err.column) == (1, 12)
    assert "unknown command 'fitler'; did you mean 'filter'?" in str(err)
    assert "fields, display, filter" in str(err)


def test_the_lessons_bin_command_is_explained():
    query = ("fields @timestamp, bytes\n| filter action = \"ACCEPT\"\n"
             "| bin(@timestamp, 1h) as hour\n| stats sum(bytes) as hourly_bytes by hour")
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse(query)
    err = info.value
    assert (err.line, err.column) == (3, 3)
    assert "bin is not a command" in err.reason and "stats sum(bytes)" in err.reason
    assert str(err).split("\n")[2] == "    ^^^"


@pytest.mark.parametrize("query", ["", "   \n  ", "# only a comment"])
def test_an_empty_query_is_an_error(query):
    with pytest.raises(InsightsSyntaxError, match="the query is empty"):
        parser.parse(query)


@pytest.mark.parametrize("query", [None, b"fields srcAddr", 42, ["fields srcAddr"]])
def test_parse_rejects_non_text(query):
    with pytest.raises(InsightsArgumentError, match="query must be Logs Insights query text "
                       rf"\(a str\), not {type(query).__name__}") as info:
        parser.parse(query)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("literal", ["1e400", "2.5E309", "1" + "0" * 400 + ".5"])
def test_a_number_beyond_double_range_is_a_syntax_error(literal):
    with pytest.raises(InsightsSyntaxError, match="is too large: numbers are 64-bit floating "
                       "point, at most about 1.8e308") as info:
        parser.parse(f"fields bytes * {literal} as x")
    assert (info.value.line, info.value.column) == (1, 16)
    assert str(info.value).split("\n")[2] == "  " + " " * 15 + "^" * len(literal)


def test_double_equals_is_equals():
    single = only("filter action = 'REJECT'").condition
    double = only("filter action == 'REJECT'").condition
    assert (single.op, double.op) == ("=", "=")
    assert double.right.value == "REJECT"


def test_sort_takes_an_optional_by():
    plain, by = only("sort bytes desc, srcAddr"), only("SORT BY bytes desc, srcAddr")
    assert [(k.expr.name, k.descending) for k in by.keys] == [("bytes", True), ("srcAddr", False)]
    assert [(k.expr.name, k.descending) for k in plain.keys] == \
        [(k.expr.name, k.descending) for k in by.keys]


def test_source_prefixes_are_read_and_positions_stay():
    query = ("SOURCE 'vpc-a' | SOURCE \"arn:aws:logs:us-east-1:123456789012:log-group:vpc-b:*\"\n"
             "  START=-1w END=0s |\nfilter bytes >> 1")
    with pytest.raises(InsightsSyntaxError) as info:
        parser.parse(query)
    assert (info.value.line, info.value.column) == (3, 15)  # the rest keeps its positions
    tree = parser.parse(query.replace(">>", ">"))
    assert [s.log_groups for s in tree.sources] == [("vpc-a",), ("vpc-b",)]
    assert tree.sources[1].options == (("START", "-1w"), ("END", "0s"))
    assert (tree.sources[1].line, tree.sources[1].column) == (1, 18)
    assert [type(c) for c in tree.commands] == [ast.Filter]


@pytest.mark.parametrize("query, column, words", [
    ("SOURCE", 1, "SOURCE needs a quoted log group name"),
    ("SOURCE 'a'", 1, "the query has only a SOURCE prefix: add '|' and the commands"),
    ("SOURCE 'a' |  # nothing else", 1, "the query has only a SOURCE prefix"),
    ("SOURCE logGroups(namePrefix: ['vpc']) | limit 1", 8, "name the log group in quotes"),
    ("SOURCE vpc-a | limit 1", 8, "expected a quoted log group name, START=..., END=... or '|'"),
    ("SOURCE 'vpc-a | limit 1", 8, "unclosed string"),
    ("limit 1 | SOURCE 'vpc-a'", 11, "SOURCE comes first, before every command"),
])
def test_source_errors(query, column, words):
    with pytest.raises(InsightsSyntaxError, match=re.escape(words)) as info:
        parser.parse(query)
    assert info.value.column == column
