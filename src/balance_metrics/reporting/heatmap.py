"""The school × indicator heat map of value ÷ threshold (seaborn), in the house style.

One panel per stage: a row per school (section), a column per indicator, each
cell the section's value ÷ threshold. Colours follow the status colours of
:mod:`balance_metrics.reporting.plots`: below the floor in the "below floor"
colour, between floor and threshold in the "above floor" colour, white at the
threshold (1.0) and green above it. The floor is the standard's
(floor ÷ threshold, e.g. 0.85), read from the data.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from balance_metrics.common.labels import percent_text
from balance_metrics.reporting.chart_style import (
    _WIDTH_IN, STATUS_COLORS, _guarded, _new_figure, _require, _stage_label, indicator_order, stage_order,
)

__all__ = ["ratio_heatmap"]

#: value ÷ threshold shown from this far below the floor to this far above 1.
_SPAN = 0.5


def _colormap(floor: float) -> tuple[LinearSegmentedColormap, TwoSlopeNorm]:
    low, high = max(0.0, floor - _SPAN / 2), 1.0 + _SPAN
    at_floor = (floor - low) / (2 * (1.0 - low))  # position of the floor on the lower half of the norm
    colors = [(0.0, STATUS_COLORS["below_floor"]), (max(at_floor - 1e-6, 0.0), STATUS_COLORS["below_floor"]),
              (at_floor, STATUS_COLORS["above_floor"]), (0.5, "#ffffff"), (1.0, STATUS_COLORS["met"])]
    return LinearSegmentedColormap.from_list("bm_ratio", colors), TwoSlopeNorm(vmin=low, vcenter=1.0, vmax=high)


@_guarded
def ratio_heatmap(sections: pd.DataFrame, *, title: str | None = "各校各项指标值 ÷ 标准值") -> Figure:
    """Heat map of value ÷ threshold, schools × indicators, one panel per stage.

    Parameters
    ----------
    sections : DataFrame
        ``ResourceEvaluation.sections``: school_name, school_id, stage,
        indicator, ratio (value ÷ threshold), threshold, floor.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Cells annotated with the ratio (2 decimals); schools sorted from the
        lowest smallest ratio; the colour bar marks the floor and 1.0.
    """
    import seaborn as sns

    _require(sections, ["school_id", "school_name", "stage", "indicator", "ratio", "threshold", "floor"], "ratio_heatmap(sections)")
    if sections.empty:
        raise ValueError("ratio_heatmap: no sections")
    floor = float((sections["floor"] / sections["threshold"]).iloc[0])
    cmap, norm = _colormap(floor)
    stages = stage_order(sections["stage"])
    indicators = indicator_order(sections["indicator"])
    counts = [sections.loc[sections["stage"] == s, "school_id"].nunique() for s in stages]
    fig = _new_figure(_WIDTH_IN, 1.2 + 0.19 * sum(counts) + 0.5 * len(stages))
    axes = fig.subplots(len(stages), 1, squeeze=False, height_ratios=[max(c, 1) for c in counts])[:, 0]
    for ax, stage in zip(axes, stages, strict=True):
        part = sections[sections["stage"] == stage].assign(label=lambda f: f["school_name"] + "（" + f["school_id"] + "）")
        wide = part.pivot_table(index="label", columns="indicator", values="ratio", aggfunc="first").reindex(columns=indicators)
        wide = wide.loc[wide.min(axis=1).sort_values(kind="mergesort").index]
        sns.heatmap(wide, ax=ax, cmap=cmap, norm=norm, annot=True, fmt=".2f", annot_kws={"fontsize": 6},
                    linewidths=0.4, linecolor="#ffffff", cbar_kws={"label": "指标值 ÷ 标准值", "ticks": [floor, 1.0]},
                    yticklabels=True)
        ax.collections[0].colorbar.ax.set_yticklabels([f"{percent_text(floor)}底线", "标准值"])
        ax.set_title(f"{_stage_label(stage)}（{len(wide)} 所）")
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="y", labelsize=6.5)
        ax.tick_params(axis="x", rotation=0)
    if title:
        fig.suptitle(title)
    return fig


