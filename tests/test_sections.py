"""Exclusions, campus merging and the combined-school split (STANDARD.md §1, §4, E2)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from balance_metrics import load_period, load_standard
from balance_metrics.engine.sections import build_sections, split_shares

NATIONAL = load_standard("national-2017")


def test_e2_nine_year_split():
    shares = split_shares({"primary": 166, "junior": 210}, NATIONAL.split_weights("nine_year"))
    assert shares == {"primary": Fraction(166, 397), "junior": Fraction(231, 397)}
    assert float(23226 * shares["primary"]) == pytest.approx(9711.63, abs=0.005)
    assert float(23226 * shares["junior"]) == pytest.approx(13514.37, abs=0.005)


def test_twelve_year_and_complete_secondary_weights():
    twelve = split_shares({"primary": 100, "junior": 100, "senior": 100}, NATIONAL.split_weights("twelve_year"))
    assert twelve["primary"] == Fraction(100, 342)
    assert twelve["junior"] == Fraction(110, 342)
    complete = split_shares({"junior": 300, "senior": 500}, NATIONAL.split_weights("complete_secondary"))
    assert complete["junior"] == Fraction(300, 900)


def test_exclusions_and_reasons(district_dir):
    result = build_sections(load_period(district_dir), NATIONAL)
    excluded = result.excluded.set_index("school_id")["reason"]
    assert set(excluded.index) == {"T1", "S1"}
    assert "不足50人" in excluded["T1"]
    assert "特殊教育学校" in excluded["S1"]
    evaluated = set(zip(result.sections["school_id"], result.sections["stage"]))
    assert evaluated == {("P1", "primary"), ("P2", "primary"), ("P3", "primary"),
                         ("N1", "primary"), ("J1", "junior"), ("N1", "junior")}


def test_campus_merged_into_parent(district_dir):
    result = build_sections(load_period(district_dir), NATIONAL)
    p1 = result.sections.set_index(["school_id", "stage"]).loc[("P1", "primary")]
    assert p1["students"] == 1000
    assert p1["teachers_above_degree"] == 56
    assert p1["teaching_aux_area_m2_school"] == 5700
    assert p1["campuses"] == "C1"


def test_teaching_point_of_fifty_is_included(district_dir, tmp_path):
    import pandas as pd
    from conftest import small_district, write_period

    tables = small_district()
    tables["sections"].loc[tables["sections"]["school_id"] == "T1", "students"] = 50
    folder = write_period(tmp_path / "p", tables)
    result = build_sections(load_period(folder), NATIONAL)
    assert "T1" in set(result.sections["school_id"])
    assert isinstance(result.sections, pd.DataFrame)


def test_private_schools_can_be_excluded_by_an_override(district_dir, tmp_path):
    override = tmp_path / "no-private.toml"
    override.write_text('name = "no-private"\nextends = "national-2017"\n[scope]\ninclude_private = false\n', encoding="utf-8")
    result = build_sections(load_period(district_dir), load_standard(override))
    assert "P3" in set(result.excluded["school_id"])
    assert "P3" not in set(result.sections["school_id"])
