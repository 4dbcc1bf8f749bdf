"""Parse patterns and regular expressions, made to run the same on DuckDB (RE2) and Trino.

Logs Insights writes named groups as ``(?<name>...)``; DuckDB's RE2 does not accept that form,
so named groups become plain groups and the caller extracts them by number. A ``parse`` glob
(``"user=* id=*"``) becomes a regex: literal text, each ``*`` a capture that takes as little as
it can, except a final ``*``, which takes the rest
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Parse.html).
"""

from __future__ import annotations

import duckdb

__all__ = ["MAX_GROUP", "glob_to_regex", "named_group_numbers", "only_group", "portable_regex",
           "regex_problem"]

MAX_GROUP = 9
"""The highest group number DuckDB's ``regexp_extract`` takes ("Group index must be between 0
and 9"); a later group is extracted from :func:`only_group`'s pattern instead."""

_GLOB_SPECIAL = set("\\.^$|?*+()[]{}")


def glob_to_regex(text: str) -> tuple[str, list[int]]:
    """A parse glob as a regex and the group number of each ``*``.

    >>> glob_to_regex("user=* id=*")
    ('user=(.*?) id=(.*)', [1, 2])
    """
    pieces = text.split("*")
    out = []
    for i, piece in enumerate(pieces):
        out.append("".join("\\" + ch if ch in _GLOB_SPECIAL else ch for ch in piece))
        if i < len(pieces) - 1:
            out.append("(.*)" if i == len(pieces) - 2 and pieces[-1] == "" else "(.*?)")
    return "".join(out), list(range(1, len(pieces)))


def portable_regex(text: str) -> tuple[str, list[str]]:
    """The regex with named groups made plain, and the names in order.

    Raises:
        ValueError: a group name that is not letters, digits and _, or a pattern RE2 rejects.

    >>> portable_regex("(?<eni>eni-[0-9a-f]+) (?:x)(?P<port>[0-9]+)")
    ('(eni-[0-9a-f]+) (?:x)([0-9]+)', ['eni', 'port'])
    """
    pattern, names = [], []
    i, in_class = 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            pattern.append(text[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(" and text.startswith(("(?<", "(?P<"), i):
            start = i + (3 if text[i + 2] == "<" else 4)
            end = text.find(">", start)
            name = text[start:end] if end > 0 else ""
            if name and not name.startswith(("=", "!")):
                if not name.replace("_", "a").isalnum():
                    raise ValueError(f"bad group name {name!r}: use letters, digits and _")
                names.append(name)
                pattern.append("(")
                i = end + 1
                continue
        pattern.append(ch)
        i += 1
    problem = regex_problem("".join(pattern))
    if problem:
        raise ValueError(f"not a valid regular expression ({problem}); the syntax is RE2's: "
                         "https://github.com/google/re2/wiki/Syntax")
    return "".join(pattern), names


def regex_problem(pattern: str) -> str | None:
    """Why RE2 (DuckDB's regex engine) rejects a pattern, or None."""
    con = duckdb.connect()
    try:
        con.execute("SELECT regexp_matches('', $1)", [pattern]).fetchall()
    except duckdb.Error as err:
        return str(err).split(": ", 1)[-1].split("\n")[0]
    finally:
        con.close()
    return None


def named_group_numbers(text: str) -> list[int]:
    """The capture-group numbers of a regex's named groups, in order.

    >>> named_group_numbers("(a)(?:b)(?<x>c)(?<=d)(?P<y>e)")
    [2, 3]
    """
    numbers, count, i, in_class = [], 0, 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            if not text.startswith("(?", i):
                count += 1
            elif text.startswith(("(?<", "(?P<"), i) and text[i + 3: i + 4] not in ("=", "!"):
                count += 1
                numbers.append(count)
        i += 1
    return numbers


def only_group(pattern: str, number: int) -> str:
    """The regex with every capture group but the ``number``-th made non-capturing, so that group
    is group 1: how a parse extracts its tenth and later fields.

    >>> only_group("(a)(?:b)(c)[(]", 2)
    '(?:a)(?:b)(c)[(]'
    """
    out, count, i, in_class = [], 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(" and not pattern.startswith("(?", i):
            count += 1
            if count != number:
                out.append("(?:")
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)
