"""The lesson's Insights queries (corrected) and their hand-written DuckDB mirrors."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import insights, queries, traffic
from helpers.errors import CourseError, InsightsSyntaxError
from helpers.insights import InsightsFieldWarning

NAMES = ["hourly_traffic", "port_scan", "rejected_connections", "security_events",
         "top_traffic_sources"]


@pytest.fixture(scope="module", params=[1, 2, 3])
def records(request) -> pd.DataFrame:
    return traffic.generate(scenarios="all", seed=request.param, duration="6h")


def test_names_lists_every_lesson_query():
    assert queries.names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_query_has_three_texts(name):
    query = queries.load(name)
    assert query.name == name
    assert query.insights.strip() and query.sql.strip() and query.lesson_text.strip()
    assert query.insights != query.lesson_text


def test_unknown_name_suggests_the_closest():
    with pytest.raises(queries.UnknownQueryError, match="did you mean 'port_scan'") as info:
        queries.load("portscan")
    assert isinstance(info.value, CourseError)


@pytest.mark.parametrize("name", NAMES)
def test_the_corrected_query_and_its_mirror_give_the_same_rows(records, name):
    query = queries.load(name)
    got = insights.run(query.insights, records)
    mirror = insights.run_sql(query.sql, records)
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, mirror)


@pytest.mark.parametrize("name", NAMES)
def test_the_corrected_query_compiles_without_warnings(name):
    insights.to_sql(queries.load(name).insights)  # warnings are errors in this test run


@pytest.mark.parametrize("name", [n for n in NAMES if n != "hourly_traffic"])
def test_the_lesson_text_runs_but_names_fields_insights_does_not_discover(records, name):
    with pytest.warns(InsightsFieldWarning) as caught:
        got = insights.run(queries.load(name).lesson_text, records)
    assert any("Did you mean 'srcAddr'" in str(w.message) for w in caught)
    assert got.iloc[:, 0].isna().all()  # grouped by a missing field: one empty group


def test_the_lessons_hourly_query_is_a_syntax_error_at_its_bin_command():
    with pytest.raises(InsightsSyntaxError, match="bin is not a command") as info:
        insights.to_sql(queries.load("hourly_traffic").lesson_text)
    assert (info.value.line, info.value.column) == (3, 3)


def test_port_scan_finds_the_scanner(records):
    got = insights.run(queries.load("port_scan").insights, records)
    scanner = records[records.label == "port_scan_inbound"]["srcaddr"].mode()[0]
    assert got["srcAddr"].iloc[0] == scanner
    assert got["scanned_ports"].iloc[0] > 100


def test_security_events_only_count_the_four_ports(records):
    got = insights.run(queries.load("security_events").insights, records)
    assert set(got["dstPort"]) <= {22, 3389, 1433, 3306}
    rejected = records[(records.action == "REJECT")
                       & records.dstport.isin([22, 3389, 1433, 3306]).fillna(False)]
    assert got["attempts"].sum() == len(rejected)


def test_hourly_traffic_has_one_row_per_hour(records):
    got = insights.run(queries.load("hourly_traffic").insights, records)
    assert len(got) == 6 and got["hour"].is_monotonic_increasing
