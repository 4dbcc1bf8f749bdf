"""The local alarm evaluator against CloudWatch's documented examples.

The tables come from "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html,
formerly a section of AlarmThatSendsEmail.html). In the data points, 0 is a datapoint within the
threshold, X a breaching one and - a missing one, oldest first; CloudWatch retrieves five for an
alarm with three evaluation periods. Each row gives the state for TreatMissingData = missing,
ignore, breaching and notBreaching; "retain" means the alarm keeps its current state. Rows from
an earlier version of the page (the "X - - - -" row) are kept: the rule reproduces them too.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers.errors import MonitoringError
from helpers.monitoring.alarms import AlarmSpec, lesson_alarms
from helpers.monitoring.evaluate import evaluate_alarm, evaluate_datapoints, notification

MODES = ("missing", "ignore", "breaching", "notBreaching")
INS, R = "INSUFFICIENT_DATA", "retain"

# Datapoints to Alarm = Evaluation Periods = 3
THREE_OF_THREE = [
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", INS, R, "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - - - X", INS, R, "ALARM", "OK"),
    ("- - X - -", "ALARM", R, "ALARM", "OK"),  # premature-transition rule
    ("X - - - -", "ALARM", R, "ALARM", "OK"),  # earlier version of the page
]
# Datapoints to Alarm = 2, Evaluation Periods = 3 ("2 out of 3")
TWO_OF_THREE = [
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - - X", INS, R, "ALARM", "OK"),
    ("- - X - -", "ALARM", R, "ALARM", "OK"),
]


def _alarm(m: int, mode: str, comparison: str = "GreaterThanThreshold", threshold=0.5):
    return AlarmSpec("table", "", "Test", "Errors", "Sum", 300, 3, threshold, comparison,
                     datapoints_to_alarm=m, treat_missing_data=mode)


def _points(text: str, breach=1.0, ok=0.0):
    return [{"X": breach, "0": ok, "-": None}[c] for c in text.split()]


@pytest.mark.parametrize("m, row", [(3, r) for r in THREE_OF_THREE]
                         + [(2, r) for r in TWO_OF_THREE])
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_documented_missing_data_tables(m, row, current):
    data, *expected = row
    for mode, want in zip(MODES, expected):
        got = evaluate_datapoints(_alarm(m, mode), _points(data), current)
        assert got == (current if want == R else want), (data, mode)


@pytest.mark.parametrize("comparison, threshold, breaching, within", [
    ("GreaterThanThreshold", 5, 6, 5),
    ("GreaterThanOrEqualToThreshold", 5, 5, 4),
    ("LessThanThreshold", 1, 0, 1),
    ("LessThanOrEqualToThreshold", 1, 1, 2),
])
def test_every_comparison_operator(comparison, threshold, breaching, within):
    # The same table row, with values on either side of each operator's boundary.
    for data, *expected in THREE_OF_THREE:
        for mode, want in zip(MODES, expected):
            alarm = _alarm(3, mode, comparison, threshold)
            got = evaluate_datapoints(alarm, _points(data, breaching, within), "OK")
            assert got == ("OK" if want == R else want), (comparison, data, mode)


def _minutes(values, start="2021-12-20T00:00:00Z"):
    index = pd.date_range(start, periods=len(values), freq="min", tz="UTC")
    return pd.Series(values, index=index, dtype=float).dropna()


def test_m_out_of_n_over_a_sliding_window():
    # 1-minute periods, 2 of 3: ALARM once two of the last three minutes breach.
    alarm = AlarmSpec("m-of-n", "", "Test", "Errors", "Sum", 60, 3, 10, "GreaterThanThreshold",
                      datapoints_to_alarm=2)
    values = [0, 20, 0, 20, 0, 0, 0, 20, 20, 0]
    timeline = evaluate_alarm(alarm, _minutes(values))
    # At the end of each minute the last three minutes are evaluated: 20 0 20 at minute 3,
    # 0 20 0 at minute 4, ..., 0 20 20 at minute 8.
    assert timeline.evaluations["state"].tolist() == [
        "OK", "OK", "OK", "ALARM", "OK", "OK", "OK", "OK", "ALARM", "ALARM"]
    assert timeline.transitions["new_state"].tolist() == ["OK", "ALARM", "OK", "ALARM"]
    assert timeline.transitions["time"].iloc[1] == pd.Timestamp("2021-12-20T00:04:00Z")


def test_period_aggregates_with_the_statistic():
    # 5-minute Sum > 100: no single minute breaches, their sum does.
    alarm = AlarmSpec("sum", "", "Test", "Bytes", "Sum", 300, 1, 100, "GreaterThanThreshold")
    timeline = evaluate_alarm(alarm, _minutes([30] * 10))
    assert timeline.evaluations["state"].tolist()[:5] == ["OK"] * 3 + ["ALARM"] * 2
    peak = AlarmSpec("max", "", "Test", "Conn", "Maximum", 300, 1, 40, "GreaterThanThreshold")
    assert evaluate_alarm(peak, _minutes([30] * 10)).state == "OK"


def _flow_logs_missing(mode="breaching"):
    spec = lesson_alarms("nat-1", "/aws/vpc/flowlogs")[2]
    assert (spec.name, spec.treat_missing_data) == ("FlowLogs-Missing", "breaching")
    return AlarmSpec(spec.name, spec.description, spec.namespace, spec.metric, spec.statistic,
                     spec.period, spec.evaluation_periods, spec.threshold, spec.comparison,
                     treat_missing_data=mode, dimensions=spec.dimensions)


def test_flow_logs_missing_fires_only_with_breaching():
    # 30 minutes of events, then flow logs stop; evaluate until an hour has passed.
    events = _minutes([50] * 30)
    end = "2021-12-20T01:00:00Z"
    fires = evaluate_alarm(_flow_logs_missing("breaching"), events, end=end)
    assert fires.state == "ALARM"
    first_alarm = fires.transitions[fires.transitions["new_state"] == "ALARM"]["time"].iloc[0]
    # Real datapoints stay in the 4-period (20-minute) evaluation range until 00:50; then
    # CloudWatch has only missing datapoints, treats them as breaching, and fires.
    assert first_alarm == pd.Timestamp("2021-12-20T00:50:00Z")
    assert "treated as [Breaching]" in fires.transitions["reason"].iloc[-1]
    silent = evaluate_alarm(_flow_logs_missing("missing"), events, end=end)
    assert silent.state == "INSUFFICIENT_DATA"
    assert "ALARM" not in set(silent.evaluations["state"])
    assert silent.transitions["reason"].iloc[-1].startswith("Insufficient Data:")


def test_the_evaluation_range_is_configurable():
    events = _minutes([50] * 30)
    wide = evaluate_alarm(_flow_logs_missing(), events, end="2021-12-20T01:30:00Z",
                          evaluation_range=6)
    first = wide.transitions[wide.transitions["new_state"] == "ALARM"]["time"].iloc[0]
    assert first == pd.Timestamp("2021-12-20T01:00:00Z")
    with pytest.raises(MonitoringError, match="at least EvaluationPeriods"):
        evaluate_alarm(_flow_logs_missing(), events, evaluation_range=1)


def test_a_silence_needs_a_span():
    with pytest.raises(MonitoringError, match="pass start= and end="):
        evaluate_alarm(_flow_logs_missing(), pd.Series(dtype=float))
    timeline = evaluate_alarm(_flow_logs_missing(), pd.Series(dtype=float),
                              start="2021-12-20T00:00:00Z", end="2021-12-20T00:10:00Z")
    assert set(timeline.evaluations["state"]) == {"ALARM"}


def test_alarm_reads_its_metric_from_a_tidy_frame():
    alarm = lesson_alarms("nat-1", "/aws/vpc/flowlogs")[0]
    frame = pd.DataFrame({
        "timestamp": pd.date_range("2021-12-20", periods=10, freq="min", tz="UTC").repeat(2),
        "namespace": "AWS/NATGateway",
        "metric": ["BytesOutToDestination", "BytesInFromSource"] * 10,
        "dimension": "NatGatewayId",
        "dimension_value": "nat-1",
        "value": [300 * 2**20, 10 * 2**30] * 10,
        "unit": "Bytes",
    })
    timeline = evaluate_alarm(alarm, frame)
    # 300 MiB a minute: the sliding 5-minute Sum passes 1 GiB after the fourth minute.
    assert timeline.transitions["new_state"].tolist() == ["OK", "ALARM"]
    assert timeline.transitions["time"].iloc[1] == pd.Timestamp("2021-12-20T00:04:00Z")
    reason = timeline.transitions["reason"].iloc[1]
    assert reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints "
                             "[1.2582912E9 (19/12/21 23:59:00)]")
    assert "was greater than the threshold (1.073741824E9)" in reason


def test_notification_has_cloudwatchs_json_shape():
    alarm = lesson_alarms("nat-0a1b", "/aws/vpc/flowlogs")[0]
    row = pd.Series({"time": pd.Timestamp("2021-12-20T01:23:00Z"), "old_state": "OK",
                     "new_state": "ALARM", "reason": "Threshold Crossed: ..."})
    message = notification(alarm, row, account_id="123456789012", region="ap-northeast-2",
                           actions=["arn:aws:sns:ap-northeast-2:123456789012:network-alerts"])
    json.dumps(message)
    assert {"AlarmName", "AlarmDescription", "AWSAccountId", "NewStateValue", "NewStateReason",
            "StateChangeTime", "Region", "OldStateValue", "Trigger", "AlarmArn"} <= set(message)
    assert message["StateChangeTime"] == "2021-12-20T01:23:00.000+0000"
    assert message["Region"] == "Asia Pacific (Seoul)"
    assert message["AlarmArn"] == ("arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:"
                                   "High-NAT-Traffic")
    trigger = message["Trigger"]
    assert trigger == {
        "MetricName": "BytesOutToDestination", "Namespace": "AWS/NATGateway",
        "StatisticType": "Statistic", "Statistic": "SUM", "Unit": None,
        "Dimensions": [{"value": "nat-0a1b", "name": "NatGatewayId"}], "Period": 300,
        "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1073741824.0,
        "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""}


def test_notifications_are_for_transitions_to_alarm_only():
    alarm = AlarmSpec("m", "", "Test", "Errors", "Sum", 60, 1, 10, "GreaterThanThreshold")
    timeline = evaluate_alarm(alarm, _minutes([0, 20, 0, 20, 20, 0]))
    messages = timeline.notifications(account_id="123456789012", region="us-east-1")
    assert [m["StateChangeTime"][11:16] for m in messages] == ["00:02", "00:04"]
    assert all(m["NewStateValue"] == "ALARM" for m in messages)
    assert messages[0]["Region"] == "US East (N. Virginia)"


@pytest.mark.parametrize("kwargs, message", [
    (dict(comparison="GreaterThan"), "comparison must be one of"),
    (dict(treat_missing_data="zero"), "treat_missing_data must be one of"),
    (dict(statistic="p99"), "statistic must be one of"),
    (dict(period=90), "period must be 10, 20, 30 or a multiple of 60"),
    (dict(datapoints_to_alarm=4), "datapoints_to_alarm \\(M\\) must be between 1 and"),
    (dict(period=3000, evaluation_periods=30), "may not exceed one day"),
    (dict(name="높은-거부율"), "ASCII"),
])
def test_alarm_settings_are_checked(kwargs, message):
    base = dict(name="a", description="", namespace="N", metric="M", statistic="Sum",
                period=300, evaluation_periods=3, threshold=1,
                comparison="GreaterThanThreshold")
    with pytest.raises(MonitoringError, match=message):
        AlarmSpec(**{**base, **kwargs})


def test_sub_minute_periods_are_refused_by_the_evaluator():
    alarm = AlarmSpec("hr", "", "N", "M", "Sum", 10, 1, 1, "GreaterThanThreshold")
    with pytest.raises(MonitoringError, match="whole minutes"):
        evaluate_alarm(alarm, _minutes([1, 2]))


def test_evaluation_is_vectorised_over_a_day():
    alarm = AlarmSpec("day", "", "Test", "Errors", "Sum", 300, 3, 100, "GreaterThanThreshold",
                      datapoints_to_alarm=2, treat_missing_data="notBreaching")
    rng = np.random.default_rng(0)
    values = np.where(rng.random(1440) < 0.2, np.nan, rng.integers(0, 60, 1440))
    timeline = evaluate_alarm(alarm, _minutes(values))
    assert len(timeline.evaluations) == 1440
    assert set(timeline.evaluations["state"]) <= {"OK", "ALARM"}
