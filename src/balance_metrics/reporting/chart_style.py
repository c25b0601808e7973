"""The house style of every chart: palette, fonts, natural category order, SVG output.

* one palette (:data:`PALETTE`, seaborn "colorblind"): stage colours for
  小学/初中, status colours for 达标 / 未达标但不低于底线 / 低于底线, one grey
  for reference lines (threshold, floor, limit);
* Chinese text through :func:`balance_metrics.reporting.chart_fonts.use_chinese_font`;
* charts in reports as 200 dpi PNG (:func:`figure_html`), on screen, on paper and in PDFs;
* categories in their natural order — 小学 before 初中, R1..R7 (R10 after
  R9), 城区/镇区/乡村, periods chronologically — never code-point order;
* deterministic output: PNG without software/date metadata; SVG (:func:`figure_svg`)
  with text as paths (no font needed by the viewer) and ids derived from a fixed salt;
* matplotlib's "missing glyph" warning is an error
  (:class:`balance_metrics.reporting.fonts.MissingGlyphError`) naming the character.

The charts themselves are in :mod:`.plots` (matplotlib) and :mod:`.heatmap` (seaborn).
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from balance_metrics.common.labels import indicator_status_labels, percent_text
from balance_metrics.contract.periods import period_sort_key
from balance_metrics.reporting.chart_fonts import glyph_warnings_as_errors, use_chinese_font
from balance_metrics.reporting.presentation import Html, escape, format_number
from balance_metrics.contract.schema import AREA_TYPES, STAGES

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


def _floor_text(floor_ratio: float) -> str:
    """The floor as the standard sets it (floor ÷ threshold), e.g. "85%"."""
    return percent_text(floor_ratio)


def _status_legend(fig: Figure, statuses: Iterable[str], floor: str, extra: Sequence[Any] = ()) -> None:
    from matplotlib.patches import Patch

    labels = indicator_status_labels(floor)
    handles = [Patch(color=STATUS_COLORS[s], label=labels[s]) for s in STATUS_COLORS if s in set(statuses)]
    fig.legend(handles=[*handles, *extra], loc="outside lower center", ncols=len(handles) + len(extra))


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
    """A chart as a PNG image for a report page, with an optional caption.

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
        ``<figure>`` with one ``<img>`` of the chart as a :data:`PRINT_DPI`
        PNG ``data:`` URI (class ``bm-chart``), the same on screen, in print
        and in the PDF. PNG rather than SVG: WeasyPrint draws an SVG chart's
        thousands of glyph paths slowly (a school report's PDF took twice as
        long), and drawing each figure once instead of as SVG + PNG makes
        the whole report cheapest (``benchmarks/bench_charts.py``,
        ``docs/performance.md``). 200 dpi is print quality for a chart 18 cm
        wide and sharp on screen at normal zoom; :func:`figure_svg` still
        gives vector output for other uses.

    Raises
    ------
    MissingGlyphError
        If the chart has text the Chinese font cannot draw.
    """
    where = context or (caption or "chart")
    png = base64.b64encode(figure_png(fig, context=where)).decode("ascii")
    alt = escape(caption or "图表")
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Html(f'<figure class="bm-figure"><img class="bm-chart" alt="{alt}" src="data:image/png;base64,{png}">{cap}</figure>')


#: Resolution of the PNG charts drawn into PDFs and printed pages.
PRINT_DPI = 200


def figure_png(fig: Figure, *, dpi: int = PRINT_DPI, context: str = "") -> bytes:
    """Render ``fig`` as deterministic PNG bytes (no software/date metadata).

    The figure is drawn once on an Agg canvas and the pixels are encoded with
    Pillow. ``Figure.savefig`` would draw a constrained-layout figure twice
    (once to lay it out, once to paint); drawing once lays out and paints in
    one pass and gives the same pixels, in about 2/3 of the time for the
    report charts (profiled: the trend chart's small multiples are most of a
    school report's chart time).

    Raises
    ------
    MissingGlyphError
        If some text of the figure cannot be drawn with the Chinese font.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    use_house_style()
    original = fig.dpi
    buffer = io.BytesIO()
    try:
        with glyph_warnings_as_errors(context or "chart"):
            fig.set_dpi(dpi)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            width, height = canvas.get_width_height()
            image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            image.save(buffer, format="png", dpi=(dpi, dpi))
    finally:
        fig.set_dpi(original)
    return buffer.getvalue()
