"""Resource gaps, cheapest remediation and the after-remediation scenario (gaps.py)."""

from __future__ import annotations

import math
from fractions import Fraction
from math import ceil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE, write_period
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate_resources, load_period, load_standard, pupil_weighted_cv
from balance_metrics.engine.balance import district_balance
from balance_metrics.engine.verdicts import judge_sections
from balance_metrics.common.errors import StandardError
from balance_metrics.analysis.gaps import (
    cheapest_remediation,
    district_gaps,
    remediation_items,
    resource_gaps,
)
from balance_metrics.analysis.remediation import balance_after_remediation, remediated_sections
from balance_metrics.engine.resources import SECTION_COLUMNS, ResourceEvaluation
from balance_metrics.standard.loader import exact

FACILITY_FIELDS = {
    "teaching_aux_area_m2", "indoor_sports_area_m2", "outdoor_sports_area_m2", "equipment_value_yuan",
    "multimedia_classrooms", "music_rooms", "art_rooms", "smallest_music_room_m2", "smallest_art_room_m2",
}


def primary_school(school_id: str, students: int, area_type: str = "urban", **overrides) -> dict[str, pd.DataFrame]:
    """A primary school meeting every indicator comfortably unless overridden.

    With 300 students: R1 5.0, R2 2.0, R3 1.667, R4 7.0, R5 12.0, R6 3000, R7 3.0.
    """
    section = {
        "school_id": school_id, "stage": "primary", "students": students, "classes": max(1, students // 40),
        "teachers": ceil(students / 8), "teachers_above_degree": ceil(0.05 * students),
        "key_teachers": ceil(0.02 * students), "pe_arts_teachers": ceil(0.015 * students),
        "certified_teachers": ceil(students / 8), "largest_class": min(40, students),
    }
    facility = {
        "school_id": school_id, "teaching_aux_area_m2": 7.0 * students, "indoor_sports_area_m2": 0.0,
        "outdoor_sports_area_m2": 12.0 * students, "equipment_value_yuan": 3000.0 * students,
        "multimedia_classrooms": ceil(0.03 * students), "music_rooms": 1, "art_rooms": 1,
        "smallest_music_room_m2": 96.0, "smallest_art_room_m2": 90.0,
    }
    for key, value in overrides.items():
        (facility if key in FACILITY_FIELDS else section)[key] = value
    school = {
        "school_id": school_id, "school_name": f"{school_id}小学", "school_type": "primary", "area_type": area_type,
        "ownership": "public", "boarding": "false", "parent_school_id": "",
    }
    return {"schools": pd.DataFrame([school]), "sections": pd.DataFrame([section]), "facilities": pd.DataFrame([facility])}


def district(*schools: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: pd.concat([s[name] for s in schools], ignore_index=True) for name in ("schools", "sections", "facilities")}


@pytest.fixture(scope="module")
def hand_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four primary schools of 300 students.

    A: R4 4.0 (below 4.5, above the floor 3.825) — still passes with 6 of 7.
    B: R2 0.667 and R7 1.667, both below their floors — fails.
    C: R4 4.0 and R5 7.0, both above their floors — fails (5 of 7).
    D: everything met.
    """
    tables = district(
        primary_school("A", 300, teaching_aux_area_m2=1200.0),
        primary_school("B", 300, key_teachers=2, multimedia_classrooms=5),
        primary_school("C", 300, teaching_aux_area_m2=1200.0, outdoor_sports_area_m2=2100.0),
        primary_school("D", 300),
    )
    return write_period(tmp_path_factory.mktemp("hand") / "2022Q4", tables)


@pytest.fixture(scope="module")
def hand(hand_dir: Path) -> ResourceEvaluation:
    return evaluate_resources(load_period(hand_dir))


def gap_row(gaps: pd.DataFrame, school: str, indicator: str) -> pd.Series:
    row = gaps[(gaps.school_id == school) & (gaps.indicator == indicator)]
    assert len(row) == 1
    return row.iloc[0]


# -- resource_gaps ------------------------------------------------------------

def test_r4_gap_to_threshold_and_floor(hand):
    row = gap_row(resource_gaps(hand), "A", "R4")
    # 4.5 × 300 − 1200 = 150 m²; the floor 3.825 × 300 = 1147.5 < 1200: nothing.
    assert row["gap_threshold"] == 150 and row["gap_floor"] == 0
    assert row["add_threshold"] == 150 and row["unit"] == "m²" and row["resource"] == "教学及辅助用房"
    assert row["cost_threshold"] == 150 * 4000
    assert bool(row["section_passed"])


def test_teachers_and_rooms_are_whole_units(hand):
    gaps = resource_gaps(hand)
    r2 = gap_row(gaps, "B", "R2")  # 1.0 × 3 − 2 = 1 teacher; floor 0.85 × 3 − 2 = 0.55 -> 1
    assert (r2["gap_threshold"], r2["add_threshold"]) == (1, 1)
    assert r2["gap_floor"] == pytest.approx(0.55) and r2["add_floor"] == 1 and r2["unit"] == "人"
    r7 = gap_row(gaps, "B", "R7")  # 2.3 × 3 − 5 = 1.9 -> 2 rooms; 1.955 × 3 − 5 = 0.865 -> 1 room
    assert r7["gap_threshold"] == pytest.approx(1.9) and r7["add_threshold"] == 2
    assert r7["gap_floor"] == pytest.approx(0.865) and r7["add_floor"] == 1 and r7["unit"] == "间"


def test_only_unmet_indicators_are_listed(hand):
    gaps = resource_gaps(hand)
    assert sorted(zip(gaps.school_id, gaps.indicator)) == [("A", "R4"), ("B", "R2"), ("B", "R7"), ("C", "R4"), ("C", "R5")]


def test_combined_school_adds_facilities_at_school_level(district_dir):
    result = evaluate_resources(load_period(district_dir))
    row = gap_row(resource_gaps(result), "N1", "R7")  # N1 primary: 9 rooms × 166/397
    gap = Fraction("2.3") * 166 / 100 - Fraction(9 * 166, 397)
    assert row["gap_threshold"] == pytest.approx(float(gap))  # 0.0548 of a room
    # The school must add gap ÷ (166/397) = 0.131 room: one whole room.
    assert row["add_threshold"] == 1 and row["share"] == pytest.approx(166 / 397)


# -- cheapest_remediation -----------------------------------------------------

def test_cheapest_plan_leaves_the_expensive_indicator_at_floor(hand):
    plans = cheapest_remediation(hand).set_index("school_id")
    assert list(plans.index) == ["B", "C"]  # A and D pass already
    b = plans.loc["B"]
    # Fix R2 (1 key teacher, 220 000) and raise R7 only to its floor (1 room,
    # 80 000) instead of to its threshold (2 rooms, 160 000).
    assert b["plan"] == {"R2": 1.0, "R7": 1.0}
    assert b["at_floor"] == "R7"
    assert b["total_cost"] == 300_000 and b["cost_all_threshold"] == 380_000
    assert b["plans_considered"] == 3
    assert b["description"] == "增加县级及以上骨干教师1人；补充网络多媒体教室1间（R7达到85%底线即可）"


def test_cheapest_of_two_ways_to_pass_follows_unit_costs(hand):
    # C must bring R4 or R5 to threshold: 150 m² of rooms (600 000) or 150 m² of ground (75 000).
    c = cheapest_remediation(hand).set_index("school_id").loc["C"]
    assert c["plan"] == {"R5": 150.0} and c["at_floor"] == "R4" and c["total_cost"] == 75_000
    assert c["description"] == "新增体育运动场地150m²"
    # At 5 000 元/m² of ground the rooms become the cheaper way.
    dearer = cheapest_remediation(hand, costs={"sports_ground_m2": 5000}).set_index("school_id").loc["C"]
    assert dearer["plan"] == {"R4": 150.0} and dearer["at_floor"] == "R5" and dearer["total_cost"] == 600_000


def test_user_override_file_changes_unit_costs(hand_dir, tmp_path):
    override = tmp_path / "my-costs.toml"
    override.write_text(
        'name = "my-costs"\nextends = "national-2017"\n[remediation.unit_costs.sports_ground_m2]\ncost = "5000"\n',
        encoding="utf-8",
    )
    result = evaluate_resources(load_period(hand_dir), override)
    assert result.standard.get("remediation.unit_costs.teacher.cost") == "200000"  # the rest is kept
    assert cheapest_remediation(result).set_index("school_id").loc["C", "plan"] == {"R4": 150.0}


def test_unknown_resource_in_costs_is_an_error(hand):
    with pytest.raises(StandardError, match="unknown resource"):
        cheapest_remediation(hand, costs={"teachers": 1})


def test_unit_costs_live_in_the_standard_with_assumption_notes():
    std = load_standard("national-2017")
    costs = std.get("remediation.unit_costs")
    assert {"teacher", "key_teacher", "teaching_room_m2", "sports_ground_m2", "equipment_yuan", "multimedia_room"} <= set(costs)
    assert all("[C]" in c["note"] and "override" in c["note"] for c in costs.values())
    assert set(std.get("remediation.indicators")) == set(std.indicator_ids)


# -- district_gaps ------------------------------------------------------------

def test_district_gap_is_the_sum_of_section_gaps(hand):
    d = district_gaps(hand).set_index(["stage", "indicator"])
    r4 = d.loc[("primary", "R4")]
    assert r4["gap_threshold"] == 300 and r4["sections_short"] == 2 and r4["students_short"] == 600
    assert r4["cost_threshold"] == 1_200_000
    assert r4["gap_threshold_failing"] == 150 and r4["sections_failing"] == 1  # only C fails
    assert d.loc[("primary", "R6"), "gap_threshold"] == 0
    sums = resource_gaps(hand).groupby(["stage", "indicator"])[["gap_threshold", "gap_floor", "add_threshold"]].sum()
    pd.testing.assert_frame_equal(d.loc[sums.index, sums.columns], sums, check_names=False)


# -- the scenario ---------------------------------------------------------------

def test_cheapest_plans_make_every_failing_section_pass(hand):
    after = remediated_sections(hand)
    verdicts = after.drop_duplicates(["school_id", "stage"]).set_index("school_id")
    assert not verdicts.loc["B", "passed_before"] and verdicts["passed_after"].all()
    c5 = after[(after.school_id == "C") & (after.indicator == "R5")].iloc[0]
    assert (c5["added"], c5["value_after"], c5["met_after"]) == (150, 7.5, True)


def test_cv_after_the_cheapest_plans(hand):
    b = balance_after_remediation(hand).set_index("indicator")
    # R5 values 12, 12, 7.5, 12 (equal enrolment): mean 10.875, variance 3.796875.
    assert b.loc["R5", "cv_after"] == pytest.approx(math.sqrt(3.796875) / 10.875)
    assert b.loc["R5", "cv_before"] == pytest.approx(pupil_weighted_cv([12, 12, 7, 12], [1, 1, 1, 1]))
    assert b.loc["R5", "district_value_after"] == pytest.approx(10.875)
    assert b.loc["R5", "added"] == 150 and b.loc["R5", "sections_passed_after"] == 4
    assert b.loc["R5", "sections_passed_before"] == 2


def test_a_subset_of_plans_fixes_only_those_schools(hand):
    only_b = cheapest_remediation(hand).query("school_id == 'B'")
    after = remediated_sections(hand, only_b).drop_duplicates("school_id").set_index("school_id")
    assert after.loc["B", "passed_after"] and not after.loc["C", "passed_after"]
    assert balance_after_remediation(hand, only_b)["plan"].eq("custom").all()


def test_threshold_plan_spreads_a_combined_school_facility_over_its_sections(district_dir):
    result = evaluate_resources(load_period(district_dir))
    items = remediation_items(result, "threshold")
    assert items.query("school_id == 'N1' and indicator == 'R7'")["add"].tolist() == [1.0]
    after = remediated_sections(result, "threshold").set_index(["school_id", "stage", "indicator"])
    # One more room for the school: 10 rooms shared 166 : 1.1 × 210.
    assert after.loc[("N1", "primary", "R7"), "numerator_after"] == pytest.approx(10 * 166 / 397)
    assert after.loc[("N1", "junior", "R7"), "numerator_after"] == pytest.approx(10 * 231 / 397)
    assert after["met_after"].all()


def test_unknown_plan_name_is_rejected(hand):
    with pytest.raises(ValueError, match="cheapest"):
        remediation_items(hand, "everything")


def synthetic(students: list[int], r4_areas: list[int]) -> ResourceEvaluation:
    """Primary sections meeting every indicator at twice its threshold except R4."""
    std = load_standard()
    rows = []
    for i, (n, area) in enumerate(zip(students, r4_areas)):
        for ind in std.indicator_ids:
            scale = exact(std.indicator(ind)["scale"])
            numerator = Fraction(area) if ind == "R4" else 2 * std.threshold(ind, "primary") * n / scale
            value = numerator * scale / n
            rows.append(
                {
                    "school_id": f"S{i}", "school_name": f"S{i}", "school_type": "primary", "area_type": "urban",
                    "ownership": "public", "stage": "primary", "students": n, "share": 1.0, "campuses": "",
                    "indicator": ind, "name": ind, "unit": "", "numerator": float(numerator),
                    "value": float(value), "value_exact": value,
                }
            )
    judged, verdicts = judge_sections(pd.DataFrame(rows), std)
    return ResourceEvaluation(judged[SECTION_COLUMNS], verdicts, district_balance(judged, std), pd.DataFrame(), std, "test")


@settings(max_examples=12, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(25, 400), st.floats(2.0, 8.0)),
        min_size=2,
        max_size=6,
    )
)
def test_raising_low_sections_to_threshold_never_raises_the_cv(sections):
    # Even enrolments and whole m² keep 4.5 × students − area on the 0.01 m²
    # step, so every low section lands exactly on 4.5 (max(x, 4.5) lowers the CV).
    students = [2 * n for n, _ in sections]
    areas = [round(n * per) for n, (_, per) in zip(students, sections)]
    result = synthetic(students, areas)
    b = balance_after_remediation(result, "threshold").set_index("indicator").loc["R4"]
    assert b["cv_after"] <= b["cv_before"] * (1 + 1e-12) + 1e-15
    assert b["sections_met_after"] == b["sections"] == b["sections_passed_after"]
    assert district_gaps(result).set_index("indicator").loc["R4", "gap_threshold"] == pytest.approx(
        sum(max(0.0, 4.5 * n - a) for n, a in zip(students, areas))
    )


# -- the sample district ----------------------------------------------------------

@pytest.fixture(scope="module")
def sample() -> ResourceEvaluation:
    if not (SAMPLE / "2022Q4").exists():
        pytest.skip("sample data not generated")
    return evaluate_resources(load_period(SAMPLE / "2022Q4"))


def test_sample_cheapest_plans_pass_and_cost_no_more_than_fixing_everything(sample):
    plans = cheapest_remediation(sample)
    assert set(zip(plans.school_id, plans.stage)) == set(
        sample.verdicts.loc[~sample.verdicts.passed, ["school_id", "stage"]].itertuples(index=False, name=None)
    )
    assert (plans.total_cost <= plans.cost_all_threshold).all() and (plans.total_cost > 0).all()
    after = remediated_sections(sample)
    assert after["passed_after"].all()
    assert remediated_sections(sample, "threshold")["met_after"].all()


def test_sample_district_gaps_sum_section_gaps(sample):
    d = district_gaps(sample).set_index(["stage", "indicator"])
    sums = resource_gaps(sample).groupby(["stage", "indicator"])["gap_threshold"].sum()
    assert d["gap_threshold"].sum() == pytest.approx(sums.sum())
    for key, total in sums.items():
        assert d.loc[key, "gap_threshold"] == pytest.approx(total)
