"""The lesson's dashboard: a valid CloudWatch dashboard body, and its local rendering."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402

from helpers import traffic  # noqa: E402
from helpers.errors import MonitoringError  # noqa: E402
from helpers.monitoring import dashboard, metrics  # noqa: E402
from helpers.monitoring.metrics import METRICS  # noqa: E402

NAT_ID, GROUP, REGION = "nat-0a1b2c3d4e5f60000", "/aws/vpc/flowlogs", "ap-northeast-2"


@pytest.fixture(scope="module")
def body():
    return dashboard.dashboard_body(NAT_ID, GROUP, REGION)


def test_body_is_json_with_the_lessons_three_metric_widgets(body):
    text = json.dumps(body)
    assert json.loads(text) == body
    widgets = body["widgets"]
    assert len(widgets) == 3 and all(w["type"] == "metric" for w in widgets)
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == ["NAT Gateway Traffic", "Flow Logs Volume", "Active Connections"]
    views = [w["properties"]["view"] for w in widgets]
    assert views == ["timeSeries", "singleValue", "timeSeries"]
    for w in widgets:
        props = w["properties"]
        assert props["period"] == 300 and props["region"] == REGION
        assert 0 <= w["x"] and w["x"] + w["width"] <= 24  # the console's 24-unit grid
        for entry in props["metrics"]:
            namespace, metric, dimension, value = entry
            assert metric in METRICS and METRICS[metric].namespace == namespace
            assert METRICS[metric].dimension == dimension
            assert value in (NAT_ID, GROUP)


def test_namespaces_and_statistics(body):
    namespaces = {entry[0] for w in body["widgets"] for entry in w["properties"]["metrics"]}
    assert namespaces == {"AWS/NATGateway", "AWS/Logs"}  # not the lesson's AWS/NatGateway
    traffic_widget, volume, connections = body["widgets"]
    assert [m[1] for m in traffic_widget["properties"]["metrics"]] == [
        "BytesInFromSource", "BytesOutToDestination"]
    assert volume["properties"]["metrics"] == [["AWS/Logs", "IncomingLogEvents",
                                                 "LogGroupName", GROUP]]
    assert (traffic_widget["properties"]["stat"], volume["properties"]["stat"],
            connections["properties"]["stat"]) == ("Sum", "Sum", "Maximum")


def test_a_time_range_is_written_in_iso_8601():
    body = dashboard.dashboard_body(NAT_ID, GROUP, REGION, start="2021-12-20T00:00:00",
                                    end=pd.Timestamp("2021-12-20T09:00:00+09:00"))
    assert (body["start"], body["end"]) == ("2021-12-20T00:00:00.000Z",
                                            "2021-12-20T00:00:00.000Z")


@pytest.fixture(scope="module")
def frame():
    lab = traffic.default_topology()
    records = traffic.generate(["lab_download", "web_baseline"], topology=lab, seed=5,
                               duration="1h")
    from helpers import flowlogs
    from helpers.flowlogs.delivery import FlowLog

    flow_log = FlowLog("fl-1", lab.vpc_id, "ALL", flowlogs.DEFAULT_FORMAT, "cloud-watch-logs",
                       log_group=GROUP)
    return pd.concat([metrics.nat_metrics(records, lab),
                      metrics.log_group_metrics(records, flow_log)], ignore_index=True)


def test_draw_lays_out_the_widgets_like_the_console(body, frame):
    fig = dashboard.draw(body, frame)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert [ax.get_title(loc="left") for ax in axes] == [
        "NAT Gateway Traffic", "Flow Logs Volume", "Active Connections"]
    traffic_ax, number_ax, connections_ax = axes
    assert [line.get_label() for line in traffic_ax.get_lines()] == [
        "BytesInFromSource", "BytesOutToDestination"]
    assert len(traffic_ax.get_lines()[0].get_xdata()) == 12  # an hour in 5-minute periods
    expected = metrics.series(frame, "IncomingLogEvents").resample(
        "300s", origin="epoch").sum().iloc[-1]
    shown = [t.get_text() for t in number_ax.texts]
    assert shown == [EngFormatter(sep="")(expected), "IncomingLogEvents"]
    traffic_ax_box, connections_box = traffic_ax.get_position(), connections_ax.get_position()
    assert traffic_ax_box.y0 > connections_box.y1  # the first row sits above the second
    fig.savefig(io.BytesIO(), format="png")


def test_draw_handles_hangul_titles_and_dot_shorthand(frame):
    body = {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 24, "height": 6,
                         "properties": {"title": "NAT 게이트웨이 트래픽", "view": "timeSeries",
                                        "stat": "Sum", "period": 300, "region": REGION,
                                        "metrics": [["AWS/NATGateway", "BytesInFromSource",
                                                     "NatGatewayId", NAT_ID],
                                                    [".", "BytesOutToSource", ".", "."]]}}]}
    fig = dashboard.draw(body, frame)
    ax = fig.get_axes()[0]
    assert ax.get_title(loc="left") == "NAT 게이트웨이 트래픽"
    assert [line.get_label() for line in ax.get_lines()] == ["BytesInFromSource",
                                                             "BytesOutToSource"]
    fig.savefig(io.BytesIO(), format="png")  # a missing glyph would warn, and fail the test


def test_draw_says_which_metric_is_missing(body, frame):
    nat_only = frame[frame["namespace"] == "AWS/NATGateway"]
    with pytest.raises(MonitoringError, match="no AWS/Logs IncomingLogEvents LogGroupName"):
        dashboard.draw(body, nat_only)
    with pytest.raises(MonitoringError, match="no metric widgets"):
        dashboard.draw({"widgets": []}, frame)


def test_draw_alarms_gives_one_panel_per_alarm_with_the_state_in_the_title():
    import pandas as pd

    from helpers.monitoring import alarms, dashboard, evaluate, names

    times = pd.date_range("2021-12-20", periods=30, freq="1min", tz="UTC")
    frame = pd.DataFrame({"timestamp": times, "namespace": names.NAT,
                          "metric": "BytesOutToDestination", "dimension": "NatGatewayId",
                          "dimension_value": "nat-1", "value": [0.0] * 10 + [2e9] * 20,
                          "unit": "Bytes"})
    spec = alarms.lesson_alarms("nat-1", "/aws/vpc/flowlogs")[0]
    timeline = evaluate.evaluate_alarm(spec, frame)
    fig = dashboard.draw_alarms([timeline], frame)
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == f"High-NAT-Traffic: {timeline.state}"
    assert timeline.state == "ALARM"


def test_alarm_panels_leave_periods_without_datapoints_as_gaps():
    from helpers.monitoring import alarms, evaluate

    times = pd.date_range("2021-12-20", periods=30, freq="1min", tz="UTC")
    events = pd.DataFrame({"timestamp": times, "namespace": "AWS/Logs",
                           "metric": "IncomingLogEvents", "dimension": "LogGroupName",
                           "dimension_value": GROUP, "value": [50.0] * 15 + [float("nan")] * 15,
                           "unit": "Count"})
    spec = alarms.lesson_alarms(NAT_ID, GROUP)[2]
    timeline = evaluate.evaluate_alarm(spec, events)
    (ax,) = dashboard.draw_alarms([timeline], events).axes
    drawn = ax.get_lines()[0].get_ydata()
    assert pd.isna(drawn[-1]) and drawn[0] == 250  # no datapoint is drawn as none, not as 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(nat_gateway_id="igw-1"), "nat_gateway_id must be a NAT gateway ID"),
    (dict(log_group="/aws/vpc flow"), "log_group must be a log group name"),
    (dict(region="Seoul"), "region must be an AWS Region code"),
    (dict(period=90), "period must be whole seconds: 1, 5, 10, 30 or a multiple of 60"),
    (dict(period=300.0), "period must be whole seconds"),
    (dict(start="2021-12-20T06:00:00Z", end="2021-12-20T00:00:00Z"), "is before start"),
])
def test_dashboard_body_checks_its_arguments(kwargs, message):
    args = {"nat_gateway_id": NAT_ID, "log_group": GROUP, "region": REGION, **kwargs}
    with pytest.raises(MonitoringError, match=message):
        dashboard.dashboard_body(**args)
