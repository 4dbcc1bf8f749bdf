"""Reading and writing AWS's flow-log files: text, gzip, Parquet and S3 trees."""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SSH_ACCEPT

from helpers import flowlogs
from helpers.errors import FlowLogParseError, FlowLogReadError

HEADER = " ".join(flowlogs.parse_format(None))


def test_text_round_trip(sample_records, tmp_path):
    path = flowlogs.write_text(sample_records, tmp_path / "flows.log.gz")
    pd.testing.assert_frame_equal(flowlogs.read(path), sample_records)


def test_parse_write_read_round_trip_of_the_examples(examples, tmp_path):
    default = [e.record for e in examples if e.log_format is None]
    parsed = flowlogs.parse_lines(default)
    back = flowlogs.read(flowlogs.write_text(parsed, tmp_path / "examples.log"))
    pd.testing.assert_frame_equal(back, parsed)


def test_parquet_round_trip(sample_records, tmp_path):
    path = flowlogs.write_parquet(sample_records, tmp_path / "flows.parquet")
    pd.testing.assert_frame_equal(flowlogs.read(path), sample_records)


def test_parquet_has_aws_column_names_and_types(sample_records, tmp_path):
    schema = pq.read_schema(flowlogs.write_parquet(sample_records, tmp_path / "f.parquet"))
    assert schema.names == ["version", "account_id", "interface_id", "srcaddr", "dstaddr",
                            "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
                            "action", "log_status"]
    types = dict(zip(schema.names, schema.types))
    assert types["version"] == types["dstport"] == pa.int32()
    assert types["bytes"] == types["start"] == pa.int64()
    assert types["srcaddr"] == types["log_status"] == pa.string()


def test_parquet_of_a_custom_format_round_trips(examples, tmp_path):
    v5 = [e for e in examples if e.record.startswith("5 ")]
    df = flowlogs.parse_lines([e.record for e in v5], v5[0].log_format)
    back = flowlogs.read(flowlogs.write_parquet(df, tmp_path / "v5.parquet"))
    pd.testing.assert_frame_equal(back, df)
    assert pd.isna(back.loc[0, "traffic_path"]) and back.loc[1, "traffic_path"] == 8


def test_gzip_text_starts_with_the_header_line(sample_records, tmp_path):
    accepted = sample_records[sample_records["action"] == "ACCEPT"].head(2)
    path = flowlogs.write_text(accepted, tmp_path / "f.log.gz")
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 3
    assert lines[2].startswith("2 123456789012 eni-") and " - " not in lines[2]


def test_missing_values_are_written_as_dashes(tmp_path):
    df = flowlogs.parse_lines(["2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"])
    text = flowlogs.write_text(df, tmp_path / "f.log", header=False).read_text()
    assert text == "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n"


def test_custom_header_sets_the_format_when_reading(tmp_path):
    path = tmp_path / "custom.log"
    path.write_text("srcaddr dstaddr action\n10.0.1.100 10.0.11.50 REJECT\n")
    assert list(flowlogs.read(path).columns) == ["srcaddr", "dstaddr", "action"]


def test_text_without_header_uses_the_default_format(tmp_path):
    path = tmp_path / "plain.log"
    path.write_text(SSH_ACCEPT + "\n")
    assert flowlogs.read(path).loc[0, "dstport"] == 22


def test_bad_line_in_a_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.log.gz"
    body = "\n".join([HEADER, SSH_ACCEPT, SSH_ACCEPT.replace("ACCEPT", "DENY"), SSH_ACCEPT])
    path.write_bytes(gzip.compress(body.encode()))
    with pytest.raises(FlowLogParseError) as info:
        flowlogs.read(path)
    assert info.value.line_number == 3  # the header is line 1
    assert str(info.value).startswith(f"{path}, line 3: field 13 (action)")
    df = flowlogs.read(path, on_error="skip")
    assert len(df) == 2 and [n for n, _ in df.attrs["skipped"]] == [3]


def test_whitespace_runs_in_a_file(tmp_path):
    path = tmp_path / "spaces.log"
    path.write_text(SSH_ACCEPT.replace(" 22 ", "  22 ") + "\r\n" + SSH_ACCEPT + "\r\n")
    assert list(flowlogs.read(path)["dstport"]) == [22, 22]


def test_truncated_gzip_is_a_clear_error(sample_records, tmp_path):
    path = flowlogs.write_text(sample_records, tmp_path / "cut.log.gz")
    path.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(FlowLogReadError, match=r"cut.log.gz: the gzip data ends early"):
        flowlogs.read(path)


def test_not_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "fake.log.gz"
    path.write_text(SSH_ACCEPT)
    with pytest.raises(FlowLogReadError, match=r"fake.log.gz: not a readable gzip file"):
        flowlogs.read(path)


@pytest.mark.parametrize("name, content", [("empty.log", b""),
                                           ("empty.log.gz", gzip.compress(b""))])
def test_empty_file_is_a_clear_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FlowLogReadError, match="the file is empty"):
        flowlogs.read(path)


def test_header_only_file_gives_an_empty_frame(tmp_path):
    path = tmp_path / "quiet.log"
    path.write_text(HEADER + "\n")
    df = flowlogs.read(path)
    assert len(df) == 0 and list(df.columns) == [c.replace("-", "_") for c in HEADER.split()]


def test_non_utf8_bytes_name_the_line_and_column(tmp_path):
    path = tmp_path / "latin1.log"
    path.write_bytes((SSH_ACCEPT + "\n").encode() + b"2 123 eni-1 caf\xe9 x\n")
    with pytest.raises(FlowLogReadError, match=r"latin1.log, line 2, column 16: byte 0xe9 is not "
                                               r"UTF-8"):
        flowlogs.read(path)


def test_missing_file(tmp_path):
    with pytest.raises(FlowLogReadError, match="no such file or folder"):
        flowlogs.read(tmp_path / "nope.log.gz")


def test_unknown_parquet_columns_are_refused(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"srcaddr": ["a"], "colour": ["red"]}), path)
    with pytest.raises(FlowLogReadError, match="column\\(s\\) colour are not flow-log fields"):
        flowlogs.read(path)


ACCOUNT, REGION = "123456789012", "ap-northeast-2"
LAYOUTS = {
    "plain daily": f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2021/12/20",
    "plain hourly": f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2021/12/20/09",
    "hive daily": f"AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/"
                  f"aws-region={REGION}/year=2021/month=12/day=20",
    "hive hourly": f"AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/"
                   f"aws-region={REGION}/year=2021/month=12/day=20/hour=09",
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("suffix", [".log.gz", ".log.parquet"])
def test_s3_tree_adds_partition_columns(sample_records, tmp_path, layout, suffix):
    folder = tmp_path / LAYOUTS[layout]
    name = f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0123456789abcdef0_20211220T0905Z_a1b2c3d4{suffix}"
    half = len(sample_records) // 2
    write = flowlogs.write_text if suffix.endswith(".gz") else flowlogs.write_parquet
    write(sample_records.iloc[:half], folder / name)
    write(sample_records.iloc[half:], folder / name.replace("a1b2c3d4", "e5f6a7b8"))
    df = flowlogs.read(tmp_path)
    assert len(df) == len(sample_records)
    assert df.attrs["files"] == 2
    expected = {"aws_account_id": ACCOUNT, "aws_service": "vpcflowlogs", "aws_region": REGION,
                "year": "2021", "month": "12", "day": "20"}
    if "hourly" in layout:
        expected["hour"] = "09"
    for column, value in expected.items():
        assert set(df[column]) == {value}, column
    assert ("hour" in df.columns) == ("hourly" in layout)
    pd.testing.assert_frame_equal(df[sample_records.columns], sample_records)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FlowLogReadError, match="no flow-log files"):
        flowlogs.read(tmp_path)
