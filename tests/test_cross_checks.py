"""District totals against the sum of the schools' own figures (issue #12)."""

from __future__ import annotations

import pytest
from conftest import write_period
from whole_district import boundary_district, district_rows

import pandas as pd

from balance_metrics import evaluate, load_period
from balance_metrics.cli import main


def with_baseline(reported: float, baseline: float = 5000) -> dict[str, pd.DataFrame]:
    # primary R4 numerators: P1 3000 m² + P2 2400 m² = 5400 m² now
    tables = boundary_district("beichen-2021")
    extra = pd.DataFrame([("teaching_area_baseline_primary_m2", 2022, baseline, "区教育局基建台账")], columns=tables["district"].columns)
    tables["district"] = pd.concat([tables["district"], extra], ignore_index=True)
    tables["district"].loc[tables["district"]["item"] == "teaching_area_added_primary_m2", "value"] = reported
    return tables


def run(tmp_path, tables):
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), "beichen-2021")


@pytest.mark.parametrize("reported, warned", [(400, False), (404, False), (397, False), (396, True), (405, True), (395, True), (18450, True)])
def test_added_teaching_space_agrees_with_the_schools_within_one_percent(tmp_path, reported, warned):
    # schools: 5400 − 5000 = 400 m²; tolerance 1 % of the reported figure (396: 4 > 3.96 warns; 397: 3 ≤ 3.97)
    result = run(tmp_path, with_baseline(reported))
    warnings = result.warnings[result.warnings["rule"].str.startswith("P13")]
    assert len(warnings) == int(warned)
    detail = result.plan_targets.set_index("target_id").loc["P13", "detail"]
    if warned:
        rule = warnings["rule"].iloc[0]
        assert f"区级填报{reported}m²" in rule and "各校合计为400m²" in rule and "本期各校5400m² − 基准5000m²" in rule
        assert "超过容差1%" in rule and warnings["column"].iloc[0] == "value" and warnings["file"].iloc[0].endswith("district.csv")
        assert rule.split(" ", 1)[1] in detail  # the target's detail (and its 问题清单 line) names both figures too
    else:
        assert "各校合计" not in detail
    assert result.plan_targets.set_index("target_id").loc["P13", "measured"] == reported  # still judged on the district figure


def test_no_baseline_no_cross_check(tmp_path):
    tables = boundary_district("beichen-2021")
    assert run(tmp_path, tables).warnings.empty


def test_cli_writes_the_cross_check_warning(tmp_path):
    folder = write_period(tmp_path / "2022Q4", with_baseline(18450))
    assert main(["evaluate", str(folder), "--standard", "beichen-2021", "--out", str(tmp_path / "out")]) == 0
    written = pd.read_csv(tmp_path / "out" / "warnings.csv", encoding="utf-8-sig")
    assert written["rule"].str.contains("区级填报18450m²，各校合计为400m²").any()


def test_sample_district_figures_agree_with_its_school_tables():
    from conftest import SAMPLE

    for period in ("2021Q2", "2022Q4"):
        result = evaluate(load_period(SAMPLE / period), "beichen-2021")
        assert not result.warnings["rule"].str.contains("各校合计").any(), period
        district = result.plan_targets.set_index("target_id")
        assert all(pd.notna(district.loc[t, "measured"]) for t in ("P13", "P14", "P15", "P16"))
