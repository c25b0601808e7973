"""Monitoring over periods: panel, trends, changes, projection, school history.

The districts are small_district() from conftest.py with hand-made changes
between quarters; every expected number is derived in the comments.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from conftest import small_district, write_period

from balance_metrics import DataValidationError, evaluate_resources, pupil_weighted_cv
from balance_metrics.analysis import monitoring
from balance_metrics.analysis.monitoring import (
    build_panel,
    find_periods,
    latest_period,
    linear_projection,
    progress,
    school_history,
    section_changes,
    trends,
    write_panel,
)

# Primary sections of small_district(): P1 (with campus C1) 1000 students,
# P2 400, P3 300, N1 166 -> 1866 students (T1 < 50 pupils and S1 excluded).
PRIMARY_STUDENTS = 1866
# Days from 2022-03-31 to the ends of 2022Q2, 2022Q3 and 2022Q4.
DAYS_Q2, DAYS_Q3, DAYS_Q4 = 91, 183, 275


def _set(tables: dict[str, pd.DataFrame], table: str, school: str, column: str, value, stage: str | None = None) -> None:
    frame = tables[table]
    rows = frame["school_id"] == school
    if stage is not None:
        rows &= frame["stage"] == stage
    frame.loc[rows, column] = value


def write_quarters(raw: Path) -> Path:
    """Three quarters: P2 loses key teachers in Q2 and recovers in Q3; P3 gains R1 in Q2.

    P2 key teachers 4 -> 2 -> 5: R2 = 1.0 -> 0.5 (below the 0.85 floor) -> 1.25.
    P3 teachers above degree 12 -> 15: R1 = 4.0 (< 4.2) -> 5.0.
    """
    q1 = small_district()
    write_period(raw / "2022Q1", q1)
    q2 = small_district()
    _set(q2, "sections", "P2", "key_teachers", 2)
    _set(q2, "sections", "P3", "teachers_above_degree", 15)
    write_period(raw / "2022Q2", q2)
    q3 = small_district()
    _set(q3, "sections", "P2", "key_teachers", 5)
    _set(q3, "sections", "P3", "teachers_above_degree", 15)
    write_period(raw / "2022Q3", q3)
    (raw / "README.md").write_text("not a period", encoding="utf-8")
    return raw


# Module scope: building a panel takes a few tenths of a second, and no test
# changes these folders or the (frozen) panel.
@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_quarters(tmp_path_factory.mktemp("quarters") / "raw")


@pytest.fixture(scope="module")
def panel(quarters: Path):
    return build_panel(quarters, "beichen-2021", with_plan_targets=False)


# -- periods -------------------------------------------------------------------------


def test_find_periods_orders_months_and_quarters(tmp_path):
    for name in ("2022Q4", "2022-11", "2021Q4", "2022-10", "notes", "2022Q5"):
        (tmp_path / name).mkdir()
    (tmp_path / "2023-01").write_text("a file, not a folder", encoding="utf-8")
    assert find_periods(tmp_path) == ["2021Q4", "2022-10", "2022-11", "2022Q4"]
    assert find_periods(tmp_path, "monthly") == ["2022-10", "2022-11"]
    assert latest_period(tmp_path) == "2022Q4"
    assert latest_period(tmp_path, "monthly") == "2022-11"


def test_no_periods_and_same_month_twice(tmp_path):
    with pytest.raises(FileNotFoundError, match="no period folders"):
        latest_period(tmp_path)
    with pytest.raises(ValueError, match="2022-12 and 2022Q4 both end in 2022-12"):
        build_panel(tmp_path, periods=["2022Q4", "2022-12"])


# -- panel ---------------------------------------------------------------------------------


def test_panel_stacks_every_period(panel):
    assert panel.periods == ("2022Q1", "2022Q2", "2022Q3")
    assert len(panel.indicators) == 3 * 6 * 7  # 6 sections x 7 indicators per quarter
    assert len(panel.verdicts) == 3 * 6
    assert len(panel.balance) == 3 * 2 * 7
    assert list(panel.indicators.columns[:3]) == ["period", "school_id", "school_name"]
    assert panel.changes.empty  # same schools in every quarter
    assert panel.failed_periods.empty
    assert not panel.plan_targets_available and panel.plan_targets.empty
    p2 = panel.indicators.query("school_id == 'P2' and indicator == 'R2'")
    assert p2["value"].tolist() == pytest.approx([1.0, 0.5, 1.25])  # 4, 2, 5 key teachers per 400 pupils x 100
    assert panel.verdicts.query("school_id == 'P2'")["passed"].tolist() == [True, False, True]


def test_trends_changes_since_previous_and_baseline(panel):
    t = trends(panel).query("stage == 'primary' and indicator == 'R2'").set_index("period")
    # Primary key teachers: P1 10 + C1 1, P2, P3 2, N1 2 -> 19, 17, 20 per 1866 pupils.
    expected = {"2022Q1": 1900 / PRIMARY_STUDENTS, "2022Q2": 1700 / PRIMARY_STUDENTS, "2022Q3": 2000 / PRIMARY_STUDENTS}
    assert t["district_value"].to_dict() == pytest.approx(expected)
    assert pd.isna(t.loc["2022Q1", "district_value_change"])
    assert t.loc["2022Q2", "district_value_change"] == pytest.approx(-200 / PRIMARY_STUDENTS)
    assert t.loc["2022Q3", "district_value_change"] == pytest.approx(300 / PRIMARY_STUDENTS)
    assert t.loc["2022Q3", "district_value_since_baseline"] == pytest.approx(100 / PRIMARY_STUDENTS)
    assert (t["baseline_period"] == "2022Q1").all()
    weights = [1000, 400, 300, 166]  # P1+C1, P2, P3, N1 primary
    cv = {q: pupil_weighted_cv([1.1, p2, 2 / 3, 200 / 166], weights) for q, p2 in (("2022Q1", 1.0), ("2022Q3", 1.25))}
    assert t.loc["2022Q3", "cv_since_baseline"] == pytest.approx(cv["2022Q3"] - cv["2022Q1"])
    assert t.loc["2022Q1", "period_end"] == pd.Timestamp("2022-03-31")


def test_section_changes_last_two_periods(panel):
    ch = section_changes(panel)  # 2022Q2 -> 2022Q3: P2 recovers R2 and its verdict
    assert set(zip(ch["school_id"], ch["level"], ch["indicator"], ch["change"])) == {
        ("P2", "section", "", "newly passing"),
        ("P2", "indicator", "R2", "newly passing"),
    }
    row = ch[ch["level"] == "indicator"].iloc[0]
    assert (row["value_before"], row["value_after"]) == pytest.approx((0.5, 1.25))
    assert row["description"] == "西河小学（P2）小学R2每百名学生拥有县级及以上骨干教师数由未达标变为达标（0.500→1.250，标准1.000）"


def test_section_changes_any_pair(panel):
    first = section_changes(panel, since="2022Q1", until="2022Q2")
    assert set(zip(first["school_id"], first["indicator"], first["change"])) == {
        ("P2", "", "newly failing"),
        ("P2", "R2", "newly failing"),
        ("P3", "R1", "newly passing"),  # 4.0 -> 5.0; P3 still fails overall
    }
    assert first["change"].iloc[0] == "newly failing"  # failures listed first
    whole = section_changes(panel, since="2022Q1", until="2022Q3")  # P2 back where it was
    assert list(zip(whole["school_id"], whole["indicator"])) == [("P3", "R1")]
    with pytest.raises(ValueError, match="2021Q4 is not in the panel"):
        section_changes(panel, since="2021Q4")
    with pytest.raises(ValueError, match="must come before"):
        section_changes(panel, since="2022Q3", until="2022Q1")


def test_school_history(panel):
    h = school_history(panel, "P2")
    r2 = h[(h["stage"] == "primary") & (h["indicator"] == "R2")]
    assert r2["value"].tolist() == pytest.approx([1.0, 0.5, 1.25])
    assert r2["value_change"].tolist()[1:] == pytest.approx([-0.5, 0.75])
    assert r2["section_passed"].tolist() == [True, False, True]
    campus = school_history(panel, "C1")
    assert campus["note"].iloc[0] == "不计校数的分校区，并入东风小学（P1）计算"
    point = school_history(panel, "T1")
    assert point["note"].iloc[0] == "教学点在校生30人，不足50人，不参与计算"
    with pytest.raises(KeyError, match="X9 is in no period"):
        school_history(panel, "X9")


# -- opened, closed, changed schools ------------------------------------------------------------


@pytest.fixture(scope="module")
def restructured(tmp_path_factory: pytest.TempPathFactory):
    """2022Q4: P4 opens, T1 closes, P2 becomes nine-year, N1 becomes a junior school, P3 renamed."""
    raw = tmp_path_factory.mktemp("restructured") / "raw"
    write_period(raw / "2022Q3", small_district())
    t = small_district()
    t["schools"] = t["schools"][t["schools"]["school_id"] != "T1"]
    t["sections"] = t["sections"][~t["sections"]["school_id"].eq("T1") & ~(t["sections"]["school_id"].eq("N1") & t["sections"]["stage"].eq("primary"))]
    t["facilities"] = t["facilities"][t["facilities"]["school_id"] != "T1"]
    _set(t, "schools", "P2", "school_type", "nine_year")
    _set(t, "schools", "N1", "school_type", "junior")
    _set(t, "schools", "P3", "school_name", "南苑实验小学")
    t["schools"].loc[len(t["schools"]) + 10] = ("P4", "新城小学", "primary", "urban", "public", "false", "")
    t["sections"].loc[len(t["sections"]) + 10] = ("P2", "junior", 100, 3, 10, 8, 2, 2, 10, 40)
    t["sections"].loc[len(t["sections"]) + 11] = ("P4", "primary", 200, 6, 14, 12, 3, 2, 14, 35)
    t["facilities"].loc[len(t["facilities"]) + 10] = ("P4", 1000.0, 0.0, 1600.0, 450_000.0, 5, 1, 1, 96.0, 90.0)
    write_period(raw / "2022Q4", t)
    return build_panel(raw, with_plan_targets=False)


def test_open_close_type_and_stage_changes(restructured):
    ch = restructured.changes
    assert (ch["period"] == "2022Q4").all() and (ch["previous_period"] == "2022Q3").all()
    assert list(zip(ch["change"], ch["school_id"], ch["stage"])) == [
        ("opened", "P4", ""),
        ("closed", "T1", ""),
        ("type_changed", "N1", ""),
        ("type_changed", "P2", ""),
        ("renamed", "P3", ""),
        ("stage_added", "P2", "junior"),
        ("stage_removed", "N1", "primary"),
    ]
    d = ch.set_index(["change", "school_id"])["description"]
    assert d[("opened", "P4")] == "新城小学（P4）新设立：小学，在校生200人"
    assert d[("closed", "T1")] == "李庄教学点（T1）本期不再报送（撤并或停办）；上期为教学点，在校生30人"
    assert d[("type_changed", "P2")] == "西河小学（P2）办学类型由小学改为九年一贯制"
    assert d[("stage_removed", "N1")] == "运河学校（N1）不再设小学学段（上期166人）"
    assert ch.set_index(["change", "school_id"]).loc[("stage_added", "P2"), "students"] == 100


def test_new_section_counts_as_newly_failing(restructured):
    ch = section_changes(restructured).set_index(["school_id", "stage", "indicator"]).sort_index()
    # P2's new junior section meets R1-R3 (8, 2, 2 per 100 pupils) but gets only
    # 1.1 x 100 / (400 + 1.1 x 100) = 11/51 of the facilities: R4 = 2000 x 11/51 / 100 = 4.314 < 5.8.
    new = ch.loc[("P2", "junior")]
    assert list(new.index) == ["", "R4", "R5", "R6", "R7"]
    assert new["before"].isna().all() and (new["change"] == "newly failing").all()
    assert new.loc["", "value_after"] == 3  # indicators met
    assert new.loc["R4", "value_after"] == pytest.approx(2000 * 11 / 51 / 100)
    assert new.loc["R4", "description"] == "西河小学（P2）初中R4生均教学及辅助用房面积为新纳入计算的学段，未达标（—→4.314，标准5.800）"
    # N1 is junior-only now: R6 = 900 000 元 / 210 pupils = 4285.7 >= 2500 (was 2493.7 after the split).
    assert ch.loc[("N1", "junior", "R6"), "change"] == "newly passing"
    assert ch.loc[("N1", "junior", "R6"), "value_after"] == pytest.approx(900_000 / 210)
    history = school_history(restructured, "T1")
    assert history["note"].iloc[-1].startswith("李庄教学点（T1）本期不再报送")


# -- projection and progress ---------------------------------------------------------------------


def test_linear_projection_on_a_constructed_series():
    # CV 0.60, 0.56, 0.52 at the ends of 2022Q1-Q3 (x = 0, 91, 183 days).
    # x̄ = 274/3, Sxx = 41770 - 274²/3 = 50234/3, Sxy = -0.04 x 183 = -7.32
    # slope = -7.32 / (50234/3) = -21.96/50234 per day; ȳ = 0.56.
    line = linear_projection(["2022-03-31", "2022-06-30", "2022-09-30"], [0.60, 0.56, 0.52])
    slope = -21.96 / 50234
    assert line.slope_per_day == pytest.approx(slope)
    assert line.slope_per_year == pytest.approx(slope * 365.25)
    at_deadline = 0.56 + slope * (DAYS_Q4 - 274 / 3)  # = 0.47971
    assert line.at(pd.Timestamp("2022-12-31")) == pytest.approx(at_deadline)
    assert at_deadline == pytest.approx(0.47971, abs=1e-5)
    # Reaches 0.50 at x = 274/3 + 0.06/|slope| = 228.58 days -> 2022-11-14.
    assert line.reaches(0.50) == pd.Timestamp("2022-11-14")
    assert linear_projection(["2022-03-31"], [0.6]) is None
    assert linear_projection(["2022-03-31", "2022-06-30"], [0.6, float("nan")]) is None


def _series(stage: str, indicator: str, cvs: list[float], limit: float) -> list[dict]:
    periods = ["2022Q1", "2022Q2", "2022Q3"]
    return [{"period": p, "stage": stage, "indicator": indicator, "name": indicator, "cv": cv, "limit": limit,
             "passed": cv <= limit} for p, cv in zip(periods, cvs)]


def test_progress_statuses_on_constructed_cvs(panel):
    balance = pd.DataFrame(
        _series("primary", "R1", [0.60, 0.56, 0.52], 0.50)     # -> 0.4797 at 2022-12-31: on track
        + _series("primary", "R2", [0.57, 0.55, 0.53], 0.50)   # -> 0.5099: misses by < 0.05 x 0.50
        + _series("primary", "R3", [0.70, 0.69, 0.68], 0.50)   # -> 0.6699: off track
        + _series("junior", "R1", [0.30, 0.35, 0.40], 0.45)    # met today, 0.4901 at the deadline
    )
    prog = progress(dataclasses.replace(panel, balance=balance)).set_index("target_id")
    half = -0.02 * 183 / (50234 / 3)  # slope of a series falling 0.01 per quarter: R2 and R3
    assert prog.loc["CV-primary-R1", "status"] == "on track"
    assert prog.loc["CV-primary-R1", "projected_at_deadline"] == pytest.approx(0.56 - 21.96 / 50234 * (DAYS_Q4 - 274 / 3))
    assert prog.loc["CV-primary-R1", "reach_date"] == "2022-11-14"
    assert prog.loc["CV-primary-R2", "projected_at_deadline"] == pytest.approx(0.55 + half * (DAYS_Q4 - 274 / 3))
    assert prog.loc["CV-primary-R2", "status"] == "at risk"
    assert prog.loc["CV-primary-R3", "status"] == "off track"
    assert prog.loc["CV-junior-R1", "status"] == "met"
    assert prog.loc["CV-junior-R1", "note"].startswith("目前达标，但按趋势到2022-12-31将不达标")
    assert prog.loc["CV-primary-R1", "deadline"] == "2022-12-31"  # beichen-2021 [monitoring]
    assert prog.loc["CV-primary-R1", "margin"] == pytest.approx(0.50 - 0.52)


def test_progress_section_share(panel):
    prog = progress(panel).set_index("target_id")
    # Primary sections passing: 3/4 (P3 fails), 2/4 (P2 too), 3/4.
    share = prog.loc["SEC-primary"]
    assert (share["baseline_value"], share["latest_value"], share["target"]) == pytest.approx((0.75, 0.75, 1.0))
    # ȳ = 2/3; Sxy = (0.75 - 2/3)(0 + 183 - 2 x 274/3) + (0.5 - 2/3)(91 - 274/3) = 1/12
    slope = (1 / 12) / (50234 / 3)
    assert share["projected_at_deadline"] == pytest.approx(2 / 3 + slope * (DAYS_Q4 - 274 / 3))
    assert share["status"] == "off track"
    assert prog.loc["SEC-junior", "status"] == "met"
    assert progress(panel, deadline="2022-09-30").loc[lambda f: f.target_id == "SEC-primary", "status"].item() == "missed"


def test_progress_without_deadline_and_one_period(quarters):
    national = build_panel(quarters, "national-2017", with_plan_targets=False)
    prog = progress(national).set_index("target_id")
    assert prog.loc["SEC-primary", "status"] == "no deadline"  # national-2017 sets no date
    assert prog.loc["SEC-primary", "deadline"] == ""
    single = build_panel(quarters, "beichen-2021", periods=["2022Q1"], with_plan_targets=False)
    assert single.periods == ("2022Q1",) and single.changes.empty
    assert section_changes(single).empty
    one = progress(single).set_index("target_id")
    assert one.loc["SEC-primary", "status"] == "cannot project"
    assert one.loc["SEC-primary", "status_zh"] == "数据不足两期，无法做趋势预测"
    assert pd.isna(one.loc["SEC-primary", "projected_at_deadline"])
    t = trends(single)
    assert t["district_value_change"].isna().all() and (t["cv_since_baseline"] == 0).all()


# -- invalid periods ---------------------------------------------------------------------------------


@pytest.fixture
def with_bad_quarter(tmp_path: Path) -> Path:
    raw = write_quarters(tmp_path / "raw")
    bad = small_district()
    _set(bad, "sections", "P1", "students", -5)
    write_period(raw / "2022Q2", bad)
    return raw


def test_invalid_period_named(with_bad_quarter):
    with pytest.raises(DataValidationError, match="in period 2022Q2") as info:
        build_panel(with_bad_quarter, with_plan_targets=False)
    assert "students" in str(info.value)


def test_invalid_period_skipped_and_recorded(with_bad_quarter):
    panel = build_panel(with_bad_quarter, on_error="skip", with_plan_targets=False)
    assert panel.periods == ("2022Q1", "2022Q3")
    failed = panel.failed_periods
    assert set(failed["period"]) == {"2022Q2"} and (failed["column"] == "students").any()
    assert set(section_changes(panel)["since"]) == {"2022Q1"}


# -- plan targets from balance_metrics.evaluation, when it exists ---------------------------------------


def test_plan_targets_used_when_evaluation_exists(quarters, monkeypatch):
    measured = {"2022Q1": 1400.0, "2022Q2": 1600.0, "2022Q3": 1800.0}

    def evaluate(dataset, standard):  # stands in for evaluate_plan_targets
        frame = pd.DataFrame(
            [
                ("P-EQ", "生均教学仪器设备值", "primary", measured[dataset.period], 2000.0, "元/生", ">=", "2022-12-31",
                 "fail"),
                ("P-FIT", "体质健康合格率", "district", float("nan"), 0.95, "", ">=", "", "data missing"),
            ],
            columns=["target_id", "name", "scope", "measured", "requirement", "unit", "comparison", "deadline", "status"],
        )
        return evaluate_resources(dataset, standard), frame

    # jobs=1: the periods are evaluated in this process, where the patch applies.
    monkeypatch.setattr(monitoring.pieces, "plan_targets", evaluate)
    panel = build_panel(quarters, "beichen-2021", jobs=1)
    assert panel.plan_targets_available
    assert panel.plan_targets.query("target_id == 'P-EQ'")["measured"].tolist() == [1400.0, 1600.0, 1800.0]
    prog = progress(panel).set_index("target_id")
    # ȳ = 1600, Sxy = 200 x 183 -> slope = 36600 / (50234/3) per day; at 2022-12-31: 2001.45 >= 2000.
    slope = 36600 / (50234 / 3)
    assert prog.loc["P-EQ", "projected_at_deadline"] == pytest.approx(1600 + slope * (DAYS_Q4 - 274 / 3))
    assert prog.loc["P-EQ", "status"] == "on track"
    assert prog.loc["P-EQ", "kind"] == "plan"
    assert prog.loc["P-FIT", "status"] == "data missing"


def test_plan_targets_missing_columns_named(quarters, monkeypatch):
    monkeypatch.setattr(
        monitoring.pieces,
        "plan_targets",
        lambda dataset, standard: (evaluate_resources(dataset, standard), pd.DataFrame({"target_id": ["X"]})),
    )
    with pytest.raises(ValueError, match="period 2022Q1: evaluation .plan_targets lacks column"):
        build_panel(quarters, "beichen-2021", jobs=1)


# -- writing -----------------------------------------------------------------------------------------------


def test_write_panel_csv_with_bom(panel, tmp_path):
    out = tmp_path / "processed" / "monitoring"
    written = write_panel(panel, out)
    names = {p.name for p in written}
    assert {"indicators.csv", "verdicts.csv", "balance.csv", "changes.csv", "trends.csv", "progress.csv",
            "section_changes.csv", "failed_periods.csv"} <= names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temporary files left behind
    raw = (out / "verdicts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out / "verdicts.csv", encoding="utf-8-sig")
    assert len(back) == len(panel.verdicts) and "东风小学" in set(back["school_name"])
