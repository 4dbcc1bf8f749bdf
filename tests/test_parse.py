"""parse_lines: typed columns, '-' as missing, and bad lines explained or skipped."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SSH_ACCEPT

from helpers import flowlogs
from helpers.errors import FlowLogArgumentError, FlowLogFormatError, FlowLogParseError

HEADER = " ".join(flowlogs.parse_format(None))


def test_types_follow_the_parquet_types():
    df = flowlogs.parse_lines([SSH_ACCEPT])
    assert str(df["version"].dtype) == "Int32"
    assert str(df["dstport"].dtype) == "Int32"
    assert str(df["bytes"].dtype) == "Int64"
    assert str(df["start"].dtype) == "Int64"
    assert isinstance(df["srcaddr"].dtype, pd.StringDtype)


def test_dash_becomes_missing_and_nodata_keeps_its_times():
    df = flowlogs.parse_lines(["2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"])
    row = df.iloc[0]
    assert pd.isna(row["srcaddr"]) and pd.isna(row["packets"]) and pd.isna(row["action"])
    assert row["start"] == 1431280876 and row["log_status"] == "NODATA"


def test_icmp_port_zero_is_a_value_not_missing():
    df = flowlogs.parse_lines(
        ["2 123456789010 eni-1 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 "
         "ACCEPT OK"])
    assert df.loc[0, "srcport"] == 0 and df.loc[0, "dstport"] == 0


def test_unknown_account_id_is_kept():
    line = SSH_ACCEPT.replace("123456789010", "unknown")
    assert flowlogs.parse_lines([line]).loc[0, "account_id"] == "unknown"


def test_runs_of_whitespace_tabs_and_crlf_separate_fields():
    lines = [SSH_ACCEPT.replace(" 22 ", "  22\t"), "  " + SSH_ACCEPT + "\r"]
    df = flowlogs.parse_lines(lines)
    assert list(df["dstport"]) == [22, 22]
    assert list(df["log_status"]) == ["OK", "OK"]


def test_header_line_is_skipped_and_sets_the_format():
    df = flowlogs.parse_lines("srcaddr dstaddr action\n10.0.1.100 10.0.11.50 REJECT\n")
    assert list(df.columns) == ["srcaddr", "dstaddr", "action"]
    assert df.attrs["log_format"] == "${srcaddr} ${dstaddr} ${action}"
    assert len(df) == 1


def test_header_that_disagrees_with_the_given_format_is_an_error():
    with pytest.raises(FlowLogFormatError, match="header line lists fields 'srcaddr dstaddr'"):
        flowlogs.parse_lines(["srcaddr dstaddr", "a b"], "${dstaddr} ${srcaddr}")


def test_blank_lines_are_not_records():
    df = flowlogs.parse_lines(["", SSH_ACCEPT, "   ", SSH_ACCEPT, ""])
    assert len(df) == 2 and df.attrs["skipped"] == []


def test_empty_input_gives_an_empty_frame_with_the_columns():
    df = flowlogs.parse_lines([])
    assert len(df) == 0 and list(df.columns)[0] == "version"


BAD = [
    # (bad line, field at fault, reason, the offending text the caret points at)
    (SSH_ACCEPT + " extra", None,
     "expected 14 fields (version … log-status), found 15; the first extra one is 'extra'",
     " extra"),
    ("2 123456789010 eni-1 10.0.0.1", None, "expected 14 fields (version … log-status), found 4",
     None),
    (SSH_ACCEPT.replace(" 22 ", " ssh "), "dstport",
     "field 7 (dstport) must be a non-negative integer or '-', found 'ssh'", " ssh "),
    (SSH_ACCEPT.replace(" 20641 ", " -5 "), "srcport",
     "field 6 (srcport) must be a non-negative integer or '-', found a negative number", " -5 "),
    (SSH_ACCEPT.replace(" 22 ", " 70000 "), "dstport",
     "field 7 (dstport) must be between 0 and 65535, found 70000", " 70000 "),
    (SSH_ACCEPT.replace(" 22 6 ", " 22 300 "), "protocol",
     "field 8 (protocol) must be between 0 and 255, found 300", " 300 "),
    (SSH_ACCEPT.replace(" 4249 ", " 4.2e3 "), "bytes",
     "field 10 (bytes) must be a non-negative integer or '-', found '4.2e3'", " 4.2e3 "),
    (SSH_ACCEPT.replace(" 4249 ", " 99999999999999999999 "), "bytes",
     "field 10 (bytes) is too large: 99999999999999999999", " 99999999999999999999 "),
    (SSH_ACCEPT.replace("ACCEPT", "ALLOW"), "action",
     "field 13 (action) must be one of ACCEPT, REJECT or '-', found 'ALLOW'", " ALLOW"),
    (SSH_ACCEPT.replace(" OK", " FINE"), "log-status",
     "field 14 (log-status) must be one of OK, NODATA, SKIPDATA or '-', found 'FINE'", " FINE"),
]


def _caret_column(line, text):
    """1-based column of the offending text (after its leading space), or just past the end."""
    return line.index(text) + 2 if text else len(line) + 2


@pytest.mark.parametrize("line, field, reason, text", BAD)
def test_bad_line_raises_with_line_field_and_caret(line, field, reason, text):
    with pytest.raises(FlowLogParseError) as info:
        flowlogs.parse_lines([SSH_ACCEPT, line])
    err = info.value
    column = _caret_column(line, text)
    assert (err.line_number, err.field, err.reason, err.column) == (2, field, reason, column)
    assert isinstance(err, ValueError)
    message = str(err).splitlines()
    assert message[0] == f"line 2: {reason}"
    assert message[1] == "  " + line
    assert message[2] == " " * (column + 1) + "^" * (len(text.strip()) if text else 1)


@pytest.mark.parametrize("line, field, reason, text", BAD)
def test_skip_keeps_good_lines_and_reports_each_bad_one(line, field, reason, text):
    df = flowlogs.parse_lines([SSH_ACCEPT, line, SSH_ACCEPT], on_error="skip")
    assert len(df) == 2
    assert df.attrs["skipped"] == [(2, reason)]


def test_raise_counts_the_other_bad_lines():
    with pytest.raises(FlowLogParseError, match=r"\(2 more bad lines after this one"):
        flowlogs.parse_lines(["x", "y", "z"])


def test_a_custom_format_is_checked_field_by_field():
    fmt = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
    good = "10.0.1.100 10.0.11.50 54321 22 6 ACCEPT 1640000000 1640000060"
    df = flowlogs.parse_lines([good, good.replace("ACCEPT", "6")], fmt, on_error="skip")
    assert df.loc[0, "dstport"] == 22
    assert df.attrs["skipped"] == [
        (2, "field 6 (action) must be one of ACCEPT, REJECT or '-', found '6'")]


def test_on_error_must_be_raise_or_skip():
    with pytest.raises(FlowLogArgumentError, match="on_error must be 'raise' or 'skip', not "
                                                   "'ignore'"):
        flowlogs.parse_lines([SSH_ACCEPT], on_error="ignore")


def test_header_constant_matches_the_registry():
    assert HEADER.split() == list(flowlogs.parse_format(None))


def test_add_times_gives_aware_datetimes_in_the_chosen_zone():
    df = flowlogs.add_times(flowlogs.parse_lines([SSH_ACCEPT]), "Asia/Seoul")
    start = df.loc[0, "start_time"]
    assert start == pd.Timestamp("2014-12-14 04:06:50", tz="UTC")
    assert str(start.tz) == "Asia/Seoul" and start.hour == 13
    assert "start_time" not in flowlogs.parse_lines([SSH_ACCEPT]).columns


def test_add_times_keeps_missing_times_missing():
    df = flowlogs.parse_lines("srcaddr start\n10.0.0.1 -\n")
    assert pd.isna(flowlogs.add_times(df).loc[0, "start_time"])


LOOKALIKES = [
    # (what stands between fields, its description in the reason)
    ("\u00a0", "a no-break space (U+00A0)"),
    ("\u3000", "an ideographic space (U+3000)"),
    ("\u200b", "a zero width space (U+200B)"),
    ("\x1f", "a control character (U+001F)"),
    ("\x00", "a control character (U+0000)"),
]


@pytest.mark.parametrize("char, described", LOOKALIKES)
def test_lookalike_separator_between_fields_gets_its_own_reason_and_caret(char, described):
    line = SSH_ACCEPT.replace(" 22 ", char + "22 ")
    with pytest.raises(FlowLogParseError) as info:
        flowlogs.parse_lines([SSH_ACCEPT, line])
    err = info.value
    column = line.index(char) + 1
    reason = f"{described} between fields; fields are separated by single ASCII spaces"
    assert (err.line_number, err.reason, err.column) == (2, reason, column)
    assert str(err).splitlines()[2] == "  " + " " * (column - 1) + "^"
    skipped = flowlogs.parse_lines([SSH_ACCEPT, line], on_error="skip").attrs["skipped"]
    assert skipped == [(2, reason)]


def test_lookalike_inside_a_bad_field_is_named_with_the_field():
    line = SSH_ACCEPT.replace(" 22 ", " 22\u00a0 ")  # 14 fields, but dstport is "22<NBSP>"
    with pytest.raises(FlowLogParseError) as info:
        flowlogs.parse_lines([line])
    assert info.value.field == "dstport"
    assert info.value.reason.startswith("a no-break space (U+00A0) between fields")
    assert info.value.column == line.index("\u00a0") + 1


def test_no_break_space_inside_a_text_field_of_a_complete_record_is_kept():
    df = flowlogs.parse_lines([SSH_ACCEPT.replace("eni-1235b8ca123456789", "eni-1\u00a0a")])
    assert df.loc[0, "interface_id"] == "eni-1\u00a0a"


def test_byte_order_mark_before_the_header_line_is_ignored():
    df = flowlogs.parse_lines("\ufeff" + HEADER + "\n" + SSH_ACCEPT + "\n")
    assert len(df) == 1 and df.attrs["skipped"] == []
    assert flowlogs.parse_lines(["\ufeff" + SSH_ACCEPT]).loc[0, "version"] == 2


@pytest.mark.parametrize("header, message, caret_under", [
    (HEADER.replace("start", "windowstart"),
     "line 1: unknown flow-log field 'windowstart' in the header line; 'windowstart' is the "
     "lesson's name; the flow-log field is 'start'", "windowstart"),
    (HEADER.replace("log-status", "flowlogstatus"),
     "line 1: unknown flow-log field 'flowlogstatus' in the header line; 'flowlogstatus' is "
     "the lesson's name; the flow-log field is 'log-status'", "flowlogstatus"),
    (HEADER.replace("dstaddr", "dstadr"),
     "line 1: unknown flow-log field 'dstadr' in the header line; did you mean 'dstaddr'?",
     "dstadr"),
    (HEADER.replace("dstaddr", "srcaddr"),
     "line 1: field 'srcaddr' appears twice in the header line", "srcaddr srcport"),
])
def test_header_with_an_unknown_or_repeated_field_is_explained(header, message, caret_under):
    with pytest.raises(FlowLogFormatError) as info:
        flowlogs.parse_lines([header, SSH_ACCEPT])
    lines = str(info.value).splitlines()
    assert lines[0] == message
    assert lines[1] == "  " + header
    name = caret_under.split()[0]
    start = header.index(caret_under)
    assert lines[2] == "  " + " " * start + "^" * len(name)


def test_lowercase_action_is_an_error_with_a_case_hint():
    with pytest.raises(FlowLogParseError, match=r"found 'accept' \(values are case-sensitive: "
                                                r"'ACCEPT'\)"):
        flowlogs.parse_lines([SSH_ACCEPT.replace("ACCEPT", "accept")])


@pytest.mark.parametrize("lines, message", [
    (SSH_ACCEPT.encode(), "lines must be text (str or a list of str), not bytes"),
    ([SSH_ACCEPT, 22], "lines[1] must be a str (one record), not int 22"),
    (42, "lines must be text (str) or an iterable of str, not int 42"),
])
def test_lines_that_are_not_text_are_refused(lines, message):
    with pytest.raises(FlowLogArgumentError) as info:
        flowlogs.parse_lines(lines)
    assert message in str(info.value)


@pytest.mark.parametrize("tz, message", [
    ("Asia/Seol", "not 'Asia/Seol'; did you mean 'Asia/Seoul'?"),
    (9, "not int 9"),
])
def test_add_times_with_an_unknown_time_zone_is_refused(tz, message):
    with pytest.raises(FlowLogArgumentError, match="tz must be an IANA time-zone name") as info:
        flowlogs.add_times(flowlogs.parse_lines([SSH_ACCEPT]), tz)
    assert message in str(info.value)


def test_add_times_needs_a_time_column():
    with pytest.raises(FlowLogArgumentError, match="needs a 'start' or 'end' column"):
        flowlogs.add_times(flowlogs.parse_lines("srcaddr\n10.0.0.1\n"))
