"""What the flow-log service delivers, computed without any AWS call."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from helpers import flowlogs
from helpers.flowlogs import delivery
from helpers.flowlogs.delivery import FlowLog

VPC, SUBNET_A, SUBNET_B = "vpc-0a", "subnet-0a", "subnet-0b"
INTERFACES = pd.DataFrame({"interface_id": ["eni-1", "eni-2", "eni-3"],
                           "subnet_id": [SUBNET_A, SUBNET_A, SUBNET_B],
                           "vpc_id": [VPC, VPC, VPC]})


def _records() -> pd.DataFrame:
    lines = [
        "2 123456789012 eni-1 10.0.1.5 10.0.11.50 40000 22 6 10 840 1639958400 1639958459 "
        "ACCEPT OK",
        "2 123456789012 eni-2 10.0.1.5 10.0.11.50 40001 3306 6 1 60 1639958460 1639958519 "
        "REJECT OK",
        "2 123456789012 eni-3 - - - - - - - 1639958520 1639958579 - NODATA",
        "2 123456789012 eni-3 10.0.1.9 10.0.2.7 40002 80 6 3 180 1639958700 1639958759 REJECT OK",
    ]
    return flowlogs.parse_lines(lines)


def _flow_log(**changes) -> FlowLog:
    base = dict(flow_log_id="fl-0123456789abcdef0", resource_id=VPC, traffic_type="ALL",
                log_format=flowlogs.DEFAULT_FORMAT, destination_type="s3", bucket="b")
    return FlowLog(**{**base, **changes})


@pytest.mark.parametrize("resource, traffic, interfaces", [
    (VPC, "ALL", ["eni-1", "eni-2", "eni-3", "eni-3"]),
    (VPC, "REJECT", ["eni-2", "eni-3"]),
    (VPC, "ACCEPT", ["eni-1"]),
    (SUBNET_A, "ALL", ["eni-1", "eni-2"]),
    ("eni-3", "ALL", ["eni-3", "eni-3"]),
    ("eni-3", "REJECT", ["eni-3"]),
])
def test_a_flow_log_captures_its_scope_and_traffic_type(resource, traffic, interfaces):
    chosen = delivery.captured(_records(), _flow_log(resource_id=resource, traffic_type=traffic),
                               INTERFACES)
    assert list(chosen["interface_id"]) == interfaces
    if traffic != "ALL":
        assert set(chosen["action"]) == {traffic}


def test_log_events_one_stream_per_interface_timestamp_is_start_in_ms():
    events = delivery.log_events(_records(), flowlogs.DEFAULT_FORMAT)
    assert list(events["log_stream"]) == ["eni-1", "eni-2", "eni-3", "eni-3"]
    assert events.loc[0, "timestamp"] == 1639958400 * 1000
    assert events.loc[2, "message"].endswith("- - - - - - - 1639958520 1639958579 - NODATA")


def test_log_events_use_the_flow_logs_format():
    events = delivery.log_events(_records(), "${srcaddr} ${dstport} ${action}")
    assert events.loc[0, "message"] == "10.0.1.5 22 ACCEPT"


def _events(n: int, size: int = 10, stream: str = "eni-1", step_ms: int = 1000) -> pd.DataFrame:
    return pd.DataFrame({"log_stream": stream, "timestamp": [i * step_ms for i in range(n)],
                         "message": ["x" * size] * n})


def test_batches_hold_at_most_10000_events():
    batches = delivery.event_batches(_events(25_000))
    assert [(s, e - s) for _, s, e in batches] == [(0, 10_000), (10_000, 10_000), (20_000, 5_000)]


def test_batches_hold_at_most_1_mib_counting_26_bytes_per_event():
    events = _events(30, size=100_000 - 26)  # exactly 100,000 bytes each as AWS counts them
    sizes = [e - s for _, s, e in delivery.event_batches(events)]
    assert sizes == [10, 10, 10]  # 10 × 100,000 = 1,000,000 ≤ 1,048,576 < 11 × 100,000


def test_batches_never_mix_streams_or_span_more_than_24_hours():
    events = pd.concat([_events(3, stream="eni-1", step_ms=13 * 3600 * 1000),
                        _events(2, stream="eni-2")], ignore_index=True)
    assert delivery.event_batches(events) == [("eni-1", 0, 2), ("eni-1", 2, 3), ("eni-2", 3, 5)]


def test_s3_text_files_are_gzip_with_the_header_line():
    objects = delivery.s3_objects(_records(), _flow_log(), "123456789012", "ap-northeast-2")
    assert [n for *_, n in objects] == [3, 1]  # 5-minute files: 00:00–00:05 and 00:05–00:10
    text = gzip.decompress(objects[0][1]).decode().splitlines()
    assert text[0] == " ".join(flowlogs.parse_format(None))
    assert len(text) == 4


def test_s3_parquet_files_have_the_formats_columns(tmp_path):
    flow_log = _flow_log(file_format="parquet", log_format="${srcaddr} ${dstport} ${action}")
    key, body, count = delivery.s3_objects(_records(), flow_log, "123456789012",
                                           "ap-northeast-2")[0]
    path = tmp_path / "f.parquet"
    path.write_bytes(body)
    df = flowlogs.read(path)
    assert list(df.columns) == ["srcaddr", "dstport", "action"] and len(df) == count == 3


def test_ingested_bytes_count_each_message_plus_26():
    records = _records()
    events = delivery.log_events(records, flowlogs.DEFAULT_FORMAT)
    assert delivery.ingested_bytes(records, flowlogs.DEFAULT_FORMAT) == \
        sum(len(m) + 26 for m in events["message"])
    short = delivery.ingested_bytes(records, "${srcaddr} ${action}")
    assert short == len("10.0.1.5 ACCEPT") + len("10.0.1.5 REJECT") + len("- -") + \
        len("10.0.1.9 REJECT") + 4 * 26
