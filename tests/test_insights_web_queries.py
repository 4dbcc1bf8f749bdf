"""Logs Insights queries in the styles practitioners copy from runbooks and cheat sheets.

One test per style. Each checks the rows against an independent pandas computation on
generated flow logs, or the course error and its wording where AWS refuses the spelling. The
decisions behind each style (and the sources consulted) are in the docstrings of
:mod:`helpers.insights.compiler` and :mod:`helpers.insights.parser`. The queries are the
course's own.
"""

from __future__ import annotations

import ipaddress
import re

import pandas as pd
import pytest

from helpers import flowlogs, insights, traffic
from helpers.errors import InsightsMissingValueWarning, InsightsSourceWarning, InsightsSyntaxError
from helpers.insights import InsightsFieldWarning


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return traffic.generate(seed=4, duration="1h")


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]


def top(series: pd.Series, n: int) -> pd.Series:
    """Largest first, ties by the index ascending (the compiler's tie-break)."""
    frame = series.rename("v").reset_index()
    return frame.sort_values(["v", frame.columns[0]], ascending=[False, True]).head(n)


# --- parse "* * * ... *" with ten or more fields ----------------------------------------------

NAMES = ["ver", "acct", "eni", "src", "dst", "sport", "dport", "proto", "pkts", "size", "first",
         "last", "verdict", "status"]


def test_parse_glob_with_the_14_default_fields(records):
    glob = " ".join(["*"] * len(NAMES))
    got = insights.run(f'parse @message "{glob}" as {", ".join(NAMES)} '
                       "| stats count(*) as n, sum(size) as total by verdict, status "
                       "| sort n desc", records)
    text = flowlogs.format_lines(records, flowlogs.DEFAULT_FORMAT).to_pandas()
    parts = text.str.split(" ", expand=True)  # "-" stays text: parse reads @message as written
    parts.columns = NAMES
    sizes = pd.to_numeric(parts["size"], errors="coerce")
    want = (parts.assign(size=sizes).groupby(["verdict", "status"])
            .agg(n=("size", "size"), total=("size", lambda v: v.sum(min_count=1)))
            .reset_index()
            .sort_values(["n", "verdict", "status"], ascending=[False, True, True]))
    assert rows(got) == [(v, s, n, None if t is None else float(t))
                         for v, s, n, t in rows(want)]
    assert ("-", "NODATA") in {(v, s) for v, s, *_ in rows(got)}


# --- sort by <field> desc -----------------------------------------------------------------------


def test_sort_by_field_desc(records):
    got = insights.run("stats sum(bytes) as total by srcAddr | sort by total desc | limit 5",
                       records)
    want = top(records.groupby("srcaddr")["bytes"].sum(), 5)
    assert rows(got) == rows(want)
    events = "fields @timestamp, bytes | sort {}bytes desc | limit 20"
    pd.testing.assert_frame_equal(insights.run(events.format("by "), records),
                                  insights.run(events.format(""), records))


# --- dashboard widget queries: SOURCE '<log group>' | ... -------------------------------------


@pytest.fixture(scope="module")
def two_groups(records) -> pd.DataFrame:
    other = traffic.generate(seed=5, duration="1h")
    return pd.concat([records.assign(log_group="vpc-a"), other.assign(log_group="vpc-b")],
                     ignore_index=True)


def test_dashboard_source_prefix_selects_the_log_groups(two_groups, records):
    counts = two_groups.groupby("log_group").size()
    query = "stats count(*) as n, count_distinct(interfaceId) as enis"
    one = insights.run(f"SOURCE 'vpc-a' | {query}", two_groups)
    assert one["n"].tolist() == [counts["vpc-a"]]
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:vpc-b:*"
    both = insights.run(f"SOURCE 'vpc-a' | SOURCE \"{arn}\"\n| {query}", two_groups)
    assert both["n"].tolist() == [len(two_groups)]
    same = insights.run(f"SOURCE 'vpc-a' 'vpc-b' | {query}", two_groups)
    pd.testing.assert_frame_equal(same, both)

    with pytest.warns(InsightsSourceWarning, match=r"START=-1w END=0s is the time range"):
        ranged = insights.run(f"SOURCE 'vpc-b' START=-1w END=0s | {query}", two_groups)
    assert ranged["n"].tolist() == [counts["vpc-b"]]

    # Records that do not say their log group: all of them are used, with a warning.
    with pytest.warns(InsightsSourceWarning, match="do not say which log group"):
        unsaid = insights.run("SOURCE 'vpc-a' | fields @log | limit 1", records)
    assert unsaid["@log"].tolist() == ["123456789012:vpc-a"]
    assert insights.run(f"SOURCE 'vpc-a' | {query}", records, log_group="vpc-a")["n"].tolist() \
        == [len(records)]
    with pytest.warns(InsightsSourceWarning, match="these records are log group 'vpc-c'"):
        none = insights.run(f"SOURCE 'vpc-a' | {query}", records, log_group="vpc-c")
    assert none["n"].tolist() == [0]


# --- sort on a stats result named by an expression; @timestamp after stats by bin -------------


def test_sort_on_a_bin_result_and_on_timestamp_after_stats(records):
    bins = records.groupby(records["start"] // 300 * 300)["bytes"].sum().sort_index()
    newest = bins.iloc[::-1].head(3)
    want = list(zip(pd.to_datetime(newest.index, unit="s", utc=True), newest.tolist()))

    by_text = insights.run("stats sum(bytes) by bin(5m) | sort bin(5m) desc | limit 3", records)
    by_time = insights.run("stats sum(bytes) by bin(5m) | sort @timestamp desc | limit 3",
                           records)
    aliased = insights.run("stats sum(bytes) as b by bin(5m) as t | sort @timestamp desc "
                           "| limit 3", records)
    assert list(by_text.columns) == ["bin(5m)", "sum(bytes)"]
    assert rows(by_text) == rows(by_time) == rows(aliased) == want
    ascending = insights.run("stats sum(bytes) by bin( 5m ) | sort bin(5m) asc | limit 2",
                             records)
    assert ascending["sum(bytes)"].tolist() == bins.head(2).tolist()


# --- spellings other tools use: ==, order by, parse ... | as a, b ------------------------------


def test_spellings_other_tools_use(records):
    same = "filter dstPort {} 443 and action {} 'ACCEPT' | stats count(*) as n"
    doubled = insights.run(same.format("==", "=="), records)
    wanted = (records.dstport == 443).fillna(False) & (records.action == "ACCEPT").fillna(False)
    assert doubled["n"].tolist() == [int(wanted.sum())]
    pd.testing.assert_frame_equal(doubled, insights.run(same.format("=", "="), records))

    with pytest.raises(InsightsSyntaxError, match=re.escape(
            "Logs Insights has no `order by` (that is SQL): sort with `sort field desc`")) as info:
        insights.run("fields srcAddr, bytes\n| order by bytes desc", records)
    assert (info.value.line, info.value.column) == (2, 3)

    with pytest.raises(InsightsSyntaxError, match=re.escape(
            "'as' is not a command: a parse's names belong to the parse itself, without a '|' "
            "before them: `parse @message \"* * *\" as a, b, c`")) as info:
        insights.run('parse @message "* * * *" | as version, account, eni, rest', records)
    assert info.value.column == 28


# --- missing values: a NODATA record's srcAddr is "-" in the raw log ---------------------------


def test_missing_values_written_dash_are_missing(records):
    missing = int(records["srcaddr"].isna().sum())
    assert missing == int(records["log_status"].isin(["NODATA", "SKIPDATA"]).sum()) > 0
    grouped = insights.run("stats count(*) as n by srcAddr", records)
    assert grouped.loc[grouped["srcAddr"].isna(), "n"].tolist() == [missing]
    assert dict(zip(grouped["srcAddr"].dropna(), grouped["n"].dropna())) == \
        records.groupby("srcaddr").size().to_dict()

    with pytest.warns(InsightsMissingValueWarning, match=re.escape(
            "srcAddr is never the text '-': a flow-log field written '-' (NODATA and SKIPDATA "
            "records) is missing, so this compares with nothing. Test for it with "
            "`not ispresent(srcAddr)`")):
        dash = insights.run("filter srcAddr = '-' | stats count(*) as n", records)
    assert dash["n"].tolist() == [0]
    absent = insights.run("filter not ispresent(srcAddr) | stats count(*) as n", records)
    assert absent["n"].tolist() == [missing]


# --- filters on record fields after stats; functions AWS does not have ------------------------


def test_filters_after_stats_see_only_its_results(records):
    eni = records["interface_id"].value_counts().index[0]
    got = insights.run("stats count(*) as n, sum(bytes) as b by interfaceId "
                       f"| filter interfaceId = '{eni}'", records)
    mine = records[records["interface_id"] == eni]
    assert rows(got) == [(eni, len(mine), int(mine["bytes"].sum()))]

    with pytest.warns(InsightsFieldWarning, match=re.escape(
            "field 'action' does not exist after stats; after stats only its results exist: "
            "interfaceId, n")):
        gone = insights.run("stats count(*) as n by interfaceId | filter action = 'REJECT'",
                            records)
    assert len(gone) == 0


@pytest.mark.parametrize("call, nearest", [
    ("isprivateaddr(srcAddr)", "isIpv4InSubnet"),
    ("dateTimePart(@timestamp)", "datefloor(@timestamp, 1h)"),
])
def test_functions_aws_does_not_have_name_the_nearest_one(records, call, nearest):
    with pytest.raises(InsightsSyntaxError) as info:
        insights.run(f"filter ispresent(srcAddr) | fields {call} as x", records)
    assert info.value.reason.startswith(f"Logs Insights has no function {call.split('(')[0]!r}")
    assert nearest in info.value.reason
    assert info.value.column == 36

    if nearest == "isIpv4InSubnet":  # the suggested spelling runs and means "private"
        test = info.value.reason.split("`")[1]
        got = insights.run(f"filter {test} | stats count(*) as n", records)
        ranges = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12",
                                                    "192.168.0.0/16")]
        private = records["srcaddr"].dropna().map(
            lambda a: any(ipaddress.ip_address(a) in net for net in ranges))
        assert got["n"].tolist() == [int(private.sum())] != [0]
