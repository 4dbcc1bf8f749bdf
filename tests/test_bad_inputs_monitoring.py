"""Every public function of helpers.monitoring, fed an ordinary wrong input.

A student's mistake (a wrong type, a missing column, an unknown metric, a time that is not one,
a value AWS refuses) must end in a course error whose message names the offending argument or
value: never a raw KeyError, TypeError, ValueError or a pandas/Arrow traceback.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import flowlogs, traffic  # noqa: E402
from helpers.errors import CourseError, FilterPatternError, TimeValueError  # noqa: E402
from helpers.flowlogs.delivery import FlowLog  # noqa: E402
from helpers.monitoring import alarms, dashboard, evaluate, filter_patterns, metrics  # noqa: E402

NAT_ID, GROUP, REGION = "nat-0a1b2c3d4e5f60000", "/aws/vpc/flowlogs", "ap-northeast-2"
T0 = pd.Timestamp("2021-12-20T00:00:00Z")


@cache
def lab():
    return traffic.default_topology()


@cache
def records():
    return traffic.generate(["web_baseline"], topology=lab(), seed=0, duration="3m")


def flow_log(**changes):
    return replace(FlowLog("fl-0example", lab().vpc_id, "ALL", flowlogs.DEFAULT_FORMAT,
                           "cloud-watch-logs", log_group=GROUP), **changes)


def frame(**columns):
    """A small tidy metrics frame: ten minutes of NAT bytes and log events."""
    stamps = pd.date_range(T0, periods=10, freq="min", tz="UTC")
    nat = pd.DataFrame({"timestamp": stamps, "namespace": "AWS/NATGateway",
                        "metric": "BytesOutToDestination", "dimension": "NatGatewayId",
                        "dimension_value": NAT_ID, "value": 3e8, "unit": "Bytes"})
    logs = pd.DataFrame({"timestamp": stamps, "namespace": "AWS/Logs",
                         "metric": "IncomingLogEvents", "dimension": "LogGroupName",
                         "dimension_value": GROUP, "value": 50.0, "unit": "Count"})
    return pd.concat([nat, logs], ignore_index=True).assign(**columns)


def spec(**changes):
    return replace(alarms.lesson_alarms(NAT_ID, GROUP)[0], **changes)


@cache
def timeline():
    return evaluate.evaluate_alarm(spec(), frame())


def body(**properties):
    return {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
                         "properties": {"metrics": [["AWS/Logs", "IncomingLogEvents",
                                                     "LogGroupName", GROUP]],
                                        "stat": "Sum", "period": 300, **properties}}]}


def transition(**changes):
    return {"time": T0, "old_state": "OK", "new_state": "ALARM", "reason": "r", **changes}


def nat_records(**changes):
    return records().assign(**changes)


def ints(n):
    return pd.Series(np.arange(n, dtype=float), index=pd.date_range(T0, periods=n, freq="min"))


BAD = [
    # --- metrics ------------------------------------------------------------------------------
    ("nat_metrics records not a frame", lambda: metrics.nat_metrics("flows.csv", lab()),
     "records must be a DataFrame"),
    ("nat_metrics records without tcp_flags",
     lambda: metrics.nat_metrics(records().drop(columns="tcp_flags"), lab()), "tcp_flags"),
    ("nat_metrics bytes as text",
     lambda: metrics.nat_metrics(nat_records(bytes=records()["bytes"].astype(str)), lab()),
     "records column 'bytes' must hold numbers"),
    ("nat_metrics topology not one", lambda: metrics.nat_metrics(records(), "lab"),
     "topology must be the lab VPC"),
    ("nat_metrics port_limit zero", lambda: metrics.nat_metrics(records(), lab(), port_limit=0),
     "port_limit must be a positive whole number"),
    ("nat_metrics port_limit text",
     lambda: metrics.nat_metrics(records(), lab(), port_limit="55000"), "port_limit"),
    ("log_group_metrics flow_log not one",
     lambda: metrics.log_group_metrics(records(), "fl-0example"), "flow_log must be a FlowLog"),
    ("log_group_metrics records not a frame",
     lambda: metrics.log_group_metrics(records().to_dict("records"), flow_log()),
     "records must be a DataFrame"),
    ("log_group_metrics records without start",
     lambda: metrics.log_group_metrics(records().drop(columns="start"), flow_log()),
     "records lack the column start"),
    ("log_group_metrics topology not one",
     lambda: metrics.log_group_metrics(records().drop(columns=["subnet_id", "vpc_id"]),
                                       flow_log(), "lab"), "topology must be the lab VPC"),
    ("log_group_metrics S3 flow log",
     lambda: metrics.log_group_metrics(records(), flow_log(destination_type="s3")),
     "writes to S3"),
    ("log_events flow_log None", lambda: metrics.log_events(records(), None),
     "flow_log must be a FlowLog"),
    ("log_events records None", lambda: metrics.log_events(None, flow_log()),
     "records must be a DataFrame"),
    ("series frame not a frame", lambda: metrics.series([1, 2], "IncomingLogEvents"),
     "frame must be a tidy metrics frame"),
    ("series unknown metric", lambda: metrics.series(frame(), "IncomingLogEvent"),
     "metric 'IncomingLogEvent' is not in the frame (did you mean 'IncomingLogEvents'?)"),
    ("series metric not text", lambda: metrics.series(frame(), 5), "metric must be text"),
    ("series frame without value", lambda: metrics.series(frame().drop(columns="value"), "x"),
     "frame lacks the column value"),
    ("series unknown namespace",
     lambda: metrics.series(frame(), "IncomingLogEvents", namespace="AWS/NatGateway"),
     "namespace: the frame has no IncomingLogEvents in 'AWS/NatGateway'"),
    # --- dashboard ----------------------------------------------------------------------------
    ("dashboard_body nat id None", lambda: dashboard.dashboard_body(None, GROUP, REGION),
     "nat_gateway_id must be a NAT gateway ID"),
    ("dashboard_body region", lambda: dashboard.dashboard_body(NAT_ID, GROUP, "서울"),
     "region must be an AWS Region code"),
    ("dashboard_body period text",
     lambda: dashboard.dashboard_body(NAT_ID, GROUP, REGION, period="300"), "period"),
    ("dashboard_body bad start",
     lambda: dashboard.dashboard_body(NAT_ID, GROUP, REGION, start="yesterday"), "start"),
    ("draw body None", lambda: dashboard.draw(None, frame()), "body must be a dashboard body"),
    ("draw no metric widgets", lambda: dashboard.draw({"widgets": []}, frame()),
     "no metric widgets"),
    ("draw metrics not a frame", lambda: dashboard.draw(body(), "frame.csv"),
     "draw: metrics must be a DataFrame"),
    ("draw metrics without columns", lambda: dashboard.draw(body(), frame()[["value"]]),
     "metrics lacks the columns timestamp"),
    ("draw widget without properties",
     lambda: dashboard.draw({"widgets": [{"type": "metric"}]}, frame()),
     "widget 0 has no 'properties' dict"),
    ("draw short metric entry", lambda: dashboard.draw(body(metrics=[["AWS/Logs"]]), frame()),
     "metrics[0] must be [namespace, metric"),
    ("draw unknown stat", lambda: dashboard.draw(body(stat="p99"), frame()),
     "cannot draw statistic 'p99'"),
    ("draw period text", lambda: dashboard.draw(body(period="300"), frame()),
     "period must be 60 s or a multiple"),
    ("draw metric not in frame",
     lambda: dashboard.draw(body(metrics=[["AWS/Logs", "IncomingBytes", "LogGroupName",
                                           GROUP]]), frame()),
     "the metrics frame has no AWS/Logs IncomingBytes"),
    ("draw width", lambda: dashboard.draw(body(), frame(), width=-1), "width"),
    ("draw timestamps not times",
     lambda: dashboard.draw(body(), frame(timestamp="soon")), "timestamp column"),
    ("draw_alarms one timeline", lambda: dashboard.draw_alarms(timeline(), frame()),
     "draw_alarms([timeline], metrics)"),
    ("draw_alarms empty", lambda: dashboard.draw_alarms([], frame()),
     "timelines must be a non-empty list of AlarmTimeline"),
    ("draw_alarms not timelines", lambda: dashboard.draw_alarms([spec()], frame()),
     "timelines must be a non-empty list of AlarmTimeline"),
    ("draw_alarms metrics", lambda: dashboard.draw_alarms([timeline()], None),
     "draw_alarms: metrics must be a DataFrame"),
    # --- alarms -------------------------------------------------------------------------------
    ("AlarmSpec threshold text", lambda: spec(threshold="1GiB"),
     "threshold must be a finite number, not '1GiB'"),
    ("AlarmSpec threshold NaN", lambda: spec(threshold=float("nan")), "threshold"),
    ("AlarmSpec N float", lambda: spec(evaluation_periods=1.5), "evaluation_periods (N)"),
    ("AlarmSpec M bool", lambda: spec(datapoints_to_alarm=True), "datapoints_to_alarm (M)"),
    ("AlarmSpec M above N", lambda: spec(datapoints_to_alarm=2), "datapoints_to_alarm (M)"),
    ("AlarmSpec name not text", lambda: spec(name=7), "name must be text, not int"),
    ("AlarmSpec name too long", lambda: spec(name="n" * 256), "name must be 1 to 255"),
    ("AlarmSpec unit", lambda: spec(unit="GiB"), "unit must be one of"),
    ("AlarmSpec dimensions", lambda: spec(dimensions=("NatGatewayId", NAT_ID)),
     "dimensions[0] must be a (name, value) pair"),
    ("AlarmSpec.to_api actions text", lambda: spec().to_api("arn:aws:sns:x"),
     "actions must be a list of ARNs"),
    ("MetricFilterSpec value names no field",
     lambda: alarms.MetricFilterSpec("f", GROUP, "[a, b]", "Day5-3/FlowLogs", "M",
                                     value="$bytes"), "metric_value $bytes names no field"),
    ("MetricFilterSpec value of a term pattern",
     lambda: alarms.MetricFilterSpec("f", GROUP, "REJECT", "Day5-3/FlowLogs", "M",
                                     value="$bytes"), "only a space-delimited pattern"),
    ("MetricFilterSpec value not a number",
     lambda: alarms.MetricFilterSpec("f", GROUP, "REJECT", "Day5-3/FlowLogs", "M",
                                     value="one"), "must be a number or $field, not 'one'"),
    ("MetricFilterSpec pattern not text",
     lambda: alarms.MetricFilterSpec("f", GROUP, 5, "Day5-3/FlowLogs", "M"),
     "pattern must be text"),
    ("MetricFilterSpec AWS namespace",
     lambda: alarms.MetricFilterSpec("f", GROUP, "REJECT", "AWS/Logs", "M"),
     "starts with AWS/"),
    ("MetricFilterSpec.datapoints events None",
     lambda: alarms.rejects_filter(GROUP).datapoints(None), "events must be a DataFrame"),
    ("MetricFilterSpec.datapoints events without message",
     lambda: alarms.rejects_filter(GROUP).datapoints(pd.DataFrame({"timestamp": [0]})),
     "events lack the column message"),
    ("lesson_alarms nat id", lambda: alarms.lesson_alarms(None, GROUP),
     "nat_gateway_id must be a NAT gateway ID"),
    ("lesson_alarms log group", lambda: alarms.lesson_alarms(NAT_ID, 3),
     "log_group must be text"),
    ("lesson_alarms prefix", lambda: alarms.lesson_alarms(NAT_ID, GROUP, prefix=5), "prefix"),
    ("rejects_filter log group", lambda: alarms.rejects_filter("/aws/vpc flowlogs"),
     "log_group '/aws/vpc flowlogs' may hold only"),
    # --- evaluate -----------------------------------------------------------------------------
    ("evaluate_alarm alarm by name", lambda: evaluate.evaluate_alarm("High-NAT-Traffic", frame()),
     "alarm must be an AlarmSpec"),
    ("evaluate_alarm metrics list", lambda: evaluate.evaluate_alarm(spec(), [1, 2, 3]),
     "metrics must be the tidy frame"),
    ("evaluate_alarm metrics without columns",
     lambda: evaluate.evaluate_alarm(spec(), frame().drop(columns="dimension")),
     "metrics lacks the column dimension"),
    ("evaluate_alarm values not numbers",
     lambda: evaluate.evaluate_alarm(spec(), frame(value="many")), "must be numbers"),
    ("evaluate_alarm infinite value",
     lambda: evaluate.evaluate_alarm(spec(), frame(value=np.inf)), "infinite"),
    ("evaluate_alarm index not times",
     lambda: evaluate.evaluate_alarm(spec(), pd.Series([1.0, 2.0], index=["a", "b"])),
     "the Series index: not times"),
    ("evaluate_alarm start not a time",
     lambda: evaluate.evaluate_alarm(spec(), frame(), start="soon"), "start"),
    ("evaluate_alarm end before start",
     lambda: evaluate.evaluate_alarm(spec(), frame(), start=T0, end=T0 - pd.Timedelta("1h")),
     "is before start"),
    ("evaluate_alarm evaluation_range float",
     lambda: evaluate.evaluate_alarm(spec(), frame(), evaluation_range=2.5), "evaluation_range"),
    ("evaluate_alarm initial_state",
     lambda: evaluate.evaluate_alarm(spec(), frame(), initial_state="ok"),
     "initial_state must be one of"),
    ("evaluate_alarm metric not in frame",
     lambda: evaluate.evaluate_alarm(spec(metric="BytesOut"), frame()),
     "no datapoints of AWS/NATGateway BytesOut"),
    ("evaluate_datapoints text", lambda: evaluate.evaluate_datapoints(spec(), "1, 2, 3"),
     "datapoints must be a list"),
    ("evaluate_datapoints a number", lambda: evaluate.evaluate_datapoints(spec(), 5),
     "datapoints must be a list"),
    ("evaluate_datapoints item text", lambda: evaluate.evaluate_datapoints(spec(), [1, "x"]),
     "datapoints[1] must be a number"),
    ("evaluate_datapoints infinite", lambda: evaluate.evaluate_datapoints(spec(), [np.inf]),
     "datapoints[0] is inf"),
    ("evaluate_datapoints current", lambda: evaluate.evaluate_datapoints(spec(), [], "FIRING"),
     "current must be one of"),
    ("evaluate_datapoints alarm", lambda: evaluate.evaluate_datapoints(None, []),
     "alarm must be an AlarmSpec"),
    ("notification transition without fields",
     lambda: evaluate.notification(spec(), {"time": T0}, account_id="123456789012",
                                   region=REGION), "has no 'old_state'"),
    ("notification time not a time",
     lambda: evaluate.notification(spec(), transition(time="later"), account_id="123456789012",
                                   region=REGION), "transition time"),
    ("notification state", lambda: evaluate.notification(
        spec(), transition(new_state="FIRING"), account_id="123456789012", region=REGION),
     "transition new_state must be one of"),
    ("notification account", lambda: evaluate.notification(
        spec(), transition(), account_id="123", region=REGION), "account_id must be"),
    ("notification region", lambda: evaluate.notification(
        spec(), transition(), account_id="123456789012", region="Seoul"), "region must be"),
    ("notification actions", lambda: evaluate.notification(
        spec(), transition(), account_id="123456789012", region=REGION, actions="arn"),
     "actions must be a list of ARNs"),
    ("AlarmTimeline.notifications account",
     lambda: evaluate.evaluate_alarm(spec(threshold=1), frame()).notifications(
         account_id=None, region=REGION), "account_id must be"),
    # --- filter patterns ----------------------------------------------------------------------
    ("compile_pattern not text", lambda: filter_patterns.compile_pattern(42),
     "a filter pattern is text, not int"),
    ("compile_pattern malformed", lambda: filter_patterns.compile_pattern("[a, b"),
     "closing ']'"),
    ("FilterPattern.match number", lambda: filter_patterns.compile_pattern("x").match(5),
     "messages must be a list"),
    ("FilterPattern.match numbers", lambda: filter_patterns.compile_pattern("x").match([1]),
     "messages must be text; item 0"),
    ("FilterPattern.fields of terms", lambda: filter_patterns.compile_pattern("x").fields(["x"]),
     "only space-delimited patterns"),
    ("FilterPattern.fields numbers",
     lambda: filter_patterns.compile_pattern("[a]").fields(np.array([1, 2])),
     "messages must be text"),
    ("metric_datapoints pattern None",
     lambda: filter_patterns.metric_datapoints(["a"], [0], None), "pattern must be"),
    ("metric_datapoints value names no field",
     lambda: filter_patterns.metric_datapoints(["a 1"], [0], "[a, b]", metric_value="$c"),
     "metric_value $c names no field"),
    ("metric_datapoints default_value text",
     lambda: filter_patterns.metric_datapoints(["a"], [0], "a", default_value="0"),
     "default_value"),
    ("metric_datapoints timestamps not times",
     lambda: filter_patterns.metric_datapoints(["a"], ["noon"], "a"), "timestamps"),
    ("metric_datapoints too few timestamps",
     lambda: filter_patterns.metric_datapoints(["a", "b"], [0], "a"),
     "timestamps: 2 messages but 1 timestamps"),
    ("parse_metric_value pattern", lambda: filter_patterns.parse_metric_value(5, "1"),
     "pattern must be"),
    ("parse_metric_value None",
     lambda: filter_patterns.parse_metric_value("[a]", None), "metric_value must be"),
]


@pytest.mark.parametrize("call, message", [(c, m) for _, c, m in BAD],
                         ids=[name for name, _, _ in BAD])
def test_a_wrong_input_raises_a_course_error_naming_it(call, message):
    with pytest.raises(CourseError) as info:
        call()
    assert message in str(info.value)
    if "not a time" in str(info.value) or message in ("start", "transition time"):
        assert isinstance(info.value, TimeValueError)
    if message == "closing ']'":
        assert isinstance(info.value, FilterPatternError)
