"""The lesson's CloudWatch Logs Insights queries, corrected, with their DuckDB SQL mirrors.

One set of files per query name in this folder:

- ``NAME.insights``: the lesson's query, corrected so that it runs on default-format VPC flow
  logs in Logs Insights: the discovered camelCase names (``srcAddr``, ``dstPort``), and
  ``bin(1h)`` inside ``stats ... by`` instead of a ``bin`` command;
- ``NAME.sql``: hand-written, idiomatic DuckDB SQL over the canonical columns (table
  ``flows``) that gives the same rows;
- ``NAME.lesson.txt``: the query as the lesson prints it, uncorrected, so a notebook can show
  the two side by side.

>>> q = load("port_scan")
>>> q.insights.splitlines()[2]
'| stats count_distinct(dstPort) as scanned_ports by srcAddr'
>>> q.lesson_text.splitlines()[2]
'| stats count_distinct(dstport) as scanned_ports by srcaddr'
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import NamedTuple

from helpers.errors import UnknownQueryError

__all__ = ["FOLDER", "Query", "UnknownQueryError", "load", "names"]

FOLDER = Path(__file__).resolve().parent


class Query(NamedTuple):
    """A lesson query: its name, the corrected Insights text, the DuckDB mirror, the original."""

    name: str
    insights: str
    sql: str
    lesson_text: str


def names() -> list[str]:
    """The query names, sorted (each has .insights, .sql and .lesson.txt files)."""
    return sorted(p.name.removesuffix(".insights") for p in FOLDER.glob("*.insights"))


def load(name: str) -> Query:
    """The query called ``name`` (see :func:`names`).

    Raises:
        UnknownQueryError: no such query, with the closest name.
    """
    known = names()
    if name not in known:
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownQueryError(f"no lesson query {name!r}{hint} Queries: {', '.join(known)}")

    def text(suffix: str) -> str:
        return (FOLDER / f"{name}{suffix}").read_text(encoding="utf-8").strip() + "\n"

    return Query(name, text(".insights"), text(".sql"), text(".lesson.txt"))
