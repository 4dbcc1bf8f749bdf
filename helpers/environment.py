"""Environment check for notebook 00: packages, Hangul font, course data."""

from __future__ import annotations

import sys
from importlib import metadata

import pandas as pd

__all__ = ["check"]

CORE = ["jupyterlab", "pandas", "matplotlib", "boto3", "duckdb", "pyarrow", "numpy"]


def _requirements() -> dict[str, str]:
    """Minimum versions from the installed project's metadata (pyproject.toml)."""
    try:
        requires = metadata.requires("day5-3-network-monitoring") or []
    except metadata.PackageNotFoundError:
        return {}
    found = {}
    for requirement in requires:
        if ";" in requirement:
            continue
        name, _, spec = requirement.partition(">=")
        found[name.strip().lower()] = spec.strip()
    return found


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check(show_versions: bool = False) -> pd.DataFrame:
    """One row per core package: the minimum the course needs and whether it is met.

    Installed versions are left out unless ``show_versions`` is True, so the saved notebook
    output stays the same on every machine that meets the requirements.
    """
    minimum = _requirements()
    rows = [{"package": "python", "required": ">=3.10",
             "ok": sys.version_info >= (3, 10), "installed": sys.version.split()[0]}]
    for name in CORE:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        need = minimum.get(name, "")
        ok = installed is not None and (
            not need or _version_tuple(installed) >= _version_tuple(need))
        rows.append({"package": name, "required": f">={need}" if need else "any",
                     "ok": ok, "installed": installed})
    table = pd.DataFrame(rows)
    return table if show_versions else table.drop(columns="installed")
