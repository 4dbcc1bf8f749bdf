"""Hostile queries: a query reaches its data and nothing else.

Query text never becomes SQL text: literals become SQL literals, names become quoted
identifiers (or null, when the data lacks them), only whitelisted functions compile, the data
is the only table, and ``run`` on a DataFrame uses a DuckDB connection with external access
off and its configuration locked.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
from sqlglot import exp

from helpers import insights
from helpers.errors import InsightsArgumentError, InsightsError, InsightsSyntaxError
from helpers.insights import InsightsFieldWarning
from helpers.insights.compiler import compile_query


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "srcaddr": pd.array(["10.0.0.1", "10.0.0.2"], dtype=pd.StringDtype("pyarrow")),
        "action": pd.array(["ACCEPT", "REJECT"], dtype=pd.StringDtype("pyarrow")),
        "bytes": pd.array([10, 20], dtype="Int64"),
        "start": pd.array([1639958400, 1639958401], dtype="Int64"),
    })


STRINGS = [
    "x' OR '1'='1",
    "'; DROP TABLE flows; --",
    'double "quotes" inside',
    "back\\slash at the end\\",
    "-- not a comment",
    "/* not a comment */",
    "$$ dollar $$",
    "\u202eRTL override",
    "zero\u200bwidth",
    "한글 and emoji 🛰",
    "read_csv('/etc/passwd')",
]


@pytest.mark.parametrize("value", STRINGS)
def test_string_literals_reach_sql_as_literals(frame, value):
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    got = insights.run(f"fields {quoted} as s, srcAddr | filter action = {quoted} "
                       f"or srcAddr = '10.0.0.1'", frame)
    assert got["s"].tolist() == [value]  # the literal comes back exactly, and matched nothing


@pytest.mark.parametrize("value", STRINGS)
def test_strings_match_only_themselves(frame, value):
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert len(insights.run(f"filter action = {quoted}", frame)) == 0
    assert len(insights.run(f"filter action like {quoted}", frame)) == 0


@pytest.mark.parametrize("query", [
    "fields srcAddr; DROP TABLE flows",
    "filter action = 'x'; SELECT * FROM read_csv('/etc/passwd')",
    "fields srcAddr /* comment */",
    "COPY flows TO '/tmp/stolen.csv'",
    "ATTACH '/tmp/other.db'",
    "SELECT * FROM flows",
    "fields srcAddr | INSTALL httpfs",
    "fields \u0455rcAddr",  # a Cyrillic letter that looks like s
    "fields src\u200bAddr",  # a zero-width space
    "fields srcAddr\u00a0| limit 1",  # a no-break space
    "filter action = 'a\nb'",  # strings do not span lines
    "fields \x00",
])
def test_statements_comments_and_lookalikes_are_syntax_errors(query):
    with pytest.raises(InsightsSyntaxError):
        insights.to_sql(query)


@pytest.mark.parametrize("query", [
    "fields read_csv('/etc/passwd')",
    "fields read_parquet('x.parquet')",
    "stats count(*) by query_table('flows')",
    "fields getenv('HOME')",
    "fields current_setting('enable_external_access')",
    "filter duckdb_tables() = 1",
    "fields glob('/*')",
])
def test_functions_outside_the_whitelist_are_refused(query):
    with pytest.raises(InsightsSyntaxError, match="unknown function"):
        insights.to_sql(query)


@pytest.mark.parametrize("name", [
    'a"b', "a`b", "flows", "x\" FROM flows; --", "@@weird", "information_schema.tables",
])
def test_unknown_field_names_become_null_not_identifiers(frame, name):
    field = "`" + name.replace("`", "``") + "`"
    compiled = compile_query(f"fields {field} as v", columns=list(frame.columns))
    assert isinstance(compiled.warnings[0], InsightsFieldWarning)
    names = {c.name for c in compiled.tree.find_all(exp.Column)}
    assert name not in names
    with pytest.warns(InsightsFieldWarning):
        assert insights.run(f"fields {field} as v", frame)["v"].isna().all()


@pytest.mark.parametrize("alias", ['x" FROM flows; --', "a`b", "'quoted'", "SELECT", "한글"])
def test_aliases_are_quoted_identifiers(frame, alias):
    field = "`" + alias.replace("`", "``") + "`"
    got = insights.run(f"fields srcAddr as {field} | sort {field}", frame)
    assert list(got.columns) == [alias]
    assert got[alias].tolist() == ["10.0.0.1", "10.0.0.2"]


HOSTILE = [
    "fields `x\" FROM flows; --` as a, srcAddr",
    "filter action = \"'; DROP TABLE flows; --\" | stats count(*) as `n; DELETE FROM flows`",
    "parse srcAddr /(?<a>[0-9]+)'; SELECT 1; --/ | display a",
    "fields concat(srcAddr, \"' || read_csv('/etc/passwd') || '\") as c",
]


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("dialect", ["duckdb", "athena"])
def test_the_sql_reads_one_table_and_calls_no_unknown_function(frame, query, dialect):
    compiled = compile_query(query, columns=list(frame.columns), dialect=dialect,
                             table="flows")
    tables = {t.name for t in compiled.tree.find_all(exp.Table)}
    assert tables == {"flows"}
    assert not list(compiled.tree.find_all(exp.Anonymous))
    assert not list(compiled.tree.find_all(exp.Command))


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_run_harmlessly(frame, query):
    with pytest.warns(InsightsFieldWarning) if "`x\"" in query else _nothing():
        got = insights.run(query, frame)
    assert len(got) <= 2


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("table", [
    'flows"; DROP TABLE flows; --', "flows; SELECT 1", "x' OR '1'='1", "read_csv('/etc/passwd')",
    "flows -- comment", "a b", "", "a..b", ".flows", "a.b.c.d", "\"flows\"",
])
def test_table_names_that_are_not_plain_names_are_refused(frame, table):
    with pytest.raises(InsightsArgumentError, match="table must be a table name") as info:
        insights.to_sql("stats count(*)", table=table)
    assert repr(table) in str(info.value)
    with pytest.raises(InsightsArgumentError, match="table must be a table name"):
        insights.run("stats count(*)", frame, table=table)
    with pytest.raises(InsightsArgumentError, match="table must be a table name"):
        insights.run_sql("SELECT 1", frame, table=table)


def test_the_table_is_a_quoted_identifier_in_every_dialect():
    for dialect in ("duckdb", "athena"):
        compiled = compile_query("stats count(*)", dialect=dialect, table="db.vpc-flow-logs")
        (table,) = list(compiled.tree.find_all(exp.Table))
        assert (table.db, table.name) == ("db", "vpc-flow-logs")
        assert table.this.quoted and table.args["db"].quoted


def test_an_invalid_regex_is_a_syntax_error_at_the_regex():
    with pytest.raises(InsightsSyntaxError, match="not a valid regular expression") as info:
        insights.to_sql("parse srcAddr /(?<a>[0-9]+)'); SELECT 1; --/")
    assert info.value.column == 15


def test_double_dash_is_arithmetic_not_a_comment(frame):
    got = insights.run("fields bytes -- 5 as x | sort x", frame)
    assert got["x"].tolist() == [15, 25]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY (SELECT * FROM flows) TO '/tmp/insights-stolen.csv'",
    "SET enable_external_access = true",
    "INSTALL httpfs",
    "ATTACH '/tmp/insights-other.db' AS other",
])
def test_the_dataframe_connection_has_no_external_access(frame, sql, tmp_path):
    with pytest.raises(InsightsError, match="DuckDB could not run the query"):
        insights.run_sql(sql, frame)


def test_nothing_was_written(frame):
    import os

    assert not os.path.exists("/tmp/insights-stolen.csv")
    assert not os.path.exists("/tmp/insights-other.db")


def test_regexes_run_in_linear_time(frame):
    long = pd.DataFrame({"action": pd.array(["a" * 20_000 + "!"], dtype="string[pyarrow]"),
                         "start": pd.array([1], dtype="Int64")})
    started = time.perf_counter()
    got = insights.run("filter action like /^(a+)+$/ | stats count(*) as n", long)
    assert got["n"].tolist() == [0]
    assert time.perf_counter() - started < 5
