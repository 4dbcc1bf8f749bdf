"""Times as the course takes them: one conversion for every function that accepts a time.

A time may be given as a ``datetime`` or ``pandas.Timestamp`` (naive means UTC), a ``date``,
ISO 8601 text (``"2021-12-20T05:30:00Z"``) or Unix epoch seconds (int or float). Everything
is converted to UTC; flow-log records carry epoch seconds, AWS's APIs take datetimes or epoch
seconds, dashboards ISO text.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd

from helpers.errors import TimeValueError

__all__ = ["epoch_seconds", "iso_z", "to_datetime", "to_epoch", "to_timestamp"]

_EXPECTED = "a datetime, ISO 8601 text such as '2021-12-20T05:30:00Z', or epoch seconds"
_FIRST = pd.Timestamp.min.ceil("s").timestamp()  # the range pandas holds, in epoch seconds
_LAST = pd.Timestamp.max.floor("s").timestamp()


def to_timestamp(value, what: str = "time") -> pd.Timestamp:
    """``value`` as a timezone-aware UTC ``pandas.Timestamp``.

    Raises:
        TimeValueError: not a time, or not a finite one; the message names ``what``.
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise TimeValueError(f"{what}: {value!r} is not a time; give {_EXPECTED}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not math.isfinite(value):
            raise TimeValueError(f"{what}: {value!r} is not a finite time; give {_EXPECTED}")
        if not _FIRST <= value <= _LAST:
            hint = " (epoch milliseconds? give seconds)" if abs(value) < 1e15 else ""
            raise TimeValueError(f"{what}: {value!r} epoch seconds is outside the times pandas "
                                 f"can hold, 1677-09-22 to 2262-04-11{hint}")
        return pd.Timestamp(int(value) if float(value).is_integer() else float(value),
                            unit="s", tz="UTC")
    if not isinstance(value, (str, dt.datetime, dt.date, pd.Timestamp, np.datetime64)):
        raise TimeValueError(f"{what}: a {type(value).__name__} is not a time; give {_EXPECTED}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as err:
        raise TimeValueError(f"{what}: {value!r} is not a time ({err}); give {_EXPECTED}"
                             ) from None
    if stamp is pd.NaT:
        raise TimeValueError(f"{what}: {value!r} is not a time; give {_EXPECTED}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def to_epoch(value, what: str = "time") -> int:
    """Whole Unix seconds (floored) of a time."""
    return int(to_timestamp(value, what).timestamp() // 1)


def to_datetime(value, what: str = "time") -> dt.datetime:
    """A timezone-aware UTC ``datetime`` (what boto3 takes for times)."""
    return to_timestamp(value, what).to_pydatetime()


def iso_z(value, what: str = "time") -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, as CloudWatch dashboards write times."""
    return to_timestamp(value, what).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def epoch_seconds(stamps, what: str = "times") -> np.ndarray:
    """Whole Unix seconds (floored) of many times, as int64: vectorised :func:`to_epoch`.

    Numbers are epoch seconds; datetimes of any pandas resolution, and ISO text, are converted
    (naive means UTC).

    Raises:
        TimeValueError: a value is missing, not finite, or not a time; the message names
            ``what``.
    """
    values = np.asarray(stamps)
    if values.dtype.kind == "b":
        raise TimeValueError(f"{what}: True/False are not times; give {_EXPECTED}")
    if values.dtype.kind in "iuf":
        numbers = values.astype(float)
        bad = ~np.isfinite(numbers) | (numbers < _FIRST) | (numbers > _LAST)
        if bad.any():
            raise TimeValueError(f"{what}: item {int(np.flatnonzero(bad)[0])} "
                                 f"({numbers[bad][0]!r}) is not a time; give {_EXPECTED}")
        return np.floor(numbers).astype(np.int64)
    try:
        with warnings.catch_warnings():  # pandas' "could not infer format": we raise instead
            warnings.simplefilter("ignore", UserWarning)
            utc = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    except (TypeError, ValueError, OverflowError) as err:
        raise TimeValueError(f"{what}: not times ({err}); give {_EXPECTED}") from None
    if utc.isna().any():
        raise TimeValueError(f"{what}: item {int(np.flatnonzero(utc.isna())[0])} is missing; "
                             f"give {_EXPECTED}")
    return ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
