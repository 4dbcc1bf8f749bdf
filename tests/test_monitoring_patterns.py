"""The local filter-pattern evaluator against AWS's filter-pattern documentation.

Examples come from "Filter and pattern syntax"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html): its
term examples, its OR examples, its space-delimited Apache log lines and patterns, and AWS's
own flow-log example records for the lesson's REJECT pattern.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers import flowlogs
from helpers.errors import FilterPatternError, MonitoringError, TimeValueError
from helpers.monitoring import alarms
from helpers.monitoring.filter_patterns import compile_pattern, metric_datapoints

APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
]
HTML_404 = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
OR_LINES = ["ERROR WARN message", "ERROR message", "WARN message"]


@pytest.mark.parametrize("pattern, lines, expected", [
    # "Matching terms in log events", examples 1-4
    ('""', ["anything", ""], [True, True]),
    ("ERROR", ["[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1",
               "all fine"], [True, True, False]),
    ('"ERROR" - "Exiting"', ["[ERROR] A fatal exception has occurred",
                             "Exiting with ERRORCODE: -1"], [True, False]),
    ("ERROR Exception", ["[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception",
                         "[ERROR] Unhandled"], [True, True, False]),
    ('"Failed to process the request"', ["[WARN] Failed to process the request",
                                         "[ERROR] Unable to continue: Failed to process the "
                                         "request", "Failed to process"], [True, True, False]),
    # "OR pattern matching": ERROR, ?ERROR ?WARN, ERROR WARN, ERROR -WARN
    ("ERROR", OR_LINES, [True, True, False]),
    ("?ERROR ?WARN", OR_LINES, [True, True, True]),
    ("ERROR WARN", OR_LINES, [True, False, False]),
    ("ERROR -WARN", OR_LINES, [False, True, False]),
    # space-delimited OR: w1 is the first word, w2 the second
    ("[w1=ERROR, w2]", OR_LINES, [False, True, False]),
    ("[w1=ERROR || w1=WARN, w2]", OR_LINES, [False, True, True]),
    # The doc says this one "matches lines containing both ERROR and WARN (pattern 1)", but
    # pattern 1 has three words (two fields are named) and its w1 is ERROR: by the doc's own
    # rules nothing matches. We follow the rules, not that sentence.
    ("[w1!=ERROR&&w1!=WARN, w2]", OR_LINES, [False, False, False]),
    # "Using metric filters to extract values from space-delimited log events"
    ("[ip, user, username, timestamp, request, status_code, bytes]", APACHE, [True] * 3),
    ("[..., status_code, bytes]", APACHE, [True] * 3),
    ("[ip, user, ..., status_code, bytes]", APACHE, [True] * 3),
    ("[ip, user, ...]", APACHE, [True] * 3),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE, [True] * 3),
    ("[ip, user, username, timestamp, request, status_code, bytes > 5000]", APACHE,
     [False, True, False]),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE,
     [True, False, True]),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE + [HTML_404],
     [False, False, False, True]),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
     APACHE + [HTML_404], [False, False, False, True]),
    ("[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
     APACHE + [HTML_404], [False, False, False, True]),
    ("[..., request=*.html*, status_code=4*,]", APACHE + [HTML_404], [False, False, False, True]),
    # && across fields: a condition in one slot may name another field
    ("[ip, user, username, timestamp, request, status_code = 5* && bytes > 5000, bytes]",
     APACHE, [False, True, False]),
])
def test_documented_patterns(pattern, lines, expected):
    assert compile_pattern(pattern).match(lines).tolist() == expected


def test_fields_in_brackets_and_quotes_are_one_field_each():
    fields = compile_pattern("[ip, user, username, timestamp, request, status_code, bytes]"
                             ).fields([HTML_404])
    row = fields.iloc[0].to_dict()
    assert row["timestamp"] == "10/Oct/2000:13:25:15 -0700"
    assert row["request"] == "GET /index.html HTTP/1.0"
    assert (row["status_code"], row["bytes"]) == ("404", "1534")


def test_field_count_must_match_without_an_ellipsis():
    pattern = compile_pattern("[a, b]")
    assert pattern.match(["x y", "x y z", "x", ""]).tolist() == [True, False, False, False]


def test_numbers_compare_as_numbers_and_dashes_never_do():
    pattern = compile_pattern("[a, b >= 1e3]")
    assert pattern.match(["x 1000", "x 999.5", "x 2000.0", "x -"]).tolist() == [
        True, False, True, False]
    assert compile_pattern("[a, b != 22]").match(["x 22", "x 022", "x -"]).tolist() == [
        False, False, True]


def test_the_lessons_reject_pattern_on_aws_example_records(examples):
    default = [e.record for e in examples if e.log_format is None]
    parsed = flowlogs.parse_lines(default)
    matched = compile_pattern(alarms.REJECTS_PATTERN).match(default)
    assert matched.tolist() == (parsed["action"] == "REJECT").fillna(False).tolist()
    assert matched.sum() >= 1 and (~matched).sum() >= 1
    nodata = [r for r in default if r.endswith("NODATA")]
    assert nodata and not compile_pattern(alarms.REJECTS_PATTERN).match(nodata).any()


def test_the_reject_pattern_agrees_with_the_records_on_generated_traffic():
    from helpers import traffic
    from helpers.flowlogs import delivery

    records = traffic.generate(["lab_blocked", "port_scan_inbound", "web_baseline"], seed=2,
                               duration="30m")
    lines = delivery.log_events(records, flowlogs.DEFAULT_FORMAT)
    matched = compile_pattern(alarms.REJECTS_PATTERN).match(lines["message"])
    expected = delivery.log_events(records[(records["action"] == "REJECT").fillna(False)],
                                   flowlogs.DEFAULT_FORMAT)
    assert matched.sum() == len(expected) > 100


@pytest.mark.parametrize("pattern, column, message", [
    ("[a, b c]", 7, "expected ',', ']' or a condition (=, !=, <, <=, >, >=) after field 'b', "
                    "found 'c'"),
    ("[a, b", 6, "the pattern ends without a closing ']'"),
    ("[a, ..., b, ...]", 13, "only one '...' is allowed"),
    ("[a = , b]", 6, "expected a value after '=', found ','"),
    ("[a, b > x]", 9, "'>' compares numbers; 'x' is not a number"),
    ("[a, c = 1 && sttus = 2]", 14, "unknown field 'sttus'"),
    ("[action, bytes = 1 && actoin = REJECT]", 23, "(did you mean 'action'?)"),
    ("[a, a]", 5, "the field 'a' is named twice"),
    ("[a, b] c", 8, "nothing may follow the closing ']'"),
    ("{ $.latency > 1000 }", 1, "JSON filter patterns"),
    ("%ERROR%", 1, "regular-expression patterns"),
    ("ERRORCODE: 1", 1, "quote it, \"ERRORCODE:\""),
    ('"unterminated', 1, "no closing quote"),
])
def test_parse_errors_name_the_column_and_show_a_caret(pattern, column, message):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    err = info.value
    assert err.column == column and message in err.reason
    lines = str(err).splitlines()
    assert lines[0].startswith(f"filter pattern, column {column}: ")
    assert lines[1] == "  " + pattern
    assert lines[2] == "  " + " " * (column - 1) + "^"
    assert isinstance(err, MonitoringError) and isinstance(err, ValueError)


def test_metric_values_and_default_value_per_minute():
    lines = ["a REJECT 10", "b ACCEPT 5", "c REJECT 7", "d ACCEPT 1", "e REJECT -"]
    stamps = np.array([0, 30_000, 60_500, 125_000, 130_000])
    counted = metric_datapoints(lines, stamps, "[host, action = REJECT, bytes]",
                                default_value=0)
    assert counted["value"].tolist() == [1.0, 1.0, 1.0]
    summed = metric_datapoints(lines, stamps, "[host, action = REJECT, bytes]",
                               metric_value="$bytes")
    # minute 0: 10; minute 1: 7; minute 2: one match, but '-' is no number: counted, unpublished
    assert summed["value"].tolist() == [10.0, 7.0]
    assert summed["unusable"].sum() == 0  # minute 2 has no published value, so no row...
    with_default = metric_datapoints(lines, stamps, "[host, action = REJECT, bytes]",
                                     metric_value="$bytes", default_value=0)
    assert with_default["value"].tolist() == [10.0, 7.0, 0.0]
    assert with_default["unusable"].tolist() == [0, 0, 1]  # ...but the default's row says so
    positional = metric_datapoints(lines, stamps, "[host, action = REJECT, bytes]",
                                   metric_value="$3")
    assert positional["value"].tolist() == [10.0, 7.0]


def test_no_events_no_datapoint_and_datetimes_work():
    stamps = pd.to_datetime(["2021-12-20T00:00:10Z", "2021-12-20T00:05:00Z"])
    points = metric_datapoints(["ok", "ok"], stamps, "ERROR", default_value=0)
    assert points["timestamp"].dt.strftime("%H:%M").tolist() == ["00:00", "00:05"]
    assert points["value"].tolist() == [0.0, 0.0]
    assert metric_datapoints(["ok"], stamps[:1], "ERROR").empty


@pytest.mark.parametrize("value, message", [
    ("$byts", r"names no field of the pattern \(did you mean \$bytes\?\)"),
    ("bytes", "must be a number or \\$field"),
])
def test_bad_metric_values_are_explained(value, message):
    with pytest.raises(MonitoringError, match=message):
        metric_datapoints(["a 1"], [0], "[host, bytes]", metric_value=value)


def test_a_field_value_needs_a_space_delimited_pattern():
    with pytest.raises(MonitoringError, match="only a space-delimited pattern"):
        metric_datapoints(["a 1"], [0], "a", metric_value="$1")


# --- metric filters: the metric value must be a number or a field the pattern names --------


def _filter(**kwargs):
    base = dict(name="f", log_group="/aws/vpc/flowlogs", pattern="[host, action, bytes]",
                namespace="Day5-3/FlowLogs", metric="M")
    return alarms.MetricFilterSpec(**{**base, **kwargs})


@pytest.mark.parametrize("pattern, value, message", [
    ("[host, action]", "$bytes", "metric_value $bytes names no field of the pattern; its "
                                 "fields: host, action"),
    ("[host, action, byte]", "$bytes", "(did you mean $byte?)"),
    ("REJECT", "$bytes", "names a field, which only a space-delimited pattern ([a, b, ...]) "
                         "has; the pattern 'REJECT' has none"),
    ("[host, action, bytes]", "bytes", "must be a number or $field, not 'bytes' "
                                       "(did you mean $bytes?)"),
    ("[host, action, bytes]", "one", "must be a number or $field, not 'one'"),
    ("[host, action, bytes]", "$4", "names field 4, but the pattern matches events of 3 fields"),
    ("[host, action, bytes]", "$", "names no field of the pattern"),
    ("[host, action, bytes]", ["1"], "must be a number or a $field of the pattern"),
    ("[host, action, bytes]", float("nan"), "must be a number or a $field of the pattern"),
    ("[host, action, bytes]", "1" * 101, "at most 100 characters"),
])
def test_a_metric_value_that_names_no_field_of_the_pattern_is_refused(pattern, value, message):
    # AWS takes a field value only from a field "matched using the pattern" ($fieldName for
    # space-delimited patterns) and refuses PutMetricFilter otherwise: so does the spec, when
    # it is made, not later when it counts.
    with pytest.raises(MonitoringError) as info:
        _filter(pattern=pattern, value=value)
    assert message in str(info.value)
    assert str(info.value).startswith("metric filter 'f': ")


def test_metric_values_that_aws_takes():
    assert _filter(value="$bytes").value == "$bytes"
    assert _filter(value=1).value == "1" and _filter(value=0.5).value == "0.5"
    assert _filter(value="$3", pattern="[..., bytes]").to_api()["metricTransformations"][0][
        "metricValue"] == "$3"


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="a:b"), "name 'a:b' may not contain ':'"),
    (dict(name=""), "name must be 1 to 512 characters long"),
    (dict(log_group="/aws/vpc flow"), "may hold only letters, digits and _ - . / #"),
    (dict(log_group=None), "log_group must be text"),
    (dict(pattern="x" * 1025), "pattern must be at most 1024 characters long"),
    (dict(namespace="AWS/Mine"), "starts with AWS/, which is reserved"),
    (dict(namespace="a:b"), "namespace 'a:b' may not contain ':'"),
    (dict(metric="Rejects$"), "metric 'Rejects$' may not contain '$'"),
    (dict(metric=""), "metric must be 1 to 255 characters long"),
    (dict(default_value=float("nan")), "default_value must be a finite number or None"),
    (dict(default_value="0"), "default_value must be a finite number or None"),
    (dict(unit="count"), "unit must be one of"),
])
def test_metric_filter_spec_checks_what_put_metric_filter_checks(kwargs, message):
    with pytest.raises(MonitoringError, match=re.escape(message)):
        _filter(**kwargs)


def test_a_metric_filter_on_events_without_messages_says_so():
    spec = alarms.rejects_filter("/aws/vpc/flowlogs")
    with pytest.raises(MonitoringError, match="events lack the column message"):
        spec.datapoints(pd.DataFrame({"timestamp": [0]}))
    with pytest.raises(MonitoringError, match="events must be a DataFrame"):
        spec.datapoints(["2 1 eni-1 ..."])


@pytest.mark.parametrize("messages, message", [
    (5, "messages must be a list, Series or Arrow array of log messages (text), not int"),
    ([1, 2], "messages must be text; item 0 is a int (1)"),
    (pd.Series([1, 2]), "messages must be text, not a column of int64"),
    ({"a": 1}, "not dict"),
])
def test_messages_must_be_text(messages, message):
    with pytest.raises(MonitoringError, match=re.escape(message)):
        compile_pattern("ERROR").match(messages)


@pytest.mark.parametrize("timestamps, error, message", [
    ([0, float("nan")], TimeValueError, "timestamps: item 1 is nan"),
    (["yesterday", "now"], TimeValueError, "timestamps: not times"),
    (0, MonitoringError, "timestamps must be a sequence of event times"),
    ([0], MonitoringError, "timestamps: 2 messages but 1 timestamps"),
])
def test_event_timestamps_must_be_times(timestamps, error, message):
    with pytest.raises(error, match=re.escape(message)):
        metric_datapoints(["a", "b"], timestamps, "a")
