"""A local CloudWatch alarm evaluator: the state timeline an alarm would have had, and its e-mails.

The emulator stores alarms but never evaluates them and never notifies SNS, so the course
evaluates them here with CloudWatch's documented semantics
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html and
its sections "Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data"):

- **Period, statistic.** Each datapoint aggregates one period of per-minute values with the
  alarm's statistic. The alarm is evaluated **every minute** over a sliding window: at minute
  *t* its newest datapoint covers [t − Period, t). Each row of a metrics frame is one
  published value (one sample): Sum adds the samples of the period, SampleCount counts them,
  Average is their sum over their count, Minimum and Maximum their extremes.
- **Missing minutes.** A NaN value, like an absent row, is no sample at all, never a zero
  (CloudWatch itself takes no NaN: ``PutMetricData`` refuses it). A period whose minutes are
  all missing has **no datapoint**, for every statistic, and ``TreatMissingData`` decides; a
  period with some missing minutes aggregates the samples that exist (a 5-minute Sum over 3
  reported minutes is the sum of those 3), as CloudWatch computes statistics over the data
  points it received in the period
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Statistic).
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
are formatted one by one (:func:`_reason` says how they follow CloudWatch's wording).
:func:`notification` is the JSON CloudWatch publishes to SNS on a transition to ALARM;
``cloud.publish_alarm`` sends those of a timeline to the emulator's topic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import times
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
REGION_NAMES = {
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "eu-central-1": "EU (Frankfurt)",
    "eu-west-1": "EU (Ireland)", "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)",
}
_FRAME_COLUMNS = ("timestamp", "namespace", "metric", "dimension", "dimension_value", "value")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


# --- arguments ----------------------------------------------------------------------------------


def _whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_alarm(alarm) -> None:
    if not isinstance(alarm, AlarmSpec):
        raise MonitoringError(f"alarm must be an AlarmSpec (e.g. alarms.lesson_alarms(...)[0]), "
                              f"not {type(alarm).__name__}")


def _check_state(arg: str, value) -> None:
    if not isinstance(value, str) or value not in STATES:
        raise MonitoringError(f"{arg} must be one of {', '.join(STATES)}, not {value!r}")


def _datapoint_values(datapoints) -> np.ndarray:
    """The evaluation range's datapoints as floats, NaN for missing (None or NaN)."""
    if isinstance(datapoints, (str, bytes, Mapping, Set)) or not hasattr(datapoints, "__iter__"):
        raise MonitoringError(f"datapoints must be a list of the evaluation range's datapoints, "
                              f"oldest first (numbers, None for missing), not "
                              f"{type(datapoints).__name__}")
    values = []
    for i, v in enumerate(datapoints):
        if v is None or v is pd.NA or v is pd.NaT:
            values.append(math.nan)
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
                v, (bool, np.bool_)):
            if math.isinf(v):
                raise MonitoringError(f"datapoints[{i}] is {v!r}: CloudWatch takes no infinite "
                                      "values; give a number, or None (or NaN) for missing")
            values.append(float(v))
        else:
            raise MonitoringError(f"datapoints[{i}] must be a number, or None (or NaN) for a "
                                  f"missing datapoint, not {v!r}")
    return np.array(values, dtype=float)


# --- the decision -------------------------------------------------------------------------------


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
    n_bad, n_good = bad.sum(axis=1), good.sum(axis=1)
    if r:
        rank = np.cumsum(real[:, ::-1], axis=1)[:, ::-1]  # 1 = the newest real datapoint
        recent_bad = (bad & (rank <= n)).sum(axis=1)
        oldest_bad_age = np.where(bad.any(axis=1), r - bad.argmax(axis=1), 0)
    else:  # no datapoints retrieved at all: every period is missing
        recent_bad = oldest_bad_age = np.zeros(n_rows, dtype=np.int64)

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
        why[premature] = "data"
        state[ok], why[ok] = "OK", "data"
        state[unknown] = "INSUFFICIENT_DATA" if mode == "missing" else _RETAIN
        why[unknown] = "unknown"
    return state, why, real, bad


def evaluate_datapoints(alarm: AlarmSpec, datapoints, current: str = "OK") -> str:
    """One evaluation: the evaluation range's datapoints, oldest first (None or NaN = missing).

    An empty range is an evaluation without datapoints: ``TreatMissingData`` decides, as for
    a range of missing ones.

    Raises:
        MonitoringError: ``alarm`` is not an AlarmSpec, ``current`` not a state, or a
            datapoint neither a finite number nor None/NaN.

    >>> from helpers.monitoring.alarms import AlarmSpec
    >>> alarm = AlarmSpec("demo", "", "Demo", "Errors", "Sum", 300, 3, 0,
    ...                   "GreaterThanThreshold", treat_missing_data="missing")
    >>> evaluate_datapoints(alarm, [0, None, 1, None, 1])   # "0 - X - X": 2 of 3 breach
    'OK'
    >>> evaluate_datapoints(alarm, [None, None, 1, None, None])   # premature ALARM
    'ALARM'
    >>> evaluate_datapoints(alarm, [])   # no datapoints: TreatMissingData=missing
    'INSUFFICIENT_DATA'
    """
    _check_alarm(alarm)
    _check_state("current", current)
    cells = _datapoint_values(datapoints)[None, :]
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
            are ignored), or a Series of per-minute values indexed by UTC timestamps (or
            epoch seconds). NaN values are missing data, not zeros.
        start, end: the time span to evaluate (default: the metric's first minute to one
            minute after its last). Evaluations happen at the end of every minute; a period
            reaching back before ``start`` still aggregates the data there.
        evaluation_range: datapoints retrieved per evaluation (default N + 2).
        initial_state: the state before the first evaluation (a new alarm's is
            INSUFFICIENT_DATA).

    Returns:
        An :class:`AlarmTimeline`.

    Raises:
        MonitoringError: a period under a minute, no data and no span, a bad range or state,
            or ``metrics`` not a metrics frame or Series of numbers.
        TimeValueError: ``start``, ``end`` or the metric's timestamps are not times.
    """
    _check_alarm(alarm)
    if alarm.period % 60:
        raise MonitoringError(f"alarm {alarm.name!r}: the course evaluates periods that are "
                              f"whole minutes, not {alarm.period} s")
    _check_state("initial_state", initial_state)
    n = alarm.evaluation_periods
    if evaluation_range is None:
        r = n + 2
    elif not _whole(evaluation_range) or evaluation_range < n:
        raise MonitoringError(f"evaluation_range ({evaluation_range!r}) must be at least "
                              f"EvaluationPeriods ({n}), a whole number of datapoints")
    else:
        r = int(evaluation_range)
    stats = _minute_stats(alarm, metrics)
    if start is None and stats.empty:
        raise MonitoringError(f"no datapoints of {alarm.namespace} {alarm.metric} "
                              f"{_dims(alarm)}{_held(metrics)}: pass start= and end= to "
                              "evaluate a silence")
    first = times.to_epoch(start, "start") // 60 * 60 if start is not None else \
        int(stats.index.min())
    stop = times.to_epoch(end, "end") if end is not None else int(stats.index.max()) + 60
    if stop < first:
        since = "start" if start is not None else "the metric's first datapoint"
        raise MonitoringError(f"end ({times.iso_z(stop)}) is before {since} "
                              f"({times.iso_z(first)})")
    grid = np.arange(first, max(stop, first + 60), 60)
    w = alarm.period // 60
    lead = r * w  # minutes before the first evaluation that its datapoints reach back to
    minutes = stats.reindex(np.arange(first - lead * 60, int(grid[-1]) + 60, 60))
    rolled = _period_values(alarm.statistic, minutes, w)
    index = lead + np.arange(len(grid))[:, None] - (r - 1 - np.arange(r))[None, :] * w
    cells = rolled[index]
    state, why, real, bad = _decide(alarm, cells)
    decided = np.where(state != _RETAIN, np.arange(len(state)), -1)
    last = np.maximum.accumulate(decided) if len(state) else decided  # "retain": carry forward
    states = np.where(last >= 0, state[np.clip(last, 0, None)], initial_state).astype(object)
    stamps = pd.to_datetime(grid + 60, unit="s", utc=True)
    evaluations = pd.DataFrame({
        "time": stamps, "state": states, "real": real.sum(axis=1),
        "breaching": bad.sum(axis=1),
        "datapoints": [tuple(None if np.isnan(v) else float(v) for v in row) for row in cells],
    })
    previous = np.r_[[initial_state], states[:-1]]
    changed = np.flatnonzero(states != previous)
    transitions = pd.DataFrame({
        "time": stamps[changed], "old_state": previous[changed], "new_state": states[changed],
        "reason": [_reason(alarm, cells[i], why[i], states[i], int(grid[i]) + 60)
                   for i in changed],
    })
    return AlarmTimeline(alarm, evaluations, transitions)


def _minute_stats(alarm: AlarmSpec, metrics) -> pd.DataFrame:
    """The alarm's metric per minute (epoch seconds): sum, count, min and max of its samples.

    NaN values are dropped: a missing sample, not a zero.
    """
    if isinstance(metrics, pd.Series):
        stamps, raw, where = metrics.index, metrics, "the Series index"
    elif isinstance(metrics, pd.DataFrame):
        missing = [c for c in _FRAME_COLUMNS if c not in metrics.columns]
        if missing:
            raise MonitoringError(f"metrics lacks the column{'s' * (len(missing) > 1)} "
                                  f"{', '.join(missing)}: give the tidy frame of "
                                  "metrics.nat_metrics() / log_group_metrics(), or a Series of "
                                  "per-minute values indexed by time")
        rows = metrics[(metrics["namespace"] == alarm.namespace)
                       & (metrics["metric"] == alarm.metric)]
        for name, value in alarm.dimensions:
            rows = rows[(rows["dimension"] == name) & (rows["dimension_value"] == value)]
        if not alarm.dimensions:
            rows = rows[rows["dimension"].isna()]
        stamps, raw, where = rows["timestamp"], rows["value"], "the timestamp column"
    else:
        raise MonitoringError(f"metrics must be the tidy frame of metrics.nat_metrics() / "
                              f"log_group_metrics() or a Series of per-minute values, not "
                              f"{type(metrics).__name__}")
    try:
        values = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as err:
        raise MonitoringError(f"metrics: the values of {alarm.metric} must be numbers ({err})"
                              ) from None
    if np.isinf(values).any():
        raise MonitoringError(f"metrics: {alarm.metric} holds an infinite value; CloudWatch "
                              "takes none (use NaN for a missing minute)")
    seconds = _stamp_seconds(stamps, where)
    present = ~np.isnan(values)
    frame = pd.DataFrame({"minute": seconds[present] // 60 * 60, "value": values[present]})
    return frame.groupby("minute")["value"].agg(["sum", "count", "min", "max"])


def _stamp_seconds(stamps, where: str) -> np.ndarray:
    """Whole epoch seconds of timestamps (numbers are epoch seconds already)."""
    return times.epoch_seconds(stamps, f"metrics: {where}")


def _period_values(statistic: str, minutes: pd.DataFrame, w: int) -> np.ndarray:
    """Each minute's value of the period of ``w`` minutes ending with it; NaN: no samples."""
    roll = minutes.rolling(w, min_periods=1)
    if statistic == "Sum":
        values = roll["sum"].sum()
    elif statistic == "SampleCount":
        values = roll["count"].sum()
    elif statistic == "Average":
        values = roll["sum"].sum() / roll["count"].sum()
    elif statistic == "Minimum":
        values = roll["min"].min()
    else:
        values = roll["max"].max()
    return values.to_numpy(dtype=float)


def _dims(alarm: AlarmSpec) -> str:
    return " ".join(f"{k}={v}" for k, v in alarm.dimensions)


def _held(metrics) -> str:
    """What a metrics frame does hold, to name the mistake when it lacks the alarm's metric."""
    if not isinstance(metrics, pd.DataFrame) or metrics.empty:
        return ""
    held = sorted(set(zip(metrics["namespace"].astype(str), metrics["metric"].astype(str))))
    return " (the frame holds " + ", ".join(f"{ns} {m}" for ns, m in held[:8]) + \
        (", ..." if len(held) > 8 else "") + ")"


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


def _count(k: int, word: str) -> str:
    """"1 datapoint was", "3 datapoints were"."""
    return f"{k} {word}{'s' if k != 1 else ''} {'was' if k == 1 else 'were'}"


def _reason(alarm: AlarmSpec, row: np.ndarray, why: str, new: str, at: int) -> str:
    """CloudWatch's ``NewStateReason`` for a transition to ``new`` decided on ``row``.

    The wording follows the reasons CloudWatch writes (alarm histories and SNS messages):

    - ``Threshold Crossed: 2 out of the last 3 datapoints [5.0 (20/12/21 00:10:00), 7.0 (...)]
      were greater than the threshold (4.0) (minimum 2 datapoints for OK -> ALARM
      transition).`` The count is of the datapoints that decided: for ALARM the breaching
      ones, for OK the ones within the threshold ("were not greater than", minimum 1); the
      bracket lists exactly those, newest first, each stamped with its period's start; "the
      last N" is always EvaluationPeriods, even when fewer datapoints were real. The
      transition is always written ``OK -> ALARM`` / ``ALARM -> OK``, whatever the old state.
    - With ``breaching``/``notBreaching`` filling in: ``... the threshold (1.0) and 19 missing
      datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM
      transition).``; when the real datapoints did not decide, ``1 datapoint was received for
      3 periods and 2 missing datapoints were treated as [Breaching].``; with none at all,
      ``no datapoints were received for 2 periods and 2 missing datapoints were treated as
      [Breaching].``
    - INSUFFICIENT_DATA: ``Insufficient Data: 3 datapoints were unknown.`` (the missing ones).
    """
    n, m = alarm.evaluation_periods, alarm.m
    treated = {"breaching": "Breaching", "notBreaching": "NonBreaching"}.get(
        alarm.treat_missing_data)
    period, r = alarm.period, len(row)
    present = [(at - (r - j) * period, float(v)) for j, v in enumerate(row) if not np.isnan(v)]
    evaluated = present[::-1][:n]  # newest first, as CloudWatch lists them
    missing = n - len(evaluated)
    if why == "none":
        if treated:
            return (f"Threshold Crossed: no datapoints were received for {n} "
                    f"period{'s' if n != 1 else ''} and {_count(n, 'missing datapoint')} "
                    f"treated as [{treated}].")
        return f"Insufficient Data: {_count(n, 'datapoint')} unknown."
    if why == "unknown":
        return f"Insufficient Data: {_count(missing, 'datapoint')} unknown."
    breaching = _breaches(alarm, np.array([v for _, v in evaluated]))
    chosen = [p for p, b in zip(evaluated, breaching) if b == (new == "ALARM")]
    tail = f" and {_count(missing, 'missing datapoint')} treated as [{treated}]" \
        if why == "filled" and missing else ""
    if not chosen:  # only the filled-in datapoints decided
        return (f"Threshold Crossed: {_count(len(evaluated), 'datapoint')} received for {n} "
                f"period{'s' if n != 1 else ''}{tail}.")
    listing = ", ".join(f"{_number(v)} ({pd.Timestamp(t, unit='s'):%d/%m/%y %H:%M:%S})"
                        for t, v in chosen)
    verb = "was" if len(chosen) == 1 else "were"
    words = _WORDS[alarm.comparison] if new == "ALARM" else "not " + _WORDS[alarm.comparison]
    minimum, transition = (m, "OK -> ALARM") if new == "ALARM" else (1, "ALARM -> OK")
    return (f"Threshold Crossed: {len(chosen)} out of the last {n} datapoints [{listing}] "
            f"{verb} {words} the threshold ({_number(alarm.threshold)}){tail} (minimum "
            f"{minimum} datapoint{'s' if minimum != 1 else ''} for {transition} transition).")


def _field(transition, name: str):
    if isinstance(transition, Mapping):
        if name in transition:
            return transition[name]
    elif hasattr(transition, name):
        return getattr(transition, name)
    raise MonitoringError(f"transition must be a row of AlarmTimeline.transitions (time, "
                          f"old_state, new_state, reason); this {type(transition).__name__} "
                          f"has no {name!r}")


def notification(alarm: AlarmSpec, transition, *, account_id: str, region: str,
                 actions=()) -> dict:
    """The JSON message CloudWatch publishes to an alarm's SNS topic on a state change.

    ``transition`` is a row of :attr:`AlarmTimeline.transitions` (time, old_state,
    new_state, reason), or a dict with those keys. Field names and shapes follow the
    notifications CloudWatch sends (``Trigger`` with ``Statistic`` in capitals and
    ``Dimensions`` as ``name``/``value``).

    Raises:
        MonitoringError: a wrong alarm, transition, account ID, Region or action list.
        TimeValueError: the transition's time is not a time.
    """
    _check_alarm(alarm)
    when = times.to_timestamp(_field(transition, "time"), "transition time")
    old, new = _field(transition, "old_state"), _field(transition, "new_state")
    _check_state("transition old_state", old)
    _check_state("transition new_state", new)
    reason = _field(transition, "reason")
    if not isinstance(reason, str):
        raise MonitoringError(f"transition reason must be text, not {type(reason).__name__}")
    if not isinstance(account_id, str) or not re.fullmatch(r"\d{12}", account_id):
        raise MonitoringError(f"account_id must be an AWS account ID, twelve digits such as "
                              f"'123456789012' (cloud.account_id), not {account_id!r}")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise MonitoringError(f"region must be an AWS Region code such as 'ap-northeast-2' "
                              f"(cloud.region), not {region!r}")
    if isinstance(actions, str) or not isinstance(actions, (list, tuple)) or not all(
            isinstance(a, str) for a in actions):
        raise MonitoringError(f"actions must be a list of ARNs (text), such as the SNS topic's, "
                              f"not {actions!r}")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": stamp,
        "NewStateValue": new,
        "NewStateReason": reason,
        "StateChangeTime": stamp,
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{alarm.name}",
        "OldStateValue": old,
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
            "Period": int(alarm.period),
            "EvaluationPeriods": int(alarm.evaluation_periods),
            "DatapointsToAlarm": int(alarm.m),
            "ComparisonOperator": alarm.comparison,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        },
    }
