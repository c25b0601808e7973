"""Charts for the reports, in one house style.

Every chart function takes a DataFrame produced by the library and returns a
:class:`matplotlib.figure.Figure`. Figures are created without pyplot, so a
notebook never shows them twice (the inline backend only displays pyplot
figures) and they are freed as soon as nothing refers to them; show them with
:func:`figure_html` or write them with :func:`figure_svg`.

House style
-----------
* one palette (:data:`PALETTE`, seaborn "colorblind"): stage colours for
  小学/初中, status colours for 达标 / 未达标但不低于85% / 低于85%底线, one grey
  for reference lines (threshold, floor, limit);
* Chinese text through :func:`balance_metrics.reporting.chart_fonts.use_chinese_font`;
* categories in their natural order — 小学 before 初中, R1..R7 (R10 after
  R9), 城区/镇区/乡村, periods chronologically — never code-point order;
* SVG with text as paths (no font needed by the browser or WeasyPrint) and
  ids derived from a fixed salt, so the same data always give the same bytes;
  on paper and in PDFs the same chart as a 200 dpi PNG (:func:`figure_html`);
* matplotlib's "missing glyph" warning is an error
  (:class:`balance_metrics.fonts.MissingGlyphError`) naming the character.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from balance_metrics.contract.dataset import period_sort_key
from balance_metrics.reporting.chart_fonts import glyph_warnings_as_errors, use_chinese_font
from balance_metrics.reporting.presentation import Html, escape, format_exact, format_number
from balance_metrics.contract.schema import AREA_TYPES, STAGES

__all__ = [
    "PALETTE",
    "REFERENCE_COLOR",
    "STAGE_COLORS",
    "STATUS_COLORS",
    "STATUS_LABELS",
    "cv_chart",
    "figure_html",
    "figure_png",
    "figure_svg",
    "indicator_order",
    "school_ratio_chart",
    "section_values_chart",
    "stage_order",
    "trend_chart",
    "use_house_style",
]

P = ParamSpec("P")
R = TypeVar("R")

_COLORBLIND = (
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc",
    "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9",
)  # fmt: skip
#: The one palette of every chart (seaborn "colorblind", fixed here so a
#: seaborn upgrade cannot recolour published reports).
PALETTE: tuple[str, ...] = _COLORBLIND
#: Colour of each stage wherever stages are compared.
STAGE_COLORS: dict[str, str] = {"primary": PALETTE[0], "junior": PALETTE[4], "senior": PALETTE[5]}
#: Colour of a section's status on one indicator.
STATUS_COLORS: dict[str, str] = {"met": PALETTE[2], "above_floor": PALETTE[1], "below_floor": PALETTE[3]}
STATUS_LABELS: dict[str, str] = {"met": "达标", "above_floor": "未达标（不低于85%底线）", "below_floor": "低于85%底线"}
#: Thresholds, floors and CV limits.
REFERENCE_COLOR = "#404040"
#: Marker colour for the district value in a school chart.
DISTRICT_COLOR = "#222222"

#: Fixed salt for the ids matplotlib writes into SVG (clip paths, glyph
#: definitions); without it every save draws fresh random ids.
SVG_HASH_SALT = "balance-metrics"

_WIDTH_IN = 7.0  # 504 pt: fits the 182 mm text width of an A4 page at 100 %
_FONT_SIZE = 9.0


def use_house_style() -> None:
    """Apply the house style to matplotlib's global ``rcParams``.

    Called by every chart function. It has to be global rather than a
    ``rc_context``: tick labels are created when a figure is *drawn*, which
    may happen after the chart function returned, and they take their font
    from the ``rcParams`` of that moment.
    """
    import matplotlib

    use_chinese_font()
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": SVG_HASH_SALT,
            "font.size": _FONT_SIZE,
            "axes.titlesize": _FONT_SIZE + 1,
            "axes.labelsize": _FONT_SIZE,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
            "axes.axisbelow": True,
            "axes.grid": True,
            "axes.grid.axis": "y",
            "grid.color": "#dddddd",
            "grid.linewidth": 0.6,
            "legend.frameon": False,
            "legend.fontsize": _FONT_SIZE - 1,
            "xtick.labelsize": _FONT_SIZE - 1,
            "ytick.labelsize": _FONT_SIZE - 1,
            "figure.dpi": 100,
            "savefig.dpi": 100,
        }
    )


def _guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Apply the house style and turn missing-glyph warnings into errors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        use_house_style()
        with glyph_warnings_as_errors(f"chart {func.__name__}"):
            return func(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------
# Natural order of categories
# --------------------------------------------------------------------------


def stage_order(stages: Iterable[str]) -> list[str]:
    """Stage codes present in ``stages``, 小学 before 初中 before 高中."""
    present = set(stages)
    known = [s for s in STAGES if s in present]
    return known + sorted(present - set(STAGES))


def area_order(areas: Iterable[str]) -> list[str]:
    """Area codes present in ``areas``, 城区, 镇区, 乡村."""
    present = set(areas)
    return [a for a in AREA_TYPES if a in present] + sorted(present - set(AREA_TYPES))


def indicator_order(indicators: Iterable[str]) -> list[str]:
    """Indicator ids in natural order: R1, R2, …, R9, R10 (not R1, R10, R2)."""

    def key(ind: str) -> tuple[str, int, str]:
        prefix = ind.rstrip("0123456789")
        digits = ind[len(prefix) :]
        return (prefix, int(digits) if digits else -1, ind)

    return sorted(set(indicators), key=key)


def period_order(periods: Iterable[str]) -> list[str]:
    """Period labels chronologically (2021Q4 before 2022Q1; months too)."""
    return sorted(set(periods), key=period_sort_key)


def _stage_label(stage: str) -> str:
    return STAGES.get(stage, stage)


# --------------------------------------------------------------------------
# Input checks and helpers
# --------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; has {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise ValueError(f"{what}: no rows to plot")


def _fmt(value: float, decimals: int) -> str:
    return format_number(value, decimals)


def _new_figure(width: float, height: float) -> Figure:
    # Constrained layout runs at draw time, inside the glyph guard of
    # figure_svg, and keeps long Chinese labels inside the canvas.
    return Figure(figsize=(width, height), layout="constrained")


def _status(frame: pd.DataFrame) -> pd.Series:
    status = np.where(frame["met"], "met", np.where(frame["above_floor"], "above_floor", "below_floor"))
    return pd.Series(status, index=frame.index)


def _status_legend(fig: Figure, statuses: Iterable[str], extra: Sequence[Any] = ()) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=STATUS_COLORS[s], label=STATUS_LABELS[s]) for s in STATUS_COLORS if s in set(statuses)]
    fig.legend(handles=[*handles, *extra], loc="outside lower center", ncols=len(handles) + len(extra))


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------


@_guarded
def cv_chart(balance: pd.DataFrame, *, decimals: int = 3, title: str | None = "各指标差异系数与限值") -> Figure:
    """Coefficient of variation of every indicator against its limit, per stage.

    Parameters
    ----------
    balance : DataFrame
        ``ResourceEvaluation.balance``: stage, indicator, cv, limit, passed.
    decimals : int, default 3
        Decimals of the value labels (the standard's ``display_decimals``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per stage (小学 first); bars over the limit in the "below
        floor" colour, the limit as a dashed line.
    """
    _require(balance, ["stage", "indicator", "cv", "limit", "passed"], "cv_chart(balance)")
    stages = stage_order(balance["stage"])
    indicators = indicator_order(balance["indicator"])
    fig = _new_figure(_WIDTH_IN, 2.9)
    axes = fig.subplots(1, len(stages), sharey=True, squeeze=False)[0]
    top = max(float(balance["cv"].max()), float(balance["limit"].max())) * 1.18
    for ax, stage in zip(axes, stages, strict=True):
        part = balance[balance["stage"] == stage].set_index("indicator").reindex(indicators)
        x = np.arange(len(indicators))
        colors = [
            STAGE_COLORS.get(stage, PALETTE[0]) if bool(ok) else STATUS_COLORS["below_floor"]
            for ok in part["passed"].fillna(True)
        ]
        ax.bar(x, part["cv"].to_numpy(float), color=colors, width=0.65)
        for xi, cv in zip(x, part["cv"], strict=True):
            if pd.notna(cv):
                ax.text(xi, cv, _fmt(cv, decimals), ha="center", va="bottom", fontsize=_FONT_SIZE - 2)
        limit = float(part["limit"].dropna().iloc[0])
        ax.axhline(limit, color=REFERENCE_COLOR, linestyle="--", linewidth=1)
        ax.set_xticks(x, indicators)
        ax.set_title(f"{_stage_label(stage)}（限值 {_fmt(limit, 2)}）")
        ax.set_ylim(0, top)
    axes[0].set_ylabel("差异系数")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=STAGE_COLORS.get(s, PALETTE[0]), label=f"{_stage_label(s)}：不超过限值") for s in stages]
    handles.append(Patch(color=STATUS_COLORS["below_floor"], label="超过限值"))
    handles.append(Line2D([], [], color=REFERENCE_COLOR, linestyle="--", label="限值"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    if title:
        fig.suptitle(title)
    return fig


@_guarded
def section_values_chart(
    sections: pd.DataFrame,
    indicator: str,
    *,
    title: str | None = None,
) -> Figure:
    """Every section's value of one indicator against threshold and floor.

    Parameters
    ----------
    sections : DataFrame
        ``ResourceEvaluation.sections``: school_name, stage, indicator, name,
        unit, value, threshold, floor, met, above_floor.
    indicator : str
        Indicator id, e.g. ``"R2"``.
    title : str, optional
        Figure title; defaults to the indicator's id and name.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per stage; sections sorted by value, coloured by status;
        only sections below the threshold are named on the axis.

    Raises
    ------
    ValueError
        If the indicator has no rows.
    """
    _require(
        sections,
        ["school_name", "stage", "indicator", "name", "unit", "value", "threshold", "floor", "met", "above_floor"],
        "section_values_chart(sections)",
    )
    rows = sections[sections["indicator"] == indicator]
    if rows.empty:
        known = ", ".join(indicator_order(sections["indicator"]))
        raise ValueError(f"section_values_chart: no rows for indicator {indicator!r}; known: {known}")
    stages = stage_order(rows["stage"])
    counts = [int((rows["stage"] == s).sum()) for s in stages]
    fig = _new_figure(_WIDTH_IN, 1.2 + 2.1 * len(stages))
    axes = fig.subplots(len(stages), 1, squeeze=False, height_ratios=[1] * len(stages))[:, 0]
    for ax, stage, count in zip(axes, stages, counts, strict=True):
        part = rows[rows["stage"] == stage].sort_values(["value", "school_name"], kind="mergesort")
        part = part.reset_index(drop=True)
        status = _status(part)
        x = np.arange(count)
        ax.bar(x, part["value"].to_numpy(float), color=[STATUS_COLORS[s] for s in status], width=0.8)
        threshold, floor = float(part["threshold"].iloc[0]), float(part["floor"].iloc[0])
        ax.axhline(threshold, color=REFERENCE_COLOR, linestyle="--", linewidth=1)
        ax.axhline(floor, color=REFERENCE_COLOR, linestyle=":", linewidth=1)
        failing = [i for i, ok in enumerate(part["met"]) if not ok]
        # Small labels: neighbouring bars may both be named.
        ax.set_xticks(failing, [part["school_name"].iloc[i] for i in failing], rotation=90, fontsize=_FONT_SIZE - 2.5)
        ax.set_xlim(-0.6, count - 0.4)
        ax.set_title(
            f"{_stage_label(stage)}（{count} 所，按指标值由低到高排列；标准值 {format_exact(threshold)}，"
            f"85%底线 {format_exact(floor)}）"
        )
        ax.set_ylabel(str(part["unit"].iloc[0]))
    if title is None:
        title = f"{indicator} {rows['name'].iloc[0]}：各校指标值"
    if title:
        fig.suptitle(title)
    from matplotlib.lines import Line2D

    references = [
        Line2D([], [], color=REFERENCE_COLOR, linestyle="--", label="标准值"),
        Line2D([], [], color=REFERENCE_COLOR, linestyle=":", label="85%底线"),
    ]
    _status_legend(fig, _status(rows), references)
    return fig


_TREND_MEASURES = {
    "cv": ("差异系数", "limit", "限值"),
    "district_value": ("全区值", "threshold", "标准值"),
    "value": ("指标值", "threshold", "标准值"),
}


@_guarded
def trend_chart(trends: pd.DataFrame, measure: str = "cv", *, title: str | None = None) -> Figure:
    """Trend of each indicator's CV or district value over the periods.

    Parameters
    ----------
    trends : DataFrame
        One row per period × stage × indicator with columns period, stage,
        indicator and ``measure``; the reference column (``limit`` for
        ``"cv"``, ``threshold`` otherwise) is drawn as a dashed line when
        present. Rows without an indicator are ignored.
    measure : {"cv", "district_value", "value"}, default "cv"
        What to plot; ``"value"`` is a school's own indicator value (rows of
        ``monitoring.school_history``), drawn against the threshold.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Small multiples, one panel per indicator (R1..R7), one line per stage.
    """
    if measure not in _TREND_MEASURES:
        raise ValueError(f"trend_chart: measure must be one of {', '.join(_TREND_MEASURES)}, got {measure!r}")
    label, reference, reference_label = _TREND_MEASURES[measure]
    _require(trends, ["period", "stage", "indicator", measure], "trend_chart(trends)")
    trends = trends[trends["indicator"].notna() & (trends["indicator"].astype(str) != "")]
    if trends.empty:
        raise ValueError("trend_chart(trends): no rows with an indicator to plot")
    periods = period_order(trends["period"])
    stages = stage_order(trends["stage"])
    indicators = indicator_order(trends["indicator"])
    ncols = 4
    nrows = math.ceil(len(indicators) / ncols)
    fig = _new_figure(_WIDTH_IN, 0.9 + 1.9 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True).ravel()
    position = {p: i for i, p in enumerate(periods)}
    for ax, indicator in zip(axes, indicators, strict=False):
        part = trends[trends["indicator"] == indicator]
        for stage in stages:
            line = part[part["stage"] == stage].copy()
            if line.empty:
                continue
            line["x"] = line["period"].map(position)
            line = line.sort_values("x")
            color = STAGE_COLORS.get(stage, PALETTE[0])
            ax.plot(line["x"], line[measure].astype(float), marker="o", markersize=3, color=color, linewidth=1.4)
            if reference in line.columns and line[reference].notna().any():
                ax.plot(line["x"], line[reference].astype(float), color=color, linestyle="--", linewidth=0.9)
        ax.set_title(indicator)
        ax.set_xticks(range(len(periods)), periods, rotation=90)
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_ylim(bottom=0)
    for ax in axes[len(indicators) :]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=STAGE_COLORS.get(s, PALETTE[0]), marker="o", markersize=3, label=_stage_label(s)) for s in stages]
    handles.append(Line2D([], [], color=REFERENCE_COLOR, linestyle="--", label=f"{reference_label}（同色虚线）"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    if title is None:
        title = f"各指标{label}变化趋势"
    if title:
        fig.suptitle(title)
    return fig


@_guarded
def school_ratio_chart(comparison: pd.DataFrame, *, title: str | None = None) -> Figure:
    """A school's indicators as multiples of the threshold, with the district's.

    Parameters
    ----------
    comparison : DataFrame
        One row per stage × indicator of one school, as returned by
        :func:`balance_metrics.report_content.school_comparison`: stage,
        indicator, ratio (school value ÷ threshold), district_ratio (district
        value ÷ threshold), met, above_floor; ``school_name`` for the default
        title.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per stage the school has; bars coloured by status, a
        diamond for the district, lines at 1.0 (threshold) and the floor.
    """
    _require(comparison, ["stage", "indicator", "ratio", "district_ratio", "met", "above_floor"], "school_ratio_chart(comparison)")
    stages = stage_order(comparison["stage"])
    indicators = indicator_order(comparison["indicator"])
    fig = _new_figure(_WIDTH_IN, 3.0)
    axes = fig.subplots(1, len(stages), sharey=True, squeeze=False)[0]
    top = max(float(comparison["ratio"].max()), float(comparison["district_ratio"].max()), 1.0) * 1.12
    floor_ratio = float(comparison["floor_ratio"].iloc[0]) if "floor_ratio" in comparison.columns else None
    for ax, stage in zip(axes, stages, strict=True):
        part = comparison[comparison["stage"] == stage].set_index("indicator").reindex(indicators).dropna(subset=["ratio"])
        x = np.arange(len(part))
        status = _status(part)
        ax.bar(x, part["ratio"].to_numpy(float), color=[STATUS_COLORS[s] for s in status], width=0.6)
        ax.scatter(x, part["district_ratio"].to_numpy(float), marker="D", s=22, color=DISTRICT_COLOR, zorder=3)
        ax.axhline(1.0, color=REFERENCE_COLOR, linestyle="--", linewidth=1)
        if floor_ratio is not None:
            ax.axhline(floor_ratio, color=REFERENCE_COLOR, linestyle=":", linewidth=1)
        ax.set_xticks(x, list(part.index))
        ax.set_title(_stage_label(stage))
        ax.set_ylim(0, top)
    axes[0].set_ylabel("指标值 ÷ 标准值")
    from matplotlib.lines import Line2D

    extra = [
        Line2D([], [], marker="D", linestyle="", color=DISTRICT_COLOR, markersize=4, label="全区值"),
        Line2D([], [], color=REFERENCE_COLOR, linestyle="--", label="标准值（=1）"),
    ]
    if floor_ratio is not None:
        extra.append(Line2D([], [], color=REFERENCE_COLOR, linestyle=":", label="85%底线"))
    _status_legend(fig, _status(comparison), extra)
    if title is None and "school_name" in comparison.columns:
        title = f"{comparison['school_name'].iloc[0]}：各项指标与标准值、全区值对比"
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def figure_svg(fig: Figure, *, context: str = "") -> str:
    """Render ``fig`` as deterministic SVG text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    context : str, optional
        Label for error messages (e.g. "district report, CV chart").

    Returns
    -------
    str
        SVG markup without the XML prolog, ready to inline in HTML: text
        drawn as paths, ids from :data:`SVG_HASH_SALT`, no date or creator
        metadata.

    Raises
    ------
    MissingGlyphError
        If some text of the figure cannot be drawn with the Chinese font.
    """
    use_house_style()
    buffer = io.StringIO()
    with glyph_warnings_as_errors(context or "chart"):
        # Date and Creator would stamp the time and matplotlib's version
        # into every report; a report must depend on its inputs only.
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def figure_html(fig: Figure, caption: str | None = None, *, context: str = "") -> Html:
    """A chart as an SVG image for a report page, with an optional caption.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A chart of this module.
    caption : str, optional
        Caption under the chart (also the image's ``alt`` text).
    context : str, optional
        Where the chart appears, for error messages.

    Returns
    -------
    balance_metrics.presentation.Html
        ``<figure>`` with two ``<img>`` of the chart as ``data:`` URIs: SVG
        (class ``bm-chart-screen``, sharp at any zoom) shown on screen, and a
        :data:`PRINT_DPI` PNG (class ``bm-chart-print``) shown in print and
        drawn into the PDF. WeasyPrint draws the SVG's thousands of glyph
        paths slowly: a school report's PDF took twice as long with SVG
        charts as with PNG (``benchmarks/bench_charts.py``,
        ``docs/performance.md``), and 200 dpi is print quality for a chart
        18 cm wide. Images rather than inline ``<svg>`` keep the HTML
        self-contained and spare WeasyPrint the CSS cascade over the paths.

    Raises
    ------
    MissingGlyphError
        If the chart has text the Chinese font cannot draw.
    """
    where = context or (caption or "chart")
    svg = figure_svg(fig, context=where)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    png = base64.b64encode(figure_png(fig, context=where)).decode("ascii")
    alt = escape(caption or "图表")
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Html(
        f'<figure class="bm-figure"><img class="bm-chart-screen" alt="{alt}" src="data:image/svg+xml;base64,{data}">'
        f'<img class="bm-chart-print" alt="{alt}" src="data:image/png;base64,{png}">{cap}</figure>'
    )


#: Resolution of the PNG charts drawn into PDFs and printed pages.
PRINT_DPI = 200


def figure_png(fig: Figure, *, dpi: int = PRINT_DPI, context: str = "") -> bytes:
    """Render ``fig`` as deterministic PNG bytes (no software/date metadata).

    Raises
    ------
    MissingGlyphError
        If some text of the figure cannot be drawn with the Chinese font.
    """
    use_house_style()
    buffer = io.BytesIO()
    with glyph_warnings_as_errors(context or "chart"):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
