"""What a query can see: the fields Logs Insights discovers in VPC flow logs, and their types.

For default-format flow logs, Logs Insights discovers ``version, accountId, interfaceId,
srcAddr, dstAddr, srcPort, dstPort, protocol, packets, bytes, startTime, endTime, action,
logStatus`` plus the generated fields ``@timestamp`` (the record's start time),
``@message`` (the record's text: a ``message`` column when the data has one, as read back from
CloudWatch Logs, else rebuilt from the default-format fields), ``@logStream`` (one stream per
interface, named by its ID),
``@log`` (``account-id:log-group``) and ``@ingestionTime``
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html).
The names come from the field registry (:data:`helpers.flowlogs.FIELDS`, ``insights_name``);
here each maps onto its canonical column. Custom formats are not discovered: their other fields
need ``parse``.

A name the data does not have is null, as in Insights, which silently returns nothing for it;
the compiler warns (:class:`helpers.errors.InsightsFieldWarning`) with the closest discovered name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlglot import exp

from helpers.flowlogs.fields import DEFAULT_FORMAT, FIELDS, parse_format

__all__ = ["DISCOVERED", "SYSTEM_FIELDS", "Column", "binary", "discovered", "group", "suggest"]

DISCOVERED: dict[str, str] = {f.insights_name: f.column for f in FIELDS.values()
                              if f.insights_name}
"""Discovered field name → canonical column (``srcAddr`` → ``srcaddr``), from the registry."""

SYSTEM_FIELDS = ("@timestamp", "@message", "@logStream", "@log", "@ingestionTime")
"""Fields Insights generates for every event (``@log`` and ``@ingestionTime`` only where the data
has a ``log_group`` / ``ingestion_time`` column or ``log_group=`` is given)."""

LOG_GROUP_COLUMN = "log_group"
MESSAGE_COLUMN = "message"  # the record's text as delivered (CloudWatch Logs keeps it as is)
INGESTION_COLUMN = "ingestion_time"  # epoch milliseconds, as CloudWatch Logs reports it

# Value kinds the compiler tracks to coerce operands the way Insights' loose typing does.
INT, FLOAT, STRING, TIME, BOOL, NULL = "int", "float", "string", "time", "bool", "null"
NUMERIC = (INT, FLOAT)


@dataclass(frozen=True)
class Column:
    """A value in scope: its SQL expression and its kind (int, float, string, time, bool, null)."""

    sql: exp.Expression
    kind: str


def quoted(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def group(e: exp.Expression) -> exp.Expression:
    """``e`` in parentheses when it is an operator expression (sqlglot does not add them)."""
    if isinstance(e, (exp.Binary, exp.Unary, exp.Between, exp.In, exp.Is)) and not isinstance(
            e, exp.Paren):
        return exp.Paren(this=e)
    return e


def binary(kind, left: exp.Expression, right: exp.Expression) -> exp.Expression:
    """``left <op> right`` with both sides grouped, e.g. ``binary(exp.Sub, a, b)``."""
    return kind(this=group(left), expression=group(right))


def discovered(columns, *, log_group: str | None = None
               ) -> tuple[dict[str, Column], exp.Expression | None]:
    """The fields Insights would discover in data with these canonical columns.

    Returns the scope (name → :class:`Column`) and the event time in epoch milliseconds
    (what ``bin`` and ``earliest``/``latest`` use), or None when the data has no ``start``.
    """
    columns = list(columns)
    have = set(columns)
    scope: dict[str, Column] = {}
    for name, column in DISCOVERED.items():
        if column in have:
            scope[name] = Column(quoted(column), INT if FIELDS[column.replace("_", "-")]
                                 .is_integer else STRING)
    ts_ms = None
    if "start" in have:
        ts_ms = exp.Mul(this=quoted("start"), expression=exp.Literal.number(1000))
        scope["@timestamp"] = Column(from_millis(ts_ms), TIME)
    message = [f.replace("-", "_") for f in parse_format(DEFAULT_FORMAT)
               if f.replace("-", "_") in have]
    if MESSAGE_COLUMN in have:  # the stored text: a custom format's fields in its own order
        scope["@message"] = Column(quoted(MESSAGE_COLUMN), STRING)
    elif message:
        scope["@message"] = Column(_message(message), STRING)
    if "interface_id" in have:
        scope["@logStream"] = Column(quoted("interface_id"), STRING)
    group = (quoted(LOG_GROUP_COLUMN) if LOG_GROUP_COLUMN in have
             else exp.Literal.string(log_group) if log_group is not None else None)
    if group is not None and "account_id" in have:
        scope["@log"] = Column(exp.DPipe(this=exp.DPipe(
            this=quoted("account_id"), expression=exp.Literal.string(":")),
            expression=group), STRING)
    if INGESTION_COLUMN in have:
        scope["@ingestionTime"] = Column(from_millis(quoted(INGESTION_COLUMN)), TIME)
    return scope, ts_ms


def from_millis(ms: exp.Expression) -> exp.Expression:
    """Epoch milliseconds → a UTC timestamp (DuckDB: a naive TIMESTAMP that means UTC)."""
    return exp.UnixToTime(this=ms, scale=exp.UnixToTime.MILLIS)


def _message(columns: list[str]) -> exp.Expression:
    """The record as flow-log text: the default-format fields joined by spaces, '-' for null."""
    parts = [exp.Coalesce(this=exp.cast(quoted(c), "VARCHAR") if FIELDS[c.replace("_", "-")]
                          .is_integer else quoted(c), expressions=[exp.Literal.string("-")])
             for c in columns]
    text = parts[0]
    for part in parts[1:]:
        text = exp.DPipe(this=exp.DPipe(this=text, expression=exp.Literal.string(" ")),
                         expression=part)
    return text


def suggest(name: str, known) -> str:
    """' Did you mean ...?' for a field name, or '' when nothing is close.

    The canonical column names people write by habit (``srcaddr``, ``dstport``,
    ``log_status``, ``start``) map straight to the discovered name.
    """
    known = list(known)
    by_column = {column: insights for insights, column in DISCOVERED.items()}
    if name in by_column and by_column[name] in known:
        return f" Did you mean {by_column[name]!r}? ({name} is the Athena/Parquet column name)"
    lower = {k.lower(): k for k in known}
    if name.lower() in lower:
        return f" Did you mean {lower[name.lower()]!r}? (field names are case-sensitive)"
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return f" Did you mean {lower[close[0]]!r}?" if close else ""
