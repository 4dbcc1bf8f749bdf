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

import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import EngFormatter, MaxNLocator

from helpers import plots
from helpers.errors import MonitoringError
from helpers.monitoring.names import LOGS, NAT

__all__ = ["dashboard_body", "draw", "draw_alarms"]

_AGGREGATE = {"Sum": "sum", "Maximum": "max", "Minimum": "min", "Average": "mean",
              "SampleCount": "count"}


def dashboard_body(nat_gateway_id: str, log_group: str, region: str, *, period: int = 300,
                   start=None, end=None) -> dict:
    """The lesson's ``VPC-Network-Monitoring`` dashboard: three metric widgets.

    - **NAT Gateway Traffic** (line, ``view: timeSeries``): ``BytesInFromSource`` and
      ``BytesOutToDestination`` of ``AWS/NATGateway``, Sum per period.
    - **Flow Logs Volume** (number, ``view: singleValue``): ``IncomingLogEvents`` of the log
      group in ``AWS/Logs`` (the console's "Log Group Metrics"), Sum per period.
    - **Active Connections** (line): ``ActiveConnectionCount``, Maximum (its documented
      statistic: the peak of concurrent connections, not a sum).

    Args:
        period: seconds per datapoint (the lesson's "5 minutes" is 300).
        start, end: the dashboard's time range (datetimes or ISO text); None leaves the
            console's default (the last 3 hours).

    Returns:
        The body as a dict; ``json.dumps`` it for ``PutDashboard``.
    """
    nat = ["NatGatewayId", nat_gateway_id]
    common = {"region": region, "period": period}
    body: dict = {}
    if start is not None:
        body["start"] = _iso(start)
    if end is not None:
        body["end"] = _iso(end)
    body["widgets"] = [
        {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "NAT Gateway Traffic", "view": "timeSeries", "stacked": False,
            "stat": "Sum", **common,
            "metrics": [[NAT, "BytesInFromSource", *nat], [NAT, "BytesOutToDestination", *nat]],
        }},
        {"type": "metric", "x": 12, "y": 0, "width": 6, "height": 6, "properties": {
            "title": "Flow Logs Volume", "view": "singleValue", "stat": "Sum", **common,
            "metrics": [[LOGS, "IncomingLogEvents", "LogGroupName", log_group]],
        }},
        {"type": "metric", "x": 0, "y": 6, "width": 12, "height": 6, "properties": {
            "title": "Active Connections", "view": "timeSeries", "stacked": False,
            "stat": "Maximum", **common,
            "metrics": [[NAT, "ActiveConnectionCount", *nat]],
        }},
    ]
    return body


def _iso(value) -> str:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def draw(body: dict, metrics: pd.DataFrame, *, width: float = 13.0) -> Figure:
    """Render a dashboard body from a metrics frame, laid out like the console's grid.

    Each metric widget is drawn from the tidy frame of :mod:`helpers.monitoring.metrics`
    (per-minute values), aggregated to the widget's ``period`` with its ``stat``: lines for
    ``timeSeries``, the latest period's value for ``singleValue`` (as the console's number
    widget shows). Calls :func:`helpers.plots.setup` for the Hangul-capable font.

    Returns:
        The matplotlib Figure (not shown through pyplot; a notebook displays it once).

    Raises:
        MonitoringError: a widget names a metric the frame does not hold, or the body has no
            widgets.
    """
    widgets = [w for w in body.get("widgets", []) if w.get("type") == "metric"]
    if not widgets:
        raise MonitoringError("the dashboard body has no metric widgets to draw")
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
            ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.set_title(props.get("title", ""), loc="left", fontsize=11)
    return fig


_STATE_COLOURS = {"ALARM": "tab:red", "INSUFFICIENT_DATA": "0.85"}


def draw_alarms(timelines, metrics: pd.DataFrame, *, width: float = 13.0) -> Figure:
    """One panel per alarm: its metric aggregated to the alarm's period, the threshold, and
    the alarm's state as background bands (red ALARM, grey INSUFFICIENT_DATA, none for OK).

    ``timelines`` are :class:`~helpers.monitoring.evaluate.AlarmTimeline` objects; ``metrics``
    is the tidy per-minute frame they were evaluated on.
    """
    plots.setup()
    fig = Figure(figsize=(width, 2.2 * len(timelines)), layout="constrained")
    axes = fig.subplots(len(timelines), 1, sharex=True, squeeze=False)[:, 0]
    for ax, timeline in zip(axes, timelines):
        alarm = timeline.alarm
        entry = [alarm.namespace, alarm.metric, *[x for pair in alarm.dimensions for x in pair]]
        values = _aggregate(metrics, entry, {"stat": alarm.statistic, "period": alarm.period})
        ax.step(values.index.tz_convert(None).to_numpy(), values.fillna(0).to_numpy(),
                where="post", linewidth=1.2, label=f"{alarm.metric} ({alarm.statistic})")
        ax.axhline(alarm.threshold, color="tab:red", linestyle="--", linewidth=1,
                   label=f"threshold {EngFormatter(sep='')(alarm.threshold)}")
        states = timeline.evaluations
        times = pd.to_datetime(states["time"], utc=True).dt.tz_convert(None).to_numpy()
        for i, state in enumerate(states["state"]):
            if state in _STATE_COLOURS and i + 1 < len(times):
                ax.axvspan(times[i], times[i + 1], color=_STATE_COLOURS[state], alpha=0.25,
                           linewidth=0)
        ax.yaxis.set_major_formatter(EngFormatter(sep=""))
        ax.set_ylim(bottom=0)
        ax.set_title(f"{alarm.name}: {timeline.state}", loc="left", fontsize=11)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        _hours(ax)
    return fig


def _entries(metrics_array):
    """(label, [namespace, metric, dim, value, ...]) per metric, resolving "." shorthand."""
    previous: list = []
    for raw in metrics_array:
        items = [x for x in raw if not isinstance(x, dict)]
        full = [previous[i] if item == "." and i < len(previous) else item
                for i, item in enumerate(items)]
        previous = full
        yield full[1], full


def _aggregate(metrics: pd.DataFrame, entry: list, props: dict) -> pd.Series:
    namespace, metric, *dims = entry
    rows = metrics[(metrics["namespace"] == namespace) & (metrics["metric"] == metric)]
    for name, value in zip(dims[0::2], dims[1::2]):
        rows = rows[(rows["dimension"] == name) & (rows["dimension_value"] == value)]
    if rows.empty:
        raise MonitoringError(f"the metrics frame has no {namespace} {metric} "
                              f"{' '.join(map(str, dims))}: compute it first (nat_metrics, "
                              "log_group_metrics) or read it (read_metrics)")
    stat = props.get("stat", "Average")
    if stat not in _AGGREGATE:
        raise MonitoringError(f"cannot draw statistic {stat!r}; drawable: {', '.join(_AGGREGATE)}")
    period = int(props.get("period", 300))
    grouped = rows.set_index("timestamp")["value"].sort_index().resample(f"{period}s",
                                                                         origin="epoch")
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
