"""evaluate_resources on a hand-checked district."""

from __future__ import annotations

import pytest

from balance_metrics import evaluate_resources, load_period, pupil_weighted_cv


@pytest.fixture
def result(district_dir):
    return evaluate_resources(load_period(district_dir))


def value(result, school, stage, indicator):
    s = result.sections
    row = s[(s.school_id == school) & (s.stage == stage) & (s.indicator == indicator)]
    assert len(row) == 1
    return row.iloc[0]


def test_teacher_indicators_per_section(result):
    assert value(result, "P1", "primary", "R1")["value"] == pytest.approx(5.6)  # (50+6)/1000*100
    assert value(result, "N1", "junior", "R2")["value"] == pytest.approx(3 / 210 * 100)


def test_r4_subtracts_and_r5_adds_indoor_sports(result):
    assert value(result, "P1", "primary", "R4")["value"] == pytest.approx((5700 - 400) / 1000)
    assert value(result, "P1", "primary", "R5")["value"] == pytest.approx((7600 + 400) / 1000)


def test_combined_school_facilities_split(result):
    assert value(result, "N1", "primary", "R4")["numerator"] == pytest.approx(9711.63, abs=0.005)
    assert value(result, "N1", "junior", "R4")["numerator"] == pytest.approx(13514.37, abs=0.005)
    assert value(result, "N1", "primary", "R7")["numerator"] == pytest.approx(9 * 166 / 397)


def test_thresholds_floor_and_met(result):
    row = value(result, "P3", "primary", "R4")  # 1200/300 = 4.0 < 4.5, above 3.825
    assert row["value"] == pytest.approx(4.0)
    assert row["threshold"] == 4.5 and row["floor"] == pytest.approx(3.825)
    assert not row["met"] and row["above_floor"]
    assert row["shortfall"] == pytest.approx(0.5)


def test_verdicts(result):
    v = result.verdicts.set_index(["school_id", "stage"])
    p1 = v.loc[("P1", "primary")]
    # P1: R1 5.6, R2 1.1, R3 1.0, R4 5.3, R5 8.0, R6 2300, R7 2.5 -> all met
    assert p1["indicators_met"] == 7 and p1["passed"]
    p3 = v.loc[("P3", "primary")]
    # P3: R2 0.667 < 0.85 floor -> fails
    assert not p3["passed"]
    assert "R2" in p3["failed_indicators"].split(",")
    assert set(result.verdicts.columns) >= {"school_id", "stage", "indicators_met", "passed"}


def test_balance_is_pupil_weighted_ratio_of_totals(result):
    b = result.balance.set_index(["stage", "indicator"])
    s = result.sections
    r1 = s[(s.stage == "primary") & (s.indicator == "R1")]
    assert b.loc[("primary", "R1"), "district_value"] == pytest.approx((56 + 20 + 12 + 9) / (1000 + 400 + 300 + 166) * 100)
    assert b.loc[("primary", "R1"), "cv"] == pytest.approx(pupil_weighted_cv(r1["value"], r1["students"]))
    assert b.loc[("primary", "R1"), "limit"] == 0.5 and b.loc[("junior", "R1"), "limit"] == 0.45
    assert len(result.balance) == 14


def test_columns_promised_by_the_api(result):
    assert set(result.sections.columns) >= {"school_id", "stage", "indicator", "value", "threshold", "floor", "met"}
    assert set(result.balance.columns) >= {"stage", "indicator", "district_value", "cv", "limit", "passed"}
