"""One check for the frames the helpers take: a DataFrame with the columns they need."""

from __future__ import annotations

import pandas as pd

from helpers.errors import CourseError

__all__ = ["require_columns"]


def require_columns(frame, columns, *, error: type[CourseError], what: str, source: str
                    ) -> None:
    """Raise ``error`` unless ``frame`` is a DataFrame holding every one of ``columns``.

    Args:
        what: the argument as the message names it, e.g. ``"records"`` or ``"draw: metrics"``.
        source: where a right frame comes from, e.g. ``"traffic.generate or flowlogs.read"``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise error(f"{what} must be a DataFrame (from {source}), not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{what} lacks the column{'s' * (len(missing) > 1)} {', '.join(missing)}; "
                    f"use a frame from {source}")
