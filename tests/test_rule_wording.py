"""Sentences that state a rule are built from the standard's values.

A local standard with ``floor_factor = "0.9"`` must give reports whose floors say
90 %, nowhere 85 % (satisfaction's own 85 % and the migrant-pupil 85 % are other rules).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from bs4 import BeautifulSoup
from conftest import SAMPLE

from balance_metrics import load_standard
from balance_metrics.reporting import district_sections, plots, school_sections
from balance_metrics.reporting.context import load_context


@pytest.fixture(scope="module")
def strict_floor(tmp_path_factory):
    path = tmp_path_factory.mktemp("standard") / "floor90.toml"
    path.write_text(
        'name = "floor90"\nextends = "beichen-2021"\nversion = "1"\n'
        '[section_rule]\nfloor_factor = "0.9"\nmin_indicators_met = 5\n'
        '[balance.cv_limits]\nprimary = "0.48"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def ctx(strict_floor):
    return load_context(SAMPLE, "2022Q4", strict_floor, with_panel=False)


def _text(html) -> str:
    return BeautifulSoup(str(html), "html.parser").get_text(" ")


def test_item_names_quote_the_standards_numbers(strict_floor):
    std = load_standard(strict_floor)
    assert std.items["RS"].name == "每所学校至少5项指标达到规定要求，余项不低于要求的90%"
    assert std.items["RC"].name == "所有指标校际差异系数，小学均小于或等于0.48，初中均小于或等于0.45"
    national = load_standard("national-2017")
    assert national.items["RS"].name == "每所学校至少6项指标达到规定要求，余项不低于要求的85%"
    assert national.floor_percent == "85%"


def test_district_report_states_the_90_percent_floor(ctx):
    sections = [district_sections.title, district_sections.overview, district_sections.resources,
                district_sections.school_verdicts, district_sections.issues, district_sections.gaps]
    text = " ".join(_text(build(ctx)) for build in sections)
    assert "不低于标准值的 90%" in text
    assert "余项不低于要求的90%" in text
    assert "90%底线" in text
    assert "至少 5 项达到标准值" in text
    for match in re.finditer(r"85\s*%", text):
        around = text[max(0, match.start() - 60):match.end() + 10]
        assert "底线" not in around and "余项" not in around, around
        # what is left is another rule: satisfaction (S1, V7), migrant pupils in public schools (G15)
        # or the share of pupils at level Ⅲ or above (Q9)
        assert any(word in around for word in ("认可度", "随迁子女", "Ⅲ级")), around


def test_school_report_states_the_90_percent_floor(ctx):
    failing = ctx.resources.verdicts.loc[~ctx.resources.verdicts["passed"], "school_id"].iloc[0]
    text = _text(school_sections.overview(ctx, failing)) + _text(school_sections.gaps(ctx, failing))
    assert "/7 项指标达到标准值" in text
    assert "85%" not in text


def test_chart_legends_quote_the_floor(ctx):
    failing = ctx.resources.sections.loc[~ctx.resources.sections["above_floor"], "indicator"].iloc[0]
    fig = plots.section_values_chart(ctx.resources.sections, failing)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    titles = [ax.get_title() for ax in fig.axes]
    assert "90%底线" in labels and "低于90%底线" in labels
    assert not any("85%" in t for t in labels + titles)
    assert any("90%底线" in t for t in titles)


def test_heatmap_cells_are_value_over_threshold(ctx):
    from balance_metrics.reporting.heatmap import ratio_heatmap

    sections = ctx.resources.sections
    fig = ratio_heatmap(sections)
    mesh = fig.axes[0].collections[0]
    primary = sections[sections["stage"] == "primary"]
    cells = np.asarray(mesh.get_array()).reshape(primary["school_id"].nunique(), -1)
    assert cells.shape == (primary["school_id"].nunique(), 7)
    # rows sorted by each school's lowest ratio; columns R1..R7
    lowest = primary.groupby("school_id")["ratio"].min().sort_values(kind="mergesort")
    assert cells.min(axis=1).tolist() == pytest.approx(lowest.tolist())
    row = primary[primary["school_id"] == lowest.index[0]].set_index("indicator")["ratio"]
    assert cells[0].tolist() == pytest.approx([row[f"R{i}"] for i in range(1, 8)])
    ticks = [t.get_text() for t in mesh.colorbar.ax.get_yticklabels()]
    assert ticks == ["90%底线", "标准值"]
