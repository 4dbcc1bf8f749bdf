"""Every public function of :mod:`helpers.flowlogs` refuses an ordinary mistake with a course
error that names what was wrong (argument, value, field, file, line), never a raw TypeError,
KeyError, UnicodeDecodeError or Arrow error.

One table: (what is called, the call given a temporary folder, a piece of text the message must
contain).
"""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SSH_ACCEPT

from helpers import flowlogs
from helpers.errors import CourseError

HEADER = " ".join(flowlogs.parse_format(None))
RECORDS = flowlogs.parse_lines([SSH_ACCEPT, SSH_ACCEPT])


def text_file(folder, name, text, *, gz=False):
    path = folder / name
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def parquet_file(folder, name, columns):
    path = folder / name
    pq.write_table(pa.table(columns), path)
    return path


def records_with(column, value, row=1):
    df = RECORDS.astype({column: object})
    df.loc[row, column] = value
    return df


def example(record, log_format=None):
    return flowlogs.Example(record, log_format, "", "", 7)


CASES = [
    # read: arguments
    ("read path type", lambda tmp: flowlogs.read(42), "path must be a file or folder path"),
    ("read path frame", lambda tmp: flowlogs.read(RECORDS), "not DataFrame"),
    ("read missing", lambda tmp: flowlogs.read(tmp / "nope.log.gz"), "nope.log.gz"),
    ("read on_error", lambda tmp: flowlogs.read(tmp, on_error="ignore"), "'ignore'"),
    ("read log_format type", lambda tmp: flowlogs.read(tmp, 5), "log_format"),
    ("read log_format field", lambda tmp: flowlogs.read(tmp, "${windowstart}"), "'start'"),
    ("read empty folder", lambda tmp: flowlogs.read(tmp), "no flow-log files"),
    # read: text files
    ("read empty", lambda tmp: flowlogs.read(text_file(tmp, "e.log", "")), "e.log"),
    ("read not gzip", lambda tmp: flowlogs.read(text_file(tmp, "n.log.gz", SSH_ACCEPT)),
     "n.log.gz: not a readable gzip file"),
    ("read truncated", lambda tmp: flowlogs.read(text_file(
        tmp, "t.log.gz", gzip.compress((SSH_ACCEPT + "\n").encode() * 50)[:-30])),
     "t.log.gz: the gzip data ends early"),
    ("read bad record", lambda tmp: flowlogs.read(text_file(
        tmp, "r.log", f"{HEADER}\n{SSH_ACCEPT.replace(' 22 ', ' 70000 ')}\n")),
     "r.log, line 2: field 7 (dstport) must be between 0 and 65535, found 70000"),
    ("read lowercase action", lambda tmp: flowlogs.read(text_file(
        tmp, "a.log.gz", SSH_ACCEPT.replace("ACCEPT", "accept"), gz=True)), "found 'accept'"),
    ("read not utf-8", lambda tmp: flowlogs.read(text_file(tmp, "l.log", b"caf\xe9\n")),
     "l.log, line 1, column 4: byte 0xe9"),
    ("read nbsp", lambda tmp: flowlogs.read(text_file(
        tmp, "s.log", SSH_ACCEPT.replace(" 22 ", " 22\u00a0"))), "no-break space (U+00A0)"),
    ("read header twice", lambda tmp: flowlogs.read(text_file(
        tmp, "h.log", "srcaddr srcaddr\na b\n")), "h.log, line 1: field 'srcaddr' appears twice"),
    ("read header lesson name", lambda tmp: flowlogs.read(text_file(
        tmp, "w.log", "srcaddr windowstart\na 1\n")), "'windowstart' is the lesson's name"),
    ("read header vs format", lambda tmp: flowlogs.read(text_file(
        tmp, "f.log", "srcaddr dstaddr\na b\n"), "${dstaddr} ${srcaddr}"), "f.log"),
    # read: Parquet
    ("read parquet port", lambda tmp: flowlogs.read(parquet_file(
        tmp, "p.parquet", {"dstport": pa.array([22, 70000], pa.int32())})),
     "p.parquet, row 2, column 'dstport': must be between 0 and 65535, found 70000"),
    ("read parquet action", lambda tmp: flowlogs.read(parquet_file(
        tmp, "c.parquet", {"action": ["accept"]})), "c.parquet, row 1, column 'action'"),
    ("read parquet log_status", lambda tmp: flowlogs.read(parquet_file(
        tmp, "s.parquet", {"log_status": ["SKIPPED"]})), "found 'SKIPPED'"),
    ("read parquet type", lambda tmp: flowlogs.read(parquet_file(
        tmp, "t.parquet", {"srcport": ["22"]})), "t.parquet, column 'srcport'"),
    ("read parquet unknown", lambda tmp: flowlogs.read(parquet_file(
        tmp, "u.parquet", {"flowlogstatus": ["OK"]})), "'log-status'"),
    ("read parquet damaged", lambda tmp: flowlogs.read(text_file(tmp, "d.parquet", "PAR1")),
     "d.parquet: not a readable Parquet file"),
    ("read parquet format", lambda tmp: flowlogs.read(parquet_file(
        tmp, "m.parquet", {"srcaddr": ["a"]}), "${dstaddr}"), "m.parquet"),
    ("read tree", lambda tmp: flowlogs.read(parquet_file(
        tmp, "x.log.parquet", {"protocol": pa.array([300], pa.int32())}).parent), "x.log.parquet"),
    # parse_lines
    ("parse_lines bytes", lambda tmp: flowlogs.parse_lines(SSH_ACCEPT.encode()), "bytes"),
    ("parse_lines item", lambda tmp: flowlogs.parse_lines([SSH_ACCEPT, None]), "lines[1]"),
    ("parse_lines path", lambda tmp: flowlogs.parse_lines(tmp / "a.log"), "flowlogs.read"),
    ("parse_lines number", lambda tmp: flowlogs.parse_lines(7), "not int 7"),
    ("parse_lines on_error", lambda tmp: flowlogs.parse_lines([], on_error="warn"), "'warn'"),
    ("parse_lines format", lambda tmp: flowlogs.parse_lines([], ["srcaddr"]), "log_format"),
    ("parse_lines record", lambda tmp: flowlogs.parse_lines(["x", SSH_ACCEPT]), "line 1"),
    ("parse_lines control", lambda tmp: flowlogs.parse_lines(
        [SSH_ACCEPT.replace(" 6 ", "\x1b6 ")]), "control character (U+001B)"),
    # write_text, write_parquet, format_lines
    ("write_text frame", lambda tmp: flowlogs.write_text([SSH_ACCEPT], tmp / "o.log"), "df"),
    ("write_text path", lambda tmp: flowlogs.write_text(RECORDS, None), "path"),
    ("write_text header", lambda tmp: flowlogs.write_text(RECORDS, tmp / "o.log", header="no"),
     "header"),
    ("write_text folder", lambda tmp: flowlogs.write_text(RECORDS, tmp), "cannot write"),
    ("write_text space", lambda tmp: flowlogs.write_text(
        records_with("srcaddr", "10.0.0.1 x"), tmp / "o.log"), "column 'srcaddr', row 1"),
    ("write_text newline", lambda tmp: flowlogs.write_text(
        records_with("interface_id", "eni\n1"), tmp / "o.log"), "column 'interface_id', row 1"),
    ("write_text tab", lambda tmp: flowlogs.write_text(
        records_with("dstaddr", "a\tb", row=0), tmp / "o.log"), "column 'dstaddr', row 0"),
    ("write_text empty", lambda tmp: flowlogs.write_text(
        records_with("account_id", ""), tmp / "o.log"), "column 'account_id', row 1"),
    ("write_text format", lambda tmp: flowlogs.write_text(
        RECORDS, tmp / "o.log", "${srcaddr} ${tcp-flags}"), "tcp-flags"),
    ("write_text no fields", lambda tmp: flowlogs.write_text(
        pd.DataFrame({"label": [1]}), tmp / "o.log"), "no flow-log columns"),
    ("write_text duplicate", lambda tmp: flowlogs.write_text(
        RECORDS.assign(**{"log-status": "OK"}), tmp / "o.log"), "'log-status'"),
    ("write_parquet missing", lambda tmp: flowlogs.write_parquet(
        RECORDS[["srcaddr"]], tmp / "o.parquet", "${srcaddr} ${dstport}"), "dstport"),
    ("write_parquet port", lambda tmp: flowlogs.write_parquet(
        records_with("dstport", 70000), tmp / "o.parquet"), "70000"),
    ("write_parquet action", lambda tmp: flowlogs.write_parquet(
        records_with("action", "accept"), tmp / "o.parquet"), "'accept'"),
    ("write_parquet type", lambda tmp: flowlogs.write_parquet(
        records_with("bytes", "4249"), tmp / "o.parquet"), "column 'bytes', row 1"),
    ("write_parquet compression", lambda tmp: flowlogs.write_parquet(
        RECORDS, tmp / "o.parquet", compression="zip"), "'zip'"),
    ("write_parquet level", lambda tmp: flowlogs.write_parquet(
        RECORDS, tmp / "o.parquet", compression_level="max"), "compression_level"),
    ("format_lines frame", lambda tmp: flowlogs.format_lines({"srcaddr": ["a"]}), "df"),
    ("format_lines space", lambda tmp: flowlogs.format_lines(
        records_with("srcaddr", "a b")), "column 'srcaddr', row 1"),
    ("format_lines protocol", lambda tmp: flowlogs.format_lines(
        records_with("protocol", 256)), "column 'protocol', row 1"),
    ("arrow_schema", lambda tmp: flowlogs.arrow_schema(["srcaddr", "windowend"]), "'end'"),
    ("arrow_schema type", lambda tmp: flowlogs.arrow_schema(3), "not int 3"),
    # the field registry
    ("parse_format type", lambda tmp: flowlogs.parse_format(2), "log_format"),
    ("parse_format lesson", lambda tmp: flowlogs.parse_format("${flowlogstatus}"),
     "'log-status'"),
    ("parse_format twice", lambda tmp: flowlogs.parse_format("${srcaddr} ${srcaddr}"),
     "'srcaddr' appears twice"),
    ("parse_format typo", lambda tmp: flowlogs.parse_format("${dstadr}"), "'dstaddr'"),
    ("parse_format comma", lambda tmp: flowlogs.parse_format("${a},${b}"), "'${a},${b}'"),
    ("format_string str", lambda tmp: flowlogs.format_string("srcaddr"), "parse_format"),
    ("format_string twice", lambda tmp: flowlogs.format_string(["end", "end"]), "'end'"),
    ("format_string unknown", lambda tmp: flowlogs.format_string(["windowstart"]), "'start'"),
    ("field type", lambda tmp: flowlogs.field(None), "not NoneType None"),
    ("field insights", lambda tmp: flowlogs.field("dstPort"), "'dstport'"),
    ("format_version", lambda tmp: flowlogs.format_version("${start} ${windowend}"), "'end'"),
    ("format_version type", lambda tmp: flowlogs.format_version(3), "log_format"),
    ("field_table version", lambda tmp: flowlogs.field_table(6), "not int 6"),
    ("field_table text", lambda tmp: flowlogs.field_table("3"), "not str '3'"),
    # add_times
    ("add_times zone", lambda tmp: flowlogs.add_times(RECORDS, "Asia/Seol"), "'Asia/Seoul'"),
    ("add_times zone type", lambda tmp: flowlogs.add_times(RECORDS, 9), "tz"),
    ("add_times frame", lambda tmp: flowlogs.add_times([1, 2]), "df"),
    ("add_times columns", lambda tmp: flowlogs.add_times(RECORDS[["srcaddr"]]), "'start'"),
    ("add_times text", lambda tmp: flowlogs.add_times(pd.DataFrame({"start": ["noon"]})),
     "'noon'"),
    ("add_times ms", lambda tmp: flowlogs.add_times(pd.DataFrame({"start": [1418530010000]})),
     "milliseconds"),
    # examples
    ("load_examples missing", lambda tmp: flowlogs.load_examples(tmp / "ex.txt"), "ex.txt"),
    ("load_examples type", lambda tmp: flowlogs.load_examples(3), "path"),
    ("load_examples no format", lambda tmp: flowlogs.load_examples(text_file(
        tmp, "ex.txt", SSH_ACCEPT)), "ex.txt, line 1"),
    ("load_examples bad format", lambda tmp: flowlogs.load_examples(text_file(
        tmp, "ex.txt", "# format=${srcaddr} ${windowstart}\na 1\n")),
     "ex.txt, line 1: unknown flow-log field 'windowstart'"),
    ("load_examples not utf-8", lambda tmp: flowlogs.load_examples(text_file(
        tmp, "ex.txt", b"# format=default\n\xff\n")), "ex.txt, line 2"),
    ("examples_frame type", lambda tmp: flowlogs.examples_frame("records"), "examples"),
    ("examples_frame item", lambda tmp: flowlogs.examples_frame([SSH_ACCEPT]), "examples[0]"),
    ("examples_frame record", lambda tmp: flowlogs.examples_frame(
        [example(SSH_ACCEPT.replace(" 6 ", " tcp "))]), "line 7: field 8 (protocol)"),
]


@pytest.mark.parametrize("call, offending", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_raises_a_course_error_naming_it(tmp_path, call, offending):
    with pytest.raises(CourseError) as caught:
        call(tmp_path)
    assert offending in str(caught.value)
