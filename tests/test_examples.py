"""Every example record of AWS's documentation parses to the values AWS documents.

The expectations are written out by hand from the documentation's explanation of each record
(the ``expect:`` line in data/aws-example-records.txt), one test per record.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import flowlogs

NA = pd.NA
V2_SSH = dict(version=2, account_id="123456789010", srcaddr="172.31.16.139",
              dstaddr="172.31.16.21", srcport=20641, dstport=22, protocol=6, packets=20,
              bytes=4249, start=1418530010, end=1418530070, action="ACCEPT", log_status="OK")
V2_RDP = dict(srcaddr="172.31.9.69", dstaddr="172.31.9.12", srcport=49761, dstport=3389,
              protocol=6, action="REJECT", log_status="OK")
EMPTY = dict(srcaddr=NA, dstaddr=NA, srcport=NA, dstport=NA, protocol=NA, packets=NA,
             bytes=NA, start=1431280876, end=1431280934, action=NA)
PING_IN = dict(srcaddr="203.0.113.12", dstaddr="172.31.16.139", srcport=0, dstport=0,
               protocol=1, packets=4, bytes=336, action="ACCEPT", log_status="OK")
PING_OUT = dict(srcaddr="172.31.16.139", dstaddr="203.0.113.12", srcport=0, dstport=0,
                protocol=1, action="REJECT", log_status="OK")
IPV6 = dict(srcaddr="2001:db8:1234:a100:8d6e:3477:df66:f105",
            dstaddr="2001:db8:1234:a102:3304:8879:34cf:4071", srcport=34892, dstport=22,
            protocol=6, packets=54, bytes=8855, action="ACCEPT", log_status="OK")
CLIENT, SERVER = "52.213.180.42", "10.0.0.62"
TGW = dict(vpc_id="vpc-abcdefab012345678", protocol=6, type="IPv4", action="ACCEPT")
BLOG = dict(dstport=80)

EXPECTED = [
    dict(V2_SSH, interface_id="eni-1235b8ca123456789"),
    dict(V2_RDP, interface_id="eni-1235b8ca123456789"),
    dict(EMPTY, interface_id="eni-1235b8ca123456789", log_status="NODATA"),
    dict(EMPTY, interface_id="eni-11111111aaaaaaaaa", log_status="SKIPDATA"),
    dict(PING_IN, interface_id="eni-1235b8ca123456789"),
    dict(PING_OUT, interface_id="eni-1235b8ca123456789", start=1432917094),
    dict(IPV6, interface_id="eni-1235b8ca123456789"),
    dict(srcaddr=CLIENT, dstaddr=SERVER, srcport=43416, dstport=5001, tcp_flags=2, bytes=568,
         packets=8, instance_id="i-01234567890123456", type="IPv4", pkt_srcaddr=CLIENT),
    dict(srcaddr=SERVER, dstaddr=CLIENT, srcport=5001, dstport=43416, tcp_flags=18, bytes=376,
         packets=7),
    dict(srcaddr=CLIENT, srcport=43418, tcp_flags=2, bytes=100701, packets=70),
    dict(srcaddr=SERVER, dstport=43418, tcp_flags=18, bytes=632, packets=12),
    dict(srcaddr=SERVER, dstport=43418, tcp_flags=1, bytes=63388, packets=1219,
         start=1566848933, end=1566849113),
    dict(srcaddr=CLIENT, srcport=43418, tcp_flags=1, bytes=23294588, packets=15774),
    dict(srcaddr=CLIENT, srcport=43638, tcp_flags=3, bytes=1260, packets=17),
    dict(srcaddr=SERVER, dstport=43638, tcp_flags=19, bytes=967, packets=14,
         pkt_srcaddr=SERVER, pkt_dstaddr=CLIENT, log_status="OK"),  # two spaces in the doc
    dict(instance_id=NA, srcaddr="10.0.1.5", dstaddr="10.0.0.220", pkt_srcaddr="10.0.1.5",
         pkt_dstaddr="203.0.113.5"),
    dict(instance_id=NA, srcaddr="10.0.0.220", dstaddr="203.0.113.5",
         pkt_srcaddr="10.0.0.220", pkt_dstaddr="203.0.113.5"),
    dict(instance_id=NA, srcaddr="203.0.113.5", dstaddr="10.0.0.220",
         pkt_srcaddr="203.0.113.5", pkt_dstaddr="10.0.0.220"),
    dict(instance_id=NA, srcaddr="10.0.0.220", dstaddr="10.0.1.5", pkt_srcaddr="203.0.113.5",
         pkt_dstaddr="10.0.1.5"),
    dict(instance_id="i-01234567890123456", interface_id="eni-1111aaaa2222bbbb3",
         srcaddr="10.0.1.5", dstaddr="203.0.113.5", pkt_dstaddr="203.0.113.5"),
    dict(instance_id="i-01234567890123456", srcaddr="203.0.113.5", dstaddr="10.0.1.5",
         pkt_srcaddr="203.0.113.5"),
    dict(TGW, interface_id="eni-33333333333333333", srcaddr="10.20.33.164",
         dstaddr="10.40.2.236", dstport=80, tcp_flags=3, instance_id="i-01234567890123456"),
    dict(TGW, srcaddr="10.40.2.236", dstaddr="10.20.33.164", srcport=80, tcp_flags=19),
    dict(TGW, interface_id="eni-11111111111111111", instance_id=NA, srcaddr="10.40.1.175",
         pkt_srcaddr="10.20.33.164", pkt_dstaddr="10.40.2.236", tcp_flags=3),
    dict(TGW, interface_id="eni-22222222222222222", instance_id=NA, dstaddr="10.40.2.31",
         pkt_dstaddr="10.20.33.164", tcp_flags=19),
    dict(version=5, srcaddr="52.95.128.179", pkt_src_aws_service="S3", pkt_dst_aws_service=NA,
         flow_direction="ingress", traffic_path=NA, tcp_flags=19, region="ap-southeast-2",
         az_id="apse2-az3", sublocation_type=NA, sublocation_id=NA, packets=14, bytes=15044),
    dict(version=5, dstaddr="52.95.128.179", pkt_src_aws_service=NA, pkt_dst_aws_service="S3",
         flow_direction="egress", traffic_path=8, tcp_flags=3, packets=7, bytes=471),
    dict(V2_SSH, interface_id="eni-abc123de"),
    dict(V2_RDP, interface_id="eni-abc123de"),
    dict(EMPTY, interface_id="eni-1a2b3c4d", log_status="NODATA"),
    dict(EMPTY, interface_id="eni-4b118871", log_status="SKIPDATA"),
    dict(PING_IN, interface_id="eni-1235b8ca"),
    dict(PING_OUT, interface_id="eni-1235b8ca"),
    dict(IPV6, interface_id="eni-f41c42bf"),
    dict(BLOG, flow_direction="ingress", traffic_path=NA, srcport=43236, encryption_status=1),
    dict(flow_direction="egress", traffic_path=1, srcport=80, dstport=43236,
         encryption_status=1),
    dict(BLOG, flow_direction="ingress", traffic_path=NA, srcport=36902, encryption_status=1),
    dict(flow_direction="egress", traffic_path=1, dstport=36902, encryption_status=1),
    dict(BLOG, flow_direction="ingress", srcaddr="10.0.130.104", srcport=55016,
         encryption_status=0),
    dict(flow_direction="egress", traffic_path=1, dstaddr="10.0.130.104", encryption_status=0),
    dict(BLOG, flow_direction="ingress", srcport=60276, encryption_status=0),
    dict(flow_direction="egress", traffic_path=1, dstport=60276, encryption_status=0),
]


def test_every_example_has_an_expectation(examples):
    assert len(examples) == len(EXPECTED) == 42


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_example_parses_to_documented_values(examples, index):
    example = examples[index]
    df = flowlogs.parse_lines([example.record], example.log_format)
    assert len(df) == 1
    assert list(df.columns) == [flowlogs.field(n).column
                                for n in flowlogs.parse_format(example.log_format)]
    row = df.iloc[0]
    for column, expected in EXPECTED[index].items():
        if expected is NA:
            assert pd.isna(row[column]), f"{column} should be missing (-)"
        else:
            assert row[column] == expected, column


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_example_writes_back_to_the_same_tokens(examples, index, tmp_path):
    example = examples[index]
    df = flowlogs.parse_lines([example.record], example.log_format)
    path = flowlogs.write_text(df, tmp_path / "one.log", example.log_format, header=False)
    assert path.read_text().split() == example.record.split()


def test_examples_frame_unions_the_formats(examples):
    frame = flowlogs.examples_frame([examples[0], examples[7]])
    assert frame.loc[0, "dstport"] == 22 and pd.isna(frame.loc[0, "tcp_flags"])
    assert frame.loc[1, "tcp_flags"] == 2
    assert frame.loc[0, "expect"].startswith("accepted SSH")
