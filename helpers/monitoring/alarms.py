"""The lesson's alarms (실습 2), configured correctly, and the metric filter the reject alarm needs.

Pure configuration first: :class:`AlarmSpec` and :class:`MetricFilterSpec` are frozen values
that say exactly what ``PutMetricAlarm`` and ``PutMetricFilter`` receive, checked against the
API's rules; :func:`lesson_alarms` and :func:`rejects_filter` build the lesson's.
``cloud.create_alarms`` and ``cloud.create_metric_filter`` (:mod:`helpers.aws.cloudwatch`)
create them in the emulator or a real account.

What the lesson leaves out, and the specs put right:

- ``FlowLogs-Missing`` watches ``IncomingLogEvents`` (namespace ``AWS/Logs``) for a value below
  1. When flow logs stop, CloudWatch Logs publishes *no* datapoint at all, not a zero, and with
  the default ``TreatMissingData=missing`` an alarm without datapoints goes to
  INSUFFICIENT_DATA, never to ALARM. It needs ``TreatMissingData="breaching"``.
- "높은 거부율 (> 100회/분)" needs a metric first: a metric filter on the log group turns every
  REJECT record into a count in a custom namespace (``AWS/`` namespaces are reserved).
- The NAT gateway's namespace is ``AWS/NATGateway``, not ``AWS/NatGateway``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.errors import MonitoringError
from helpers.monitoring import names
from helpers.monitoring.filter_patterns import (
    compile_pattern,
    metric_datapoints,
    parse_metric_value,
)
from helpers.monitoring.names import LOGS, NAT

__all__ = [
    "AlarmSpec",
    "COMPARISONS",
    "MetricFilterSpec",
    "REJECTS_PATTERN",
    "STATISTICS",
    "TREAT_MISSING",
    "UNITS",
    "lesson_alarms",
    "rejects_filter",
]

COMPARISONS = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold")
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
         "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
         "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
         "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
         "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
"""CloudWatch's units (``StandardUnit``), the values ``Unit`` and ``unit`` may take."""
GIB = 1024 ** 3
MAX_DIMENSIONS = 30  # PutMetricAlarm: at most 30 dimensions
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOG_GROUP = re.compile(r"[.\-_/#A-Za-z0-9]+")

REJECTS_PATTERN = ("[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, "
                   "protocol, packets, bytes, start, end, action=\"REJECT\", log_status]")
"""A space-delimited filter pattern for default-format flow-log records whose action is REJECT.

The names in the brackets are labels for the positions, chosen freely (a pattern may call the
eleventh field anything); they are the flow-log fields' own names, with ``_`` for ``-`` since a
pattern name takes only letters, digits and ``_``. Only ``action`` is tested."""


# --- checks shared by the specs ----------------------------------------------------------------


def _whole(value) -> bool:
    """A whole number as the APIs' integer parameters take it: not a bool, not a float."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _finite(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and math.isfinite(value))


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(problems: list, arg: str, value, low: int, high: int, *, ascii_only: bool = False,
          nonblank: bool = False, not_first: str = "", forbidden: str = "",
          pattern: re.Pattern | None = None, rule: str = "", control: bool = True) -> bool:
    """Append what is wrong with a text argument to ``problems``; True when it is fine."""
    if not isinstance(value, str):
        problems.append(f"{arg} must be text, not {type(value).__name__} {_shown(value)}")
        return False
    before = len(problems)
    if not low <= len(value) <= high:
        size = f"at most {high}" if low == 0 else f"{low} to {high}"
        problems.append(f"{arg} must be {size} characters long, not {len(value)} "
                        f"({_shown(value)})")
    found = _CONTROL.search(value) if control else None
    if found:
        problems.append(f"{arg} {_shown(value)} has a control character "
                        f"({found.group()!r}) at position {found.start() + 1}")
    if ascii_only and not value.isascii():
        odd = next(c for c in value if not c.isascii())
        problems.append(f"{arg} {_shown(value)} must be ASCII text (found {odd!r})")
    if nonblank and value and not value.strip():
        problems.append(f"{arg} must contain a character other than whitespace")
    if not_first and value[:1] in not_first:
        problems.append(f"{arg} {_shown(value)} may not start with {value[0]!r}")
    bad = sorted({c for c in value if c in forbidden})
    if bad:
        problems.append(f"{arg} {_shown(value)} may not contain {', '.join(map(repr, bad))}")
    if pattern is not None and value and not pattern.fullmatch(value):
        problems.append(f"{arg} {_shown(value)} {rule}")
    return len(problems) == before


def _choice(problems: list, arg: str, value, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        close = difflib.get_close_matches(value, allowed, n=1) if isinstance(value, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"{arg} must be one of {', '.join(allowed)}, not {_shown(value)}{hint}")


def _dimensions(problems: list, value) -> tuple[tuple[str, str], ...]:
    """``dimensions`` as a tuple of (name, value) pairs, checked as PutMetricAlarm does."""
    if isinstance(value, Mapping):
        value = tuple(value.items())
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        problems.append(f"dimensions must be (name, value) pairs such as "
                        f"(('NatGatewayId', 'nat-0a1b...'),), not {_shown(value)}")
        return ()
    pairs = []
    for i, pair in enumerate(value):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            one = (" (one dimension is written (('Name', 'value'),), with a trailing comma)"
                   if isinstance(pair, str) else "")
            problems.append(f"dimensions[{i}] must be a (name, value) pair, not "
                            f"{_shown(pair)}{one}")
            continue
        name, val = pair
        _text(problems, f"dimensions[{i}] name", name, 1, 255, ascii_only=True, nonblank=True,
              not_first=":")
        _text(problems, f"dimensions[{i}] value", val, 1, 1024, ascii_only=True, nonblank=True)
        pairs.append((name, val))
    if len(value) > MAX_DIMENSIONS:
        problems.append(f"dimensions: at most {MAX_DIMENSIONS} dimensions, not {len(value)}")
    seen = [n for n, _ in pairs]
    twice = sorted({n for n in seen if isinstance(n, str) and seen.count(n) > 1})
    if twice:
        problems.append(f"dimensions name {', '.join(map(repr, twice))} more than once")
    return tuple(pairs)


@dataclass(frozen=True)
class AlarmSpec:
    """A metric alarm as ``PutMetricAlarm`` takes it, checked as the API checks it.

    The rules of https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    (and ``StandardUnit``, ``Dimension``):

    - ``name``: 1-255 characters, UTF-8 without ASCII control characters (so Hangul is
      fine); ``description``: at most 1,024.
    - ``namespace``: 1-255 characters, not starting with ``:``; ``metric``: 1-255.
    - ``period``: whole seconds, 10, 20, 30 or a multiple of 60; ``evaluation_periods`` (N)
      and ``datapoints_to_alarm`` (M): whole numbers, 1 ≤ M ≤ N; period × N at most seven
      days (604,800 s), and at most one day (86,400 s) for periods under an hour.
    - ``threshold``: a finite number (a ``double``; JSON has no NaN or infinity).
    - ``dimensions``: at most 30 (name, value) pairs; names 1-255 ASCII characters, not
      starting with ``:``; values 1-1,024 ASCII characters; neither all whitespace.
    - ``unit``: one of :data:`UNITS`, or None (the API's advice: leave it out).

    Every problem is reported at once, in one :class:`~helpers.errors.MonitoringError` that
    names the alarm and each argument. ``dimensions`` may be given as a list or a dict; it is
    stored as a tuple of pairs.
    """

    name: str
    description: str
    namespace: str
    metric: str
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    datapoints_to_alarm: int | None = None  # None: equal to evaluation_periods
    treat_missing_data: str = "missing"
    dimensions: tuple[tuple[str, str], ...] = ()
    unit: str | None = None

    def __post_init__(self):
        problems: list[str] = []
        _text(problems, "name", self.name, 1, 255)
        _text(problems, "description", self.description, 0, 1024, control=False)
        _text(problems, "namespace", self.namespace, 1, 255, not_first=":")
        _text(problems, "metric", self.metric, 1, 255, control=False)
        _choice(problems, "statistic", self.statistic, STATISTICS)
        _choice(problems, "comparison", self.comparison, COMPARISONS)
        _choice(problems, "treat_missing_data", self.treat_missing_data, TREAT_MISSING)
        period_ok = _whole(self.period) and (self.period in (10, 20, 30) or (
            self.period >= 60 and self.period % 60 == 0))
        if not period_ok:
            problems.append(f"period must be 10, 20, 30 or a multiple of 60 seconds (a whole "
                            f"number), not {_shown(self.period)}")
        n_ok = _whole(self.evaluation_periods) and self.evaluation_periods >= 1
        if not n_ok:
            problems.append(f"evaluation_periods (N) must be a whole number of at least 1, not "
                            f"{_shown(self.evaluation_periods)}")
        m = self.datapoints_to_alarm
        if m is not None and not (_whole(m) and m >= 1 and (not n_ok
                                                            or m <= self.evaluation_periods)):
            top = f"evaluation_periods (N = {self.evaluation_periods})" if n_ok else "N"
            problems.append(f"datapoints_to_alarm (M) must be between 1 and {top}, a whole "
                            f"number (or None for M = N), not {_shown(m)}")
        if period_ok and n_ok:
            span = self.period * self.evaluation_periods
            if span > 604_800:
                problems.append(f"period × evaluation_periods may not exceed seven days "
                                f"(604,800 s), not {span:,} s")
            elif self.period < 3600 and span > 86_400:
                problems.append(f"period × evaluation_periods may not exceed one day (86,400 s) "
                                f"for periods under an hour, not {span:,} s")
        if not _finite(self.threshold):
            problems.append(f"threshold must be a finite number, not {_shown(self.threshold)}")
        object.__setattr__(self, "dimensions", _dimensions(problems, self.dimensions))
        if self.unit is not None:
            _choice(problems, "unit", self.unit, UNITS)
        if problems:
            raise MonitoringError(f"alarm {_shown(self.name)}: " + "; ".join(problems))

    @property
    def m(self) -> int:
        """Datapoints to alarm (M of "M out of N")."""
        return self.evaluation_periods if self.datapoints_to_alarm is None else \
            self.datapoints_to_alarm

    def to_api(self, actions: tuple[str, ...] | list[str] = ()) -> dict:
        """The keyword arguments of ``put_metric_alarm`` (without tags).

        Raises:
            MonitoringError: ``actions`` is not a list of at most 5 ARNs (PutMetricAlarm's
                ``AlarmActions``: 0-5 items of 1-1,024 characters).
        """
        if isinstance(actions, str) or not isinstance(actions, (list, tuple)):
            raise MonitoringError(f"alarm {self.name!r}: actions must be a list of ARNs such as "
                                  f"[topic_arn], not {_shown(actions)}")
        problems: list[str] = []
        for i, arn in enumerate(actions):
            _text(problems, f"actions[{i}]", arn, 1, 1024)
        if len(actions) > 5:
            problems.append(f"actions: at most 5 ARNs, not {len(actions)}")
        if problems:
            raise MonitoringError(f"alarm {self.name!r}: " + "; ".join(problems))
        args = dict(AlarmName=self.name, AlarmDescription=self.description,
                    ActionsEnabled=True, AlarmActions=list(actions), Namespace=self.namespace,
                    MetricName=self.metric, Statistic=self.statistic, Period=int(self.period),
                    EvaluationPeriods=int(self.evaluation_periods), DatapointsToAlarm=int(self.m),
                    Threshold=float(self.threshold), ComparisonOperator=self.comparison,
                    TreatMissingData=self.treat_missing_data,
                    Dimensions=[{"Name": k, "Value": v} for k, v in self.dimensions])
        if self.unit:
            args["Unit"] = self.unit
        return args


@dataclass(frozen=True)
class MetricFilterSpec:
    """A metric filter as ``PutMetricFilter`` takes it: pattern → one metric transformation.

    Every matching event adds ``value`` to the metric; a minute with events but no match reports
    ``default_value`` (0 keeps the metric continuous while logs arrive)
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MetricFilters.html).

    Checked as the API checks it
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html,
    ``MetricTransformation``): ``name`` 1-512 characters without ``:`` or ``*``; ``log_group``
    1-512 of ``a-zA-Z0-9_-./#``; ``pattern`` at most 1,024 characters and well formed;
    ``namespace`` and ``metric`` 1-255 characters without ``:``, ``*`` or ``$`` (and the
    namespace not under the reserved ``AWS/``); ``value`` a number or a ``$field`` the pattern
    names (:func:`~helpers.monitoring.filter_patterns.parse_metric_value`), at most 100
    characters; ``default_value`` a finite number or None; ``unit`` one of :data:`UNITS`.
    A numeric ``value`` is stored as text, as the API takes it.
    """

    name: str
    log_group: str
    pattern: str
    namespace: str
    metric: str
    value: str = "1"
    default_value: float | None = 0.0
    unit: str = "Count"
    compiled: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        problems: list[str] = []
        _text(problems, "name", self.name, 1, 512, forbidden=":*", control=False)
        _text(problems, "log_group", self.log_group, 1, 512, pattern=_LOG_GROUP,
              rule="may hold only letters, digits and _ - . / #")
        _text(problems, "pattern", self.pattern, 0, 1024, control=False)
        if _text(problems, "namespace", self.namespace, 1, 255, forbidden=":*$") \
                and self.namespace.startswith("AWS/"):
            problems.append(f"namespace {self.namespace!r} starts with AWS/, which is reserved "
                            "for AWS's services; use your own, e.g. 'Day5-3/FlowLogs'")
        _text(problems, "metric", self.metric, 1, 255, forbidden=":*$", control=False)
        if self.default_value is not None and not _finite(self.default_value):
            problems.append(f"default_value must be a finite number or None, not "
                            f"{_shown(self.default_value)}")
        _choice(problems, "unit", self.unit, UNITS)
        if problems:
            raise MonitoringError(f"metric filter {_shown(self.name)}: " + "; ".join(problems))
        compiled = compile_pattern(self.pattern)
        try:
            kind, _ = parse_metric_value(compiled, self.value)
        except MonitoringError as err:
            raise MonitoringError(f"metric filter {self.name!r}: {err}") from None
        if kind == "number" and not isinstance(self.value, str):
            object.__setattr__(self, "value", repr(self.value) if isinstance(
                self.value, (float, np.floating)) else str(int(self.value)))
        object.__setattr__(self, "compiled", compiled)

    def to_api(self) -> dict:
        """The keyword arguments of ``put_metric_filter``."""
        transformation = {"metricName": self.metric, "metricNamespace": self.namespace,
                          "metricValue": self.value, "unit": self.unit}
        if self.default_value is not None:
            transformation["defaultValue"] = float(self.default_value)
        return dict(logGroupName=self.log_group, filterName=self.name,
                    filterPattern=self.pattern, metricTransformations=[transformation])

    def datapoints(self, events: pd.DataFrame) -> pd.DataFrame:
        """The metric this filter publishes for log events (``timestamp`` ms, ``message``).

        Returns the tidy metrics frame of :mod:`helpers.monitoring.metrics` (no dimension), so
        dashboards and alarms read it like the AWS metrics.

        Raises:
            MonitoringError: ``events`` is not a frame with ``timestamp`` and ``message``
                columns (as :func:`helpers.monitoring.metrics.log_events` makes it).
        """
        if not isinstance(events, pd.DataFrame):
            raise MonitoringError(f"events must be a DataFrame of log events (timestamp, "
                                  f"message), e.g. from metrics.log_events(), not "
                                  f"{type(events).__name__}")
        missing = [c for c in ("timestamp", "message") if c not in events.columns]
        if missing:
            raise MonitoringError(f"events lack the column{'s' * (len(missing) > 1)} "
                                  f"{', '.join(missing)}; it has "
                                  f"{', '.join(map(str, events.columns))}; make it with "
                                  "metrics.log_events()")
        points = metric_datapoints(events["message"], events["timestamp"].to_numpy(),
                                   self.compiled, metric_value=self.value,
                                   default_value=self.default_value)
        return pd.DataFrame({"timestamp": points["timestamp"], "namespace": self.namespace,
                             "metric": self.metric, "dimension": None,
                             "dimension_value": None, "value": points["value"],
                             "unit": self.unit})


def _named(base: str, prefix: str | None) -> str:
    return f"{prefix}-{base}" if prefix else base


def _check_arguments(**given) -> None:
    """The lesson's builders take IDs and names as text; say which one is not."""
    problems = []
    for arg, value in given.items():
        if arg == "prefix":
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append(f"prefix must be the student's name as text (or None), not "
                                f"{_shown(value)}")
        elif arg == "nat_gateway_id":
            if not isinstance(value, str) or not re.fullmatch(r"nat-[0-9a-zA-Z]+", value):
                problems.append(f"nat_gateway_id must be a NAT gateway ID such as "
                                f"'nat-0a1b2c3d4e5f60000' (lab.nat_gateway_id), not "
                                f"{_shown(value)}")
        else:
            _text(problems, arg, value, 1, 512, pattern=_LOG_GROUP,
                  rule="may hold only letters, digits and _ - . / # (a log group name such as "
                       "'/aws/vpc/flowlogs')")
    if problems:
        raise MonitoringError("; ".join(problems))


def rejects_filter(log_group: str, *, prefix: str | None = None) -> MetricFilterSpec:
    """The metric filter behind "높은 거부율": one count per REJECT record, per minute.

    The pattern names the 14 default-format fields and keeps the records whose ``action`` is
    REJECT (NODATA/SKIPDATA records carry ``-`` there and never match). The metric name gets
    the student's prefix, so students sharing an account count separately.

    Raises:
        MonitoringError: ``log_group`` is not a log group name, or ``prefix`` not text.
    """
    _check_arguments(log_group=log_group, prefix=prefix)
    return MetricFilterSpec(name=_named(names.REJECTS_FILTER, prefix), log_group=log_group,
                            pattern=REJECTS_PATTERN, namespace=names.REJECTS_NAMESPACE,
                            metric=_named(names.REJECTS_METRIC, prefix))


def lesson_alarms(nat_gateway_id: str, log_group: str, *, prefix: str | None = None
                  ) -> list[AlarmSpec]:
    """The lesson's three alarms plus the reject-rate alarm, as AWS needs them.

    - ``High-NAT-Traffic``: Sum of ``BytesOutToDestination`` over 300 s > 1 GiB (1,073,741,824).
    - ``NAT-Connection-Errors``: Sum of ``ErrorPortAllocation`` over 300 s > 10.
    - ``FlowLogs-Missing``: Sum of ``IncomingLogEvents`` < 1 in both 300-s periods of the last
      10 minutes, ``TreatMissingData="breaching"``: stopped flow logs publish no datapoints,
      and without it no datapoints means INSUFFICIENT_DATA, never ALARM
      (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
      Even so it fires only once the whole evaluation range is empty: while older real
      datapoints remain in range, CloudWatch evaluates those instead of filling in.
    - ``High-Reject-Rate``: Sum of the metric filter's rejects over 60 s > 100; missing data
      (no logs at all) is not breaching: ``FlowLogs-Missing`` covers that case.

    Names get ``prefix-`` when a prefix is given (the student's name).

    Raises:
        MonitoringError: an argument is not a NAT gateway ID, a log group name or text.
    """
    _check_arguments(nat_gateway_id=nat_gateway_id, log_group=log_group, prefix=prefix)
    nat = (("NatGatewayId", nat_gateway_id),)
    group = (("LogGroupName", log_group),)
    rejects = rejects_filter(log_group, prefix=prefix)
    return [
        AlarmSpec(_named("High-NAT-Traffic", prefix),
                  "NAT gateway sent more than 1 GiB to the internet in 5 minutes",
                  NAT, "BytesOutToDestination", "Sum", 300, 1, GIB, "GreaterThanThreshold",
                  dimensions=nat),
        AlarmSpec(_named("NAT-Connection-Errors", prefix),
                  "NAT gateway could not allocate a source port more than 10 times in 5 minutes",
                  NAT, "ErrorPortAllocation", "Sum", 300, 1, 10, "GreaterThanThreshold",
                  dimensions=nat),
        AlarmSpec(_named("FlowLogs-Missing", prefix),
                  "No flow-log events reached the log group for 10 minutes",
                  LOGS, "IncomingLogEvents", "Sum", 300, 2, 1, "LessThanThreshold",
                  treat_missing_data="breaching", dimensions=group),
        AlarmSpec(_named("High-Reject-Rate", prefix),
                  "More than 100 rejected flow-log records in one minute",
                  rejects.namespace, rejects.metric, "Sum", 60, 1, 100, "GreaterThanThreshold",
                  treat_missing_data="notBreaching"),
    ]
