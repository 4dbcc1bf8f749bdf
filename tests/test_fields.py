"""The field registry follows AWS's "Available fields" table."""

from __future__ import annotations

import pytest

from helpers import flowlogs
from helpers.errors import FlowLogFormatError

DEFAULT = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
           "bytes start end action log-status").split()


def test_default_format_is_the_fourteen_version_2_fields_in_order():
    assert flowlogs.parse_format(None) == tuple(DEFAULT)
    assert flowlogs.DEFAULT_FORMAT == " ".join(f"${{{n}}}" for n in DEFAULT)
    assert [f.name for f in flowlogs.FIELDS.values() if f.version == 2] == DEFAULT


@pytest.mark.parametrize("version, names", [
    (3, "vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr"),
    (4, "region az-id sublocation-type sublocation-id"),
    (5, "pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"),
    (7, "ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id "
        "ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn "
        "ecs-task-arn ecs-task-id"),
    (8, "reject-reason"),
])
def test_fields_of_each_version(version, names):
    assert [f.name for f in flowlogs.FIELDS.values() if f.version == version] == names.split()


@pytest.mark.parametrize("name, parquet_type", [
    ("version", "INT_32"), ("srcport", "INT_32"), ("dstport", "INT_32"), ("protocol", "INT_32"),
    ("packets", "INT_64"), ("bytes", "INT_64"), ("start", "INT_64"), ("end", "INT_64"),
    ("tcp-flags", "INT_32"), ("traffic-path", "INT_32"), ("account-id", "STRING"),
    ("action", "STRING"), ("log-status", "STRING"), ("ecs-task-id", "STRING"),
])
def test_parquet_types(name, parquet_type):
    assert flowlogs.field(name).parquet_type == parquet_type


def test_insights_discovers_only_default_fields_with_camel_case_names():
    names = {f.name: f.insights_name for f in flowlogs.FIELDS.values() if f.insights_name}
    assert names == {
        "version": "version", "account-id": "accountId", "interface-id": "interfaceId",
        "srcaddr": "srcAddr", "dstaddr": "dstAddr", "srcport": "srcPort", "dstport": "dstPort",
        "protocol": "protocol", "packets": "packets", "bytes": "bytes", "start": "startTime",
        "end": "endTime", "action": "action", "log-status": "logStatus",
    }


def test_columns_turn_hyphens_into_underscores():
    assert flowlogs.field("log-status").column == "log_status"
    assert flowlogs.field("pkt_src_aws_service").name == "pkt-src-aws-service"


def test_lesson_custom_format():
    text = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
    assert flowlogs.parse_format(text) == tuple(text.replace("$", "").replace("{", "")
                                                .replace("}", "").split())
    assert flowlogs.format_string(flowlogs.parse_format(text)) == text


def test_header_line_is_a_format_too():
    assert flowlogs.parse_format("srcaddr dstaddr action") == ("srcaddr", "dstaddr", "action")


@pytest.mark.parametrize("text, message", [
    ("${srcaddr} ${dstadr}", "unknown flow-log field 'dstadr' in format '${srcaddr} ${dstadr}'; "
                             "did you mean 'dstaddr'?"),
    ("${windowstart}", "unknown flow-log field 'windowstart' in format '${windowstart}'; "
                       "'windowstart' is the lesson's name; the flow-log field is 'start'"),
    ("${windowend}", "'windowend' is the lesson's name; the flow-log field is 'end'"),
    ("${flowlogstatus}", "'flowlogstatus' is the lesson's name; the flow-log field is "
                         "'log-status'"),
    ("${srcAddr}", "'srcAddr' is the Logs Insights name; the flow-log field is 'srcaddr'"),
    ("${log_status}", "did you mean 'log-status'? (field names are lower case, with hyphens)"),
    ("srcaddr windowstart", "unknown flow-log field 'windowstart' in format "
                            "'srcaddr windowstart'; 'windowstart' is the lesson's name"),
    ("${srcaddr} ${srcaddr}", "field 'srcaddr' appears twice"),
    ("${srcaddr},${dstaddr}", "expected ${field} tokens separated by spaces"),
    ("", "empty flow-log format"),
    (5, "log_format must be a string of ${field} tokens such as '${srcaddr} ${dstaddr}', or "
        "None for the default format, not int 5"),
])
def test_bad_formats_are_explained(text, message):
    with pytest.raises(FlowLogFormatError) as info:
        flowlogs.parse_format(text)
    assert message in str(info.value)


def test_field_lookup_suggests_a_name():
    with pytest.raises(FlowLogFormatError, match="did you mean 'log-status'"):
        flowlogs.field("logstatus")


def test_field_table_has_one_row_per_field():
    table = flowlogs.field_table()
    assert len(table) == len(flowlogs.FIELDS)
    assert list(flowlogs.field_table(2)["field"]) == DEFAULT


@pytest.mark.parametrize("text, version", [
    (None, 2),
    ("${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}", 2),
    ("${srcaddr} ${tcp-flags}", 3),
    ("${flow-direction} ${traffic-path} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
     "${encryption-status}", 10),
])
def test_format_version_is_the_highest_field_version(text, version):
    assert flowlogs.format_version(text) == version


def test_field_lookup_knows_the_lessons_names():
    with pytest.raises(FlowLogFormatError, match="'windowend' is the lesson's name; the "
                                                 "flow-log field is 'end'"):
        flowlogs.field("windowend")


@pytest.mark.parametrize("names, message", [
    ("srcaddr", "names must be a list of field or column names such as ['srcaddr', 'dstport'], "
                "not str 'srcaddr'; parse_format() reads a format string"),
    (["srcaddr", "srcaddr"], "field 'srcaddr' appears twice in names ['srcaddr', 'srcaddr']"),
    (["srcaddr", "windowstart"], "'windowstart' is the lesson's name"),
    (7, "names must be a list of field or column names such as ['srcaddr', 'dstport'], not "
        "int 7"),
])
def test_format_string_refuses_bad_names(names, message):
    with pytest.raises(FlowLogFormatError) as info:
        flowlogs.format_string(names)
    assert message in str(info.value)


@pytest.mark.parametrize("version", [6, 1, "2", True])
def test_field_table_refuses_a_version_without_fields(version):
    with pytest.raises(FlowLogFormatError, match="version must be one of 2, 3, 4, 5, 7, 8, 9, 10, "
                                                 "11 or None"):
        flowlogs.field_table(version)
