"""AWS's own example flow-log records (``data/aws-example-records.txt``), with their formats.

The file holds every example record of AWS's "Flow log record examples" page
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html) and a few
from older versions of the guide and the AWS News Blog. Each record is preceded by comment
lines: ``# format=...`` (``default v2 (...)`` for the default format), ``# expect: ...`` and
``# source: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.errors import FlowLogReadError
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
    """Read the example file into :class:`Example` objects, in file order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise FlowLogReadError(f"{path}: cannot read the example records ({err})") from err
    examples, meta = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        for key in ("format=", "expect:", "source:"):
            if line.startswith("# " + key):
                meta[key[:-1]] = line[len(key) + 2:].strip()
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

    An ``expect`` column keeps AWS's explanation of each record.
    """
    frames = [parse_lines([e.record], e.log_format).assign(expect=e.expect) for e in examples]
    return pd.concat(frames, ignore_index=True)
