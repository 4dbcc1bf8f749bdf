"""NAT-gateway and log-group metrics derived from flow-log records.

The NAT records follow AWS's documented NAT pattern (data/aws-example-records.txt: instance
10.0.1.5, NAT interface 10.0.0.220, internet host 203.0.113.5): a connection leaves four records
on the NAT interface, in from the source, out to the destination, in from the destination and
out to the source.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers import flowlogs, traffic
from helpers.errors import MonitoringError
from helpers.flowlogs import delivery
from helpers.flowlogs.delivery import FlowLog
from helpers.monitoring import metrics
from helpers.traffic.topology import Interface

ENI, NAT_IP, CLIENT, HOST = "eni-1235b8ca123456789", "10.0.0.220", "10.0.1.5", "203.0.113.5"
T0 = 1639958400  # 2021-12-20T00:00:00Z
NAT_FORMAT = "${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}"


@pytest.fixture(scope="module")
def example_vpc():
    nat = Interface(ENI, "nat", NAT_IP, "subnet-aaaaaaaa012345678", None, ())
    return replace(traffic.default_topology(), vpc_cidr="10.0.0.0/16", interfaces=(nat,),
                   nat_gateway_id="nat-0example")


def _legs(client_port, remote_port, *, fwd, back, start, end=None, fwd_flags=2, back_flags=18,
          action="ACCEPT", legs=("in_src", "out_dst", "in_dst", "out_src")):
    """The NAT interface's records of one connection: fwd/back are (packets, bytes)."""
    end = start + 10 if end is None else end
    rows = {
        "in_src": (CLIENT, NAT_IP, client_port, remote_port, *fwd, fwd_flags),
        "out_dst": (NAT_IP, HOST, client_port, remote_port, *fwd, fwd_flags),
        "in_dst": (HOST, NAT_IP, remote_port, client_port, *back, back_flags),
        "out_src": (NAT_IP, CLIENT, remote_port, client_port, *back, back_flags),
    }
    return [dict(interface_id=ENI, srcaddr=s, dstaddr=d, srcport=sp, dstport=dp, protocol=6,
                 packets=p, bytes=b, start=start, end=end, action=action, tcp_flags=f,
                 log_status="OK") for s, d, sp, dp, p, b, f in (rows[leg] for leg in legs)]


def _frame(rows, until=T0 + 15 * 60 - 1):
    """The records between NODATA records at T0 and at ``until``: the span is 00:00-until."""
    nodata = [dict(interface_id=ENI, srcaddr=None, dstaddr=None, srcport=None, dstport=None,
                   protocol=None, packets=None, bytes=None, start=start, end=start + 59,
                   action=None, tcp_flags=None, log_status="NODATA")
              for start in (T0, until - 59)]
    frame = pd.DataFrame(nodata[:1] + rows + nodata[1:])
    for column in ("srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
                   "tcp_flags"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _values(frame, metric):
    return metrics.series(frame, metric).to_numpy()


def test_awss_four_nat_example_records_are_the_four_legs(examples, example_vpc):
    nat_examples = [e.record for e in examples if e.log_format == NAT_FORMAT
                    and e.record.startswith("- ")]
    records = flowlogs.parse_lines(nat_examples, NAT_FORMAT)
    assert len(records) == 4
    records = records.assign(srcport=40000, dstport=443, protocol=6, packets=[1, 2, 3, 4],
                             bytes=[1, 10, 100, 1000], start=T0, end=T0 + 5, action="ACCEPT",
                             tcp_flags=0)
    result = metrics.nat_metrics(records, example_vpc)
    totals = result.groupby("metric")["value"].sum()
    assert totals[["BytesInFromSource", "BytesOutToDestination", "BytesInFromDestination",
                   "BytesOutToSource"]].tolist() == [1, 10, 100, 1000]
    assert totals[["PacketsInFromSource", "PacketsOutToDestination", "PacketsInFromDestination",
                   "PacketsOutToSource"]].tolist() == [1, 2, 3, 4]


def test_bytes_packets_and_connections_of_a_short_connection(example_vpc):
    rows = _legs(40000, 443, fwd=(10, 1000), back=(20, 30000), start=T0 + 5,
                 fwd_flags=3, back_flags=19)
    result = metrics.nat_metrics(_frame(rows), example_vpc)
    assert set(result["namespace"]) == {"AWS/NATGateway"}
    assert set(result["dimension"]) == {"NatGatewayId"}
    assert set(result["dimension_value"]) == {"nat-0example"}
    assert result["metric"].nunique() == 14
    assert result.groupby("metric").size().eq(15).all()  # every minute, zeros included
    assert _values(result, "BytesInFromSource")[0] == 1000
    assert _values(result, "BytesOutToDestination")[0] == 1000
    assert _values(result, "BytesInFromDestination")[0] == 30000
    assert _values(result, "BytesOutToSource")[0] == 30000
    assert _values(result, "ConnectionAttemptCount").tolist() == [1] + [0] * 14
    assert _values(result, "ConnectionEstablishedCount").tolist() == [1] + [0] * 14
    assert _values(result, "ActiveConnectionCount").tolist() == [1] + [0] * 14
    assert _values(result, "IdleTimeoutCount").sum() == 0  # closed with FIN
    assert set(result["unit"]) == {"Bytes", "Count"}


def test_unanswered_attempts_are_not_established(example_vpc):
    rows = _legs(40001, 22, fwd=(3, 180), back=(0, 0), start=T0 + 90,
                 legs=("in_src", "out_dst"))
    result = metrics.nat_metrics(_frame(rows), example_vpc)
    assert _values(result, "ConnectionAttemptCount")[1] == 1
    assert _values(result, "ConnectionEstablishedCount").sum() == 0
    assert _values(result, "ActiveConnectionCount").sum() == 0


def test_bytes_are_shared_between_the_minutes_a_record_spans(example_vpc):
    rows = _legs(40002, 443, fwd=(6, 601), back=(6, 600), start=T0 + 150, end=T0 + 209,
                 fwd_flags=0, back_flags=0, legs=("out_dst",))
    result = metrics.nat_metrics(_frame(rows), example_vpc)
    out = _values(result, "BytesOutToDestination")
    assert out[2:4].tolist() == [300, 301] and out.sum() == 601  # 30 s in each minute


def test_an_unclosed_connection_times_out_after_350_seconds(example_vpc):
    rows = (_legs(40003, 443, fwd=(5, 500), back=(5, 500), start=T0 + 120, end=T0 + 125)
            + _legs(40003, 443, fwd=(2, 100), back=(2, 100), start=T0 + 170, end=T0 + 180,
                    fwd_flags=0, back_flags=0))
    result = metrics.nat_metrics(_frame(rows), example_vpc)
    idle = _values(result, "IdleTimeoutCount")
    assert idle.tolist().index(1) == (180 + 350) // 60 and idle.sum() == 1  # at 00:08:50
    assert _values(result, "ActiveConnectionCount")[2] == 1
    # Data that ends before the 350 s are over cannot show the timeout yet.
    short = metrics.nat_metrics(_frame(rows, until=T0 + 5 * 60 - 1), example_vpc)
    assert _values(short, "IdleTimeoutCount").sum() == 0


def test_port_allocation_errors_beyond_the_limit(example_vpc):
    rows = []
    for i in range(3):  # three simultaneous connections to 203.0.113.5:443
        rows += _legs(41000 + i, 443, fwd=(5, 500), back=(5, 500), start=T0 + 60 + 10 * i,
                      end=T0 + 200, fwd_flags=2, back_flags=18)
    assert _values(metrics.nat_metrics(_frame(rows), example_vpc), "ErrorPortAllocation"
                   ).sum() == 0
    limited = metrics.nat_metrics(_frame(rows), example_vpc, port_limit=2)
    assert _values(limited, "ErrorPortAllocation").tolist()[:3] == [0, 1, 0]
    assert _values(limited, "ActiveConnectionCount")[1:4].tolist() == [3, 3, 3]


def test_rejected_packets_at_the_nat_interface_count_as_drops(example_vpc):
    rows = _legs(40004, 25, fwd=(4, 240), back=(0, 0), start=T0 + 60, action="REJECT",
                 legs=("out_dst",))
    result = metrics.nat_metrics(_frame(rows), example_vpc)
    assert _values(result, "PacketsDropCount")[1] == 4
    assert _values(result, "BytesOutToDestination").sum() == 0


def test_generated_traffic_conserves_bytes():
    lab = traffic.default_topology()
    records = traffic.generate(["lab_download", "data_exfiltration", "port_scan_outbound",
                                "web_baseline"], topology=lab, seed=1, duration="2h")
    result = metrics.nat_metrics(records, lab)
    totals = result.groupby("metric")["value"].sum()
    at_nat = records[(records["interface_id"] == lab.interface("nat").eni_id)
                     & (records["action"] == "ACCEPT").fillna(False)]
    legs = ["BytesInFromSource", "BytesOutToDestination", "BytesInFromDestination",
            "BytesOutToSource"]
    assert totals[legs].sum() == at_nat["bytes"].sum()
    assert totals["BytesInFromSource"] == totals["BytesOutToDestination"]  # nothing dropped
    assert totals["ConnectionAttemptCount"] > totals["ConnectionEstablishedCount"] > 0
    assert result.groupby("metric").size().eq(120).all()


def test_connection_metrics_need_tcp_flags(example_vpc):
    records = _frame(_legs(40000, 443, fwd=(1, 1), back=(1, 1), start=T0)).drop(
        columns="tcp_flags")
    with pytest.raises(MonitoringError, match=r"tcp_flags.*\$\{tcp-flags\}"):
        metrics.nat_metrics(records, example_vpc)


def _flow_log(lab, traffic_type="ALL"):
    return FlowLog("fl-0example", lab.vpc_id, traffic_type, flowlogs.DEFAULT_FORMAT,
                   "cloud-watch-logs", log_group="/aws/vpc/flowlogs")


def test_log_group_metrics_count_what_delivery_sends():
    lab = traffic.default_topology()
    records = traffic.generate(seed=4, duration="30m", topology=lab)
    gap = (records["start"] >= records["start"].min() + 600) & (
        records["start"] < records["start"].min() + 1200)
    records = records[~gap]
    flow_log = _flow_log(lab)
    result = metrics.log_group_metrics(records, flow_log)
    assert set(result["namespace"]) == {"AWS/Logs"}
    assert set(result["dimension_value"]) == {"/aws/vpc/flowlogs"}
    events = metrics.series(result, "IncomingLogEvents")
    assert events.sum() == len(records)
    assert metrics.series(result, "IncomingBytes").sum() == delivery.ingested_bytes(
        records, flow_log.log_format)
    minutes = set(events.index.strftime("%H:%M"))
    assert minutes.isdisjoint({f"00:{m:02d}" for m in range(10, 20)})  # no events, no datapoint
    assert len(minutes) == 20
    rejected = metrics.log_group_metrics(records, _flow_log(lab, "REJECT"))
    assert metrics.series(rejected, "IncomingLogEvents").sum() == (
        records["action"] == "REJECT").sum()


def test_log_group_metrics_need_a_log_group():
    lab = traffic.default_topology()
    s3 = replace(_flow_log(lab), destination_type="s3", log_group=None, bucket="b")
    with pytest.raises(MonitoringError, match="writes to S3"):
        metrics.log_group_metrics(traffic.generate(seed=0, duration="2m"), s3)
    plain = traffic.generate(seed=0, duration="2m").drop(columns=["subnet_id", "vpc_id"])
    with pytest.raises(MonitoringError, match="need the topology"):
        metrics.log_group_metrics(plain, _flow_log(lab))
    assert metrics.log_group_metrics(plain, _flow_log(lab), topology=lab)["value"].sum() > 0


def test_metric_table_has_each_metric_once():
    assert len(metrics.METRICS) == 16
    assert metrics.METRICS["ActiveConnectionCount"].statistic == "Maximum"
    nat = [m for m in metrics.METRICS.values() if m.namespace == "AWS/NATGateway"]
    assert len(nat) == 14 and all(m.dimension == "NatGatewayId" for m in nat)
    assert np.array_equal(sorted(metrics.COLUMNS), sorted(
        ["timestamp", "namespace", "metric", "dimension", "dimension_value", "value", "unit"]))


def test_series_names_a_metric_the_frame_does_not_hold():
    frame = metrics.log_group_metrics(traffic.generate(seed=0, duration="2m"),
                                      _flow_log(traffic.default_topology()))
    with pytest.raises(MonitoringError, match=r"metric 'IncomingLogEvent' is not in the frame "
                                              r"\(did you mean 'IncomingLogEvents'\?\); it holds "
                                              r"IncomingBytes, IncomingLogEvents"):
        metrics.series(frame, "IncomingLogEvent")
    with pytest.raises(MonitoringError, match="dimension_value: the frame has no "
                                              "IncomingBytes for '/other'"):
        metrics.series(frame, "IncomingBytes", dimension_value="/other")
    assert metrics.series(frame, "IncomingBytes", namespace="AWS/Logs").sum() > 0


def test_records_must_hold_numbers_where_metrics_add_them(example_vpc):
    records = _frame(_legs(40000, 443, fwd=(1, 1), back=(1, 1), start=T0))
    with pytest.raises(MonitoringError, match="records column 'bytes' must hold numbers"):
        metrics.nat_metrics(records.astype({"bytes": str}), example_vpc)
    with pytest.raises(MonitoringError, match="port_limit must be a positive whole number"):
        metrics.nat_metrics(records, example_vpc, port_limit=2.5)
