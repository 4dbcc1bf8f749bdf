"""AWS's published Logs Insights sample queries for VPC flow logs and NAT gateways.

The texts are those of ``shared/reference/aws-sample-queries.md`` (sections A–F), with the
placeholders replaced by values of the generated traffic: the NAT gateway's private IP is
``default_topology().interface("nat").private_ip`` and the VPC prefix is "10.0.". Each query's
result is checked against an independent pandas computation of what the query means.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pytest

from helpers import flowlogs, insights, traffic
from helpers.insights import InsightsFieldWarning

LAB = traffic.default_topology()
NAT = LAB.interface("nat").private_ip
VPC = "10.0."
WEB_ENI = LAB.interface("web").eni_id


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    frame = traffic.generate(scenarios="all", seed=7, duration="6h")
    # The lab's traffic is TCP and ICMP; make a share of it UDP so A3/D2 have rows to find.
    udp = (frame["srcport"] % 5 == 0).fillna(False).to_numpy()
    protocol = frame["protocol"].copy()
    protocol[udp] = 17
    return frame.assign(protocol=protocol)


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else (float(v) if isinstance(v, float) else v)
                  for v in row) for row in frame.itertuples(index=False)]


def top(frame: pd.DataFrame, keys: list[str], value: str, name: str, n: int | None,
        how: str = "sum") -> pd.DataFrame:
    """Group, aggregate, sort by the value (desc) then the keys (asc), take n."""
    grouped = frame.groupby(keys, dropna=False)[value]
    result = (grouped.sum(min_count=1) if how == "sum" else grouped.size()).rename(name)
    result = result.reset_index().sort_values([name] + keys, ascending=[False] + [True] * len(
        keys), na_position="last", kind="stable")
    return result.head(n) if n else result


def contains(series: pd.Series, text: str) -> pd.Series:
    return series.str.contains(text, regex=False).fillna(False).astype(bool)


def run(query: str, records: pd.DataFrame) -> pd.DataFrame:
    return insights.run(query, records)


# --- A. Queries for Amazon VPC flow logs --------------------------------------------------


def test_a1_top_15_packet_transfers(records):
    got = run("""stats sum(packets) as packetsTransferred by srcAddr, dstAddr
    | sort packetsTransferred  desc
    | limit 15""", records)
    want = top(records, ["srcaddr", "dstaddr"], "packets", "packetsTransferred", 15)
    assert list(got.columns) == ["srcAddr", "dstAddr", "packetsTransferred"]
    assert rows(got) == rows(want)


def test_a2_top_15_byte_transfers_from_a_subnet(records):
    got = run("""filter isIpv4InSubnet(srcAddr, "192.0.2.0/24")
    | stats sum(bytes) as bytesTransferred by dstAddr
    | sort bytesTransferred desc
    | limit 15""", records)
    net = ipaddress.ip_network("192.0.2.0/24")
    inside = records["srcaddr"].map(lambda a: a is not pd.NA and ipaddress.ip_address(a) in net,
                                    na_action=None).astype(bool)
    want = top(records[inside], ["dstaddr"], "bytes", "bytesTransferred", 15)
    assert 0 < len(got) <= 15
    assert rows(got) == rows(want)


def test_a3_sources_using_udp(records):
    got = run("filter protocol=17 | stats count(*) by srcAddr", records)
    udp = records[records["protocol"] == 17]
    want = udp.groupby("srcaddr").size()
    assert list(got.columns) == ["srcAddr", "count(*)"]
    assert len(got) > 0
    assert dict(zip(got["srcAddr"], got["count(*)"])) == want.to_dict()


def test_a4_skipdata_per_hour(records):
    got = run("""filter logStatus="SKIPDATA"
    | stats count(*) by bin(1h) as t
    | sort t""", records)
    skipped = records[records["log_status"] == "SKIPDATA"]
    want = skipped.groupby(skipped["start"] // 3600 * 3600).size()
    assert len(want) > 0
    assert got["t"].tolist() == pd.to_datetime(want.index, unit="s", utc=True).tolist()
    assert got["count(*)"].tolist() == want.tolist()


A5 = """fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol, bytes
| filter logStream = 'vpc-flow-logs' and interfaceId = 'eni-0123456789abcdef0'
| sort @timestamp desc
| dedup srcAddr, dstAddr, srcPort, dstPort, protocol
| limit 20"""


def test_a5_as_published_filters_on_a_field_flow_logs_do_not_have(records):
    with pytest.warns(InsightsFieldWarning, match="'logStream' does not exist.*'@logStream'"):
        got = run(A5, records)
    assert len(got) == 0
    assert list(got.columns) == ["@timestamp", "srcAddr", "dstAddr", "srcPort", "dstPort",
                                 "protocol", "bytes"]


def test_a5_corrected_gives_the_newest_record_per_connection(records):
    query = A5.replace("logStream = 'vpc-flow-logs'", f"@logStream = '{WEB_ENI}'").replace(
        "eni-0123456789abcdef0", WEB_ENI)
    got = run(query, records)
    columns = ["start", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "bytes"]
    keys = ["srcaddr", "dstaddr", "srcport", "dstport", "protocol"]
    mine = records[records["interface_id"] == WEB_ENI][columns]
    mine = mine.sort_values(columns, ascending=[False] + [True] * 6, na_position="last",
                            kind="stable")
    keyed = mine.dropna(subset=keys)
    kept = pd.concat([keyed.drop_duplicates(keys), mine[mine[keys].isna().any(axis=1)]])
    kept = kept.sort_values(columns, ascending=[False] + [True] * 6, na_position="last",
                            kind="stable").head(20)
    assert len(got) == 20
    assert got["@timestamp"].tolist() == pd.to_datetime(kept["start"], unit="s",
                                                        utc=True).tolist()
    assert rows(got.drop(columns="@timestamp")) == rows(kept.drop(columns="start"))
    assert not got.duplicated(["srcAddr", "dstAddr", "srcPort", "dstPort", "protocol"]).any()


# --- B. Queries for NAT gateway -----------------------------------------------------------


B_QUERIES = {
    "B1": f"""filter (dstAddr like '{NAT}' and srcAddr like '{VPC}')
| stats sum(bytes) as bytesTransferred by srcAddr, dstAddr
| sort bytesTransferred desc
| limit 10""",
    "B2": f"""filter (dstAddr like '{NAT}' and srcAddr like '{VPC}') or (srcAddr like '{NAT}' and dstAddr like '{VPC}')
| stats sum(bytes) as bytesTransferred by srcAddr, dstAddr
| sort bytesTransferred desc
| limit 10""",  # noqa: E501 (the published query is one line)
    "B3": f"""filter (srcAddr like '{NAT}' and dstAddr not like '{VPC}')
| stats sum(bytes) as bytesTransferred by srcAddr, dstAddr
| sort bytesTransferred desc
| limit 10""",
    "B4": f"""filter (dstAddr like '{NAT}' and srcAddr not like '{VPC}')
| stats sum(bytes) as bytesTransferred by srcAddr, dstAddr
| sort bytesTransferred desc
| limit 10""",
}


def _b_mask(name: str, r: pd.DataFrame) -> pd.Series:
    src, dst = r["srcaddr"], r["dstaddr"]
    present = src.notna() & dst.notna()
    if name == "B1":
        return contains(dst, NAT) & contains(src, VPC)
    if name == "B2":
        return (contains(dst, NAT) & contains(src, VPC)) | (contains(src, NAT)
                                                           & contains(dst, VPC))
    if name == "B3":
        return contains(src, NAT) & ~contains(dst, VPC) & present
    return contains(dst, NAT) & ~contains(src, VPC) & present


@pytest.mark.parametrize("name", list(B_QUERIES))
def test_b_nat_gateway_queries(records, name):
    got = run(B_QUERIES[name], records)
    want = top(records[_b_mask(name, records)], ["srcaddr", "dstaddr"], "bytes",
               "bytesTransferred", 10)
    assert len(got) > 0
    assert list(got.columns) == ["srcAddr", "dstAddr", "bytesTransferred"]
    assert rows(got) == rows(want)


def test_b_with_placeholders_left_literal_finds_nothing(records):
    query = B_QUERIES["B1"].replace(NAT, "x.x.x.x").replace(f"'{VPC}'", "'y.y.'")
    assert len(run(query, records)) == 0


# --- C. Other pages ---------------------------------------------------------------------------


def test_c1_25_most_recent_events(records):
    got = run("fields @timestamp, @message | sort @timestamp desc | limit 25", records)
    lines = flowlogs.format_lines(records, flowlogs.DEFAULT_FORMAT).to_pylist()
    want = pd.DataFrame({"start": records["start"].to_numpy(), "message": lines})
    want = want.sort_values(["start", "message"], ascending=[False, True]).head(25)
    assert got["@message"].tolist() == want["message"].tolist()
    assert got["@timestamp"].tolist() == pd.to_datetime(want["start"], unit="s",
                                                        utc=True).tolist()


def test_c2_average_bytes_per_destination(records):
    got = run("stats avg(bytes) by dstAddr", records)
    want = records.groupby("dstaddr", dropna=False)["bytes"].mean()
    assert list(got.columns) == ["dstAddr", "avg(bytes)"]
    assert len(got) == len(want)
    got_map = dict(zip(got["dstAddr"].fillna("<null>"), got["avg(bytes)"]))
    for address, mean in want.items():
        value = got_map["<null>" if pd.isna(address) else address]
        assert (pd.isna(value) and pd.isna(mean)) or value == pytest.approx(mean)


def test_c3_average_and_maximum_bytes_per_destination(records):
    got = run("stats avg(bytes), max(bytes) by dstAddr", records).dropna(subset=["dstAddr"])
    want = records.groupby("dstaddr")["bytes"].agg(["mean", "max"]).sort_index()
    assert got["dstAddr"].tolist() == want.index.tolist()
    assert got["avg(bytes)"].tolist() == pytest.approx(want["mean"].astype(float).tolist())
    assert got["max(bytes)"].tolist() == want["max"].tolist()


def test_c4_parse_the_eni_from_the_message(records):
    got = run("parse @message /(?<NetworkInterface>eni-.*?) / "
              "| display NetworkInterface, @message", records)
    assert list(got.columns) == ["NetworkInterface", "@message"]
    assert len(got) == 10_000
    third = got["@message"].str.split(" ").str[2]
    assert (got["NetworkInterface"] == third).all()


def test_c5_events_per_log_stream(records):
    got = run("stats count(*) by @logStream\n    | limit 100", records)
    want = records.groupby("interface_id").size().sort_index()
    assert got["@logStream"].tolist() == want.index.tolist()
    assert got["count(*)"].tolist() == want.tolist()


# --- D. Console sample queries ------------------------------------------------------------------


def test_d1_average_min_max_bytes_per_pair(records):
    got = run("stats avg(bytes), min(bytes), max(bytes) by srcAddr, dstAddr", records)
    got = got.dropna(subset=["srcAddr"])
    want = records.groupby(["srcaddr", "dstaddr"])["bytes"].agg(["mean", "min", "max"])
    want = want.sort_index().head(len(got))
    assert list(got.columns) == ["srcAddr", "dstAddr", "avg(bytes)", "min(bytes)",
                                 "max(bytes)"]
    assert list(zip(got["srcAddr"], got["dstAddr"])) == want.index.tolist()
    assert got["avg(bytes)"].tolist() == pytest.approx(want["mean"].astype(float).tolist())
    assert got["min(bytes)"].tolist() == want["min"].tolist()


def test_d2_udp_without_space_before_the_pipe(records):
    pd.testing.assert_frame_equal(run("filter protocol=17| stats count(*) by srcAddr", records),
                                  run("filter protocol=17 | stats count(*) by srcAddr", records))


def test_d3_top_10_byte_transfers(records):
    got = run("stats sum(bytes) as bytesTransferred by srcAddr, dstAddr| sort bytesTransferred "
              "desc| limit 10", records)
    want = top(records, ["srcaddr", "dstaddr"], "bytes", "bytesTransferred", 10)
    assert rows(got) == rows(want)


def test_d4_top_20_rejected_sources(records):
    got = run('filter action="REJECT"| stats count(*) as numRejections by srcAddr| sort '
              "numRejections desc| limit 20", records)
    want = top(records[records["action"] == "REJECT"], ["srcaddr"], "bytes", "numRejections",
               20, how="size")
    assert rows(got) == rows(want)


# --- E. Well-Architected Labs -----------------------------------------------------------------


def test_e1_rejections_by_source(records):
    got = run('filter action="REJECT"\n| stats count(*) as numRejections by srcAddr\n'
              "| sort numRejections desc", records)
    want = top(records[records["action"] == "REJECT"], ["srcaddr"], "bytes", "numRejections",
               10_000, how="size")
    assert rows(got) == rows(want)


def test_e2_rejections_from_inside_the_vpc(records):
    got = run('filter action="REJECT" and srcAddr like /^10\\./\n'
              "| stats count(*) as numRejections by srcAddr\n| sort numRejections desc", records)
    inside = records["srcaddr"].str.match(r"10\.").fillna(False).astype(bool)
    want = top(records[(records["action"] == "REJECT") & inside], ["srcaddr"], "bytes",
               "numRejections", None, how="size")
    assert len(got) > 0
    assert rows(got) == rows(want)


def test_e3_requests_from_one_address(records):
    source = "10.0.11.50"
    got = run(f'filter srcAddr = "{source}"\n| fields @timestamp, interfaceId, dstAddr, '
              "dstPort, action", records)
    mine = records[records["srcaddr"] == source]
    assert list(got.columns) == ["@timestamp", "interfaceId", "dstAddr", "dstPort", "action"]
    assert len(got) == len(mine)
    assert got["@timestamp"].is_monotonic_decreasing
    assert sorted(rows(got.drop(columns="@timestamp")), key=str) == sorted(
        rows(mine[["interface_id", "dstaddr", "dstport", "action"]]), key=str)


def test_e4_connections_from_a_private_address(records):
    got = run('filter srcAddr = "10.0.11.50"\n| stats count(*) as numConnections by dstAddr\n'
              "| sort numConnections desc", records)
    want = top(records[records["srcaddr"] == "10.0.11.50"], ["dstaddr"], "bytes",
               "numConnections", None, how="size")
    assert rows(got) == rows(want)


# --- F. aws-samples saved query -----------------------------------------------------------------


F1 = f"""fields @timestamp,@message
| stats count(*) as HitCount by dstPort, srcAddr as Source, dstAddr as Destination
| filter interfaceId="{WEB_ENI}"
| filter dstPort="80" or dstPort="443" or dstPort="22" or dstPort="25"
| sort HitCount desc"""


def test_f1_as_published_filters_after_stats_on_a_field_stats_dropped(records):
    with pytest.warns(InsightsFieldWarning, match="'interfaceId' does not exist after stats"):
        got = run(F1, records)
    assert len(got) == 0
    assert list(got.columns) == ["dstPort", "Source", "Destination", "HitCount"]


def test_f1_with_the_eni_filter_first(records):
    query = F1.replace(f'| filter interfaceId="{WEB_ENI}"\n', "").replace(
        "fields @timestamp,@message\n", f'filter interfaceId="{WEB_ENI}"\n')
    got = run(query, records)
    mine = records[(records["interface_id"] == WEB_ENI)
                   & records["dstport"].isin([80, 443, 22, 25]).fillna(False).astype(bool)]
    want = top(mine, ["dstport", "srcaddr", "dstaddr"], "bytes", "HitCount", 10_000,
               how="size")
    assert list(got.columns) == ["dstPort", "Source", "Destination", "HitCount"]
    assert len(got) > 0
    assert rows(got) == rows(want[["dstport", "srcaddr", "dstaddr", "HitCount"]])


def test_numbers_survive_as_integers(records):
    got = run("stats sum(bytes) as b by srcAddr | sort b desc | limit 1", records)
    assert isinstance(got["b"].iloc[0], (int, np.integer))
