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
from helpers.monitoring import dashboard, endpoints, metrics  # noqa: E402
from helpers.monitoring.metrics import METRICS  # noqa: E402

NAT_ID, GROUP, REGION = "nat-0a1b2c3d4e5f60000", "/aws/vpc/flowlogs", "ap-northeast-2"

UPLOAD = {"BytesInFromSource", "BytesOutToDestination"}  # VPC → NAT → internet
DOWNLOAD = {"BytesInFromDestination", "BytesOutToSource"}  # internet → NAT → VPC


def _plain(entry):
    """A widget's metric entry without its options dict ({"label": ...})."""
    return [x for x in entry if not isinstance(x, dict)]


def _label(entry):
    return next((x["label"] for x in entry if isinstance(x, dict) and "label" in x), None)


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
            namespace, metric, dimension, value = _plain(entry)
            assert metric in METRICS and METRICS[metric].namespace == namespace
            assert METRICS[metric].dimension == dimension
            assert value in (NAT_ID, GROUP)


def test_namespaces_and_statistics(body):
    namespaces = {entry[0] for w in body["widgets"] for entry in w["properties"]["metrics"]}
    assert namespaces == {"AWS/NATGateway", "AWS/Logs"}  # not the lesson's AWS/NatGateway
    traffic_widget, volume, connections = body["widgets"]
    assert [_plain(m)[1] for m in traffic_widget["properties"]["metrics"]] == [
        "BytesOutToDestination", "BytesInFromDestination"]
    assert [_plain(m) for m in volume["properties"]["metrics"]] == [
        ["AWS/Logs", "IncomingLogEvents", "LogGroupName", GROUP]]
    assert (traffic_widget["properties"]["stat"], volume["properties"]["stat"],
            connections["properties"]["stat"]) == ("Sum", "Sum", "Maximum")


def test_the_traffic_widget_shows_both_directions_not_the_upload_twice(body):
    """The lesson pairs BytesInFromSource with BytesOutToDestination: both are the upload."""
    entries = body["widgets"][0]["properties"]["metrics"]
    names = {_plain(e)[1] for e in entries}
    assert len(names & UPLOAD) == 1 and len(names & DOWNLOAD) == 1
    labels = [_label(e) for e in entries]
    assert labels == ["업로드 (VPC에서 인터넷으로)", "다운로드 (인터넷에서 VPC로)"]


def test_line_widgets_label_their_axis_with_unit_and_period():
    body = dashboard.dashboard_body(NAT_ID, GROUP, REGION, period=60)
    axes = {w["properties"]["title"]: w["properties"].get("yAxis", {}).get("left", {})
            for w in body["widgets"]}
    assert axes["NAT Gateway Traffic"] == {"label": "바이트 (1분 합계)", "showUnits": False}
    assert axes["Active Connections"] == {"label": "연결 수 (1분 최댓값)", "showUnits": False}


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
    upload, download = traffic_ax.get_lines()
    assert [upload.get_label(), download.get_label()] == [
        "업로드 (VPC에서 인터넷으로)", "다운로드 (인터넷에서 VPC로)"]
    assert len(upload.get_xdata()) == 12  # an hour in 5-minute periods
    # the lab's download: the two lines differ, and the download is the larger one
    assert download.get_ydata().sum() > 10 * upload.get_ydata().sum() > 0
    assert (traffic_ax.get_ylabel(), traffic_ax.get_xlabel()) == ("바이트 (5분 합계)", "UTC")
    assert connections_ax.get_ylabel() == "연결 수 (5분 최댓값)"
    expected = metrics.series(frame, "IncomingLogEvents").resample(
        "300s", origin="epoch").sum().iloc[-1]
    shown = [t.get_text() for t in number_ax.texts]
    assert shown == [EngFormatter(sep="")(expected), "IncomingLogEvents (5분 합계)"]
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
    assert ax.get_ylabel() == "Bytes, Sum / 5분" and ax.get_xlabel() == "UTC"


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


# --- the VPC endpoint widget -------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint():
    return endpoints.lab_endpoint(traffic.default_topology())


def test_an_endpoint_adds_a_widget_with_its_full_dimension_set(endpoint):
    body = dashboard.dashboard_body(NAT_ID, GROUP, REGION, endpoint=endpoint)
    assert json.loads(json.dumps(body)) == body
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles == ["NAT Gateway Traffic", "Flow Logs Volume", "Active Connections",
                      "VPC Endpoint (ssm)"]
    widget = body["widgets"][3]
    (entry,) = widget["properties"]["metrics"]
    namespace, metric, *dims = _plain(entry)
    assert (namespace, metric) == ("AWS/PrivateLinkEndpoints", "BytesProcessed")
    assert list(zip(dims[0::2], dims[1::2])) == list(endpoint.dimensions)
    assert {"VPC Id", "VPC Endpoint Id", "Endpoint Type", "Service Name"} == set(dims[0::2])
    assert widget["x"] + widget["width"] <= 24
    connections = body["widgets"][2]["properties"]["metrics"]
    assert [_plain(e)[1] for e in connections] == ["ActiveConnectionCount", "ActiveConnections"]


def test_draw_finds_the_endpoint_metrics_by_one_of_their_dimensions(endpoint, frame):
    lab = traffic.default_topology()
    records = endpoints.endpoint_traffic(lab, endpoint, start="2021-12-20T00:00:00Z",
                                         duration="1h", seed=5)
    both = pd.concat([frame, endpoints.endpoint_metrics(records, endpoint)], ignore_index=True)
    body = dashboard.dashboard_body(NAT_ID, GROUP, REGION, endpoint=endpoint)
    fig = dashboard.draw(body, both)
    endpoint_ax = fig.get_axes()[3]
    (line,) = endpoint_ax.get_lines()
    expected = metrics.series(both, "BytesProcessed").resample("300s", origin="epoch").sum()
    assert line.get_ydata().tolist() == expected.tolist()
    assert line.get_label() == "BytesProcessed (양방향)"
    connections = [ln.get_label() for ln in fig.get_axes()[2].get_lines()]
    assert connections == ["NAT 게이트웨이", "VPC 엔드포인트 (ssm)"]
    fig.savefig(io.BytesIO(), format="png")


def test_a_gateway_endpoint_has_no_widget():
    gateway = endpoints.Endpoint("vpce-0a1b2c3d4e5f60000", "vpc-1",
                                 "com.amazonaws.ap-northeast-2.s3", endpoint_type="Gateway")
    with pytest.raises(MonitoringError, match="gateway endpoints publish no CloudWatch metrics"):
        dashboard.dashboard_body(NAT_ID, GROUP, REGION, endpoint=gateway)
    with pytest.raises(MonitoringError, match="endpoint must be an Endpoint"):
        dashboard.dashboard_body(NAT_ID, GROUP, REGION, endpoint="vpce-0a1b2c3d4e5f60000")
