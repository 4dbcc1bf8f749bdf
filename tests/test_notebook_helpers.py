"""Helpers the notebooks call: environment check, error demos (questions: test_selfcheck*)."""

from __future__ import annotations

import pytest

from helpers import environment, selfcheck
from helpers.errors import CourseError, FlowLogParseError, expect_error


def test_environment_check_lists_the_core_packages():
    table = environment.check()
    assert list(table.columns) == ["package", "required", "ok"]
    assert {"pandas", "duckdb", "boto3", "matplotlib", "jupyterlab"} <= set(table["package"])
    assert table["ok"].all()
    assert "installed" in environment.check(show_versions=True).columns


def test_self_check_unknown_question():
    with pytest.raises(KeyError, match="unknown question '09-9'"):
        selfcheck.check("09-9", 1)


def test_expect_error_prints_the_message(capsys):
    with expect_error(FlowLogParseError):
        raise FlowLogParseError(3, "x y", "expected 14 fields")
    assert capsys.readouterr().out.startswith("FlowLogParseError: line 3: expected 14 fields")


def test_expect_error_fails_when_nothing_goes_wrong():
    with pytest.raises(AssertionError, match="expected CourseError, but the code ran"):
        with expect_error(CourseError):
            pass
