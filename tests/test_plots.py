"""Charts: house style, natural category order, deterministic SVG, glyph guard."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import SAMPLE
from matplotlib.figure import Figure

from balance_metrics import evaluate_resources, load_period
from balance_metrics.reporting import plots
from balance_metrics.reporting.chart_style import PRINT_DPI
from balance_metrics.reporting.findings import school_comparison
from balance_metrics.reporting.fonts import MissingGlyphError


@pytest.fixture(scope="module")
def res():
    if not (SAMPLE / "2022Q4").is_dir():
        pytest.skip("sample data not generated")
    return evaluate_resources(load_period(SAMPLE / "2022Q4"))


@pytest.fixture(scope="module")
def small_res(tmp_path_factory):
    from conftest import small_district, write_period

    folder = write_period(tmp_path_factory.mktemp("small") / "2022Q4", small_district())
    return evaluate_resources(load_period(folder))


def _tick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


def test_natural_order_helpers():
    assert plots.indicator_order(["R10", "R2", "R1", "R9"]) == ["R1", "R2", "R9", "R10"]
    assert plots.stage_order(["junior", "primary"]) == ["primary", "junior"]
    assert plots.area_order(["rural", "urban", "town"]) == ["urban", "town", "rural"]
    assert plots.period_order(["2022Q1", "2021Q4", "2021Q2"]) == ["2021Q2", "2021Q4", "2022Q1"]


def test_cv_chart_orders_stages_and_indicators_naturally(small_res):
    shuffled = small_res.balance.iloc[::-1].reset_index(drop=True)
    fig = plots.cv_chart(shuffled)
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split("（")[0] for ax in axes] == ["小学", "初中"]
    assert _tick_labels(axes[0]) == [f"R{i}" for i in range(1, 8)]


def test_section_values_chart_names_only_sections_below_threshold(res):
    fig = plots.section_values_chart(res.sections, "R2")
    named = {label for ax in fig.axes for label in _tick_labels(ax)}
    below = set(res.sections.loc[(res.sections["indicator"] == "R2") & ~res.sections["met"], "school_name"])
    assert named == below
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("小学") and titles[1].startswith("初中")


def test_section_values_chart_unknown_indicator(res):
    with pytest.raises(ValueError, match="no rows for indicator 'R99'"):
        plots.section_values_chart(res.sections, "R99")


def test_trend_chart_puts_periods_in_chronological_order(small_res):
    rows = []
    for period, factor in (("2022Q1", 1.0), ("2021Q4", 0.9), ("2021Q3", 0.8)):
        rows.append(small_res.balance.assign(period=period, cv=small_res.balance["cv"] * factor))
    trends = pd.concat(rows, ignore_index=True)
    fig = plots.trend_chart(trends, "cv")
    first = [ax for ax in fig.axes if ax.get_visible()][0]
    assert first.get_title() == "R1"
    assert _tick_labels(first) == ["2021Q3", "2021Q4", "2022Q1"]
    with pytest.raises(ValueError, match="measure must be one of"):
        plots.trend_chart(trends, "median")


def test_school_ratio_chart(res):
    school = res.verdicts["school_id"].iloc[0]
    fig = plots.school_ratio_chart(school_comparison(res, school))
    assert isinstance(fig, Figure)
    assert _tick_labels(fig.axes[0]) == [f"R{i}" for i in range(1, 8)]


def test_missing_columns_are_a_clear_error(small_res):
    with pytest.raises(ValueError, match="missing column"):
        plots.cv_chart(small_res.balance.drop(columns=["cv"]))
    with pytest.raises(TypeError, match="DataFrame"):
        plots.cv_chart([1, 2, 3])


def test_svg_is_deterministic_text_as_paths(small_res):
    first = plots.figure_svg(plots.cv_chart(small_res.balance))
    second = plots.figure_svg(plots.cv_chart(small_res.balance))
    assert first == second, "same data must give byte-identical SVG (svg.hashsalt, no date)"
    assert first.startswith("<svg")
    assert "<text" not in first, "svg.fonttype must be 'path': no font needed by the viewer"
    assert "dc:date" not in first and "Matplotlib v" not in first


def test_png_is_savefig_in_one_draw_deterministic_and_200_dpi(small_res):
    import io

    import numpy as np
    from PIL import Image

    fig = plots.trend_chart(
        pd.DataFrame({"period": ["2022Q3", "2022Q4"] * 2, "stage": "primary", "indicator": ["R1", "R1", "R2", "R2"],
                      "value": [4.0, 4.5, 1.0, 0.9], "threshold": [4.2, 4.2, 1.0, 1.0]}),  # fmt: skip
        "value",
    )
    png = plots.figure_png(fig)
    assert png == plots.figure_png(fig), "same figure, same bytes"
    reference = io.BytesIO()
    fig.savefig(reference, format="png", dpi=PRINT_DPI, metadata={"Software": None})
    ours, theirs = Image.open(io.BytesIO(png)), Image.open(reference)
    assert ours.size == theirs.size == (round(7.0 * PRINT_DPI), round(fig.get_figheight() * PRINT_DPI))
    assert np.array_equal(np.asarray(ours), np.asarray(theirs)), "one draw must paint the pixels savefig paints"
    assert round(ours.info["dpi"][0]) == PRINT_DPI and fig.dpi == 100, "the figure's own dpi is restored"
    assert b"Software" not in png and b"tEXt" not in png


def test_missing_glyph_in_a_chart_is_an_error_naming_the_character(small_res):
    fig = plots.cv_chart(small_res.balance, title="差异系数\ue000")
    with pytest.raises(MissingGlyphError) as info:
        plots.figure_svg(fig)
    assert "U+E000" in str(info.value)
    with pytest.raises(MissingGlyphError, match="U\\+E000"):
        plots.figure_png(fig)


def test_house_style_is_applied():
    import matplotlib

    plots.use_house_style()
    assert matplotlib.rcParams["svg.fonttype"] == "path"
    assert matplotlib.rcParams["svg.hashsalt"] == plots.SVG_HASH_SALT
    assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"
    assert re.fullmatch(r"#[0-9a-f]{6}", plots.STAGE_COLORS["primary"])
