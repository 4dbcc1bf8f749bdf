"""The Insights compiler in two layers: query → SQL text (shape), query → rows (meaning).

Rows are checked against independent pandas computations on generated traffic, and every
choice the compiler makes where AWS is silent has a test here.
"""

from __future__ import annotations

import ipaddress
import random
import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from helpers import flowlogs, insights, traffic
from helpers.errors import InsightsArgumentError, InsightsError, InsightsSyntaxError
from helpers.insights import InsightsFieldWarning, InsightsPeriodWarning


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    # Every scenario but the lab's background, which keeps each interface busy every minute:
    # the tests need NODATA records (idle minutes) for the null semantics.
    everything = [name for name in traffic.SCENARIOS if name != "lab_background"]
    return traffic.generate(scenarios=everything, seed=11, duration="6h")


def tiny(**columns) -> pd.DataFrame:
    """A small frame of canonical columns, typed like flowlogs.read."""
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        field = flowlogs.field(name)
        if field.is_integer:
            frame[name] = frame[name].astype("Int32" if field.parquet_type == "INT_32"
                                             else "Int64")
        else:
            frame[name] = frame[name].astype(pd.StringDtype("pyarrow"))
    return frame


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in frame.itertuples(index=False)]


# --- layer 1: query → SQL text ------------------------------------------------------------------


@pytest.mark.parametrize("query, sql", [
    ("filter action = 'REJECT' | stats count(*) as n by srcAddr | sort n desc | limit 5",
     'SELECT "srcAddr", "n" FROM (SELECT "srcaddr" AS "srcAddr", COUNT(*) AS "n" FROM "flows" '
     'WHERE "action" = \'REJECT\' GROUP BY "srcaddr") AS "_stats1" ORDER BY "n" DESC, '
     '"srcAddr" ASC LIMIT 5'),
    ("fields srcAddr, bytes | filter bytes > 1000 and dstPort in [22, 443] | sort bytes desc "
     "| limit 3",
     'SELECT "srcaddr" AS "srcAddr", "bytes" FROM "flows" WHERE ("bytes" > 1000) AND '
     '("dstport" IN (22, 443)) ORDER BY "bytes" DESC, "srcAddr" ASC LIMIT 3'),
    ("stats sum(bytes) as b by bin(5m) as t",
     'SELECT "t", "b" FROM (SELECT EPOCH_MS(CAST(FLOOR(CAST("start" * 1000 AS DOUBLE) / 300000) '
     'AS BIGINT) * 300000) AS "t", CAST(SUM("bytes") AS BIGINT) AS "b" FROM "flows" GROUP BY '
     'EPOCH_MS(CAST(FLOOR(CAST("start" * 1000 AS DOUBLE) / 300000) AS BIGINT) * 300000)) AS '
     '"_stats1" ORDER BY "t" ASC, "b" ASC LIMIT 10000'),
    ("filter srcAddr like '10.0.' and dstAddr not like /^10\\./ | display srcAddr",
     'SELECT "srcAddr" FROM (SELECT "srcaddr" AS "srcAddr", EPOCH_MS("start" * 1000) AS '
     '"__sort1" FROM "flows" WHERE (STRPOS("srcaddr", \'10.0.\') > 0) AND (NOT '
     '(REGEXP_MATCHES("dstaddr", \'^10\\.\')))) AS "_result" ORDER BY "__sort1" DESC, '
     '"srcAddr" ASC LIMIT 10000'),
    ("fields bytes / packets as size | sort size desc | limit 1",
     'SELECT CAST("bytes" AS DOUBLE) / NULLIF("packets", 0) AS "size" FROM "flows" ORDER BY '
     '"size" DESC LIMIT 1'),
])
def test_sql_shape_duckdb(query, sql):
    assert insights.to_sql(query, pretty=False) == sql


@pytest.mark.parametrize("query, sql", [
    ("filter srcAddr =~ /^10\\./ | stats count(*) as n by srcAddr | sort n desc | limit 2",
     'SELECT "srcAddr", "n" FROM (SELECT "srcaddr" AS "srcAddr", COUNT(*) AS "n" FROM '
     '"vpc_flow_logs" WHERE REGEXP_LIKE("srcaddr", \'^10\\.\') GROUP BY "srcaddr") AS '
     '"_stats1" ORDER BY "n" DESC, "srcAddr" ASC LIMIT 2'),
    ("fields @timestamp | sort @timestamp desc | limit 1",
     'SELECT FROM_UNIXTIME(CAST("start" * 1000 AS DOUBLE) / POW(10, 3)) AS "@timestamp" FROM '
     '"vpc_flow_logs" ORDER BY "@timestamp" DESC LIMIT 1'),
    ("stats pct(bytes, 95) as p95",
     'SELECT "p95" FROM (SELECT APPROX_PERCENTILE("bytes", 0.95) AS "p95" FROM '
     '"vpc_flow_logs") AS "_stats1" ORDER BY "p95" ASC LIMIT 10000'),
])
def test_sql_shape_athena(query, sql):
    assert insights.to_sql(query, dialect="athena", table="vpc_flow_logs", pretty=False) == sql


def test_sql_reads_only_the_named_table():
    sql = insights.to_sql("stats count(*)", table="my_flows", pretty=False)
    assert 'FROM "my_flows"' in sql and "flows\"" not in sql.replace('"my_flows"', "")


def test_unknown_dialect_is_refused():
    with pytest.raises(InsightsArgumentError, match="dialect must be one of duckdb, athena, "
                       "trino, not 'mysql'"):
        insights.to_sql("stats count(*)", dialect="mysql")


@pytest.mark.parametrize("table, sql", [
    ("vpc_flow_logs", 'FROM "vpc_flow_logs"'),
    ("flowlogs_db.vpc_flow_logs", 'FROM "flowlogs_db"."vpc_flow_logs"'),
    ("awsdatacatalog.flowlogs_db.vpc-flow-logs", 'FROM "awsdatacatalog"."flowlogs_db".'
                                                 '"vpc-flow-logs"'),
])
def test_table_names_are_quoted_identifiers(table, sql):
    assert sql in insights.to_sql("stats count(*)", table=table, dialect="athena", pretty=False)


def test_pretty_sql_has_one_clause_per_line():
    sql = insights.to_sql("filter action = 'ACCEPT' | stats count(*) by srcAddr")
    assert "\nFROM (\n" in sql and "\n  GROUP BY\n" in sql


# --- layer 2: query → rows (meaning) ------------------------------------------------------------


def test_filter_stats_sort_limit_matches_pandas(records):
    got = insights.run("filter action = 'REJECT' | stats count(*) as n by srcAddr "
                       "| sort n desc | limit 5", records)
    want = (records[records.action == "REJECT"].groupby("srcaddr").size()
            .rename("n").reset_index().sort_values(["n", "srcaddr"], ascending=[False, True])
            .head(5))
    assert rows(got) == rows(want)
    assert list(got.columns) == ["srcAddr", "n"]


def test_unaliased_columns_are_named_by_their_text(records):
    got = insights.run("stats count(*), sum(bytes), count_distinct(dstPort) by bin(1h)",
                       records)
    assert list(got.columns) == ["bin(1h)", "count(*)", "sum(bytes)",
                                 "count_distinct(dstPort)"]


def test_hourly_bins_match_pandas(records):
    got = insights.run("filter action = 'ACCEPT' | stats sum(bytes) as b by bin(1h) as hour "
                       "| sort hour", records)
    accepted = records[records.action == "ACCEPT"]
    want = accepted.groupby(accepted["start"] // 3600 * 3600)["bytes"].sum()
    assert got["hour"].tolist() == pd.to_datetime(want.index, unit="s", utc=True).tolist()
    assert got["b"].tolist() == want.tolist()


def test_timestamps_are_utc_with_millisecond_unit(records):
    got = insights.run("fields @timestamp | limit 3", records)
    assert str(got["@timestamp"].dtype) == "datetime64[ms, UTC]"
    assert got["@timestamp"].iloc[0] == pd.Timestamp(int(records["start"].max()), unit="s",
                                                     tz="UTC")


def test_message_is_the_default_format_record_text(records):
    got = insights.run("fields @message, @logStream, interfaceId | sort @message | limit 10000",
                       records)
    lines = flowlogs.format_lines(records, flowlogs.DEFAULT_FORMAT).to_pylist()
    assert got["@message"].tolist() == sorted(lines)[:10000]
    assert (got["@logStream"] == got["interfaceId"]).all()


def test_log_and_ingestion_time_where_the_data_has_them():
    frame = tiny(account_id=["123456789012"], start=[1639958400])
    frame["ingestion_time"] = pd.array([1639958700123], dtype="Int64")
    got = insights.run("fields @log, @ingestionTime", frame, log_group="/vpc/flow-logs")
    assert got["@log"].tolist() == ["123456789012:/vpc/flow-logs"]
    assert got["@ingestionTime"].tolist() == [pd.Timestamp(1639958700123, unit="ms", tz="UTC")]


def test_multiple_stats_with_a_filter_between(records):
    got = insights.run("stats sum(bytes) as total by srcAddr | filter total > 1000000 "
                       "| stats count(*) as big, max(total) as largest", records)
    totals = records.groupby("srcaddr")["bytes"].sum()
    big = totals[totals > 1_000_000]
    assert rows(got) == [(len(big), big.max())]


def test_a_later_stats_sees_only_what_the_earlier_produced(records):
    with pytest.warns(InsightsFieldWarning, match="'bytes' does not exist after stats; after "
                      "stats only its results exist: srcAddr, n"):
        got = insights.run("stats count(*) as n by srcAddr | stats sum(bytes) as b", records)
    assert rows(got) == [(None,)]


def test_bin_after_stats_without_timestamp_is_an_error(records):
    with pytest.raises(InsightsSyntaxError, match="needs @timestamp") as info:
        insights.run("stats count(*) as n by srcAddr | stats avg(n) by bin(5m)", records)
    assert (info.value.line, info.value.column) == (1, 50)


def test_timestamp_kept_by_stats_can_be_binned_again(records):
    got = insights.run("stats count(*) as n by bin(5m) as @timestamp "
                       "| stats sum(n) as total by bin(1h) as hour", records)
    assert got["total"].sum() == len(records)
    assert len(got) == 6


def test_fields_add_up_and_display_wins(records):
    both = insights.run("fields srcAddr | fields dstAddr | limit 1", records)
    assert list(both.columns) == ["srcAddr", "dstAddr"]
    shown = insights.run("fields srcAddr, bytes * 2 as double | display double, srcAddr "
                         "| display double | limit 1", records)
    assert list(shown.columns) == ["double"]


def test_fields_can_rename_and_compute(records):
    got = insights.run("fields accountId as ID, bytes, packets, bytes / packets as avg_size, "
                       "srcPort + 1 as next, srcPort | filter ispresent(avg_size) | limit 50",
                       records)
    assert got["ID"].tolist() == ["123456789012"] * 50
    assert got["avg_size"].dtype == "float64"
    assert got["avg_size"].tolist() == pytest.approx(
        (got["bytes"].astype(float) / got["packets"].astype(float)).tolist())
    assert (got["next"] == got["srcPort"] + 1).all()


def test_generated_fields_take_aliases(records):
    got = insights.run("fields @timestamp as ts, @logStream as stream | limit 1", records)
    assert list(got.columns) == ["ts", "stream"]
    assert got["stream"].iloc[0].startswith("eni-")


def test_nodata_fields_are_missing_not_dashes(records):
    got = insights.run("filter logStatus = 'NODATA' | stats count(srcAddr) as present, "
                       "count(*) as n", records)
    assert got["present"].tolist() == [0] and got["n"].iloc[0] > 0


def test_data_without_flow_log_columns_is_refused():
    with pytest.raises(InsightsError, match="none of the columns Logs Insights discovers"):
        insights.run("fields x", pd.DataFrame({"label": ["a"]}))


def test_display_may_define_expressions():
    frame = tiny(action=["ACCEPT", "REJECT"], start=[1, 2])
    got = insights.run('display action, action = "REJECT" as isReject', frame)
    assert rows(got) == [("REJECT", True), ("ACCEPT", False)]


# --- parse ---------------------------------------------------------------------------------------


def test_parse_glob_extracts_fields(records):
    got = insights.run('parse @message "* * * * *" as version, account, eni, src, rest '
                       "| filter ispresent(src) | stats count(*) as n by eni | sort n desc",
                       records)
    want = records.groupby("interface_id").size().sort_values(ascending=False)
    assert got["eni"].tolist() == want.index.tolist()
    assert got["n"].tolist() == want.tolist()


def test_parse_glob_stars_are_lazy_but_the_last_takes_the_rest():
    frame = tiny(start=[1], action=["user=ann id=7 the rest, of it"])
    got = insights.run('parse action "user=* id=* *" as user, id, rest '
                       "| display user, id, rest", frame)
    assert rows(got) == [("ann", "7", "the rest, of it")]


def test_parse_glob_treats_regex_characters_literally():
    frame = tiny(start=[1, 2], action=["a.b [x] c", "axb [x] c"])
    got = insights.run('parse action "a.b [*]" as inside | display inside | sort inside',
                       frame)
    assert rows(got) == [("x",), (None,)]


def test_parse_regex_named_groups_and_numbers():
    frame = tiny(start=[1, 2], action=["ACCEPT", "REJECT"])
    got = insights.run(r"parse action /(?<first>[A-Z])(?:[A-Z])(?<third>[A-Z])/ "
                       "| display first, third | sort first", frame)
    assert rows(got) == [("A", "C"), ("R", "J")]


def test_parse_with_no_match_gives_null():
    frame = tiny(start=[1], action=["ACCEPT"])
    got = insights.run('parse action "x=*;" as x | display x', frame)
    assert rows(got) == [(None,)]


def test_parsed_numbers_work_in_arithmetic_and_stats():
    frame = tiny(start=[1, 2, 3], action=["n=5", "n=7", "n=x"])
    got = insights.run('parse action "n=*" as n | stats sum(n) as s, avg(n * 2) as a', frame)
    assert rows(got) == [(12.0, 12.0)]


@pytest.mark.parametrize("query, message, column", [
    ('parse @message "a * b *" as x', "the glob has 2 * but 1 name(s)", 16),
    ('parse @message "no stars" as x', "needs at least one *", 16),
    ("parse @message /(eni-[0-9a-f]+)/", "the regex has no named group", 16),
    ("parse @message /(?<eni>eni-\\S+)/ as x", "drop the `as` list", 37),
])
def test_parse_errors(query, message, column):
    with pytest.raises(InsightsSyntaxError, match=re.escape(message)) as info:
        insights.to_sql(query)
    assert info.value.column == column


DEFAULT_NAMES = ["version", "account", "eni", "src", "dst", "sport", "dport", "proto", "packets",
                 "bytes", "begin", "finish", "verdict", "status"]


def test_parse_glob_extracts_all_14_default_fields(records):
    records = records.iloc[:20_000]  # every row fits under the largest limit
    glob = " ".join(["*"] * 14)
    got = insights.run(f'parse @message "{glob}" as {", ".join(DEFAULT_NAMES)} '
                       f'| display {", ".join(DEFAULT_NAMES)} | limit 100000', records)
    lines = flowlogs.format_lines(records, flowlogs.DEFAULT_FORMAT).to_pylist()
    want = sorted(tuple(line.split(" ")) for line in lines)
    assert sorted(rows(got)) == want
    assert got["status"].notna().all() and got["verdict"].notna().all()  # fields 13 and 14


def test_parse_extracts_fields_past_the_ninth_group():
    values = [f"v{i}" for i in range(40)]
    frame = tiny(start=[1], action=[" ".join(values)])
    names = [f"f{i}" for i in range(40)]
    glob = insights.run(f'parse action "{" ".join(["*"] * 40)}" as {", ".join(names)} '
                        f'| display {", ".join(names)}', frame)
    regex = " ".join(f"(?<{n}>\\S+)" for n in names)
    named = insights.run(f"parse action /{regex}/ | display {', '.join(names)}", frame)
    assert rows(glob) == rows(named) == [tuple(values)]


# --- dedup ---------------------------------------------------------------------------------------


def test_dedup_keeps_the_newest_row_per_key(records):
    got = insights.run("fields @timestamp, srcAddr, dstPort | filter action = 'REJECT' "
                       "| dedup srcAddr | limit 10000", records)
    rejected = records[records.action == "REJECT"]
    newest = rejected.groupby("srcaddr")["start"].max()
    assert len(got) == len(newest)
    by_src = dict(zip(got["srcAddr"], got["@timestamp"]))
    assert all(by_src[s] == pd.Timestamp(t, unit="s", tz="UTC") for s, t in newest.items())


def test_dedup_follows_the_sort(records):
    got = insights.run("fields srcAddr, bytes | filter ispresent(bytes) | sort bytes asc "
                       "| dedup srcAddr | limit 10000", records)
    smallest = records.groupby("srcaddr")["bytes"].min()
    assert dict(zip(got["srcAddr"], got["bytes"])) == smallest.to_dict()
    assert got["bytes"].is_monotonic_increasing


def test_dedup_keeps_rows_whose_key_is_null(records):
    got = insights.run("fields srcAddr, logStatus | dedup srcAddr | limit 100000", records)
    nulls = records["srcaddr"].isna().sum()
    assert got["srcAddr"].isna().sum() == nulls > 0
    assert got["srcAddr"].dropna().is_unique


@pytest.mark.parametrize("query, column", [
    ("dedup srcAddr | sort srcAddr", 17),
    ("dedup srcAddr | filter bytes > 0", 17),
    ("dedup srcAddr | fields bytes", 17),
])
def test_only_limit_may_follow_dedup(query, column):
    with pytest.raises(InsightsSyntaxError, match="only limit may follow dedup") as info:
        insights.to_sql(query)
    assert info.value.column == column


# --- sort, limit and the order of rows -----------------------------------------------------------


@pytest.mark.parametrize("query, column", [
    ("sort bytes desc | stats count(*)", 1),
    ("limit 5 | stats count(*)", 1),
    ("stats count(*) as n by srcAddr | sort n | stats max(n)", 34),
])
def test_sort_and_limit_must_follow_the_last_stats(query, column):
    with pytest.raises(InsightsSyntaxError, match="must come after the last stats") as info:
        insights.to_sql(query)
    assert info.value.column == column


@pytest.mark.parametrize("count", ["0", "100001", "2.5"])
def test_limit_bounds(count):
    with pytest.raises(InsightsSyntaxError, match="limit takes a whole number from 1 to 100,000"):
        insights.to_sql(f"limit {count}")


def test_without_limit_at_most_10000_rows(records):
    assert len(records) > 10_000
    assert len(insights.run("fields srcAddr", records)) == 10_000


def test_the_smallest_limit_wins(records):
    assert len(insights.run("fields srcAddr | limit 7 | limit 20", records)) == 7


def test_sort_after_limit_sorts_the_limited_rows(records):
    got = insights.run("fields @timestamp, bytes | limit 5 | sort bytes asc", records)
    newest = insights.run("fields @timestamp, bytes | limit 5", records)
    assert sorted(newest["bytes"].dropna().tolist()) == got["bytes"].dropna().tolist()


def test_filter_after_limit_filters_the_limited_rows(records):
    got = insights.run("fields srcAddr | sort srcAddr | limit 5 | filter srcAddr like '10.'",
                       records)
    first = sorted(records["srcaddr"].dropna())[:5]
    assert got["srcAddr"].tolist() == [s for s in first if "10." in s]


def test_events_without_sort_come_newest_first(records):
    got = insights.run("fields @timestamp | limit 500", records)
    assert got["@timestamp"].is_monotonic_decreasing
    assert got["@timestamp"].iloc[0] == pd.Timestamp(records["start"].max(), unit="s", tz="UTC")


def test_stats_without_sort_come_in_ascending_key_order(records):
    got = insights.run("stats count(*) as n by action, logStatus", records)
    assert rows(got)[0][:2] == ("ACCEPT", "OK")
    assert rows(got)[1][:2] == ("REJECT", "OK")
    assert [r[:2] for r in rows(got)[2:]] == [(None, "NODATA"), (None, "SKIPDATA")]


def test_sort_without_direction_is_ascending(records):
    got = insights.run("stats count(*) as n by srcAddr | sort n", records)
    assert got["n"].is_monotonic_increasing


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_missing_values_sort_last_both_ways(records, direction):
    records = records.iloc[:50_000]  # every row fits under the largest limit
    got = insights.run(f"fields bytes | sort bytes {direction} | limit 100000", records)
    nulls = int(records["bytes"].isna().sum())
    assert nulls > 0
    assert got["bytes"].iloc[-nulls:].isna().all()
    assert got["bytes"].iloc[:-nulls].notna().all()


def test_ties_are_broken_by_the_result_columns(records):
    got = insights.run("stats count(*) as n by srcAddr | sort n desc", records)
    for _, group in got.groupby("n"):
        assert group["srcAddr"].tolist() == sorted(group["srcAddr"].tolist())
    again = insights.run("stats count(*) as n by srcAddr | sort n desc", records)
    pd.testing.assert_frame_equal(got, again)


def test_several_sort_keys(records):
    got = insights.run("stats count(*) as n by action, dstPort | sort action desc, n desc "
                       "| limit 100000", records)
    want = (records.groupby(["action", "dstport"]).size().rename("n").reset_index()
            .sort_values(["action", "n", "dstport"], ascending=[False, False, True]))
    assert rows(got[got.action.notna()]) == rows(want)


# --- loose typing --------------------------------------------------------------------------------


def test_numeric_string_compares_as_a_number(records):
    text = insights.run("filter dstPort = '22' | stats count(*) as n", records)
    number = insights.run("filter dstPort = 22 | stats count(*) as n", records)
    assert text["n"].tolist() == number["n"].tolist() == [int((records.dstport == 22).sum())]


def test_non_numeric_text_compares_as_text():
    frame = tiny(dstport=[22, 80], start=[1, 2])
    assert len(insights.run("filter dstPort = 'ssh'", frame)) == 0
    assert len(insights.run("filter dstPort != 'ssh'", frame)) == 2


def test_a_number_compared_with_a_text_field():
    frame = tiny(account_id=["123456789012", "x"], start=[1, 2])
    got = insights.run("filter accountId = 123456789012 | display accountId", frame)
    assert rows(got) == [("123456789012",)]


def test_missing_values_make_comparisons_false_even_negated(records):
    nodata = int(records["action"].isna().sum())
    assert nodata > 0
    yes = insights.run("filter action = 'ACCEPT' | stats count(*) as n", records)["n"][0]
    no = insights.run("filter not action = 'ACCEPT' | stats count(*) as n", records)["n"][0]
    assert yes + no == len(records) - nodata
    absent = insights.run("filter not ispresent(action) | stats count(*) as n", records)
    assert absent["n"][0] == nodata


def test_division_by_zero_is_null():
    frame = tiny(bytes=[10], packets=[0], start=[1])
    assert rows(insights.run("fields bytes / packets as x", frame)) == [(None,)]


@pytest.mark.parametrize("expression", ["bytes % packets", "bytes % 0", "bytes % 0.0",
                                        "bytes / 0.0", "7.5 % (packets * 2)"])
def test_modulo_and_division_by_zero_are_null(expression):
    frame = tiny(bytes=[10], packets=[0], start=[1])
    assert rows(insights.run(f"fields {expression} as x", frame)) == [(None,)]


def test_modulo_of_doubles_keeps_the_dividends_sign():
    frame = tiny(bytes=[-7], packets=[3], start=[1])
    got = insights.run("fields bytes % packets as a, 7.5 % 2 as b", frame)
    assert rows(got) == [(-1.0, 1.5)]


@pytest.mark.parametrize("expression, value", [
    ("bytes * 9223372036854775807", 10 * 9223372036854775807),
    ("9223372036854775807 + bytes", 9223372036854775807 + 10),
    ("-9223372036854775807 - bytes * 2", -9223372036854775807 - 20),
    ("99999999999999999999 * 10", 999999999999999999990),
    ("bytes * 1e308 * 10", float("inf")),
])
def test_arithmetic_is_double_precision_and_does_not_overflow(expression, value):
    frame = tiny(bytes=[10], start=[1])
    got = insights.run(f"fields {expression} as x", frame)
    assert got["x"].dtype == "float64"
    assert got["x"].tolist() == [pytest.approx(float(value))]


def test_sum_of_an_expression_is_double_precision(records):
    got = insights.run("stats sum(toMillis(@timestamp)) as s, sum(bytes) as b", records)
    assert got["s"].dtype == "float64" and str(got["b"].dtype) == "Int64"
    assert got["s"][0] == pytest.approx(float((records["start"] * 1000).sum()))


@pytest.mark.parametrize("query, count", [
    ("filter dstPort in [22, 'ssh']", lambda r: (r.dstport == 22).sum()),
    ("filter dstPort in ['ssh', 22, '443']", lambda r: r.dstport.isin([22, 443]).sum()),
    ("filter dstPort not in [22, 'ssh']", lambda r: (r.dstport.notna() & (r.dstport != 22)).sum()),
    ("filter srcAddr in [22, '10.0.1.100']", lambda r: (r.srcaddr == "10.0.1.100").sum()),
    ("filter action in ['ACCEPT', 1]", lambda r: (r.action == "ACCEPT").sum()),
])
def test_in_list_mixing_numbers_and_text_compares_each_item_its_own_way(records, query, count):
    got = insights.run(f"{query} | stats count(*) as n", records)
    assert got["n"].tolist() == [int(count(records))]


def test_in_list_of_one_kind_is_one_sql_in():
    sql = insights.to_sql("filter dstPort in [22, 443, '80']", pretty=False)
    assert '"dstport" IN (22, 443, 80)' in sql
    mixed = insights.to_sql("filter dstPort in [22, 'ssh']", pretty=False)
    assert "(\"dstport\" IN (22)) OR (CAST(\"dstport\" AS TEXT) IN ('ssh'))" in mixed


@pytest.mark.parametrize("query, column, suggestion", [
    ("stats count(*) as n, sum(bytes) as n by srcAddr", 36, "`sum(bytes) as sum_bytes`"),
    ("stats count(*) as srcAddr by srcAddr", 30, "`srcAddr as srcAddr_2`"),
    ("stats count(*), count(*) by srcAddr", 17, "`count(*) as count`"),
    ("stats sum(bytes) by srcAddr, srcAddr", 30, "as srcAddr_2"),
])
def test_duplicate_result_names_in_stats_are_a_syntax_error(query, column, suggestion):
    with pytest.raises(InsightsSyntaxError, match="two results of this stats are named") as info:
        insights.to_sql(query)
    assert info.value.column == column
    assert suggestion in info.value.reason
    assert "^" in str(info.value).split("\n")[2]


def test_names_that_differ_in_case_are_different_results(records):
    got = insights.run("stats count(*) as n, sum(bytes) as N", records)
    assert list(got.columns) == ["n", "N"]


# --- missing fields ------------------------------------------------------------------------------


def test_missing_field_warns_with_the_discovered_name_and_runs(records):
    with pytest.warns(InsightsFieldWarning) as caught:
        got = insights.run("filter srcaddr = '10.0.1.100' | stats count(*) as n", records)
    message = str(caught[0].message)
    assert "line 1, column 8: field 'srcaddr' does not exist" in message
    assert "Did you mean 'srcAddr'?" in message
    assert rows(got) == [(0,)]  # like Insights: silently nothing


@pytest.mark.parametrize("name, suggestion", [
    ("dstport", "dstPort"), ("log_status", "logStatus"), ("start", "startTime"),
    ("SrcAddr", "srcAddr"), ("interfaceID", "interfaceId"), ("logStream", "@logStream"),
    ("byts", "bytes"),
])
def test_missing_field_suggestions(name, suggestion):
    with pytest.warns(InsightsFieldWarning, match=f"Did you mean '{suggestion}'"):
        insights.to_sql(f"fields {name}")


def test_custom_format_fields_are_not_discovered(records):
    with pytest.warns(InsightsFieldWarning, match="'vpcId' does not exist"):
        got = insights.run("stats count(*) as n by vpcId", records)
    assert rows(got) == [(None, len(records))]


# --- time periods: AWS's caps ------------------------------------------------------------------


@pytest.mark.parametrize("written, acts_as", [
    ("300s", "60s"), ("61s", "60s"), ("90m", "60m"), ("48h", "24h"), ("5000ms", "1000ms"),
])
def test_periods_above_their_cap_act_as_the_cap(records, written, acts_as):
    with pytest.warns(InsightsPeriodWarning, match=f"{written} acts as {acts_as}"):
        capped = insights.run(f"stats count(*) as n by bin({written}) as t", records)
    plain = insights.run(f"stats count(*) as n by bin({acts_as}) as t", records)
    pd.testing.assert_frame_equal(capped, plain)


@pytest.mark.parametrize("period", ["60s", "24h", "1000ms", "2d", "100d"])
def test_periods_within_their_cap_do_not_warn(period):
    insights.to_sql(f"stats count(*) by bin({period})")


@pytest.mark.parametrize("period, start", [
    ("1d", "2021-12-20"), ("1w", "2021-12-20"),  # a Monday
    ("1mo", "2021-12-01"), ("1q", "2021-10-01"), ("1y", "2021-01-01"), ("2mo", "2021-11-01"),
    ("6h", "2021-12-20T00:00"), ("15m", "2021-12-20T05:45"),
])
def test_bin_units(period, start):
    frame = tiny(start=[int(pd.Timestamp("2021-12-20T05:59:59Z").timestamp())])
    got = insights.run(f"stats count(*) by bin({period}) as t", frame)
    assert got["t"].tolist() == [pd.Timestamp(start, tz="UTC")]


@pytest.mark.parametrize("function, value", [
    ("datefloor(@timestamp, 1h)", "2021-12-20T05:00"),
    ("dateceil(@timestamp, 1h)", "2021-12-20T06:00"),
    ("dateceil(@timestamp, 1mo)", "2022-01-01"),
    ("datefloor(@timestamp, 1w)", "2021-12-20"),
    ("dateceil(fromMillis(toMillis(@timestamp) - 59000), 1m)", "2021-12-20T05:59"),
])
def test_datefloor_and_dateceil(function, value):
    frame = tiny(start=[int(pd.Timestamp("2021-12-20T05:59:59Z").timestamp())])
    got = insights.run(f"fields {function} as t", frame)
    assert got["t"].tolist() == [pd.Timestamp(value, tz="UTC")]


def test_a_period_of_zero_is_an_error():
    with pytest.raises(InsightsSyntaxError, match="at least 1"):
        insights.to_sql("stats count(*) by bin(0m)")


# --- functions -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one() -> pd.DataFrame:
    frame = tiny(srcaddr=["10.0.1.100"], dstaddr=["2001:db8::1"], action=["  Accept "],
                 bytes=[-7], packets=[4], start=[1639958400])
    return frame


@pytest.mark.parametrize("expression, value", [
    ("abs(bytes)", 7), ("ceil(2.1)", 3), ("floor(2.9)", 2), ("greatest(1, bytes, 3)", 3),
    ("least(1, bytes, 3)", -7), ("log(1)", 0.0), ("sqrt(packets)", 2.0), ("2 ^ 3", 8.0),
    ("10 % 3", 1), ("round(2.567, 1)", 2.6),
    ("strlen(srcAddr)", 10), ("toupper(action)", "  ACCEPT "), ("tolower(action)", "  accept "),
    ("trim(action)", "Accept"), ("ltrim(action)", "Accept "), ("rtrim(action)", "  Accept"),
    ('trim("xyZxyfooxyZ", "xyZ")', "foo"), ('ltrim("xyZxyfooxyZ", "xyZ")', "fooxyZ"),
    ('rtrim("xyZfooxyxyZ", "xyZ")', "xyZfoo"),
    ('concat(srcAddr, ":", packets)', "10.0.1.100:4"), ("concat(srcAddr, nothing)", "10.0.1.100"),
    ('substr("xyZfooxyZ", 3, 3)', "foo"), ('substr("xyZfooxyZ", 3)', "fooxyZ"),
    ('replace(srcAddr, "10.", "ten.")', "ten.0.1.100"),
    ('strcontains(action, "cc")', 1), ('strcontains(action, "CC")', 0),
    ('strcontains(action, "CC", 1 = 1)', 1),
    ("isempty(nothing)", 1), ('isempty("")', 1), ("isempty(action)", 0),
    ('isblank("   ")', 1), ("isblank(action)", 0),
    ("ispresent(srcAddr)", True), ("ispresent(nothing)", False),
    ("coalesce(nothing, srcAddr)", "10.0.1.100"),
    ("toMillis(@timestamp)", 1639958400000),
    ("fromMillis(1639958400123)", pd.Timestamp(1639958400123, unit="ms", tz="UTC")),
    ("isValidIp(srcAddr)", True), ("isValidIp(dstAddr)", True), ("isValidIp(action)", False),
    ("isValidIpV4(srcAddr)", True), ("isValidIpV4(dstAddr)", False),
    ("isValidIpV6(dstAddr)", True), ("isValidIpV6(srcAddr)", False),
    ('isIpInSubnet(srcAddr, "10.0.0.0/16")', True), ('isIpInSubnet(srcAddr, "10.1.0.0/16")', False),
    ('isIpInSubnet(dstAddr, "2001:db8::/32")', True), ('isIpInSubnet(dstAddr, "2001:db9::/32")',
                                                        False),
    ('isIpv4InSubnet(srcAddr, "10.0.1.96/28")', True), ('isIpv4InSubnet(srcAddr, "10.0.1.0/26")',
                                                        False),
    ('isIpv6InSubnet(dstAddr, "2001:db8::/127")', True),
    ('isIpInSubnet(srcAddr, "2001:db8::/32")', False),
])
def test_functions(one, expression, value):
    with pytest.warns(InsightsFieldWarning) if "nothing" in expression else _no_warning():
        got = insights.run(f"fields {expression} as v", one)
    assert got["v"].tolist() == [value]


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_now_is_epoch_seconds(one):
    got = insights.run("fields now() as t", one)["t"][0]
    assert abs(got - pd.Timestamp.now(tz="UTC").timestamp()) < 60


def test_ip_subnet_functions_match_ipaddress():
    rng = random.Random(5)
    addresses = []
    for _ in range(300):
        if rng.random() < 0.5:
            addresses.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
        else:
            bits = rng.getrandbits(128) & ~((1 << rng.randrange(128)) - 1)
            addresses.append(ipaddress.IPv6Address(bits).compressed)
    addresses += ["::", "::1", "fe80::1", "256.0.0.1", "1.2.3", "a::b::c", "", "::ffff:1.2.3.4"]
    frame = tiny(srcaddr=addresses, start=list(range(len(addresses))))
    networks = ["10.0.0.0/8", "0.0.0.0/0", "192.168.0.0/17", "2001:db8::/32", "::/0",
                "fe80::/10", "8000::/1", "::1/128"]
    networks += [str(ipaddress.ip_network(f"{a}/{rng.randrange(33 if '.' in a else 129)}",
                                          strict=False)) for a in rng.sample(addresses[:300], 12)]
    for network in networks:
        got = insights.run(f'fields srcAddr, isIpInSubnet(srcAddr, "{network}") as inside '
                           "| limit 1000", frame)
        net = ipaddress.ip_network(network)
        for address, inside in zip(got["srcAddr"], got["inside"]):
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                ip = None
            expected = (ip is not None and ip.version == net.version and ip in net
                        and "." not in address.replace(".", "", 3 if ip.version == 4 else 0))
            assert bool(inside) == expected, (network, address)


@pytest.mark.parametrize("aggregate, compute", [
    ("count(*)", lambda g: g.size()),
    ("count()", lambda g: g.size()),
    ("count(bytes)", lambda g: g["bytes"].count()),
    ("count_distinct(dstPort)", lambda g: g["dstport"].nunique()),
    ("countDistinct(dstPort)", lambda g: g["dstport"].nunique()),
    ("sum(bytes)", lambda g: g["bytes"].sum(min_count=1)),
    ("avg(bytes)", lambda g: g["bytes"].mean()),
    ("min(bytes)", lambda g: g["bytes"].min()),
    ("max(bytes)", lambda g: g["bytes"].max()),
    ("stddev(bytes)", lambda g: g["bytes"].apply(lambda s: s.astype("float64").std())),
    ("pct(bytes, 50)", lambda g: g["bytes"].apply(
        lambda s: s.dropna().astype("float64").quantile(0.5, interpolation="lower"))),
])
def test_aggregates_match_pandas(records, aggregate, compute):
    got = insights.run(f"stats {aggregate} as v by interfaceId", records)
    want = compute(records.groupby("interface_id"))
    assert got["interfaceId"].tolist() == sorted(want.index)
    assert got["v"].astype("float64").tolist() == pytest.approx(
        want.sort_index().astype("float64").tolist())


@pytest.mark.parametrize("aggregate, compute", [
    ("sortsFirst(dstAddr)", lambda g: g["dstaddr"].min()),
    ("sortsLast(dstAddr)", lambda g: g["dstaddr"].max()),
])
def test_sorts_first_and_last_match_pandas(records, aggregate, compute):
    got = insights.run(f"stats {aggregate} as v by interfaceId", records)
    assert got["v"].tolist() == compute(records.groupby("interface_id")).sort_index().tolist()


def test_earliest_and_latest_follow_the_timestamp(records):
    got = insights.run("filter ispresent(dstAddr) | stats earliest(@timestamp) as first, "
                       "latest(@timestamp) as last, earliest(startTime) as s by interfaceId",
                       records)
    present = records[records.dstaddr.notna()].groupby("interface_id")["start"]
    assert got["s"].tolist() == present.min().sort_index().tolist()
    assert got["last"].tolist() == pd.to_datetime(present.max().sort_index(), unit="s",
                                                  utc=True).tolist()


@pytest.mark.parametrize("query, message, column", [
    ("fields sum(bytes)", "sum() is an aggregate function: use it in stats", 8),
    ("filter count(*) > 5", "count() is an aggregate function", 8),
    ("stats bytes by srcAddr", "bytes has no aggregate function", 7),
    ("stats sum(max(bytes))", "cannot be inside another", 11),
    ("stats count(*) by sum(bytes)", "sum() is an aggregate function", 19),
    ("fields lenght(srcAddr)", "unknown function 'lenght'", 8),
    ("fields strlength(srcAddr)", "Did you mean strlen?", 8),
    ("stats count(*) by bin(@timestamp, 1h)", "bin takes one argument, the period", 19),
    ("fields abs(1, 2)", "abs takes 1 argument, not 2", 8),
    ("fields substr(srcAddr)", "substr takes 2 to 3 arguments, not 1", 8),
    ("stats sum(*)", "sum(*) is not valid; only count(*) takes *", 7),
    ('filter isIpv4InSubnet(srcAddr, "2001:db8::/32")', "needs an IPv4 one", 32),
    ('filter isIpInSubnet(srcAddr, "10.0.0.0")', "not a CIDR block", 30),
    ('filter isIpInSubnet(srcAddr, "10.0.0.0/33")', "not a CIDR block", 30),
    ("filter isIpInSubnet(srcAddr, dstAddr)", "must be a quoted CIDR block", 30),
    ("stats pct(bytes, 101)", "from 0 to 100", 18),
    ("stats count(*) by bin(5)", "a time period is needed", 23),
    ("filter bytes > 5m", "can only be an argument of bin", 16),
    ("fields /abc/", "unexpected", 8),
    ("filter srcAddr", "a condition is needed here", 8),
    ("fields round(bytes, packets)", "a whole number from -30 to 30", 21),
    ("fields round(bytes, 2.5)", "a whole number from -30 to 30", 21),
    ("stats count(*) by bin(10001y)", "too long: at most 10,000 years", 23),
    ("stats count(*) by bin(99999999999999999999d)", "too long", 23),
])
def test_compile_errors_point_at_the_problem(query, message, column):
    with pytest.raises(InsightsSyntaxError, match=re.escape(message)) as info:
        insights.to_sql(query)
    assert info.value.column == column


@pytest.mark.parametrize("query, message", [
    ("stats sum(bytes) as b by srcAddr | sort sum(bytes) desc",
     "sum(bytes) is a result of the stats, named 'b' there: after stats, refer to its results "
     "by name, e.g. `sort b desc`"),
    ("stats count(*) by srcAddr | sort sum(bytes) desc",
     "sum(bytes) is not a result of the stats (its results: srcAddr, count(*)); an aggregate is "
     "computed in stats only. Add it to the stats with a name and use the name, e.g. `stats "
     "sum(bytes) as total ... | sort total desc`"),
    ("stats count(*) as `hits per source` by srcAddr | sort count(*) desc",
     "named 'hits per source' there: after stats, refer to its results by name, e.g. "
     "`sort `hits per source` desc`"),
])
def test_sort_by_an_aggregate_after_stats_names_the_result_to_use(query, message):
    with pytest.raises(InsightsSyntaxError) as info:
        insights.to_sql(query)
    assert info.value.reason.endswith(message)
    assert info.value.column == query.index("| sort") + 8


def test_sort_by_an_unaliased_aggregates_text_sorts_on_that_result(records):
    got = insights.run("stats sum(bytes) by srcAddr | sort sum( bytes ) desc | limit 3", records)
    want = records.groupby("srcaddr")["bytes"].sum().sort_values(ascending=False).head(3)
    assert got["sum(bytes)"].tolist() == want.tolist()


@pytest.mark.parametrize("expression, value", [
    ('substr("abc", 99999999999999999999)', ""), ('substr("abc", -99999999999999999999)', "abc"),
    ('substr("abcdef", 1, 99999999999999999999)', "bcdef"),
    ("fromMillis(99999999999999999999)", None), ("fromMillis(-1e300)", None),
    ("toMillis(1e20)", None), ("datefloor(1e20, 1h)", None),
    ("round(2.567, -1)", 0.0), ("round(25.67, -1)", 30.0),
])
def test_arguments_out_of_range_give_null_or_the_natural_answer(one, expression, value):
    got = insights.run(f"fields {expression} as v", one)
    assert rows(got) == [(value,)]


# --- data sources --------------------------------------------------------------------------------


QUERY = "filter action = 'REJECT' | stats count(*) as n by dstPort | sort n desc | limit 3"


def test_run_on_an_arrow_table(records):
    import pyarrow as pa

    table = pa.Table.from_pandas(records, preserve_index=False)
    pd.testing.assert_frame_equal(insights.run(QUERY, table), insights.run(QUERY, records))


def test_run_on_a_duckdb_relation(records):
    con = duckdb.connect()
    relation = con.from_arrow(__import__("pyarrow").Table.from_pandas(records))
    pd.testing.assert_frame_equal(insights.run(QUERY, relation), insights.run(QUERY, records))


def test_run_on_a_duckdb_connection(records):
    con = duckdb.connect()
    con.register("frame", records)
    con.execute("CREATE TABLE vpc AS SELECT * FROM frame")
    got = insights.run(QUERY, con, table="vpc")
    pd.testing.assert_frame_equal(got, insights.run(QUERY, records))


def test_run_on_a_connection_without_the_table():
    with pytest.raises(InsightsError, match="no table or view 'flows'"):
        insights.run(QUERY, duckdb.connect())


def test_run_on_a_path(records, tmp_path):
    path = flowlogs.write_parquet(records, tmp_path / "flows.parquet",
                                  flowlogs.DEFAULT_FORMAT)
    pd.testing.assert_frame_equal(insights.run(QUERY, path), insights.run(QUERY, records))
    pd.testing.assert_frame_equal(insights.run(QUERY, str(path)), insights.run(QUERY, records))


def test_run_refuses_other_data():
    with pytest.raises(InsightsArgumentError, match="data must be a DataFrame") as info:
        insights.run(QUERY, [1, 2, 3])
    assert isinstance(info.value, TypeError)  # still what a caller catching TypeError expects


def test_run_does_not_modify_the_frame(records):
    before = records.copy()
    insights.run("fields bytes * 2 as bytes | sort bytes", records)
    pd.testing.assert_frame_equal(records, before)


def test_run_sql_types_like_run(records):
    got = insights.run_sql("SELECT srcaddr, SUM(bytes) AS b, to_timestamp(MAX(start)) AS t "
                           "FROM flows GROUP BY srcaddr ORDER BY b DESC LIMIT 2", records)
    assert [str(t) for t in got.dtypes] == ["string", "Int64", "datetime64[ms, UTC]"]
    assert np.issubdtype(got["b"].to_numpy(dtype="int64").dtype, np.integer)


def test_run_shares_the_frames_memory_instead_of_copying(records):
    from helpers.insights.runner import _arrow_view

    view = _arrow_view(records, ["srcaddr", "bytes"])
    strings = records["srcaddr"].array.__arrow_array__()
    assert view["srcaddr"].chunk(0).buffers()[2].address == strings.chunk(0).buffers()[2].address
    assert view.column_names == ["srcaddr", "bytes"]  # only the columns the query reads
