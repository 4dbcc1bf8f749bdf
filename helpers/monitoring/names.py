"""Names and namespaces the course's monitoring uses, in one place.

Kept apart from the modules that use them so that ``helpers.aws.teardown`` can find the course's
dashboard and metric filters by name without importing pandas plotting code.
Every name gets the student's prefix through ``cloud.name(...)``.
"""

from __future__ import annotations

__all__ = [
    "ALARMS",
    "DASHBOARD",
    "LOGS",
    "NAT",
    "REJECTS_FILTER",
    "REJECTS_METRIC",
    "REJECTS_NAMESPACE",
    "TOPIC",
]

NAT = "AWS/NATGateway"
"""The NAT gateway's namespace. The lesson writes ``AWS/NatGateway``: CloudWatch namespaces are
case-sensitive, so that one holds no metrics at all."""

LOGS = "AWS/Logs"
"""CloudWatch Logs' own metrics (``IncomingLogEvents``, ``IncomingBytes`` per log group)."""

DASHBOARD = "VPC-Network-Monitoring"
TOPIC = "network-alerts"
ALARMS = ("High-NAT-Traffic", "NAT-Connection-Errors", "FlowLogs-Missing", "High-Reject-Rate")

REJECTS_FILTER = "rejected-flows"
REJECTS_NAMESPACE = "Day5-3/FlowLogs"
"""A custom namespace: names starting with ``AWS/`` are reserved for AWS's own services."""
REJECTS_METRIC = "RejectedFlows"
