"""Satisfaction: Wilson intervals by hand, group rates, small samples, S1 and the veto on it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_period
from hypothesis import given, settings
from hypothesis import strategies as st
from whole_district import boundary_district, set_value, survey_rows

from balance_metrics import evaluate, load_period, load_standard
from balance_metrics.evaluation.survey import _one_decimal, satisfaction, wilson_interval


# Wilson: centre = (p + z²/2n)/(1 + z²/n), half = z·sqrt(p(1−p)/n + z²/4n²)/(1 + z²/n), z = 1.959964.
# 90/100: p = 0.9, z²/n = 0.0384146 -> centre 0.885202, half 0.059567
@pytest.mark.parametrize(
    "successes, n, low, high",
    [
        (90, 100, 0.825634, 0.944771),
        (85, 100, 0.767164, 0.906940),
        (0, 10, 0.0, 0.277533),     # high = z²/(n + z²) = 3.841459 / 13.841459
        (10, 10, 0.722467, 1.0),    # low = n/(n + z²)
        (17, 18, 0.742427, 0.990125),
    ],
)
def test_wilson_interval_by_hand(successes, n, low, high):
    got = wilson_interval(successes, n, 0.95)
    assert got == pytest.approx((low, high), abs=1e-6)


def test_wilson_interval_rejects_nonsense():
    with pytest.raises(ValueError):
        wilson_interval(0, 0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def run(tmp_path, tables, standard="national-2017"):
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), standard)


def test_group_and_overall_rates(tmp_path):
    dataset = load_period(write_period(tmp_path / "2022Q4", boundary_district()))
    table = satisfaction(dataset, load_standard()).set_index("group")
    students = table.loc["students"]
    assert (students["respondents"], students["satisfied"]) == (20, 17)
    assert students["rate_percent"] == pytest.approx(85.0)
    overall = table.loc["overall"]
    assert (overall["respondents"], overall["satisfied"]) == (100, 85)
    assert (overall["ci_low_percent"], overall["ci_high_percent"]) == pytest.approx((76.7164, 90.6940), abs=1e-4)
    # fewer than 30 respondents: the rate is flagged as not meaningful
    assert table.loc["deputies", "small_sample"] and "样本量10少于30" in table.loc["deputies", "note"]
    assert not overall["small_sample"]


def test_scores_use_the_cut_off(tmp_path):
    tables = boundary_district()
    survey = tables["survey"]
    parents = survey.index[survey["group"] == "parents"]
    survey["satisfied"] = survey["satisfied"].astype(object)
    survey["score"] = survey["score"].astype(object)
    survey.loc[parents, "satisfied"] = ""
    survey.loc[parents, "score"] = [5, 4] * 5 + [3] * 10  # 10 of 20 at 4 or above
    dataset = load_period(write_period(tmp_path / "2022Q4", tables))
    parents_row = satisfaction(dataset, load_standard()).set_index("group").loc["parents"]
    assert (parents_row["respondents"], parents_row["satisfied"]) == (20, 10)


@pytest.mark.parametrize("satisfied, expected", [(85, "pass"), (84, "fail")])
def test_recognition_threshold_and_its_veto(tmp_path, satisfied, expected):
    tables = boundary_district()
    tables["survey"] = survey_rows(satisfied)
    result = run(tmp_path, tables)
    items = result.items.set_index("id")
    assert items.loc["S1", "status"] == expected and items.loc["V7", "status"] == expected
    assert result.readiness.passed == (expected == "pass")
    if expected == "fail":
        first = result.issue_list.iloc[0]
        assert (first["item_id"], first["severity_label"]) == ("V7", "一票否决")
        assert "社会认可度为84%，要求≥85%，差1%" in first["description"]


def test_decide_on_the_lower_bound(tmp_path):
    override = tmp_path / "strict.toml"
    override.write_text('extends = "national-2017"\n[items.S1]\ndecide_on = "lower_bound"\n', encoding="utf-8")
    result = run(tmp_path, boundary_district(), override)  # 85 % but the lower bound is 76.7 %
    assert result.items.set_index("id").loc["S1", "status"] == "fail"


def test_a_group_without_respondents_lacks_evidence(tmp_path):
    tables = boundary_district()
    tables["survey"] = tables["survey"][tables["survey"]["group"] != "cppcc"]
    set_value(tables, "survey", {"respondent_id": "R018"}, "satisfied", "true")  # overall 77 / 90 = 85.6 %
    result = run(tmp_path, tables)
    assert result.items.set_index("id").loc["S1", "status"] == "evidence missing"
    group = result.checks[(result.checks["item_id"] == "S1") & (result.checks["target"] == "政协委员")].iloc[0]
    assert (group["status"], group["note"]) == ("evidence missing", "无样本")
    assert result.satisfaction.set_index("group").loc["overall", "rate_percent"] == pytest.approx(100 * 77 / 90)


def test_no_survey_is_evidence_missing(tmp_path):
    tables = boundary_district()
    del tables["survey"]
    result = run(tmp_path, tables)
    assert result.items.set_index("id").loc[["S1", "V7"], "status"].tolist() == ["evidence missing"] * 2
    assert result.satisfaction.empty


def test_each_group_can_be_required(tmp_path):
    tables = boundary_district()
    set_value(tables, "survey", {"respondent_id": "R001"}, "satisfied", "false")  # students 16/20 = 80 %
    tables["survey"].loc[tables["survey"]["respondent_id"] == "R100", "satisfied"] = "true"  # overall stays 85
    override = tmp_path / "each.toml"
    override.write_text('extends = "national-2017"\n[items.S1]\nrequire_each_group = true\n', encoding="utf-8")
    assert run(tmp_path / "a", tables).items.set_index("id").loc["S1", "status"] == "pass"
    assert run(tmp_path / "b", tables, override).items.set_index("id").loc["S1", "status"] == "fail"


def test_importing_the_package_leaves_scipy_stats_out():
    """scipy.stats is imported where a Wilson interval is computed, not with the package."""
    import subprocess
    import sys

    code = "import sys, balance_metrics; print('scipy.stats' in sys.modules, 'scipy.special' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_wilson_intervals_equal_binomtest():
    import numpy as np

    from balance_metrics.evaluation.survey import wilson_intervals

    n = np.array([1, 2, 7, 10, 100, 100, 100, 333, 1000])
    k = np.array([0, 2, 3, 5, 0, 85, 100, 300, 999])
    for confidence in (0.9, 0.95, 0.99):
        low, high = wilson_intervals(k, n, confidence)
        expected = np.array([wilson_interval(int(a), int(b), confidence) for a, b in zip(k, n)])
        assert np.allclose(low, expected[:, 0], rtol=0, atol=1e-15) and np.allclose(high, expected[:, 1], rtol=0, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 100).map(lambda x: round(x, 2) + 0.05)), max_size=20))
def test_one_decimal_is_format_of_each_value(values):
    # the interval bounds in S1's note: written as "{:.1f}" wrote them, halves included
    assert _one_decimal(np.array(values, dtype=float)).tolist() == ["{:.1f}".format(v) for v in values]
