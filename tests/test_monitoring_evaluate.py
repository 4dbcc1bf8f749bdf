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
import re

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
    (dict(name="high\nrejects"), "control character"),
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


# --- missing minutes: NaN is no datapoint, for every statistic ------------------------------

STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")


def _stat_alarm(statistic, mode="missing", period=60, n=1, comparison="LessThanThreshold",
                threshold=1):
    return AlarmSpec("nan", "", "Test", "Errors", statistic, period, n, threshold, comparison,
                     treat_missing_data=mode)


@pytest.mark.parametrize("statistic", STATS)
def test_nan_minutes_are_missing_data_not_zeros(statistic):
    # "< 1" breaches on a zero; a silence of NaN minutes must be no datapoints at all, so
    # TreatMissingData decides (notBreaching: OK; missing: INSUFFICIENT_DATA), as for no rows.
    nan_minutes = pd.Series([np.nan] * 10, index=pd.date_range(
        "2021-12-20", periods=10, freq="min", tz="UTC"))
    span = dict(start="2021-12-20T00:00:00Z", end="2021-12-20T00:10:00Z")
    for mode, want in (("notBreaching", "OK"), ("missing", "INSUFFICIENT_DATA"),
                       ("breaching", "ALARM")):
        alarm = _stat_alarm(statistic, mode)
        timeline = evaluate_alarm(alarm, nan_minutes, **span)
        assert set(timeline.evaluations["state"]) == {want}, (statistic, mode)
        assert timeline.evaluations["real"].sum() == 0
        silence = evaluate_alarm(alarm, pd.Series(dtype=float), **span)
        assert timeline.evaluations.equals(silence.evaluations)
        assert timeline.transitions.equals(silence.transitions)


@pytest.mark.parametrize("statistic, expected", [
    ("Sum", 12.0), ("SampleCount", 3.0), ("Average", 4.0), ("Minimum", 2.0), ("Maximum", 6.0),
])
def test_a_period_with_some_nan_minutes_aggregates_the_minutes_that_exist(statistic, expected):
    # A 5-minute period over 2, -, 4, -, 6: CloudWatch aggregates the three datapoints it has.
    alarm = _stat_alarm(statistic, period=300, comparison="GreaterThanThreshold", threshold=100)
    timeline = evaluate_alarm(alarm, _minutes([2, np.nan, 4, np.nan, 6]))
    row = timeline.evaluations.set_index("time").loc[pd.Timestamp("2021-12-20T00:05:00Z")]
    assert row["datapoints"][-1] == expected
    assert timeline.evaluations["datapoints"].iloc[0][-1] == {
        "Sum": 2.0, "SampleCount": 1.0, "Average": 2.0, "Minimum": 2.0, "Maximum": 2.0}[statistic]


def test_each_row_is_a_sample_even_in_the_same_minute():
    stamps = pd.to_datetime(["2021-12-20T00:00:10Z", "2021-12-20T00:00:50Z"])
    twice = pd.Series([1.0, 3.0], index=stamps)
    got = {s: evaluate_alarm(_stat_alarm(s, comparison="GreaterThanThreshold"), twice
                             ).evaluations["datapoints"].iloc[0][-1] for s in STATS}
    assert got == {"Sum": 4.0, "Average": 2.0, "Minimum": 1.0, "Maximum": 3.0,
                   "SampleCount": 2.0}


@pytest.mark.parametrize("statistic", STATS)
@pytest.mark.parametrize("m, row", [(3, r) for r in THREE_OF_THREE]
                         + [(2, r) for r in TWO_OF_THREE])
def test_nan_datapoints_are_missing_like_none(statistic, m, row):
    data, *expected = row
    for mode, want in zip(MODES, expected):
        alarm = AlarmSpec("table", "", "Test", "Errors", statistic, 300, 3, 0.5,
                          "GreaterThanThreshold", datapoints_to_alarm=m,
                          treat_missing_data=mode)
        points = [np.nan if v is None else v for v in _points(data)]
        assert evaluate_datapoints(alarm, points, "ALARM") == (
            "ALARM" if want == R else want), (statistic, data, mode)


@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_no_datapoints_at_all_let_treat_missing_data_decide(current):
    # No datapoints retrieved is the "- - - - -" row: missing → INSUFFICIENT_DATA, ignore →
    # keep the state, breaching → ALARM, notBreaching → OK.
    for mode, want in zip(MODES, ("INSUFFICIENT_DATA", current, "ALARM", "OK")):
        assert evaluate_datapoints(_alarm(3, mode), [], current) == want
        assert evaluate_datapoints(_alarm(3, mode), np.array([]), current) == want


def test_a_period_reaching_back_before_start_counts_the_data_there():
    alarm = AlarmSpec("sum", "", "Test", "Bytes", "Sum", 300, 1, 100, "GreaterThanThreshold")
    whole = evaluate_alarm(alarm, _minutes([30] * 10))
    later = evaluate_alarm(alarm, _minutes([30] * 10), start="2021-12-20T00:05:00Z")
    assert later.evaluations.reset_index(drop=True).equals(
        whole.evaluations[whole.evaluations["time"] > "2021-12-20T00:05:00Z"].reset_index(
            drop=True))
    assert later.evaluations["state"].iloc[0] == "ALARM"  # 5 × 30 minutes before 00:06


# --- reasons -------------------------------------------------------------------------------

_REASON = re.compile(r"Threshold Crossed: (\d+) out of the last (\d+) datapoints \[(.*?)\] "
                     r"(was|were) (not )?(greater|less) than (or equal to )?the threshold "
                     r"\((.*?)\)( and (\d+) missing datapoints? (?:was|were) treated as "
                     r"\[(Breaching|NonBreaching)\])? \(minimum (\d+) datapoints? for "
                     r"(OK -> ALARM|ALARM -> OK) transition\)\.")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n, m", [(1, 1), (3, 3), (3, 2), (5, 2)])
def test_the_reason_counts_the_datapoints_it_lists(mode, n, m):
    # "K out of the last N datapoints [v1, ..., vK]": K is the number listed, N the alarm's
    # EvaluationPeriods, the listed ones are the breaching ones (ALARM) or the others (OK),
    # and they are real datapoints of the evaluation that made the transition.
    alarm = AlarmSpec("why", "", "Test", "Errors", "Sum", 60, n, 10, "GreaterThanThreshold",
                      datapoints_to_alarm=m, treat_missing_data=mode)
    rng = np.random.default_rng(n * 10 + m)
    values = np.where(rng.random(600) < 0.3, np.nan, rng.integers(0, 20, 600))
    timeline = evaluate_alarm(alarm, _minutes(values))
    assert len(timeline.transitions) > 5
    rows = timeline.evaluations.set_index("time")
    checked = 0
    for t in timeline.transitions.itertuples():
        if not t.reason.startswith("Threshold Crossed: ") or " received for " in t.reason \
                or "no datapoints" in t.reason:
            continue
        match = _REASON.fullmatch(t.reason)
        assert match, t.reason
        count, last, listing = int(match[1]), int(match[2]), match[3]
        listed = [float(x.split(" (")[0]) for x in listing.split(", ")]
        assert last == n and count == len(listed) >= 1
        assert match[4] == ("was" if count == 1 else "were")
        assert all((v > 10) == (t.new_state == "ALARM") for v in listed)
        real = [v for v in rows.loc[t.time, "datapoints"] if v is not None]
        assert all(v in real for v in listed)
        assert match[13] == ("OK -> ALARM" if t.new_state == "ALARM" else "ALARM -> OK")
        assert int(match[12]) == (m if t.new_state == "ALARM" else 1)
        if t.new_state == "ALARM" and not match[9]:
            assert count >= m or count == len(real[-n:])  # M breached, or premature rule
        checked += 1
    assert checked >= 3


def _reason_of(alarm, values, start="2021-12-20T00:00:00Z", **kwargs):
    timeline = evaluate_alarm(alarm, _minutes(values, start), **kwargs)
    return timeline.transitions[["new_state", "reason"]].values.tolist()


def test_reasons_use_cloudwatchs_wording():
    two_of_three = AlarmSpec("r", "", "Test", "Errors", "Sum", 60, 3, 10, "GreaterThanThreshold",
                             datapoints_to_alarm=2)
    assert _reason_of(two_of_three, [0, 20, 30, 5, 1]) == [
        ["OK", "Threshold Crossed: 1 out of the last 3 datapoints [0.0 (20/12/21 00:00:00)] "
               "was not greater than the threshold (10.0) (minimum 1 datapoint for "
               "ALARM -> OK transition)."],
        ["ALARM", "Threshold Crossed: 2 out of the last 3 datapoints [30.0 (20/12/21 00:02:00), "
                  "20.0 (20/12/21 00:01:00)] were greater than the threshold (10.0) "
                  "(minimum 2 datapoints for OK -> ALARM transition)."],
        ["OK", "Threshold Crossed: 2 out of the last 3 datapoints [1.0 (20/12/21 00:04:00), "
               "5.0 (20/12/21 00:03:00)] were not greater than the threshold (10.0) "
               "(minimum 1 datapoint for ALARM -> OK transition)."],
    ]
    filled = AlarmSpec("f", "", "Test", "Errors", "Sum", 60, 3, 10, "GreaterThanThreshold",
                       datapoints_to_alarm=2, treat_missing_data="breaching")
    assert _reason_of(filled, [0], end="2021-12-20T00:01:00Z") == [
        ["ALARM", "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing "
                  "datapoints were treated as [Breaching]."]]
    lone = AlarmSpec("l", "", "Test", "Errors", "Sum", 60, 3, 10, "GreaterThanThreshold",
                     datapoints_to_alarm=1, treat_missing_data="notBreaching")
    assert _reason_of(lone, [20], end="2021-12-20T00:01:00Z") == [
        ["ALARM", "Threshold Crossed: 1 out of the last 3 datapoints [20.0 (20/12/21 00:00:00)] "
                  "was greater than the threshold (10.0) and 2 missing datapoints were treated "
                  "as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."]]
    unknown = AlarmSpec("u", "", "Test", "Errors", "Sum", 60, 3, 10, "GreaterThanThreshold")
    assert _reason_of(unknown, [20], end="2021-12-20T00:03:00Z", initial_state="OK") == [
        ["INSUFFICIENT_DATA", "Insufficient Data: 2 datapoints were unknown."],
        ["ALARM", "Threshold Crossed: 1 out of the last 3 datapoints [20.0 (20/12/21 00:00:00)] "
                  "was greater than the threshold (10.0) (minimum 3 datapoints for OK -> ALARM "
                  "transition)."],  # the premature-transition rule, in CloudWatch's words
    ]


# --- AlarmSpec checks every PutMetricAlarm rule ----------------------------------------------

_BASE = dict(name="a", description="", namespace="N", metric="M", statistic="Sum", period=300,
             evaluation_periods=3, threshold=1, comparison="GreaterThanThreshold")


@pytest.mark.parametrize("kwargs, message", [
    (dict(evaluation_periods=2.0), "evaluation_periods (N) must be a whole number"),
    (dict(evaluation_periods=True), "evaluation_periods (N) must be a whole number"),
    (dict(evaluation_periods=0), "evaluation_periods (N) must be a whole number of at least 1"),
    (dict(datapoints_to_alarm=0), "datapoints_to_alarm (M) must be between 1 and"),
    (dict(datapoints_to_alarm=2.0), "datapoints_to_alarm (M) must be between 1 and"),
    (dict(datapoints_to_alarm=True), "datapoints_to_alarm (M) must be between 1 and"),
    (dict(threshold=float("nan")), "threshold must be a finite number, not nan"),
    (dict(threshold=float("inf")), "threshold must be a finite number, not inf"),
    (dict(threshold="100"), "threshold must be a finite number, not '100'"),
    (dict(threshold=True), "threshold must be a finite number, not True"),
    (dict(period=300.0), "period must be 10, 20, 30 or a multiple of 60 seconds"),
    (dict(period=True), "period must be 10, 20, 30 or a multiple of 60 seconds"),
    (dict(period=3600, evaluation_periods=169), "may not exceed seven days (604,800 s)"),
    (dict(name=""), "name must be 1 to 255 characters long, not 0"),
    (dict(name="x" * 256), "name must be 1 to 255 characters long, not 256"),
    (dict(name=None), "name must be text, not NoneType"),
    (dict(description="d" * 1025), "description must be at most 1024 characters long"),
    (dict(description=None), "description must be text"),
    (dict(namespace=":N"), "namespace ':N' may not start with ':'"),
    (dict(namespace="n" * 256), "namespace must be 1 to 255 characters long"),
    (dict(metric=""), "metric must be 1 to 255 characters long, not 0"),
    (dict(dimensions=tuple((f"d{i}", "v") for i in range(31))), "at most 30 dimensions"),
    (dict(dimensions=(("이름", "v"),)), "dimensions[0] name '이름' must be ASCII text"),
    (dict(dimensions=(("Name", ""),)), "dimensions[0] value must be 1 to 1024 characters"),
    (dict(dimensions=(("Name", "   "),)), "dimensions[0] value must contain a character other"),
    (dict(dimensions=((":Name", "v"),)), "dimensions[0] name ':Name' may not start with ':'"),
    (dict(dimensions=("NatGatewayId", "nat-1")), "with a trailing comma"),
    (dict(dimensions="NatGatewayId=nat-1"), "dimensions must be (name, value) pairs"),
    (dict(dimensions=(("A", "1"), ("A", "2"))), "dimensions name 'A' more than once"),
    (dict(unit="bytes"), "unit must be one of Seconds, "),
    (dict(statistic="sum"), "(did you mean 'Sum'?)"),
])
def test_alarm_spec_checks_what_put_metric_alarm_checks(kwargs, message):
    with pytest.raises(MonitoringError) as info:
        AlarmSpec(**{**_BASE, **kwargs})
    assert message in str(info.value)
    name = kwargs.get("name", "a")
    assert str(info.value).startswith(f"alarm {name!r}: " if isinstance(name, str) and
                                      len(name) < 60 else "alarm ")


def test_alarm_spec_reports_every_problem_at_once():
    with pytest.raises(MonitoringError) as info:
        AlarmSpec(**{**_BASE, "period": 90, "threshold": float("nan"), "unit": "Byte",
                     "evaluation_periods": 0})
    text = str(info.value)
    assert text.startswith("alarm 'a': ")
    for arg in ("period", "threshold", "unit", "evaluation_periods"):
        assert arg in text


def test_alarm_names_follow_the_apis_character_rules():
    # UTF-8 without ASCII control characters: a Hangul name is a valid alarm name.
    assert AlarmSpec(**{**_BASE, "name": "높은-거부율"}).name == "높은-거부율"
    spec = AlarmSpec(**{**_BASE, "dimensions": [["NatGatewayId", "nat-1"]],
                        "unit": "Bytes", "datapoints_to_alarm": np.int64(2)})
    assert spec.dimensions == (("NatGatewayId", "nat-1"),) and spec.m == 2
    assert json.dumps(spec.to_api(["arn:aws:sns:us-east-1:123456789012:t"]))
    with pytest.raises(MonitoringError, match="actions must be a list of ARNs"):
        spec.to_api("arn:aws:sns:us-east-1:123456789012:t")
