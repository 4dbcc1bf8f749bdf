"""Errors and warnings of the course's helper package.

Every error a student can cause derives from :class:`CourseError`, so a notebook can catch
them all at once, and each message says what was found, where, and what was expected.
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = [
    "AwsRetryError",
    "AwsSetupError",
    "CostError",
    "CourseError",
    "DetectError",
    "FlowLogArgumentError",
    "FilterPatternError",
    "FlowLogFormatError",
    "FlowLogParseError",
    "FlowLogReadError",
    "GradingError",
    "InsightsArgumentError",
    "InsightsError",
    "InsightsFieldWarning",
    "InsightsMissingValueWarning",
    "InsightsPeriodWarning",
    "InsightsResultLimitWarning",
    "InsightsSourceWarning",
    "InsightsSyntaxError",
    "InsightsWarning",
    "MonitoringError",
    "NetlabError",
    "ResponseError",
    "SharedNameWarning",
    "TimeValueError",
    "TopologyLookupError",
    "TrafficError",
    "UnknownQueryError",
    "UnknownQuestionError",
    "expect_error",
]


class CourseError(Exception):
    """Base class of every error raised by the course helpers."""


class AwsSetupError(CourseError, RuntimeError):
    """An AWS resource cannot be set up, found or cleaned up: the message says what to do."""


class AwsRetryError(AwsSetupError):
    """A transient AWS error (IAM propagation, an agent not yet online, a dependency still
    being deleted) outlasted the course's retries; the message says what was retried and
    what to do."""


class CostError(CourseError, ValueError):
    """A cost-model or pricing argument is invalid; the message names the argument, what it
    got and what is valid."""


class DetectError(CourseError, ValueError):
    """A detection argument is invalid: records, detector, threshold, CIDR block or threat list."""


class FlowLogFormatError(CourseError, ValueError):
    """A flow-log format string names an unknown field or is malformed."""


class FlowLogReadError(CourseError, OSError):
    """A flow-log file cannot be read: missing, empty, truncated or not UTF-8."""


class ResponseError(CourseError, RuntimeError):
    """The auto-block function cannot run: not deployed, misconfigured, or it failed."""


class TimeValueError(CourseError, ValueError):
    """A time argument is not a time: not a datetime, ISO 8601 text or epoch seconds."""


class TrafficError(CourseError, ValueError):
    """A traffic-generator argument is invalid: unknown scenario, bad duration or interval."""


class TopologyLookupError(TrafficError, KeyError):
    """A topology has no interface, subnet, security group or network ACL by that name.

    Also a ``KeyError``, as these lookups raised before they were course errors.
    """

    __str__ = TrafficError.__str__  # the message as written, not KeyError's quoted repr


class MonitoringError(CourseError, ValueError):
    """A metric, dashboard, alarm or metric-filter setting is invalid or cannot be applied."""


class FilterPatternError(MonitoringError):
    """A CloudWatch Logs filter pattern is malformed.

    Attributes:
        pattern: the pattern as given.
        column: 1-based character column where the problem starts.
        reason: what was wrong and what was expected, in one sentence.
    """

    def __init__(self, pattern: str, column: int, reason: str):
        self.pattern = pattern
        self.column = column
        self.reason = reason
        super().__init__(f"filter pattern, column {column}: {reason}\n  {pattern}\n  "
                         + " " * (column - 1) + "^")


class GradingError(CourseError, ValueError):
    """A lab cannot make its data or check an answer: no student ID, or a bad argument."""


class InsightsError(CourseError, RuntimeError):
    """A Logs Insights or Athena query could not run: it failed, was cancelled or timed out."""


class InsightsArgumentError(CourseError, TypeError, ValueError):
    """An argument of an Insights function (query, data, table, dialect, ...) has the wrong type
    or value; the message names the argument, what it got and what is valid."""


class InsightsSyntaxError(CourseError, ValueError):
    """A Logs Insights query is not valid; the message shows the line, column and a caret.

    Attributes:
        reason: what is wrong and what is valid there, in words.
        line: 1-based line of the query where the problem starts.
        column: 1-based character column in that line.
        source_line: the text of that query line.
        expected: what the grammar accepts at that point, in words (empty when not a
            grammar error).
    """

    def __init__(self, reason: str, *, line: int, column: int, source_line: str,
                 width: int = 1, expected: tuple[str, ...] = ()):
        self.reason = reason
        self.line = line
        self.column = column
        self.source_line = source_line
        self.expected = tuple(expected)
        shown = source_line.replace("\t", " ")
        caret = " " * (column - 1) + "^" * max(1, min(width, len(shown) - column + 1))
        super().__init__(f"line {line}, column {column}: {reason}\n  {shown}\n  {caret}")


class FlowLogParseError(CourseError, ValueError):
    """A flow-log record does not match its format.

    Attributes:
        line_number: 1-based line number in the input (the header line counts).
        line: the offending line, as read.
        reason: what was wrong, in one sentence.
        field: the format field at fault, or None when the whole line is wrong.
        column: 1-based character column where the offending text starts, or None.
        source: the file the line came from, or None for in-memory input.
    """

    def __init__(
        self,
        line_number: int,
        line: str,
        reason: str,
        *,
        field: str | None = None,
        column: int | None = None,
        width: int = 1,
        source: str | None = None,
        more: int = 0,
    ):
        self.line_number = line_number
        self.line = line
        self.reason = reason
        self.field = field
        self.column = column
        self.source = source
        self.more = more
        where = f"{source}, line {line_number}" if source else f"line {line_number}"
        text = f"{where}: {reason}\n  {line}"
        if column is not None:
            text += "\n  " + " " * (column - 1) + "^" * max(width, 1)
        if more:
            text += (
                f"\n({more} more bad line{'s' if more > 1 else ''} after this one; "
                "pass on_error='skip' to keep the good lines and list the bad ones)"
            )
        super().__init__(text)


@contextmanager
def expect_error(kind: type[Exception] = CourseError):
    """Print the message of an error a teaching cell provokes on purpose.

    Fails with AssertionError when the block raises nothing, so a demonstration of a
    mistake cannot silently stop demonstrating it.
    """
    try:
        yield
    except kind as err:
        print(f"{type(err).__name__}: {err}")
    else:
        raise AssertionError(f"expected {kind.__name__}, but the code ran without error")


class FlowLogArgumentError(CourseError, TypeError, ValueError):
    """An argument of a flow-log function (path, frame, on_error, tz, ...) has the wrong type or
    value; the message names the argument, what it got and what is valid."""


# --- warnings ---------------------------------------------------------------------------------


class SharedNameWarning(UserWarning):
    """A student name's resources were created by someone else's credentials (their ``owner``
    tag): two people picked the same name in a shared account."""


class InsightsWarning(UserWarning):
    """Something in a query that Logs Insights accepts but that probably does not do what
    was meant."""


class InsightsFieldWarning(InsightsWarning):
    """A query names a field the data does not have: Insights treats it as missing (null)."""


class InsightsPeriodWarning(InsightsWarning):
    """A time period above its unit's cap: Insights uses the cap instead (bin(300s) is 60 s)."""


class InsightsResultLimitWarning(InsightsWarning):
    """A Logs Insights result reached the row limit (10,000 by default): rows may be missing."""


class InsightsMissingValueWarning(InsightsWarning):
    """A flow-log field compared with "-": the field is missing there, so nothing matches."""


class InsightsSourceWarning(InsightsWarning):
    """A SOURCE prefix (log groups, START/END) that the data cannot apply as written."""


# --- lookups ----------------------------------------------------------------------------------


class UnknownQueryError(CourseError, LookupError):
    """No query of that name in ``helpers/queries``."""


class UnknownQuestionError(CourseError, KeyError):
    """No self-check question has that ID."""

    def __str__(self) -> str:
        return str(self.args[0])


# --- the live-packet lab ----------------------------------------------------------------------


class NetlabError(CourseError, RuntimeError):
    """The live-packet lab (helpers.netlab) cannot run or was asked for something it refuses:
    not root, no nftables, an address outside the lab, an unknown host or scenario."""
