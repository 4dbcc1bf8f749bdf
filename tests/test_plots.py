"""Hangul renders in plots: the bundled font is registered and has the glyphs."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from helpers import plots  # noqa: E402


def test_setup_registers_a_hangul_font():
    plots.setup()
    name = plots.FONT
    assert name in {f.name for f in font_manager.fontManager.ttflist}
    assert matplotlib.rcParams["font.family"] == [name]
    path = font_manager.findfont(name, fallback_to_default=False)
    assert "NanumGothic" in path


def test_hangul_text_draws_without_missing_glyphs():
    # Missing glyphs make matplotlib warn; pytest turns warnings into errors here.
    plots.setup()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label="허용 트래픽")
    plots.decorate(ax, title="시간대별 트래픽 패턴", xlabel="시간", ylabel="바이트")
    fig.savefig(io.BytesIO(), format="png")
    assert ax.get_title() == "시간대별 트래픽 패턴"
    assert ax.get_legend() is not None
    plt.close(fig)


def test_setup_is_idempotent():
    before = len(font_manager.fontManager.ttflist)
    plots.setup()
    plots.setup()
    assert len(font_manager.fontManager.ttflist) == before
