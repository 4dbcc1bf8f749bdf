"""How much a set-up or teardown call prints: every step, one summary line, or nothing.

The course's set-up and teardown report each step in one stable line (``cloud.say``), which
is what the saved notebooks show and stays the default (``report="steps"``). In a classroom
walkthrough 18–27 such lines hide what matters, so the same calls take ``report="summary"``
(one line: what was done, counted by verb) or ``report="none"``.
"""

from __future__ import annotations

from collections import Counter

from helpers.errors import AwsSetupError

__all__ = ["REPORTS", "Steps"]

REPORTS = ("steps", "summary", "none")


class Steps:
    """A context that collects a call's step lines instead of printing them (unless
    ``report="steps"``); nested set-up steps report into the outermost one.

    Example:
        with Steps(cloud, report) as steps:
            ...                      # cloud.say(...) lines are collected
        steps.summary("flow log fl-1")   # prints "flow log fl-1: created 3, exists 1"
    """

    def __init__(self, cloud, report: str = "steps"):
        if report not in REPORTS:
            raise AwsSetupError(f"report must be one of {', '.join(map(repr, REPORTS))}: "
                                f"'steps' prints every step (the default), 'summary' one "
                                f"line, 'none' nothing; not {report!r}")
        self.cloud, self.report = cloud, report
        self.lines: list[tuple[str, str]] = []
        self._swapped = False

    def __enter__(self) -> Steps:
        # Only the outermost quiet call collects; an inner one (ensure_role inside
        # create_flow_log) reports into it.
        if self.report != "steps" and "say" not in vars(self.cloud):
            self.cloud.say = self._collect
            self._swapped = True
        return self

    def __exit__(self, *exc) -> None:
        if self._swapped:
            del self.cloud.say
            self._swapped = False

    def _collect(self, verb: str, what: str) -> None:
        self.lines.append((verb, what))

    def counts(self) -> str:
        """``created 3, exists 1``: the collected steps counted by verb, in first-seen order."""
        counted = Counter(verb for verb, _ in self.lines)
        return ", ".join(f"{verb} {n}" for verb, n in counted.items()) or "nothing to do"

    def summary(self, what: str, extra: str = "") -> None:
        """Print ``<what>: <counts><extra>`` when the report is ``"summary"``."""
        if self.report == "summary":
            print(f"{what}: {self.counts()}{extra}")
