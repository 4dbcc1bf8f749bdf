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

from dataclasses import dataclass, field

import pandas as pd

from helpers.errors import MonitoringError
from helpers.monitoring import names
from helpers.monitoring.filter_patterns import compile_pattern, metric_datapoints
from helpers.monitoring.names import LOGS, NAT

__all__ = [
    "AlarmSpec",
    "COMPARISONS",
    "MetricFilterSpec",
    "REJECTS_PATTERN",
    "STATISTICS",
    "TREAT_MISSING",
    "lesson_alarms",
    "rejects_filter",
]

COMPARISONS = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold")
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
GIB = 1024 ** 3

REJECTS_PATTERN = ("[version, account, eni, source, destination, srcport, destport, protocol, "
                   "packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]")
"""A space-delimited filter pattern for default-format flow-log records whose action is REJECT."""


@dataclass(frozen=True)
class AlarmSpec:
    """A metric alarm as ``PutMetricAlarm`` takes it.

    See https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html:
    ``period`` is 10, 20, 30 or a multiple of 60 seconds; ``datapoints_to_alarm`` (M) is at most
    ``evaluation_periods`` (N); period × N is at most one day for periods under an hour.
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
        problems = []
        if self.comparison not in COMPARISONS:
            problems.append(f"comparison must be one of {', '.join(COMPARISONS)}, "
                            f"not {self.comparison!r}")
        if self.treat_missing_data not in TREAT_MISSING:
            problems.append(f"treat_missing_data must be one of {', '.join(TREAT_MISSING)}, "
                            f"not {self.treat_missing_data!r}")
        if self.statistic not in STATISTICS:
            problems.append(f"statistic must be one of {', '.join(STATISTICS)}, "
                            f"not {self.statistic!r}")
        if not (self.period in (10, 20, 30) or (self.period >= 60 and self.period % 60 == 0)):
            problems.append(f"period must be 10, 20, 30 or a multiple of 60 seconds, "
                            f"not {self.period!r}")
        if not self.evaluation_periods >= 1:
            problems.append(f"evaluation_periods must be at least 1, not "
                            f"{self.evaluation_periods!r}")
        elif not 1 <= self.m <= self.evaluation_periods:
            problems.append(f"datapoints_to_alarm (M) must be between 1 and evaluation_periods "
                            f"(N = {self.evaluation_periods}), not {self.datapoints_to_alarm!r}")
        elif self.period < 3600 and self.period * self.evaluation_periods > 86400:
            problems.append("period × evaluation_periods may not exceed one day (86,400 s) "
                            "for periods under an hour")
        if not self.name.isascii() or not self.name:
            problems.append(f"alarm names are non-empty ASCII text, not {self.name!r}")
        if problems:
            raise MonitoringError(f"alarm {self.name!r}: " + "; ".join(problems))

    @property
    def m(self) -> int:
        """Datapoints to alarm (M of "M out of N")."""
        return self.datapoints_to_alarm or self.evaluation_periods

    def to_api(self, actions: tuple[str, ...] | list[str] = ()) -> dict:
        """The keyword arguments of ``put_metric_alarm`` (without tags)."""
        args = dict(AlarmName=self.name, AlarmDescription=self.description,
                    ActionsEnabled=True, AlarmActions=list(actions), Namespace=self.namespace,
                    MetricName=self.metric, Statistic=self.statistic, Period=self.period,
                    EvaluationPeriods=self.evaluation_periods, DatapointsToAlarm=self.m,
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
        if self.namespace.startswith("AWS/"):
            raise MonitoringError(f"metric filter {self.name!r}: namespace {self.namespace!r} "
                                  "starts with AWS/, which is reserved for AWS's services; use "
                                  "your own, e.g. 'Day5-3/FlowLogs'")
        object.__setattr__(self, "compiled", compile_pattern(self.pattern))

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
        """
        points = metric_datapoints(events["message"], events["timestamp"].to_numpy(),
                                   self.compiled, metric_value=self.value,
                                   default_value=self.default_value)
        return pd.DataFrame({"timestamp": points["timestamp"], "namespace": self.namespace,
                             "metric": self.metric, "dimension": None,
                             "dimension_value": None, "value": points["value"],
                             "unit": self.unit})


def _named(base: str, prefix: str | None) -> str:
    return f"{prefix}-{base}" if prefix else base


def rejects_filter(log_group: str, *, prefix: str | None = None) -> MetricFilterSpec:
    """The metric filter behind "높은 거부율": one count per REJECT record, per minute.

    The pattern names the 14 default-format fields and keeps the records whose ``action`` is
    REJECT (NODATA/SKIPDATA records carry ``-`` there and never match). The metric name gets
    the student's prefix, so students sharing an account count separately.
    """
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
    """
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
