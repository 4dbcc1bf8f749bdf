"""A local CloudWatch alarm evaluator: the state timeline an alarm would have had, and its e-mails.

The emulator stores alarms but never evaluates them and never notifies SNS, so the course
evaluates them here with CloudWatch's documented semantics
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html and
its sections "Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data"):

- **Period, statistic.** Each datapoint aggregates one period of per-minute values with the
  alarm's statistic. The alarm is evaluated **every minute** over a sliding window: at minute
  *t* its newest datapoint covers [t − Period, t).
- **Evaluation range.** Each evaluation retrieves more datapoints than ``EvaluationPeriods``
  (N): the doc's example retrieves 5 for N = 3. AWS does not publish the rule; the course uses
  N + 2 (change it with ``evaluation_range``).
- **M out of N.** The alarm goes to ALARM when at least ``DatapointsToAlarm`` (M) of the N
  datapoints evaluated breach, otherwise OK. The comparison is one of
  ``GreaterThanThreshold``, ``GreaterThanOrEqualToThreshold``, ``LessThanThreshold``,
  ``LessThanOrEqualToThreshold``.
- **Missing data.** With at least N real datapoints in the range, the N most recent real ones
  are evaluated and ``TreatMissingData`` is not needed. With none, the alarm goes to
  INSUFFICIENT_DATA (``missing``), keeps its state (``ignore``), ALARM (``breaching``) or OK
  (``notBreaching``). With some but fewer than N, ``breaching``/``notBreaching`` fill the gap
  with breaching/good datapoints; ``missing`` and ``ignore`` evaluate what exists: ALARM if M
  of them breach; else OK if any of them is good; else (only breaching ones, fewer than M) the
  premature-alarm rule: ALARM when the oldest breaching datapoint is at least M periods old
  (``ignore``: keep the state), otherwise INSUFFICIENT_DATA (``ignore``: keep the state). This
  reproduces every row of the doc's two tables; ``tests/test_monitoring_evaluate.py`` encodes
  them.

Everything is vectorised over the evaluation times; only the reasons of the (few) transitions
are formatted one by one. :func:`notification` is the JSON CloudWatch publishes to SNS on a
transition to ALARM; ``cloud.publish_alarm`` sends those of a timeline to the emulator's topic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import MonitoringError
from helpers.monitoring.alarms import AlarmSpec

__all__ = [
    "AlarmTimeline",
    "STATES",
    "evaluate_alarm",
    "evaluate_datapoints",
    "notification",
]

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_RETAIN = ""
_ROLL = {"Sum": "sum", "Maximum": "max", "Minimum": "min", "Average": "mean",
         "SampleCount": "count"}
REGION_NAMES = {
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "eu-central-1": "EU (Frankfurt)",
    "eu-west-1": "EU (Ireland)", "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)",
}


def _breaches(alarm: AlarmSpec, values: np.ndarray) -> np.ndarray:
    t = float(alarm.threshold)
    with np.errstate(invalid="ignore"):
        return {"GreaterThanThreshold": values > t, "GreaterThanOrEqualToThreshold": values >= t,
                "LessThanThreshold": values < t,
                "LessThanOrEqualToThreshold": values <= t}[alarm.comparison]


def _decide(alarm: AlarmSpec, cells: np.ndarray):
    """New state per row of ``cells`` (rows: evaluations; columns: the evaluation range,
    oldest first, NaN = missing). ``""`` means "keep the current state". Also returns why."""
    n_rows, r = cells.shape
    n, m, mode = alarm.evaluation_periods, alarm.m, alarm.treat_missing_data
    real = ~np.isnan(cells)
    bad = real & _breaches(alarm, cells)
    good = real & ~bad
    k = real.sum(axis=1)
    rank = np.cumsum(real[:, ::-1], axis=1)[:, ::-1]  # 1 = the newest real datapoint
    recent_bad = (bad & (rank <= n)).sum(axis=1)
    n_bad, n_good = bad.sum(axis=1), good.sum(axis=1)
    oldest_bad_age = np.where(bad.any(axis=1), r - bad.argmax(axis=1), 0)

    state = np.full(n_rows, _RETAIN, dtype=object)
    why = np.full(n_rows, "", dtype=object)
    full, empty, some = k >= n, k == 0, (k > 0) & (k < n)

    state[full] = np.where(recent_bad[full] >= m, "ALARM", "OK")
    why[full] = "data"
    state[empty] = {"missing": "INSUFFICIENT_DATA", "ignore": _RETAIN, "breaching": "ALARM",
                    "notBreaching": "OK"}[mode]
    why[empty] = "none"
    if mode in ("breaching", "notBreaching"):
        filled = n_bad + (n - k if mode == "breaching" else 0)
        state[some] = np.where(filled[some] >= m, "ALARM", "OK")
        why[some] = "filled"
    else:
        enough = some & (n_bad >= m)
        premature = some & ~enough & (n_good == 0) & (oldest_bad_age >= m)
        ok = some & ~enough & ~premature & (n_good > 0)
        unknown = some & ~enough & ~premature & ~ok
        state[enough], why[enough] = "ALARM", "data"
        state[premature] = "ALARM" if mode == "missing" else _RETAIN
        why[premature] = "premature"
        state[ok], why[ok] = "OK", "data"
        state[unknown] = "INSUFFICIENT_DATA" if mode == "missing" else _RETAIN
        why[unknown] = "unknown"
    return state, why, real, bad


def evaluate_datapoints(alarm: AlarmSpec, datapoints, current: str = "OK") -> str:
    """One evaluation: the evaluation range's datapoints, oldest first (None = missing).

    >>> from helpers.monitoring.alarms import AlarmSpec
    >>> alarm = AlarmSpec("demo", "", "Demo", "Errors", "Sum", 300, 3, 0,
    ...                   "GreaterThanThreshold", treat_missing_data="missing")
    >>> evaluate_datapoints(alarm, [0, None, 1, None, 1])   # "0 - X - X": 2 of 3 breach
    'OK'
    >>> evaluate_datapoints(alarm, [None, None, 1, None, None])   # premature ALARM
    'ALARM'
    """
    if current not in STATES:
        raise MonitoringError(f"current must be one of {', '.join(STATES)}, not {current!r}")
    cells = np.array([[np.nan if v is None else float(v) for v in datapoints]], dtype=float)
    state = _decide(alarm, cells)[0][0]
    return current if state == _RETAIN else state


@dataclass
class AlarmTimeline:
    """An alarm's evaluations, one a minute, and its state transitions."""

    alarm: AlarmSpec
    evaluations: pd.DataFrame  # time, state, real, breaching, datapoints (oldest first)
    transitions: pd.DataFrame  # time, old_state, new_state, reason

    @property
    def state(self) -> str:
        """The state after the last evaluation."""
        return str(self.evaluations["state"].iloc[-1]) if len(self.evaluations) else \
            "INSUFFICIENT_DATA"

    def notifications(self, *, account_id: str, region: str, actions=()) -> list[dict]:
        """The SNS messages CloudWatch sends: one per transition to ALARM."""
        return [notification(self.alarm, row, account_id=account_id, region=region,
                             actions=actions)
                for row in self.transitions.itertuples(index=False)
                if row.new_state == "ALARM"]


def evaluate_alarm(alarm: AlarmSpec, metrics, *, start=None, end=None,
                   evaluation_range: int | None = None,
                   initial_state: str = "INSUFFICIENT_DATA") -> AlarmTimeline:
    """Evaluate an alarm every minute over per-minute metric values.

    Args:
        alarm: the alarm (:class:`~helpers.monitoring.alarms.AlarmSpec`).
        metrics: the tidy frame of :mod:`helpers.monitoring.metrics` (rows of other metrics
            are ignored), or a Series of per-minute values indexed by UTC timestamps.
        start, end: the time span to evaluate (default: the metric's first minute to one
            minute after its last). Evaluations happen at the end of every minute.
        evaluation_range: datapoints retrieved per evaluation (default N + 2).
        initial_state: the state before the first evaluation (a new alarm's is
            INSUFFICIENT_DATA).

    Returns:
        An :class:`AlarmTimeline`.

    Raises:
        MonitoringError: a period under a minute, no data and no span, or a bad range.
    """
    if alarm.period % 60:
        raise MonitoringError(f"alarm {alarm.name!r}: the course evaluates periods that are "
                              f"whole minutes, not {alarm.period} s")
    if initial_state not in STATES:
        raise MonitoringError(f"initial_state must be one of {', '.join(STATES)}")
    r = evaluation_range or alarm.evaluation_periods + 2
    if r < alarm.evaluation_periods:
        raise MonitoringError(f"evaluation_range ({r}) must be at least EvaluationPeriods "
                              f"({alarm.evaluation_periods})")
    values = _minutes(alarm, metrics)
    if start is None and values.empty:
        raise MonitoringError(f"no datapoints of {alarm.namespace} {alarm.metric} "
                              f"{_dims(alarm)}: pass start= and end= to evaluate a silence")
    first = _epoch(start) // 60 * 60 if start is not None else int(values.index.min())
    stop = _epoch(end) if end is not None else int(values.index.max()) + 60
    grid = np.arange(first, max(stop, first + 60), 60)
    per_minute = values.reindex(grid)
    w = alarm.period // 60
    rolled = per_minute.rolling(w, min_periods=1).agg(_ROLL[alarm.statistic]).to_numpy()
    if alarm.statistic == "SampleCount":
        rolled = np.where(rolled > 0, rolled, np.nan)
    index = np.arange(len(grid))[:, None] - (r - 1 - np.arange(r))[None, :] * w
    cells = np.where(index >= 0, rolled[np.clip(index, 0, None)], np.nan)
    state, why, real, bad = _decide(alarm, cells)
    decided = np.where(state != _RETAIN, np.arange(len(state)), -1)
    last = np.maximum.accumulate(decided) if len(state) else decided  # "retain": carry forward
    states = np.where(last >= 0, state[np.clip(last, 0, None)], initial_state).astype(object)
    times = pd.to_datetime(grid + 60, unit="s", utc=True)
    evaluations = pd.DataFrame({
        "time": times, "state": states, "real": real.sum(axis=1),
        "breaching": bad.sum(axis=1),
        "datapoints": [tuple(None if np.isnan(v) else float(v) for v in row) for row in cells],
    })
    previous = np.r_[[initial_state], states[:-1]]
    changed = np.flatnonzero(states != previous)
    transitions = pd.DataFrame({
        "time": times[changed], "old_state": previous[changed], "new_state": states[changed],
        "reason": [_reason(alarm, cells[i], why[i], previous[i], states[i], int(grid[i]) + 60)
                   for i in changed],
    })
    return AlarmTimeline(alarm, evaluations, transitions)


def _minutes(alarm: AlarmSpec, metrics) -> pd.Series:
    """The alarm's metric as per-minute values indexed by epoch seconds."""
    if isinstance(metrics, pd.Series):
        stamps, values = metrics.index, metrics.to_numpy(dtype=float)
    else:
        rows = metrics[(metrics["namespace"] == alarm.namespace)
                       & (metrics["metric"] == alarm.metric)]
        for name, value in alarm.dimensions:
            rows = rows[(rows["dimension"] == name) & (rows["dimension_value"] == value)]
        if not alarm.dimensions:
            rows = rows[rows["dimension"].isna()]
        stamps, values = rows["timestamp"], rows["value"].to_numpy(dtype=float)
    seconds = _seconds(stamps) // 60 * 60
    frame = pd.Series(values, index=seconds)
    how = {"Sum": "sum", "Maximum": "max", "Minimum": "min", "Average": "mean",
           "SampleCount": "sum"}[alarm.statistic]
    return frame.groupby(level=0).agg(how).sort_index()


def _seconds(stamps) -> np.ndarray:
    """Epoch seconds of timestamps, whatever their pandas resolution."""
    utc = pd.to_datetime(pd.Series(stamps), utc=True)
    return ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _epoch(value) -> int:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return int(value)
    stamp = pd.Timestamp(value)
    return int((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp())


def _dims(alarm: AlarmSpec) -> str:
    return " ".join(f"{k}={v}" for k, v in alarm.dimensions)


# --- reasons and notifications ----------------------------------------------------------------

_WORDS = {"GreaterThanThreshold": "greater than", "GreaterThanOrEqualToThreshold":
          "greater than or equal to", "LessThanThreshold": "less than",
          "LessThanOrEqualToThreshold": "less than or equal to"}


def _number(x: float) -> str:
    """A number as CloudWatch's reasons print it (Java's Double.toString)."""
    x = float(x)
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-3):
        mantissa, exponent = np.format_float_scientific(x, unique=True, trim="0").split("e")
        mantissa = mantissa if "." in mantissa and not mantissa.endswith(".") else \
            mantissa.rstrip(".") + ".0"
        return f"{mantissa}E{int(exponent)}"
    text = repr(x)
    return text if "." in text or "e" in text else text + ".0"


def _reason(alarm: AlarmSpec, row: np.ndarray, why: str, old: str, new: str, at: int) -> str:
    n, m, r = alarm.evaluation_periods, alarm.m, len(row)
    period = alarm.period
    if why == "none":
        treated = {"breaching": "Breaching", "notBreaching": "NonBreaching"}.get(
            alarm.treat_missing_data)
        plural = "s" if n > 1 else ""
        if treated:
            return (f"Threshold Crossed: no datapoints were received for {n} period{plural} and "
                    f"{n} missing datapoint{plural} {'were' if n > 1 else 'was'} treated as "
                    f"[{treated}].")
        return f"Insufficient Data: {n} datapoint{plural} {'were' if n > 1 else 'was'} unknown."
    present = [(at - (r - j) * period, v) for j, v in enumerate(row) if not np.isnan(v)]
    shown = present[::-1][:n]  # newest first, as CloudWatch lists them
    listing = ", ".join(f"{_number(v)} ({pd.Timestamp(t, unit='s'):%d/%m/%y %H:%M:%S})"
                        for t, v in shown)
    words = _WORDS[alarm.comparison]
    threshold = _number(alarm.threshold)
    if why == "unknown":
        return (f"Insufficient Data: {len(present)} datapoint{'s' if len(present) > 1 else ''} "
                f"[{listing}] {'are' if len(present) > 1 else 'is'} not enough to evaluate "
                f"{m} out of {n} (the rest were missing).")
    if why == "premature":
        return (f"Threshold Crossed: the oldest breaching datapoint [{listing}] is at least {m} "
                f"period{'s' if m > 1 else ''} old and no newer datapoint is within the "
                f"threshold ({threshold}) (premature transition rule).")
    breaching = int(_breaches(alarm, np.array([v for _, v in shown])).sum())
    if why == "filled":
        missing = n - len(shown)
        treated = "Breaching" if alarm.treat_missing_data == "breaching" else "NonBreaching"
        return (f"Threshold Crossed: {len(shown)} datapoint{'s' if len(shown) > 1 else ''} "
                f"[{listing}] and {missing} missing datapoint{'s' if missing > 1 else ''} "
                f"treated as [{treated}] were evaluated against the threshold ({threshold}) "
                f"(minimum {m} datapoint{'s' if m > 1 else ''} for {old} -> {new} transition).")
    if new == "ALARM":
        return (f"Threshold Crossed: {breaching} out of the last {n} datapoints [{listing}] "
                f"{'were' if breaching > 1 else 'was'} {words} the threshold ({threshold}) "
                f"(minimum {m} datapoint{'s' if m > 1 else ''} for {old} -> ALARM transition).")
    return (f"Threshold Crossed: {n - breaching} out of the last {n} datapoints [{listing}] "
            f"{'were' if n - breaching > 1 else 'was'} not {words} the threshold "
            f"({threshold}) (minimum 1 datapoint for {old} -> OK transition).")


def notification(alarm: AlarmSpec, transition, *, account_id: str, region: str,
                 actions=()) -> dict:
    """The JSON message CloudWatch publishes to an alarm's SNS topic on a state change.

    ``transition`` is a row of :attr:`AlarmTimeline.transitions` (time, old_state,
    new_state, reason). Field names and shapes follow the notifications CloudWatch sends
    (``Trigger`` with ``Statistic`` in capitals and ``Dimensions`` as ``name``/``value``).
    """
    when = pd.Timestamp(transition.time)
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": stamp,
        "NewStateValue": transition.new_state,
        "NewStateReason": transition.reason,
        "StateChangeTime": stamp,
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{alarm.name}",
        "OldStateValue": transition.old_state,
        "OKActions": [],
        "AlarmActions": list(actions),
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": alarm.metric,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": alarm.statistic.upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": v, "name": k} for k, v in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.m,
            "ComparisonOperator": alarm.comparison,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        },
    }
