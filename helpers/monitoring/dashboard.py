"""The lesson's dashboard (실습 1) as a real CloudWatch dashboard body, and its local rendering.

:func:`dashboard_body` builds the JSON that ``PutDashboard`` takes, following "Dashboard Body
Structure and Syntax"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
a ``widgets`` array on a grid 24 units wide, each metric widget with ``metrics`` (arrays of
namespace, metric name, then dimension name/value pairs), ``view``, ``stat``, ``period``,
``region`` and ``title``. ``cloud.put_dashboard`` stores it; :func:`draw` renders the same body
from a metrics frame with matplotlib, so a student offline sees what the console would show.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import EngFormatter, MaxNLocator

from helpers import plots, times
from helpers.errors import MonitoringError, TimeValueError
from helpers.frames import require_columns
from helpers.monitoring.endpoints import ENDPOINT_METRICS, Endpoint
from helpers.monitoring.endpoints import NAMESPACE as ENDPOINTS
from helpers.monitoring.evaluate import AlarmTimeline
from helpers.monitoring.metrics import METRICS
from helpers.monitoring.names import LOGS, NAT

__all__ = ["dashboard_body", "draw", "draw_alarms"]

_AGGREGATE = {"Sum": "sum", "Maximum": "max", "Minimum": "min", "Average": "mean",
              "SampleCount": "count"}
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_LOG_GROUP = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")
_FRAME_COLUMNS = ("timestamp", "namespace", "metric", "dimension", "dimension_value", "value")


def _whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_frame(metrics, caller: str) -> None:
    require_columns(metrics, _FRAME_COLUMNS, error=MonitoringError, what=f"{caller}: metrics",
                    source="nat_metrics() or log_group_metrics(), concatenated")


def _check_width(width) -> None:
    if not (isinstance(width, (int, float, np.integer, np.floating))
            and not isinstance(width, bool) and math.isfinite(width) and 0 < width <= 100):
        raise MonitoringError(f"width must be the figure's width in inches, a number above 0 "
                              f"(e.g. 13), not {width!r}")


def _per(period: int) -> str:
    """A period as the axis labels say it: 300 → "5분", 30 → "30초"."""
    return f"{period // 60}분" if period >= 60 else f"{period}초"


def dashboard_body(nat_gateway_id: str, log_group: str, region: str, *, period: int = 300,
                   start=None, end=None, endpoint: Endpoint | None = None) -> dict:
    """The lesson's ``VPC-Network-Monitoring`` dashboard: three metric widgets (four with an
    endpoint).

    - **NAT Gateway Traffic** (line, ``view: timeSeries``), Sum per period, one line per
      direction: the upload ``BytesOutToDestination`` (VPC → internet) and the download
      ``BytesInFromDestination`` (internet → VPC). The lesson pairs ``BytesInFromSource``
      with ``BytesOutToDestination``: both are the upload (what enters the NAT from the
      instances leaves it for the internet), so its two lines overlap and no line shows the
      download.
    - **Flow Logs Volume** (number, ``view: singleValue``): ``IncomingLogEvents`` of the log
      group in ``AWS/Logs`` (the console's "Log Group Metrics"), Sum per period.
    - **Active Connections** (line): ``ActiveConnectionCount``, Maximum (its documented
      statistic: the peak of concurrent connections, not a sum); with an endpoint, also its
      ``ActiveConnections``.
    - With ``endpoint``: **VPC Endpoint (service)** (line): ``BytesProcessed`` of
      ``AWS/PrivateLinkEndpoints``, Sum per period, with the endpoint's full dimension set
      (:attr:`helpers.monitoring.endpoints.Endpoint.dimensions`).

    Line widgets label their lines (``{"label": ...}`` after a metric's dimensions) and their
    left axis (``yAxis.left.label``) with the unit and the statistic per period.

    Args:
        period: seconds per datapoint (the lesson's "5 minutes" is 300).
        start, end: the dashboard's time range (datetimes or ISO text); None leaves the
            console's default (the last 3 hours).
        endpoint: an interface endpoint (:func:`helpers.monitoring.endpoints.lab_endpoint`)
            whose widget to add; a gateway endpoint has no metrics to show.

    Returns:
        The body as a dict; ``json.dumps`` it for ``PutDashboard``.

    Raises:
        MonitoringError: an ID, log group, Region or period that is not one; ``end`` before
            ``start``.
        TimeValueError: ``start`` or ``end`` is not a time.
    """
    problems = []
    if not isinstance(nat_gateway_id, str) or not re.fullmatch(r"nat-[0-9a-zA-Z]+",
                                                               nat_gateway_id):
        problems.append(f"nat_gateway_id must be a NAT gateway ID such as "
                        f"'nat-0a1b2c3d4e5f60000' (lab.nat_gateway_id), not {nat_gateway_id!r}")
    if not isinstance(log_group, str) or not _LOG_GROUP.fullmatch(log_group):
        problems.append(f"log_group must be a log group name such as '/aws/vpc/flowlogs' "
                        f"(1-512 letters, digits and _ - . / #), not {log_group!r}")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        problems.append(f"region must be an AWS Region code such as 'ap-northeast-2' "
                        f"(cloud.region), not {region!r}")
    if not (_whole(period) and (period in (1, 5, 10, 30) or (period >= 60 and period % 60 == 0))):
        problems.append(f"period must be whole seconds: 1, 5, 10, 30 or a multiple of 60 (the "
                        f"lesson's 5 minutes is 300), not {period!r}")
    if endpoint is not None and not isinstance(endpoint, Endpoint):
        problems.append(f"endpoint must be an Endpoint (endpoints.lab_endpoint(lab)) or None, "
                        f"not {type(endpoint).__name__}")
    elif endpoint is not None and endpoint.endpoint_type == "Gateway":
        problems.append(f"endpoint {endpoint.endpoint_id} is a gateway endpoint: gateway "
                        "endpoints publish no CloudWatch metrics, so there is no widget to add")
    if problems:
        raise MonitoringError("dashboard_body: " + "; ".join(problems))
    nat = ["NatGatewayId", nat_gateway_id]
    per = _per(int(period))
    common = {"region": region, "period": int(period)}
    body: dict = {}
    if start is not None:
        body["start"] = times.iso_z(start, "start")
    if end is not None:
        body["end"] = times.iso_z(end, "end")
    if start is not None and end is not None and \
            times.to_timestamp(end, "end") < times.to_timestamp(start, "start"):
        raise MonitoringError(f"dashboard_body: end ({body['end']}) is before start "
                              f"({body['start']})")
    connections = [[NAT, "ActiveConnectionCount", *nat, {"label": "NAT 게이트웨이"}]]
    if endpoint is not None:
        dims = [x for pair in endpoint.dimensions for x in pair]
        connections.append([ENDPOINTS, "ActiveConnections", *dims,
                            {"label": f"VPC 엔드포인트 ({endpoint.service})"}])
    body["widgets"] = [
        {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "NAT Gateway Traffic", "view": "timeSeries", "stacked": False,
            "stat": "Sum", **common,
            "metrics": [
                [NAT, "BytesOutToDestination", *nat, {"label": "업로드 (VPC에서 인터넷으로)"}],
                [NAT, "BytesInFromDestination", *nat, {"label": "다운로드 (인터넷에서 VPC로)"}]],
            "yAxis": {"left": {"label": f"바이트 ({per} 합계)", "showUnits": False}},
        }},
        {"type": "metric", "x": 12, "y": 0, "width": 6, "height": 6, "properties": {
            "title": "Flow Logs Volume", "view": "singleValue", "stat": "Sum", **common,
            "metrics": [[LOGS, "IncomingLogEvents", "LogGroupName", log_group,
                         {"label": f"IncomingLogEvents ({per} 합계)"}]],
        }},
        {"type": "metric", "x": 0, "y": 6, "width": 12, "height": 6, "properties": {
            "title": "Active Connections", "view": "timeSeries", "stacked": False,
            "stat": "Maximum", **common,
            "metrics": connections,
            "yAxis": {"left": {"label": f"연결 수 ({per} 최댓값)", "showUnits": False}},
        }},
    ]
    if endpoint is not None:
        body["widgets"].append(
            {"type": "metric", "x": 12, "y": 6, "width": 12, "height": 6, "properties": {
                "title": f"VPC Endpoint ({endpoint.service})", "view": "timeSeries",
                "stacked": False, "stat": "Sum", **common,
                "metrics": [[ENDPOINTS, "BytesProcessed", *dims,
                             {"label": "BytesProcessed (양방향)"}]],
                "yAxis": {"left": {"label": f"바이트 ({per} 합계)", "showUnits": False}},
            }})
    return body


def draw(body: dict, metrics: pd.DataFrame, *, width: float = 13.0) -> Figure:
    """Render a dashboard body from a metrics frame, laid out like the console's grid.

    Each metric widget is drawn from the tidy frame of :mod:`helpers.monitoring.metrics`
    (per-minute values), aggregated to the widget's ``period`` with its ``stat``: lines for
    ``timeSeries``, the latest period's value for ``singleValue`` (as the console's number
    widget shows). Calls :func:`helpers.plots.setup` for the Hangul-capable font.

    Returns:
        The matplotlib Figure (not shown through pyplot; a notebook displays it once).

    Raises:
        MonitoringError: a widget names a metric the frame does not hold, the body has no
            metric widgets or is not a dashboard body, or ``metrics`` is not a metrics frame.
    """
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        raise MonitoringError(f"body must be a dashboard body, a dict with a 'widgets' list "
                              f"(dashboard_body(...)), not {_described(body)}")
    _check_frame(metrics, "draw")
    _check_width(width)
    widgets = [w for w in body["widgets"] if isinstance(w, dict) and w.get("type") == "metric"]
    if not widgets:
        raise MonitoringError("the dashboard body has no metric widgets to draw")
    for i, widget in enumerate(widgets):
        _check_widget(i, widget)
    plots.setup()
    rows = max(w.get("y", 0) + w.get("height", 6) for w in widgets)
    fig = Figure(figsize=(width, rows * 0.55), layout="constrained")
    grid = GridSpec(rows, 24, figure=fig)
    for widget in widgets:
        x, y = widget.get("x", 0), widget.get("y", 0)
        w, h = widget.get("width", 6), widget.get("height", 6)
        ax = fig.add_subplot(grid[y:y + h, x:x + w])
        props = widget["properties"]
        lines = [(label, _aggregate(metrics, entry, props)) for label, entry in
                 _entries(props.get("metrics", []))]
        if props.get("view", "timeSeries") == "singleValue":
            _number(ax, lines)
        else:
            for label, values in lines:
                ax.plot(values.index.tz_convert(None).to_numpy(), values.to_numpy(),
                        label=label, linewidth=1.5)
            ax.yaxis.set_major_formatter(EngFormatter(sep=""))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
            ax.tick_params(axis="x", labelrotation=0, labelsize=8)
            _hours(ax)
            ax.set_ylabel(_axis_label(props), fontsize=8)
            ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.set_title(props.get("title", ""), loc="left", fontsize=11)
    return fig


_STATE_COLOURS = {"ALARM": "tab:red", "INSUFFICIENT_DATA": "0.85"}


def draw_alarms(timelines, metrics: pd.DataFrame, *, width: float = 13.0) -> Figure:
    """One panel per alarm: its metric aggregated to the alarm's period, the threshold, and
    the alarm's state as background bands (red ALARM, grey INSUFFICIENT_DATA, none for OK).

    ``timelines`` are :class:`~helpers.monitoring.evaluate.AlarmTimeline` objects; ``metrics``
    is the tidy per-minute frame they were evaluated on. Periods without datapoints are gaps
    in the line, not zeros: no datapoint is what the alarm saw there.

    Raises:
        MonitoringError: ``timelines`` is not a non-empty list of timelines, ``metrics`` not a
            metrics frame, or an alarm's metric is not in it.
    """
    if isinstance(timelines, AlarmTimeline):
        raise MonitoringError("timelines must be a list of AlarmTimeline; for one alarm write "
                              "draw_alarms([timeline], metrics)")
    if not isinstance(timelines, (list, tuple)) or not timelines or not all(
            isinstance(t, AlarmTimeline) for t in timelines):
        raise MonitoringError(f"timelines must be a non-empty list of AlarmTimeline (from "
                              f"evaluate.evaluate_alarm), not {_described(timelines)}")
    _check_frame(metrics, "draw_alarms")
    _check_width(width)
    plots.setup()
    fig = Figure(figsize=(width, 2.2 * len(timelines)), layout="constrained")
    axes = fig.subplots(len(timelines), 1, sharex=True, squeeze=False)[:, 0]
    for ax, timeline in zip(axes, timelines):
        alarm = timeline.alarm
        entry = [alarm.namespace, alarm.metric, *[x for pair in alarm.dimensions for x in pair]]
        values = _aggregate(metrics, entry, {"stat": alarm.statistic, "period": alarm.period})
        ax.step(values.index.tz_convert(None).to_numpy(), values.to_numpy(),
                where="post", linewidth=1.2, label=f"{alarm.metric} ({alarm.statistic})")
        ax.axhline(alarm.threshold, color="tab:red", linestyle="--", linewidth=1,
                   label=f"threshold {EngFormatter(sep='')(alarm.threshold)}")
        states = timeline.evaluations
        edges = pd.to_datetime(states["time"], utc=True).dt.tz_convert(None).to_numpy()
        for i, state in enumerate(states["state"]):
            if state in _STATE_COLOURS and i + 1 < len(edges):
                ax.axvspan(edges[i], edges[i + 1], color=_STATE_COLOURS[state], alpha=0.25,
                           linewidth=0)
        ax.yaxis.set_major_formatter(EngFormatter(sep=""))
        ax.set_ylim(bottom=0)
        ax.set_ylabel(_alarm_axis(alarm), fontsize=8)
        ax.set_title(f"{alarm.name}: {timeline.state}", loc="left", fontsize=11)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        _hours(ax)
    return fig


def _alarm_axis(alarm) -> str:
    """An alarm panel's axis label: the unit and the statistic per period, "Bytes, Sum / 5분"."""
    known = METRICS.get(alarm.metric) or ENDPOINT_METRICS.get(alarm.metric)
    unit = alarm.unit or (known.unit if known else "Count")
    return f"{unit}, {alarm.statistic} / {_per(int(alarm.period))}"


def _described(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _check_widget(i: int, widget: dict) -> None:
    """A metric widget's properties as draw reads them: metrics, stat, period."""
    props = widget.get("properties")
    where = f"widget {i} ({widget.get('properties', {}).get('title', 'untitled')!r})" \
        if isinstance(props, dict) else f"widget {i}"
    if not isinstance(props, dict):
        raise MonitoringError(f"{where} has no 'properties' dict")
    for key in ("x", "y", "width", "height"):
        if key in widget and not (_whole(widget[key]) and widget[key] >= 0):
            raise MonitoringError(f"{where}: {key} must be a whole number of grid units, not "
                                  f"{widget[key]!r}")
    if widget.get("x", 0) + widget.get("width", 6) > 24:
        raise MonitoringError(f"{where}: x + width must fit the 24-unit grid, not "
                              f"{widget.get('x', 0)} + {widget.get('width', 6)}")
    entries = props.get("metrics")
    if not isinstance(entries, list) or not entries:
        raise MonitoringError(f"{where}: properties 'metrics' must be a non-empty list of "
                              f"[namespace, metric, dimension, value, ...], not {entries!r}")
    previous: list = []
    for j, raw in enumerate(entries):
        items = [x for x in raw if not isinstance(x, dict)] if isinstance(raw, list) else None
        full = [previous[k] if item == "." and k < len(previous) else item
                for k, item in enumerate(items or [])]
        if items is None or len(full) < 2 or len(full) % 2 or not all(
                isinstance(x, str) for x in full):
            raise MonitoringError(f"{where}: metrics[{j}] must be [namespace, metric, "
                                  f"dimension name, value, ...] (text, '.' repeats the line "
                                  f"above), not {raw!r}")
        previous = full
    stat = props.get("stat", "Average")
    if stat not in _AGGREGATE:
        raise MonitoringError(f"{where}: cannot draw statistic {stat!r}; drawable: "
                              f"{', '.join(_AGGREGATE)}")
    period = props.get("period", 300)
    if not (_whole(period) and period >= 60 and period % 60 == 0):
        raise MonitoringError(f"{where}: period must be 60 s or a multiple (the course's metrics "
                              f"are per minute), not {period!r}")


def _axis_label(props: dict) -> str:
    """The widget's ``yAxis.left.label``, or '' when it has none."""
    axis = props.get("yAxis")
    left = axis.get("left") if isinstance(axis, dict) else None
    label = left.get("label") if isinstance(left, dict) else None
    return label if isinstance(label, str) else ""


def _entries(metrics_array):
    """(label, [namespace, metric, dim, value, ...]) per metric, resolving "." shorthand.

    The label is the entry's ``{"label": ...}`` option when it has one, else the metric name
    (as the console labels lines).
    """
    previous: list = []
    for raw in metrics_array:
        items = [x for x in raw if not isinstance(x, dict)]
        options = next((x for x in raw if isinstance(x, dict)), {})
        full = [previous[i] if item == "." and i < len(previous) else item
                for i, item in enumerate(items)]
        previous = full
        label = options.get("label")
        yield (label if isinstance(label, str) and label else full[1]), full


def _aggregate(metrics: pd.DataFrame, entry: list, props: dict) -> pd.Series:
    namespace, metric, *dims = entry
    rows = metrics[(metrics["namespace"] == namespace) & (metrics["metric"] == metric)]
    if dims:
        # The tidy frame keeps one identifying dimension per metric; an entry names the full
        # set AWS publishes (an endpoint's four), so a row matches when its pair is among them.
        pairs = pd.MultiIndex.from_arrays([dims[0::2], dims[1::2]])
        rows = rows[pd.MultiIndex.from_arrays([rows["dimension"], rows["dimension_value"]])
                    .isin(pairs)]
    if rows.empty:
        raise MonitoringError(f"the metrics frame has no {namespace} {metric} "
                              f"{' '.join(map(str, dims))}: compute it first (nat_metrics, "
                              "log_group_metrics) or read it (read_metrics)")
    stat = props.get("stat", "Average")
    if stat not in _AGGREGATE:
        raise MonitoringError(f"cannot draw statistic {stat!r}; drawable: {', '.join(_AGGREGATE)}")
    period = int(props.get("period", 300))
    try:
        with warnings.catch_warnings():  # pandas' "could not infer format": we raise instead
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.to_datetime(rows["timestamp"], utc=True)
    except (TypeError, ValueError, OverflowError) as err:
        raise TimeValueError(f"metrics: the timestamp column of {metric} must hold times: {err}"
                             ) from None
    try:
        values = pd.Series(rows["value"].to_numpy(dtype=float), index=stamps)
    except (TypeError, ValueError) as err:
        raise MonitoringError(f"metrics: the values of {metric} must be numbers ({err})"
                              ) from None
    grouped = values.sort_index().resample(f"{period}s", origin="epoch")
    return grouped.agg(_AGGREGATE[stat]).where(grouped.count() > 0)


def _number(ax, lines) -> None:
    ax.axis("off")
    formatter = EngFormatter(sep="")
    for i, (label, values) in enumerate(lines):
        present = values.dropna()
        text = formatter(float(present.iloc[-1])) if len(present) else "–"
        top = 0.62 - i * 0.45
        ax.text(0.05, top, text, fontsize=30, transform=ax.transAxes, va="center")
        ax.text(0.05, top - 0.22, label, fontsize=9, transform=ax.transAxes, va="center",
                color="0.35")


def _hours(ax) -> None:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_xlabel("UTC", fontsize=8)
