"""CloudWatch network monitoring (lesson section 📈): NAT-gateway metrics, the dashboard, alarms.

    from helpers.monitoring import alarms, dashboard, evaluate, metrics, patterns

- :mod:`~helpers.monitoring.metrics`: ``AWS/NATGateway`` and ``AWS/Logs`` metrics derived from
  flow-log records; put into the emulator, or read from CloudWatch.
- :mod:`~helpers.monitoring.dashboard`: the ``VPC-Network-Monitoring`` dashboard body, stored
  with ``PutDashboard`` and drawn locally.
- :mod:`~helpers.monitoring.alarms`: the lesson's alarms and the reject-counting metric filter.
- :mod:`~helpers.monitoring.patterns`: a local evaluator of CloudWatch filter patterns.
- :mod:`~helpers.monitoring.evaluate`: a local alarm evaluator (state timeline, SNS messages).

The emulator stores metrics, dashboards, alarms and metric filters but computes none of them;
these modules do that work offline, and the same cells read the real services on AWS.
"""

from helpers.errors import FilterPatternError, MonitoringError
from helpers.monitoring import alarms, dashboard, evaluate, metrics, names, patterns
from helpers.monitoring.alarms import AlarmSpec, MetricFilterSpec
from helpers.monitoring.evaluate import AlarmTimeline

__all__ = [
    "AlarmSpec",
    "AlarmTimeline",
    "FilterPatternError",
    "MetricFilterSpec",
    "MonitoringError",
    "alarms",
    "dashboard",
    "evaluate",
    "metrics",
    "names",
    "patterns",
]
