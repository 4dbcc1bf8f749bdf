"""Plot style for the course: Hangul-capable fonts and a small ``decorate`` helper."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import font_manager

__all__ = ["FONT", "decorate", "setup"]

FONT = "NanumGothic"


def _font_files() -> list[Path]:
    # koreanize-matplotlib ships the NanumGothic files, but importing it fails on
    # Python >= 3.12 (it imports distutils), so locate the files without importing it.
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    return sorted(folder.glob("*.ttf"))


def setup() -> None:
    """Register the bundled Hangul font (:data:`FONT`) and set the course's plot style.

    Safe to call more than once. Returns nothing, so a notebook cell that ends with it shows
    no output.
    """
    files = _font_files()
    if not files:
        raise RuntimeError(
            "Hangul font files not found: install the course environment (make lab) or "
            "`pip install koreanize-matplotlib`"
        )
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for file in files:
        if str(file) not in known:
            font_manager.fontManager.addfont(str(file))
    matplotlib.rcParams.update({
        "font.family": FONT,
        "axes.unicode_minus": False,  # NanumGothic has no Unicode minus sign
        "figure.figsize": (8, 4),
        "figure.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


def decorate(ax=None, *, legend: bool | None = None, **options) -> None:
    """Set axis options (``title``, ``xlabel``, ``ylabel``, ``xlim``, ...) in one call.

    Adds a legend when the axes have labelled artists (or when ``legend=True``) and tightens
    the layout. Returns nothing, so it can end a notebook cell without printing the axes.
    """
    ax = ax or plt.gca()
    ax.set(**options)
    handles, _ = ax.get_legend_handles_labels()
    if legend or (legend is None and handles):
        ax.legend()
    ax.figure.tight_layout()
