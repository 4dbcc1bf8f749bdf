"""CloudWatch network monitoring (lesson section 📈): NAT-gateway and VPC endpoint metrics, the
dashboard, alarms.

    from helpers.monitoring import alarms, dashboard, endpoints, evaluate, metrics

- :mod:`~helpers.monitoring.metrics`: ``AWS/NATGateway`` and ``AWS/Logs`` metrics derived from
  flow-log records.
- :mod:`~helpers.monitoring.endpoints`: ``AWS/PrivateLinkEndpoints`` metrics of an interface
  endpoint, derived from the flow-log records of its network interface (gateway endpoints
  publish none).
- :mod:`~helpers.monitoring.dashboard`: the ``VPC-Network-Monitoring`` dashboard body (both
  NAT directions, optionally an endpoint widget), and its drawing from a metrics frame.
- :mod:`~helpers.monitoring.alarms`: the lesson's alarms and the reject-counting metric filter.
- :mod:`~helpers.monitoring.filter_patterns`: a local evaluator of CloudWatch filter patterns.
- :mod:`~helpers.monitoring.evaluate`: a local alarm evaluator (state timeline, SNS messages).

Pure computation: nothing here calls AWS. The emulator stores metrics, dashboards, alarms and
metric filters but computes none of them, so these modules do that work offline; the
``Cloud`` methods (``cloud.put_metrics``, ``cloud.create_alarms``, ...) store the results,
and on AWS the same cells read what the real services computed.
"""

from helpers.errors import FilterPatternError, MonitoringError
from helpers.monitoring import (
    alarms,
    dashboard,
    endpoints,
    evaluate,
    filter_patterns,
    metrics,
    names,
)
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
    "endpoints",
    "evaluate",
    "metrics",
    "filter_patterns",
    "names",
]
