"""Education quality items Q1, Q2, Q4, Q9 and the two 校际差异率 definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import write_period
from whole_district import boundary_district, set_district, set_value

from balance_metrics import evaluate, load_period
from balance_metrics.evaluation.quality import cv_of_means, difference_rates, variance_share


def run(tmp_path, tables, standard="national-2017"):
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), standard)


def item(result, item_id):
    return result.items.set_index("id").loc[item_id]


def check(result, item_id, **where):
    found = result.checks[result.checks["item_id"] == item_id]
    for key, value in where.items():
        found = found[found[key] == value]
    return found.iloc[0]


@pytest.mark.parametrize("graduates, expected", [(950, "pass"), (949, "fail")])
def test_retention_boundary(tmp_path, graduates, expected):
    tables = boundary_district()
    set_district(tables, "retention_graduates", graduates)
    result = run(tmp_path, tables)
    assert item(result, "Q1")["status"] == expected
    assert check(result, "Q1")["measured"] == pytest.approx(graduates / 10)


def test_retention_formula(tmp_path):
    # (940 graduates − 10 transfers in + 20 transfers out) ÷ (1000 − 4 deaths) = 950 / 996 = 95.38 %
    tables = boundary_district()
    for name, value in (("retention_graduates", 940), ("retention_transfers_in", 10), ("retention_transfers_out", 20), ("retention_deaths", 4)):
        set_district(tables, name, value)
    result = run(tmp_path, tables)
    assert check(result, "Q1")["measured"] == pytest.approx(100 * 950 / 996)
    assert item(result, "Q1")["status"] == "pass"


@pytest.mark.parametrize("enrolled, expected", [(95, "pass"), (94, "fail")])
def test_disabled_enrolment_boundary(tmp_path, enrolled, expected):
    tables = boundary_district()
    set_district(tables, "disabled_enrolled", enrolled)
    assert item(run(tmp_path, tables), "Q2")["status"] == expected


@pytest.mark.parametrize("training, expected", [(30_000, "pass"), (29_999, "fail"), (30_001, "pass")])
def test_training_funds_five_percent(tmp_path, training, expected):
    tables = boundary_district()  # P1 public funds 600 000 元: 5 % = 30 000 元
    set_value(tables, "finance", {"school_id": "P1"}, "training_funds_yuan", training)
    result = run(tmp_path, tables)
    assert item(result, "Q4")["status"] == expected
    assert check(result, "Q4", school_id="P1")["measured"] == pytest.approx(training / 6000)


def test_school_without_budget_lacks_evidence(tmp_path):
    tables = boundary_district()
    tables["finance"] = tables["finance"][tables["finance"]["school_id"] != "J1"]
    result = run(tmp_path, tables)
    assert item(result, "Q4")["status"] == "evidence missing"
    assert check(result, "Q4", school_id="J1")["status"] == "evidence missing"


# -- Q9 and the 校际差异率 -------------------------------------------------------


def test_difference_rate_definitions_by_hand():
    # two schools, 10 and 30 pupils tested, means 400 and 600, SD 100 each:
    # grand mean 550; between variance (10·150² + 30·50²)/40 = 7500; within 100² = 10000
    means, sds, weights = np.array([400.0, 600.0]), np.array([100.0, 100.0]), np.array([10.0, 30.0])
    assert cv_of_means(means, sds, weights) == pytest.approx(np.sqrt(7500) / 550)  # 0.157459
    assert variance_share(means, sds, weights) == pytest.approx(7500 / 17500)  # 0.428571


def test_difference_rates_table():
    quality = pd.DataFrame(
        [("A", "primary", "数学", 30, 60.0, 500.0, 90.0), ("B", "primary", "数学", 30, 40.0, 510.0, 90.0)],
        columns=["school_id", "stage", "subject", "students_tested", "level3_percent", "mean_score", "score_sd"],
    )
    cv = difference_rates(quality, "cv").iloc[0]
    assert cv["difference_rate"] == pytest.approx(5 / 505) and cv["level3_percent"] == pytest.approx(50)
    share = difference_rates(quality, "variance_share").iloc[0]
    assert share["difference_rate"] == pytest.approx(25 / (25 + 8100))


@pytest.mark.parametrize("spread, expected", [(74, "pass"), (75, "fail"), (76, "fail")])
def test_difference_rate_must_stay_below_015(tmp_path, spread, expected):
    # the CV definition (an option); equal weights, means 500 ± spread: CV = spread / 500 (0.148, exactly 0.15, 0.152)
    tables = boundary_district()
    set_value(tables, "quality", {"school_id": "P1"}, "mean_score", 500.0 - spread)
    set_value(tables, "quality", {"school_id": "P2"}, "mean_score", 500.0 + spread)
    override = tmp_path / "cv.toml"
    override.write_text('extends = "national-2017"\n[items.Q9]\ndifference_rate = "cv"\n', encoding="utf-8")
    result = run(tmp_path, tables, override)
    rate = check(result, "Q9", part="difference_rate", stage="primary")
    assert rate["measured"] == pytest.approx(spread / 500)
    assert item(result, "Q9")["status"] == expected


@pytest.mark.parametrize("level3, expected", [(85.0, "pass"), (84.9, "fail")])
def test_level_three_share(tmp_path, level3, expected):
    tables = boundary_district()
    for school in ("P1", "P2"):
        set_value(tables, "quality", {"school_id": school}, "level3_percent", level3)
    assert item(run(tmp_path, tables), "Q9")["status"] == expected


def test_variance_share_definition_is_configurable(tmp_path):
    tables = boundary_district()
    set_value(tables, "quality", {"school_id": "P1"}, "mean_score", 400.0)
    set_value(tables, "quality", {"school_id": "P2"}, "mean_score", 600.0)
    override = tmp_path / "share.toml"
    override.write_text('extends = "national-2017"\n[items.Q9]\ndifference_rate = "cv"\n', encoding="utf-8")
    cv = run(tmp_path / "a", tables, override)  # CV = 100/500 = 0.2: fails
    assert item(cv, "Q9")["status"] == "fail"
    override.write_text('extends = "national-2017"\n[items.Q9]\ndifference_rate = "variance_share"\n', encoding="utf-8")
    share = run(tmp_path / "b", tables, override)  # 100² / (100² + 90²) = 0.5525: fails too, by its own number
    assert check(share, "Q9", part="difference_rate", stage="primary")["measured"] == pytest.approx(10000 / 18100)
    tables["quality"]["score_sd"] = ""
    lacking = run(tmp_path / "c", tables, override)
    assert item(lacking, "Q9")["status"] == "evidence missing"  # level Ⅲ passes; the rates cannot be computed
    assert check(lacking, "Q9", part="difference_rate", stage="primary")["status"] == "evidence missing"


def test_no_monitoring_results_is_evidence_missing(tmp_path):
    tables = boundary_district()
    del tables["quality"]
    assert item(run(tmp_path, tables), "Q9")["status"] == "evidence missing"


def test_group_codes_number_groups_as_groupby_ngroup():
    """Whole-column group numbers (factorized keys) = pandas' ngroup (order of first
    appearance; a row with a missing key in no group)."""
    import numpy as np
    import pandas as pd

    from balance_metrics.evaluation.quality import _group_codes

    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        frame = pd.DataFrame({k: pd.array(rng.choice(["a", "b", "c", None], n), dtype="string") for k in "xyz"})
        expected = frame.groupby(list("xyz"), sort=False).ngroup().fillna(-1).to_numpy(np.int64)
        codes, count = _group_codes(frame, list("xyz"))
        assert codes.tolist() == expected.tolist()
        assert count == int(expected.max(initial=-1)) + 1
