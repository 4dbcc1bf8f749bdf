"""Reading and writing AWS's flow-log files: text, gzip, Parquet and S3 trees."""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SSH_ACCEPT

from helpers import flowlogs
from helpers.errors import (
    FlowLogArgumentError,
    FlowLogFormatError,
    FlowLogParseError,
    FlowLogReadError,
)
from helpers.flowlogs import io as flowlogs_io

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


def test_parquet_column_with_the_lessons_name_suggests_the_field(tmp_path):
    path = tmp_path / "lesson.parquet"
    pq.write_table(pa.table({"srcaddr": ["a"], "windowstart": [1]}), path)
    with pytest.raises(FlowLogReadError, match="windowstart: 'windowstart' is the lesson's name; "
                                               "the flow-log field is 'start'"):
        flowlogs.read(path)


PARQUET_BAD_VALUES = [
    # (column, Arrow array with one bad value at row 2, reason)
    ("dstport", pa.array([22, 70000], pa.int32()), "must be between 0 and 65535, found 70000"),
    ("srcport", pa.array([22, -1], pa.int32()), "must be a non-negative integer or missing, "
                                                "found -1"),
    ("protocol", pa.array([6, 256], pa.int32()), "must be between 0 and 255, found 256"),
    ("version", pa.array([2, 2**31], pa.int64()), "must be between 0 and 2147483647, found "
                                                  "2147483648"),
    ("packets", pa.array([1, -5], pa.int64()), "must be a non-negative integer or missing, "
                                               "found -5"),
    ("bytes", pa.array([1, 10**18], pa.int64()), f"is too large: {10**18}"),
    ("action", pa.array(["ACCEPT", "accept"]), "must be one of ACCEPT, REJECT or missing, found "
                                               "'accept' (values are case-sensitive: 'ACCEPT')"),
    ("log_status", pa.array(["OK", "ok"]), "must be one of OK, NODATA, SKIPDATA or missing, "
                                           "found 'ok' (values are case-sensitive: 'OK')"),
    ("log_status", pa.array(["OK", "FINE"]), "must be one of OK, NODATA, SKIPDATA or missing, "
                                             "found 'FINE'"),
]


@pytest.mark.parametrize("column, values, reason", PARQUET_BAD_VALUES)
def test_parquet_bad_value_names_file_row_and_column(tmp_path, column, values, reason):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"srcaddr": ["10.0.0.1", "10.0.0.2"], column: values}), path)
    with pytest.raises(FlowLogReadError) as info:
        flowlogs.read(path)
    assert str(info.value) == f"{path}, row 2, column {column!r}: {reason}"


def test_parquet_port_out_of_range_names_file_and_column(tmp_path):
    path = tmp_path / "ports.parquet"
    pq.write_table(pa.table({"dstport": pa.array([22, 70000, 80, 99999], pa.int32())}), path)
    with pytest.raises(FlowLogReadError, match=r"ports.parquet, row 2, column 'dstport': must "
                                               r"be between 0 and 65535, found 70000\n"
                                               r"\(1 more bad row"):
        flowlogs.read(path)


def test_parquet_skip_keeps_good_rows_and_lists_bad_ones(tmp_path):
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.table({"dstport": pa.array([22, 70000, 80], pa.int32()),
                             "action": ["ACCEPT", "ACCEPT", "allow"]}), path)
    df = flowlogs.read(path, on_error="skip")
    assert list(df["dstport"]) == [22]
    assert df.attrs["skipped"] == [
        (2, "column 'dstport' must be between 0 and 65535, found 70000"),
        (3, "column 'action' must be one of ACCEPT, REJECT or missing, found 'allow'"),
    ]


@pytest.mark.parametrize("column, values, message", [
    ("dstport", pa.array(["22"]), "column 'dstport': dstport is INT_32 (whole numbers), but the "
                                  "column holds string"),
    ("dstport", pa.array([22.0]), "column 'dstport': dstport is INT_32 (whole numbers), but the "
                                  "column holds double; did pandas turn missing values into NaN?"),
    ("account_id", pa.array([123456789012]), "column 'account_id': account-id is STRING (text), "
                                             "but the column holds int64"),
    ("start", pa.array([True]), "column 'start': start is INT_64 (whole numbers), but the "
                                "column holds bool"),
])
def test_parquet_column_of_the_wrong_type_names_file_and_column(tmp_path, column, values,
                                                                   message):
    path = tmp_path / "types.parquet"
    pq.write_table(pa.table({column: values}), path)
    with pytest.raises(FlowLogReadError) as info:
        flowlogs.read(path)
    assert str(info.value).startswith(f"{path}, {message}")


def test_parquet_accepts_narrower_integers_and_dashes_as_missing(tmp_path):
    path = tmp_path / "narrow.parquet"
    pq.write_table(pa.table({"dstport": pa.array([22, None], pa.uint16()),
                             "action": ["ACCEPT", "-"]}), path)
    df = flowlogs.read(path)
    assert str(df["dstport"].dtype) == "Int32" and df.loc[0, "dstport"] == 22
    assert pd.isna(df.loc[1, "dstport"]) and pd.isna(df.loc[1, "action"])


def test_parquet_columns_must_match_the_given_format(sample_records, tmp_path):
    path = flowlogs.write_parquet(sample_records, tmp_path / "f.parquet")
    with pytest.raises(FlowLogFormatError, match="the Parquet columns are 'version account-id"):
        flowlogs.read(path, "${srcaddr} ${dstaddr}")
    assert len(flowlogs.read(path, flowlogs.DEFAULT_FORMAT)) == len(sample_records)


def test_parquet_tree_values_are_checked_too(sample_records, tmp_path):
    folder = tmp_path / LAYOUTS["hive daily"]
    bad = sample_records.head(3).copy()
    flowlogs.write_parquet(bad, folder / "a.log.parquet")
    table = pq.read_table(folder / "a.log.parquet")
    table = table.set_column(table.schema.get_field_index("action"), "action",
                             pa.array(["ACCEPT", "reject", "REJECT"]))
    pq.write_table(table, folder / "a.log.parquet")
    with pytest.raises(FlowLogReadError, match=r"a.log.parquet, row 2, column 'action'"):
        flowlogs.read(tmp_path)
    df = flowlogs.read(tmp_path, on_error="skip")
    assert len(df) == 2 and df.attrs["skipped"][0][1:] == (
        2, "column 'action' must be one of ACCEPT, REJECT or missing, found 'reject' (values are "
           "case-sensitive: 'REJECT')")


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


@pytest.mark.parametrize("name, compress", [("bom.log", lambda b: b),
                                            ("bom.log.gz", gzip.compress)])
def test_utf8_bom_before_the_header_line_is_accepted(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(compress(b"\xef\xbb\xbf" + f"{HEADER}\n{SSH_ACCEPT}\n".encode()))
    df = flowlogs.read(path)
    assert len(df) == 1 and df.attrs["skipped"] == [] and df.loc[0, "dstport"] == 22
    path.write_bytes(compress(b"\xef\xbb\xbf" + b"srcaddr action\n10.0.0.1 REJECT\n"))
    assert list(flowlogs.read(path).columns) == ["srcaddr", "action"]


@pytest.mark.parametrize("header, message", [
    (HEADER.replace("dstaddr", "srcaddr"), "field 'srcaddr' appears twice in the header line"),
    (HEADER.replace("end", "windowend"), "unknown flow-log field 'windowend' in the header line; "
                                         "'windowend' is the lesson's name; the flow-log field "
                                         "is 'end'"),
])
def test_header_naming_a_field_twice_or_an_unknown_field_is_a_clear_error(tmp_path, header,
                                                                          message):
    path = tmp_path / "header.log"
    path.write_text(f"{header}\n{SSH_ACCEPT}\n")
    with pytest.raises(FlowLogFormatError) as info:
        flowlogs.read(path)
    assert str(info.value).splitlines()[:2] == [f"{path}, line 1: {message}", "  " + header]


def test_skip_keeps_the_lines_around_an_undecodable_byte(tmp_path):
    path = tmp_path / "latin1.log.gz"
    body = f"{HEADER}\n{SSH_ACCEPT}\n".encode() + b"2 123 eni-1 caf\xe9 x\n" + \
        f"{SSH_ACCEPT}\n".encode()
    path.write_bytes(gzip.compress(body))
    df = flowlogs.read(path, on_error="skip")
    assert len(df) == 2
    assert df.attrs["skipped"] == [
        (3, "column 16: byte 0xe9 is not UTF-8 text; flow-log files are UTF-8")]
    with pytest.raises(FlowLogReadError, match=r"latin1.log.gz, line 3, column 16: byte 0xe9"):
        flowlogs.read(path)


def test_raise_reports_the_first_bad_line_whether_bad_record_or_bad_byte(tmp_path):
    path = tmp_path / "both.log"
    path.write_bytes(f"{HEADER}\n{SSH_ACCEPT.replace('ACCEPT', 'DENY')}\n".encode()
                     + b"caf\xe9\n")
    with pytest.raises(FlowLogParseError, match=r"both.log, line 2: field 13 \(action\)") as info:
        flowlogs.read(path)
    assert "(1 more bad line after this one" in str(info.value)
    skipped = flowlogs.read(path, on_error="skip").attrs["skipped"]
    assert [n for n, _ in skipped] == [2, 3]


def test_no_break_space_between_fields_of_a_file_is_explained(tmp_path):
    path = tmp_path / "nbsp.log"
    line = SSH_ACCEPT.replace(" 22 ", " 22\u00a06 ").replace(" 6 20 ", " 20 ")
    path.write_text(f"{HEADER}\n{line}\n", encoding="utf-8")
    with pytest.raises(FlowLogParseError) as info:
        flowlogs.read(path)
    assert info.value.reason == ("a no-break space (U+00A0) between fields; fields are "
                                 "separated by single ASCII spaces")
    assert str(info.value).splitlines()[2] == "  " + " " * line.index("\u00a0") + "^"


# Lines the columnar reader must treat exactly as the line-by-line parser does.
TRICKY = {
    "leading zeros": SSH_ACCEPT.replace(" 22 ", " 0022 "),
    "hex": SSH_ACCEPT.replace(" 22 ", " 0x16 "),
    "minus zero": SSH_ACCEPT.replace(" 20 ", " -0 "),
    "plus sign": SSH_ACCEPT.replace(" 22 ", " +22 "),
    "19 digits": SSH_ACCEPT.replace(" 4249 ", " 1000000000000000000 "),
    "18 digits": SSH_ACCEPT.replace(" 4249 ", " 999999999999999999 "),
    "int32 overflow": SSH_ACCEPT.replace("2 ", "2147483648 ", 1),
    "CRLF": SSH_ACCEPT + "\r",
    "lone CR": SSH_ACCEPT.replace(" 22 ", " 22\r"),
    "tab": SSH_ACCEPT.replace(" 22 ", "\t22 "),
    "vertical tab": SSH_ACCEPT.replace(" 22 ", " 22\v"),
    "two spaces": SSH_ACCEPT.replace(" 22 ", "  22 "),
    "leading space": " " + SSH_ACCEPT,
    "trailing space": SSH_ACCEPT + " ",
    "blank line": "",
    "spaces only": "   ",
    "missing field and two spaces": SSH_ACCEPT.replace(" 22 ", "  "),
    "x in a text field": SSH_ACCEPT.replace("eni-", "enx-"),
    "NUL in a text field": SSH_ACCEPT.replace("eni-", "eni-\x00"),
    "dash as text": SSH_ACCEPT.replace("eni-1235b8ca123456789", "-"),
    "non-ASCII text": SSH_ACCEPT.replace("172.31.16.139", "é"),
    "full-width digits": SSH_ACCEPT.replace(" 22 ", " ２２ "),
    "lowercase action": SSH_ACCEPT.replace("ACCEPT", "accept"),
    "port 65536": SSH_ACCEPT.replace(" 22 ", " 65536 "),
}


def _outcome(path, on_error):
    try:
        df = flowlogs.read(path, on_error=on_error)
    except (FlowLogParseError, FlowLogReadError) as err:
        return str(err)
    return df


@pytest.mark.parametrize("case", TRICKY)
@pytest.mark.parametrize("suffix", [".log", ".log.gz"])
def test_columnar_reader_agrees_with_the_line_parser(tmp_path, monkeypatch, case, suffix):
    body = f"{HEADER}\n{SSH_ACCEPT}\n{TRICKY[case]}\n{SSH_ACCEPT}\n".encode()
    path = tmp_path / f"tricky{suffix}"
    path.write_bytes(gzip.compress(body) if suffix.endswith(".gz") else body)
    for on_error in ("raise", "skip"):
        fast = _outcome(path, on_error)
        with monkeypatch.context() as m:
            m.setattr(flowlogs_io, "_columnar", lambda *args: None)
            exact = _outcome(path, on_error)
        assert type(fast) is type(exact)
        if isinstance(fast, str):
            assert fast == exact
        else:
            pd.testing.assert_frame_equal(fast, exact)
            assert fast.attrs == exact.attrs


def test_large_file_is_read_in_pieces_without_losing_a_line(tmp_path, monkeypatch):
    monkeypatch.setattr(flowlogs_io, "_PIECE", 1000)  # many pieces, lines across their edges
    lines = [SSH_ACCEPT.replace(" 20641 ", f" {i} ") for i in range(3000)]
    for suffix, compress in ((".log", lambda b: b), (".log.gz", gzip.compress)):
        path = tmp_path / f"big{suffix}"
        path.write_bytes(compress((HEADER + "\n" + "\n".join(lines)).encode()))
        assert list(flowlogs.read(path)["srcport"]) == list(range(3000))
        lines[2500] = lines[2500].replace("ACCEPT", "DENY")
        path.write_bytes(compress((HEADER + "\n" + "\n".join(lines)).encode()))
        with pytest.raises(FlowLogParseError, match=r"line 2502: field 13 \(action\)"):
            flowlogs.read(path)
        lines[2500] = SSH_ACCEPT.replace(" 20641 ", " 2500 ")


def test_gzip_data_is_read_whatever_the_file_is_called(tmp_path):
    path = tmp_path / "renamed.log"
    path.write_bytes(gzip.compress(f"{HEADER}\n{SSH_ACCEPT}\n".encode()))
    assert flowlogs.read(path).loc[0, "dstport"] == 22


def test_parquet_data_is_read_whatever_the_file_is_called(sample_records, tmp_path):
    path = flowlogs.write_parquet(sample_records, tmp_path / "flows.parquet")
    renamed = path.rename(tmp_path / "flows.log")
    pd.testing.assert_frame_equal(flowlogs.read(renamed), sample_records)


def test_multi_member_gzip_is_read_whole(tmp_path):
    path = tmp_path / "joined.log.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\n{SSH_ACCEPT}\n".encode())
                     + gzip.compress(f"{SSH_ACCEPT}\n".encode()))
    assert len(flowlogs.read(path)) == 2


@pytest.mark.parametrize("value, message", [
    ("10.0.0.1 10.0.0.2", "'10.0.0.1 10.0.0.2' holds a space"),
    ("10.0.0.1\n2 x", "'10.0.0.1\\n2 x' holds a space"),
    ("eni\n1", "'eni\\n1' holds a newline"),
    ("eni\t1", "'eni\\t1' holds a tab"),
    ("eni\r", "'eni\\r' holds a carriage return"),
    ("", "is an empty string; a flow-log text field cannot be empty"),
    ("-", "is the text '-', which flow-log text reads back as a missing value"),
])
def test_write_text_refuses_text_that_would_not_read_back_naming_column_and_row(
        tmp_path, value, message):
    df = flowlogs.parse_lines([SSH_ACCEPT] * 3)
    df.index = [10, 11, 12]
    df.loc[12, "srcaddr"] = value
    path = tmp_path / "out.log"
    with pytest.raises(FlowLogFormatError) as info:
        flowlogs.write_text(df, path)
    assert str(info.value).startswith(f"cannot write {path}: column 'srcaddr', row 2 "
                                      f"(index 12): {message}")
    assert not path.exists()
    with pytest.raises(FlowLogFormatError, match="column 'srcaddr', row 2"):
        flowlogs.format_lines(df)


@pytest.mark.parametrize("column, value, message", [
    ("dstport", 70000, "must be between 0 and 65535, found 70000"),
    ("packets", -1, "must be a non-negative integer or missing, found -1"),
    ("action", "accept", "must be one of ACCEPT, REJECT or missing, found 'accept'"),
    ("dstport", "22", "dstport must hold whole numbers (INT_32), found str '22'"),
    ("account_id", 123456789012, "account-id must hold text (STRING), found int 123456789012"),
    ("dstport", True, "dstport must hold whole numbers (INT_32), found bool True"),
])
def test_writers_refuse_values_that_would_not_read_back(tmp_path, column, value, message):
    df = flowlogs.parse_lines([SSH_ACCEPT] * 2).astype({column: object})
    df.loc[1, column] = value
    for write, name in ((flowlogs.write_text, "out.log"), (flowlogs.write_parquet, "out.parquet")):
        with pytest.raises(FlowLogFormatError) as info:
            write(df, tmp_path / name)
        assert f"column {column!r}, row 1: {message}" in str(info.value)


def test_write_parquet_of_a_frame_missing_columns_is_a_course_error(tmp_path):
    df = flowlogs.parse_lines([SSH_ACCEPT])[["srcaddr", "dstaddr"]]
    with pytest.raises(FlowLogFormatError, match="no column for field\\(s\\) dstport"):
        flowlogs.write_parquet(df, tmp_path / "f.parquet", "${srcaddr} ${dstport}")
    with pytest.raises(FlowLogFormatError, match="the frame has no flow-log columns"):
        flowlogs.write_parquet(df.rename(columns=str.upper), tmp_path / "f.parquet")


def test_writers_take_field_names_with_hyphens_as_columns(tmp_path):
    df = flowlogs.parse_lines([SSH_ACCEPT]).rename(columns={"log_status": "log-status"})
    back = flowlogs.read(flowlogs.write_parquet(df, tmp_path / "f.parquet"))
    assert back.columns[-1] == "log_status" and back.loc[0, "log_status"] == "OK"
    both = df.assign(log_status="OK")
    with pytest.raises(FlowLogFormatError, match="two columns for field 'log-status'"):
        flowlogs.write_text(both, tmp_path / "f.log")


@pytest.mark.parametrize("kwargs, message", [
    ({"compression": "zip"}, "compression must be one of 'gzip', 'snappy'"),
    ({"compression": "snappy", "compression_level": 99}, "compression_level 99 is not valid "
                                                         "for snappy compression"),
    ({"compression_level": "high"}, "compression_level must be a whole number or None"),
])
def test_write_parquet_refuses_bad_compression_settings(tmp_path, kwargs, message):
    df = flowlogs.parse_lines([SSH_ACCEPT])
    with pytest.raises(FlowLogArgumentError, match=message):
        flowlogs.write_parquet(df, tmp_path / "f.parquet", **kwargs)
