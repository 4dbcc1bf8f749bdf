"""Bad inputs to every public function of helpers.insights: a course error that names the thing.

One table: the call, the error class a student sees, and words of its message. No raw DuckDB,
sqlglot or lark error, and no bare KeyError or TypeError, reaches the user for an ordinary
mistake (a None where text belongs, a frame read without types, a table name with quotes, ...).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from helpers import insights, queries
from helpers.errors import (
    CourseError,
    FlowLogReadError,
    InsightsArgumentError,
    InsightsError,
    InsightsSyntaxError,
)
from helpers.insights.compiler import compile_query


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "srcaddr": pd.array(["10.0.0.1", None], dtype=pd.StringDtype("pyarrow")),
        "bytes": pd.array([10, 20], dtype="Int64"),
        "start": pd.array([1639958400, 1639958460], dtype="Int64"),
    })


def _with(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    return frame.assign(**columns)


Q = "fields srcAddr"
CASES = [
    # parse
    ("parse(None)", lambda f: insights.parse(None), InsightsArgumentError,
     "query must be Logs Insights query text (a str), not NoneType"),
    ("parse(bytes)", lambda f: insights.parse(b"fields srcAddr"), InsightsArgumentError,
     "(a str), not bytes"),
    ("parse('')", lambda f: insights.parse(""), InsightsSyntaxError, "the query is empty"),
    ("parse(SQL)", lambda f: insights.parse("SELECT * FROM flows"), InsightsSyntaxError,
     "unknown command 'SELECT'"),
    ("parse(1e400)", lambda f: insights.parse("fields 1e400"), InsightsSyntaxError,
     "the number 1e400 is too large"),
    # to_sql
    ("to_sql(None)", lambda f: insights.to_sql(None), InsightsArgumentError,
     "query must be Logs Insights query text (a str), not NoneType"),
    ("to_sql(dialect='mysql')", lambda f: insights.to_sql(Q, dialect="mysql"),
     InsightsArgumentError, "dialect must be one of duckdb, athena, trino, not 'mysql'"),
    ("to_sql(dialect=None)", lambda f: insights.to_sql(Q, dialect=None), InsightsArgumentError,
     "dialect must be one of duckdb, athena, trino, not None"),
    ("to_sql(table=injection)", lambda f: insights.to_sql(Q, table='x"; DROP TABLE flows; --'),
     InsightsArgumentError, "table must be a table name such as 'flows'"),
    ("to_sql(table=5)", lambda f: insights.to_sql(Q, table=5), InsightsArgumentError,
     "table must be a table name such as 'flows' or 'db.vpc_flow_logs' (letters, digits, _ "
     "and -, parts joined by '.'), not int"),
    ("to_sql(columns=str)", lambda f: insights.to_sql(Q, columns="srcaddr"),
     InsightsArgumentError, "columns must be a list of column names (str)"),
    ("to_sql(columns=ints)", lambda f: insights.to_sql(Q, columns=[1, 2]),
     InsightsArgumentError, "columns must be a list of column names"),
    ("to_sql(syntax)", lambda f: insights.to_sql("stats count(*) as n, sum(bytes) as n"),
     InsightsSyntaxError, "two results of this stats are named 'n'"),
    ("to_sql(unknown function)", lambda f: insights.to_sql("filter isprivateaddr(srcAddr)"),
     InsightsSyntaxError, "Logs Insights has no function 'isprivateaddr'"),
    # compile_query
    ("compile_query(42)", lambda f: compile_query(42), InsightsArgumentError,
     "query must be Logs Insights query text (a str), not int"),
    ("compile_query(log_group=1)", lambda f: compile_query(Q, log_group=1),
     InsightsArgumentError, "log_group must be a log group name (a str) or None, not int"),
    # run
    ("run(None, frame)", lambda f: insights.run(None, f), InsightsArgumentError,
     "query must be Logs Insights query text (a str), not NoneType"),
    ("run(query, None)", lambda f: insights.run(Q, None), InsightsArgumentError,
     "data must be a DataFrame, an Arrow table, a DuckDB relation or connection, or a path to "
     "flow-log files; not NoneType"),
    ("run(query, list)", lambda f: insights.run(Q, [{"srcaddr": "10.0.0.1"}]),
     InsightsArgumentError, "data must be a DataFrame"),
    ("run(query, dict)", lambda f: insights.run(Q, {"srcaddr": ["10.0.0.1"]}),
     InsightsArgumentError, "not dict"),
    ("run(query, missing path)", lambda f: insights.run(Q, "/nonexistent/flows.log.gz"),
     FlowLogReadError, "/nonexistent/flows.log.gz: no such file"),
    ("run(query, frame without flow-log columns)",
     lambda f: insights.run(Q, pd.DataFrame({"label": ["a"]})), InsightsError,
     "the data has none of the columns Logs Insights discovers"),
    ("run(bytes as text)", lambda f: insights.run(Q, _with(f, bytes=["10", "-"])),
     InsightsArgumentError, "data column 'bytes' holds text, but the flow-log field is a whole "
     "number: read the records with helpers.flowlogs.read, or convert the column, e.g. "
     "pd.to_numeric(frame['bytes'], errors='coerce').astype('Int64')"),
    ("run(srcaddr as numbers)", lambda f: insights.run(Q, _with(f, srcaddr=[1, 2])),
     InsightsArgumentError, "data column 'srcaddr' holds numbers, but the flow-log field is text"),
    ("run(start as datetimes)",
     lambda f: insights.run(Q, _with(f, start=pd.to_datetime(["2021-12-20", "2021-12-21"]))),
     InsightsArgumentError, "data column 'start' holds datetime64"),
    ("run(arrow with text bytes)",
     lambda f: insights.run(Q, pa.table({"bytes": ["1"], "start": [1]})),
     InsightsArgumentError, "data column 'bytes' holds text"),
    ("run(table=injection)", lambda f: insights.run(Q, f, table="flows; DROP TABLE flows"),
     InsightsArgumentError, "not 'flows; DROP TABLE flows'"),
    ("run(table=dotted, frame)", lambda f: insights.run(Q, f, table="db.flows"),
     InsightsArgumentError, "a plain name such as 'flows', not 'db.flows'"),
    ("run(log_group=5)", lambda f: insights.run(Q, f, log_group=5), InsightsArgumentError,
     "log_group must be a log group name (a str) or None, not int"),
    ("run(connection without the table)", lambda f: insights.run(Q, duckdb.connect()),
     InsightsError, "the DuckDB connection has no table or view 'flows'"),
    ("run(syntax error)", lambda f: insights.run("filter bytes >", f), InsightsSyntaxError,
     "the query ends too early"),
    ("run(SOURCE only)", lambda f: insights.run("SOURCE 'vpc-flow-logs'", f),
     InsightsSyntaxError, "the query has only a SOURCE prefix"),
    # run_sql
    ("run_sql(None, frame)", lambda f: insights.run_sql(None, f), InsightsArgumentError,
     "sql must be the text of a SQL query"),
    ("run_sql('', frame)", lambda f: insights.run_sql("  ", f), InsightsArgumentError,
     "sql must be the text of a SQL query, e.g. \"SELECT count(*) FROM flows\", not '  '"),
    ("run_sql(sql, None)", lambda f: insights.run_sql("SELECT 1", None), InsightsArgumentError,
     "data must be a DataFrame"),
    ("run_sql(bad SQL)", lambda f: insights.run_sql("SELEC 1", f), InsightsError,
     "DuckDB could not run the query: Parser Error"),
    ("run_sql(table=quote)", lambda f: insights.run_sql("SELECT 1", f, table="a'b"),
     InsightsArgumentError, "table must be a table name"),
    # the lesson's queries
    ("queries.load(unknown)", lambda f: queries.load("portscan"), queries.UnknownQueryError,
     "no lesson query 'portscan'; did you mean 'port_scan'?"),
    ("queries.load(None)", lambda f: queries.load(None), queries.UnknownQueryError,
     "no lesson query None"),
]


@pytest.mark.parametrize("call, kind, words", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_a_bad_input_raises_a_course_error_that_names_it(frame, call, kind, words):
    with pytest.raises(CourseError) as info:
        call(frame)
    assert type(info.value) is kind
    assert words in str(info.value)
