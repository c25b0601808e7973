"""Group gaps and pupil-weighted inequality measures (equity.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE, write_period
from hypothesis import given, settings
from hypothesis import strategies as st
from test_gaps import district, primary_school

from balance_metrics import evaluate_resources, load_period
from balance_metrics.analysis.equity import group_gaps, inequality_measures, pupil_weighted_gini, weighted_percentile
from balance_metrics.engine.resources import ResourceEvaluation


@pytest.fixture
def three(tmp_path: Path) -> ResourceEvaluation:
    """R1 (teachers above the degree per 100 students) of three primary schools:
    U1 urban 100 students 4 teachers -> 4.0; V1 rural 200 students 6 -> 3.0;
    U2 urban 150 students 12 -> 8.0."""
    tables = district(
        primary_school("U1", 100, "urban", teachers_above_degree=4),
        primary_school("V1", 200, "rural", teachers_above_degree=6),
        primary_school("U2", 150, "urban", teachers_above_degree=12),
    )
    return evaluate_resources(load_period(write_period(tmp_path / "2022Q4", tables)))


# -- group_gaps -------------------------------------------------------------------

def test_group_values_are_ratios_of_group_totals(three):
    g = group_gaps(three).query("indicator == 'R1'").set_index("group")
    # 城区: (4 + 12) / (100 + 150) × 100 = 6.4, not the mean of 4.0 and 8.0.
    assert g.loc["urban", "group_value"] == pytest.approx(6.4)
    assert g.loc["rural", "group_value"] == pytest.approx(3.0)
    assert g.loc["urban", "district_value"] == pytest.approx(22 / 450 * 100)
    assert g.loc["urban", "ratio_to_district"] == pytest.approx(6.4 / (22 / 450 * 100))
    assert (g.loc["urban", "sections"], g.loc["urban", "students"]) == (2, 250)
    assert list(g["group_label"]) == ["城区", "乡村"]  # official order, 镇区 absent
    assert g["max_min_ratio"].tolist() == pytest.approx([6.4 / 3.0] * 2)
    assert (g["highest_group"].iloc[0], g["lowest_group"].iloc[0]) == ("城区", "乡村")


def test_combined_school_sections_join_their_stage_group(district_dir):
    result = evaluate_resources(load_period(district_dir))
    g = group_gaps(result).query("stage == 'primary' and indicator == 'R1'").set_index("group")
    # 乡村: P3 (12 teachers, 300 students) + N1's primary section (9, 166).
    assert g.loc["rural", "group_value"] == pytest.approx(21 / 466 * 100)
    assert g.loc["urban", "group_value"] == pytest.approx(56 / 1000 * 100)  # P1 with its campus C1
    assert g.loc["rural", "students"] == 466


def test_grouping_by_ownership_and_school_type(district_dir):
    result = evaluate_resources(load_period(district_dir))
    own = group_gaps(result, by="ownership").query("stage == 'primary' and indicator == 'R2'").set_index("group")
    assert list(own["group_label"]) == ["公办", "民办"]
    assert own.loc["private", "group_value"] == pytest.approx(2 / 300 * 100)
    kinds = group_gaps(result, by="school_type").query("stage == 'junior' and indicator == 'R1'")
    assert list(kinds["group_label"]) == ["初中", "九年一贯制"]
    with pytest.raises(ValueError, match="cannot group"):
        group_gaps(result, by="district")


# -- inequality measures ------------------------------------------------------------

def test_gini_of_equal_values_is_zero():
    assert pupil_weighted_gini([4.5, 4.5, 4.5], [100, 250, 30]) == 0


def test_gini_hand_computed():
    assert pupil_weighted_gini([1, 3], [100, 100]) == pytest.approx(0.25)
    # P = 4, X̄ = 4.5, Σ Σ P_i P_j |X_i − X_j| = 2 (1·2·2 + 1·1·6 + 2·1·4) = 36; 36 / (2·16·4.5) = 0.25
    assert pupil_weighted_gini([2, 4, 8], [1, 2, 1]) == pytest.approx(0.25)


def test_weighted_percentile_boundary_is_exact():
    # 3 of 30 pupils is exactly 10 %: in floating point 0.1 × 30 = 3.0000000000000004.
    assert weighted_percentile([5, 9], [3, 27], 0.1) == 5
    assert weighted_percentile([1, 2, 3], [10, 20, 70], 0.9) == 3
    assert weighted_percentile([1, 2, 3], [10, 20, 70], 0.3) == 2


def test_inequality_measures_hand_computed(three):
    m = inequality_measures(three).set_index(["stage", "indicator"]).loc[("primary", "R1")]
    assert (m["min_value"], m["min_school"]) == (3.0, "V1小学")
    assert (m["max_value"], m["max_school"]) == (8.0, "U2小学")
    assert m["max_min_ratio"] == pytest.approx(8 / 3)
    # Pupils sorted: 200 at 3.0 (44 %), 100 at 4.0 (67 %), 150 at 8.0 (100 %).
    assert (m["p10"], m["p90"]) == (3.0, 8.0) and m["p90_p10"] == pytest.approx(8 / 3)
    # Σ Σ P_i P_j |ΔX| = 2 (100·200·1 + 100·150·4 + 200·150·5) = 460 000;
    # 2 P² X̄ = 2 · 450² · 2200/450 = 1 980 000 -> G = 23/99.
    assert m["gini"] == pytest.approx(23 / 99)
    assert m["district_value"] == pytest.approx(22 / 450 * 100)
    assert m["cv"] == pytest.approx(three.balance.set_index(["stage", "indicator"]).loc[("primary", "R1"), "cv"])


sections = st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 40)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(sections, st.sampled_from([0.1, 0.25, 0.5, 0.9, 1.0]))
def test_percentile_equals_numpy_inverted_cdf_over_pupils(data, q):
    values, weights = [v / 10 for v, _ in data], [w for _, w in data]
    pupils = np.repeat(values, weights)
    assert weighted_percentile(values, weights, q) == np.quantile(pupils, q, method="inverted_cdf")


@settings(max_examples=60, deadline=None)
@given(sections)
def test_gini_equals_the_gini_of_all_pupils(data):
    values, weights = [v / 10 for v, _ in data], [w for _, w in data]
    pupils = np.repeat(values, weights)
    if pupils.mean() == 0:
        return
    brute = np.abs(pupils[:, None] - pupils[None, :]).mean() / (2 * pupils.mean())
    assert pupil_weighted_gini(values, weights) == pytest.approx(brute, abs=1e-12)
    # Unit-free, and splitting a section in two leaves it unchanged.
    assert pupil_weighted_gini([3 * v for v in values], weights) == pytest.approx(brute, abs=1e-12)
    split = pupil_weighted_gini([values[0], *values], [weights[0], *weights])
    assert split == pytest.approx(pupil_weighted_gini(values, [2 * weights[0], *weights[1:]]), abs=1e-12)


# -- the sample district --------------------------------------------------------------

@pytest.fixture(scope="module")
def sample() -> ResourceEvaluation:
    if not (SAMPLE / "2022Q4").exists():
        pytest.skip("sample data not generated")
    return evaluate_resources(load_period(SAMPLE / "2022Q4"))


def test_sample_group_values_recombine_to_the_district_value(sample):
    g = group_gaps(sample)
    weighted = (g["group_value"] * g["students"]).groupby([g["stage"], g["indicator"]]).sum() / g.groupby(
        ["stage", "indicator"]
    )["students"].sum()
    district = sample.balance.set_index(["stage", "indicator"])["district_value"]
    pd.testing.assert_series_equal(weighted.sort_index(), district.sort_index(), check_names=False)


def test_sample_inequality_measures_are_ordered(sample):
    m = inequality_measures(sample)
    assert len(m) == len(sample.balance)
    assert (m.min_value <= m.p10).all() and (m.p10 <= m.p90).all() and (m.p90 <= m.max_value).all()
    assert ((m.gini >= 0) & (m.gini < 1)).all()
