"""Charts of the analysis (T6), drawn once here for the HTML report and for the think-tank pages.

pyplot keeps global state (the current figure, the font settings), so whoever draws holds
:data:`LOCK`: the web pages draw in several request threads at once.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from banso.analytics.countries import country_name

LOCK = threading.Lock()
JAPAN_RED = "#bc002d"
_CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "Hiragino Sans")


def cjk_font() -> str | None:
    """Return the name of an installed CJK font (for Japanese labels), or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _CJK_FONTS if n in names), None)


def use_fonts(lang: str) -> str:
    """Set pyplot's fonts for ``lang`` and return the language the labels can be drawn in.

    Without a CJK font Japanese labels would be boxes, so the charts fall back to English.
    """
    font = cjk_font()
    plt.rcParams["font.family"] = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    return lang if (font or lang == "en") else "en"


def png(fig: Figure, *, dpi: int) -> bytes:
    """Return the figure as PNG bytes and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def japan_position(technologies: pd.DataFrame, *, label: Callable[[str], str], japan: str, leader: str,
                   title: str | None = None, xlabel: str | None = None) -> Figure:
    """Draw Japan's top-10% share against the leader's, one bar per technology with works.

    ``technologies`` is the technologies table (``banso analyze indicators``); ``label`` names a
    technology id; ``japan`` and ``leader`` name the two bars in the legend.
    """
    active = technologies[technologies["papers"] > 0]
    labels = [label(t) for t in active["technology"]]
    share = [float(x) for x in active["japan_top10_share"].fillna(0.0)]
    lead = [a + float(g) for a, g in zip(share, active["japan_gap_to_leader"].fillna(0.0), strict=True)]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.4))
    ax.barh(labels, lead, color="#c9d3e0", label=leader)
    ax.barh(labels, share, height=0.5, color=JAPAN_RED, label=japan)
    ax.invert_yaxis()
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def japan_share_intervals(labels: Sequence[str], share: Sequence[float], low: Sequence[float],
                          high: Sequence[float], *, title: str | None = None, xlabel: str | None = None) -> Figure:
    """Draw Japan's top-10% share per technology with its bootstrap 95 % interval as error bars (issue 16)."""
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.4))
    left = [max(s - lo, 0.0) for s, lo in zip(share, low, strict=True)]
    right = [max(hi - s, 0.0) for s, hi in zip(share, high, strict=True)]
    ax.errorbar(share, list(range(len(labels))), xerr=[left, right], fmt="o", color=JAPAN_RED, ecolor="#555555",
                capsize=3, markersize=4)
    ax.set_yticks(list(range(len(labels))), labels)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def top10_shares(labels: Sequence[str], stacks: Sequence[tuple[str, Sequence[float]]], *, title: str) -> Figure:
    """Draw each technology's top-10% share by country as one stacked bar (``stacks``: country, shares)."""
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(labels) + 1.5))
    left = [0.0] * len(labels)
    for country, values in stacks:
        ax.barh(list(labels), list(values), left=left, label=country)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.legend(ncol=7, loc="lower center", bbox_to_anchor=(0.5, 1.02 + 0.4 / max(1, len(labels))), fontsize=8)
    return fig


def ranking_sensitivity(labels: Sequence[str], *, closeness: Sequence[float], keeps_band: Sequence[float],
                        labels_of_bars: tuple[str, str], title: str) -> Figure:
    """Draw the TOPSIS closeness per technology with the probability that it keeps its rank band."""
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(labels) + 1.5))
    ax.barh(list(labels), list(closeness), color="#1f4e79", label=labels_of_bars[0])
    ax.barh(list(labels), list(keeps_band), height=0.25, color="#f5a623", label=labels_of_bars[1])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def country_shares(countries: Sequence[str], shares: Sequence[float], *, xlabel: str,
                   lang: str | None = None) -> Figure:
    """Draw one technology's countries' top-10% shares (Japan in red), with each share written at its bar.

    ``countries`` are ISO codes (or labels such as "Other"); with ``lang`` (``ja``/``en``, the language
    :func:`use_fonts` returned) the bars are labelled with the countries' names (issue 16).
    """
    labels = [country_name(c, lang) for c in countries] if lang else list(countries)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(countries) + 1.2))
    ax.barh(labels, list(shares), color=[JAPAN_RED if c == "JP" else "#1557b0" for c in countries])
    ax.invert_yaxis()
    ax.set_xlim(0, max([0.05, *shares]) * 1.1)
    ax.set_xlabel(xlabel)
    for i, v in enumerate(shares):
        ax.text(v, i, f" {v:.1%}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


Series = Sequence[tuple[str, Sequence[float | None], str]]
Bands = Mapping[str, tuple[Sequence[float | None], Sequence[float | None]]]
TREND_STYLE: dict[str, dict[str, object]] = {"japan": {"color": JAPAN_RED, "linewidth": 2.6, "zorder": 3},
                                             "leader": {"color": "#333333", "linewidth": 2.0, "zorder": 2},
                                             "other": {"color": "#b8b8b8", "linewidth": 0.9, "zorder": 1}}


def _trend_axes(ax: Axes, windows: Sequence[str], series: Series, bands: Bands | None, band_label: str | None,
                *, tick_size: float = 7) -> None:
    """Draw one technology's trend lines (and bands) on ``ax``: shared by the single chart and the panels."""
    x = list(range(len(windows)))
    labelled = False
    for role, (low, high) in (bands or {}).items():
        if role not in ("japan", "leader"):
            continue
        lo = [float("nan") if v is None else v for v in low]
        hi = [float("nan") if v is None else v for v in high]
        ax.fill_between(x, lo, hi, color=str(TREND_STYLE[role]["color"]), alpha=0.18 if role == "japan" else 0.12,
                        linewidth=0, zorder=0, label=band_label if band_label and not labelled else None)
        labelled = True
    for label, values, role in series:
        ax.plot(x, [float("nan") if v is None else v for v in values], marker="o", markersize=3,
                label=label if role != "other" else None, **TREND_STYLE[role])  # type: ignore[arg-type]
    ax.set_xticks(x, list(windows), fontsize=tick_size, rotation=30 if len(windows) > 6 else 0)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(axis="y", labelsize=tick_size)
    ax.spines[["top", "right"]].set_visible(False)


def share_trend_panels(panels: Sequence[tuple[str, Sequence[str], Series, Bands | None]], *, ncols: int = 3,
                       band_label: str | None = None) -> Figure:
    """Draw several technologies' trends as small panels of one figure (``panels``: title, windows, series,
    bands), each with its own legend (Japan and the leader): the PDF report's page of trends."""
    nrows = max(1, -(-len(panels) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.7 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.set_visible(False)
            continue
        title, windows, series, bands = panels[k]
        _trend_axes(ax, windows, series, bands, band_label, tick_size=6)
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return fig


def share_trend(windows: Sequence[str], series: Series, *, title: str | None = None, bands: Bands | None = None,
                xlabel: str | None = None, ylabel: str | None = None, band_label: str | None = None,
                size: tuple[float, float] = (6.4, 2.8)) -> Figure:
    """Draw one technology's top-10% share per rolling window: Japan in red, the leader in dark grey,
    others thin and light (``series``: label, share per window or None, role ``japan``/``leader``/``other``).

    ``bands`` (role → lower and upper bounds per window; session 11) shades the bootstrap 95 % interval of
    the ``japan`` and ``leader`` lines in their colours; ``band_label`` names the shading in the legend.
    """
    fig, ax = plt.subplots(figsize=size)
    _trend_axes(ax, windows, series, bands, band_label)
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=8)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig
