"""AWS's own example flow-log records (``data/aws-example-records.txt``), with their formats.

The file holds every example record of AWS's "Flow log record examples" page
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html) and a few
from older versions of the guide and the AWS News Blog. Each record is preceded by comment
lines: ``# format=...`` (``default v2 (...)`` for the default format), ``# expect: ...`` and
``# source: ...``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.errors import (
    FlowLogArgumentError,
    FlowLogFormatError,
    FlowLogParseError,
    FlowLogReadError,
)
from helpers.flowlogs.fields import _kind, parse_format
from helpers.flowlogs.parse import parse_lines
from helpers.paths import EXAMPLES

__all__ = ["EXAMPLES_FILE", "Example", "examples_frame", "load_examples"]

EXAMPLES_FILE = EXAMPLES


@dataclass(frozen=True)
class Example:
    """One documented record: its text, its format (None = default), meaning and source."""

    record: str
    log_format: str | None
    expect: str
    source: str
    line_number: int


def load_examples(path: str | Path = EXAMPLES_FILE) -> list[Example]:
    """Read the example file into :class:`Example` objects, in file order.

    Raises:
        FlowLogReadError: the file cannot be read, is not UTF-8, or has a record without a
            ``# format=`` line before it.
        FlowLogFormatError: a ``# format=`` line names an unknown field (file and line given).
        FlowLogArgumentError: ``path`` is not a path.
    """
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise FlowLogArgumentError(
            f"path must be the example file's path (str or pathlib.Path), not {_kind(path)}")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FlowLogReadError(f"{path}: cannot read the example records ({err})") from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        number = data.count(b"\n", 0, err.start) + 1
        raise FlowLogReadError(
            f"{path}, line {number}: byte {data[err.start]:#04x} is not UTF-8 text") from err
    examples, meta = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        for key in ("format=", "expect:", "source:"):
            if line.startswith("# " + key):
                meta[key[:-1]] = line[len(key) + 2:].strip()
                if key == "format=" and not meta["format"].startswith("default"):
                    try:
                        parse_format(meta["format"])
                    except FlowLogFormatError as err:
                        raise FlowLogFormatError(f"{path}, line {number}: {err}") from err
        if not line.strip() or line.startswith("#"):
            continue
        if "format" not in meta:
            raise FlowLogReadError(f"{path}, line {number}: record without a '# format=' line")
        fmt = meta["format"]
        examples.append(Example(
            record=line,
            log_format=None if fmt.startswith("default") else fmt,
            expect=meta.get("expect", ""),
            source=meta.get("source", ""),
            line_number=number,
        ))
        meta = {}
    return examples


def examples_frame(examples: list[Example]) -> pd.DataFrame:
    """Parse examples (each with its own format) into one frame; fields a format lacks are NA.

    An ``expect`` column keeps AWS's explanation of each record. No examples give an empty
    frame with the default format's columns.

    Raises:
        FlowLogParseError: a record does not match its format (the line is the example's
            line in its file).
        FlowLogArgumentError: ``examples`` is not a list of :class:`Example`.
    """
    if isinstance(examples, Example):
        examples = [examples]
    if isinstance(examples, (str, bytes)) or not hasattr(examples, "__iter__"):
        raise FlowLogArgumentError(
            "examples must be a list of Example (from load_examples()), not "
            f"{_kind(examples)}")
    examples = list(examples)
    for i, example in enumerate(examples):
        if not isinstance(example, Example):
            raise FlowLogArgumentError(
                f"examples[{i}] must be an Example (from load_examples()), not "
                f"{_kind(example)}")
    if not examples:
        return parse_lines([]).assign(expect=pd.Series([], dtype=pd.StringDtype("pyarrow")))
    frames = []
    for e in examples:
        try:
            frames.append(parse_lines([e.record], e.log_format).assign(expect=e.expect))
        except FlowLogParseError as err:
            raise FlowLogParseError(e.line_number, err.line, err.reason, field=err.field,
                                    column=err.column, source=e.source or None) from err
    return pd.concat(frames, ignore_index=True)
