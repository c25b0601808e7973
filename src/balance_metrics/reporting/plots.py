"""Charts for the reports, in one house style.

Every chart function takes a DataFrame produced by the library and returns a
:class:`matplotlib.figure.Figure`. Figures are created without pyplot, so a
notebook never shows them twice (the inline backend only displays pyplot
figures) and they are freed as soon as nothing refers to them; show them with
:func:`figure_html` or write them with :func:`figure_svg`.

The house style (palette, fonts, natural category order, deterministic SVG,
glyph guard) and :func:`figure_svg` / :func:`figure_html` are in
:mod:`.chart_style`; they are re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from balance_metrics.reporting.chart_style import (
    _FONT_SIZE, _WIDTH_IN, DISTRICT_COLOR, PALETTE, REFERENCE_COLOR, STAGE_COLORS, STATUS_COLORS, SVG_HASH_SALT,
    _floor_text, _fmt, _guarded, _new_figure, _require, _stage_label, _status, _status_legend, area_order, figure_html, figure_png, figure_svg,
    indicator_order, period_order, stage_order, use_house_style,
)
from balance_metrics.reporting.presentation import format_exact

__all__ = [
    "PALETTE",
    "REFERENCE_COLOR",
    "STAGE_COLORS",
    "STATUS_COLORS",
    "SVG_HASH_SALT",
    "area_order",
    "cv_chart",
    "figure_html",
    "figure_png",
    "figure_svg",
    "indicator_order",
    "period_order",
    "school_ratio_chart",
    "section_values_chart",
    "stage_order",
    "trend_chart",
    "use_house_style",
]

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
            f"{_floor_text(floor / threshold)}底线 {format_exact(floor)}）"
        )
        ax.set_ylabel(str(part["unit"].iloc[0]))
    floor_text = _floor_text(float(rows["floor"].iloc[0]) / float(rows["threshold"].iloc[0]))
    if title is None:
        title = f"{indicator} {rows['name'].iloc[0]}：各校指标值"
    if title:
        fig.suptitle(title)
    from matplotlib.lines import Line2D

    references = [
        Line2D([], [], color=REFERENCE_COLOR, linestyle="--", label="标准值"),
        Line2D([], [], color=REFERENCE_COLOR, linestyle=":", label=f"{floor_text}底线"),
    ]
    _status_legend(fig, _status(rows), floor_text, references)
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
    floor_text = _floor_text(floor_ratio if floor_ratio is not None else float(comparison["floor"].iloc[0] / comparison["threshold"].iloc[0]))
    if floor_ratio is not None:
        extra.append(Line2D([], [], color=REFERENCE_COLOR, linestyle=":", label=f"{floor_text}底线"))
    _status_legend(fig, _status(comparison), floor_text, extra)
    if title is None and "school_name" in comparison.columns:
        title = f"{comparison['school_name'].iloc[0]}：各项指标与标准值、全区值对比"
    if title:
        fig.suptitle(title)
    return fig
