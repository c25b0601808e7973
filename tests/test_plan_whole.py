"""Plan targets and their cross-checks, measured in every district of a period in one
call (whole-column), equal those of each district evaluated alone — on districts
built to hit each measure's edge cases: schools lacking data (incomplete),
a district where nobody reported a column, a district total disagreeing with
the schools' own figures, a budget that fell."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import SAMPLE

from balance_metrics import evaluate, load_period

PER_DISTRICT = ("district", "evidence", "survey")
NAMES = {"120113": "北辰区", "120114": "东丽区", "120115": "西青区"}


def _read(path):
    return pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)


def _change(district_id: str, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The sample as it is (120113), with gaps and disagreements (120114), or with columns nobody filled (120115)."""
    frame = frame.copy()
    if district_id == "120114":
        if table == "facilities":
            frame.loc[frame.index[:2], "multimedia_teaching_spaces"] = ""  # two schools lack it: incomplete
            frame.loc[frame.index[3], "broadband"] = "false"
        if table == "staff_training":
            frame = frame.iloc[3:]  # three schools without a row
        if table == "district":
            area = frame["item"] == "teaching_area_added_primary_m2"
            frame.loc[area, "value"] = (frame.loc[area, "value"].astype(float) * 3).astype(str)  # disagrees with the schools
            budget = (frame["item"] == "education_budget_total_wan") & (frame["year"] == frame["year"].max())
            frame.loc[budget, "value"] = "1000"  # the budget fell
            frame = frame[frame["item"] != "fitness_pass_percent"]
        if table == "schools":
            frame["partner_school_id"] = ""
    if district_id == "120115":
        if table == "facilities":
            frame["labour_rooms"] = ""
        if table == "schools":
            frame["school_cluster"] = ""
        if table == "staff_training":
            frame["ict_sessions_last_term"] = ""
    return frame


@pytest.fixture(scope="module")
def periods(tmp_path_factory):
    """(the three districts in one period, each district's own period)."""
    root = tmp_path_factory.mktemp("plan_whole")
    together = root / "province" / "2022Q4"
    together.mkdir(parents=True)
    alone = {}
    for k, (district_id, name) in enumerate(NAMES.items()):
        folder = root / district_id / "2022Q4"
        folder.mkdir(parents=True)
        prefix = "ABC"[k] + "-"
        for csv in sorted((SAMPLE / "2022Q4").glob("*.csv")):
            frame = _read(csv)
            for column in ("school_id", "parent_school_id", "partner_school_id", "respondent_id"):
                if column in frame:
                    frame[column] = frame[column].where(frame[column] == "", prefix + frame[column])
            frame = _change(district_id, csv.stem, frame)
            frame.to_csv(folder / csv.name, index=False)
            if csv.stem == "schools":
                frame.insert(0, "district_name", name)
                frame.insert(0, "district_id", district_id)
            elif csv.stem in PER_DISTRICT:
                frame.insert(0, "district_id", district_id)
            target = together / csv.name
            frame.to_csv(target, index=False, mode="a", header=not target.exists())
        alone[district_id] = folder
    return together, alone


@pytest.fixture(scope="module")
def evaluated(periods):
    together, alone = periods
    return evaluate(load_period(together), "beichen-2021"), {d: evaluate(load_period(p), "beichen-2021") for d, p in alone.items()}


def test_every_district_equals_it_alone(evaluated, periods):
    together, alone = evaluated
    assert list(together.districts) == list(NAMES)
    for district_id, mine in alone.items():
        view = together.district(district_id)
        for name in ("plan_targets", "plan_checks"):
            pd.testing.assert_frame_equal(getattr(view, name), getattr(mine, name), check_dtype=False, obj=f"{district_id} {name}")
        # Warnings point at the line of the file read: the shared file's here, the district's own there.
        pd.testing.assert_frame_equal(view.warnings.drop(columns="row"), mine.warnings.drop(columns="row"), check_dtype=False,
                                      obj=f"{district_id} warnings")
        for warning in view.warnings[view.warnings["rule"].str.match(r"P\d\d ")].itertuples():
            line = (periods[0] / "district.csv").read_text(encoding="utf-8").splitlines()[warning.row - 1]
            assert line.startswith(f"{district_id},teaching_area_added_primary_m2,")


def _targets(result) -> pd.DataFrame:
    return result.plan_targets.set_index("target_id")


def test_the_districts_differ_where_their_data_do(evaluated):
    together, _ = evaluated
    a, b, c = (_targets(together.district(d)) for d in NAMES)
    # Cross-check: only 东丽区's primary teaching space disagrees with its schools (3 × the sample's figure).
    assert "超过容差" in b.loc["P13", "detail"] and "超过容差" not in a.loc["P13", "detail"]
    assert b.loc["P13", "measured"] == 3 * a.loc["P13", "measured"]
    warnings = together.district("120114").warnings
    assert warnings["rule"].str.startswith("P13 ").sum() == 1
    assert not together.district("120113").warnings["rule"].str.startswith("P1").any()
    # Budget: 1000 万元 in the last year is a fall.
    assert b.loc["P09", "status"] == "fail" and b.loc["P09", "measured"] < 0 <= a.loc["P09", "measured"]
    # Figures not reported or schools lacking data: data missing, never pass.
    assert b.loc["P05", "status"] == "data missing" and "未填报 fitness_pass_percent" in b.loc["P05", "detail"]
    assert b.loc["P21", "status"] in ("data missing", "fail") and b.loc["P21", "detail"].startswith("2所学校缺少数据")
    assert b.loc["P04", "detail"].startswith("2所学校缺少数据")  # the third is not a P04 school type
    assert b.loc["P22", "status"] == "fail" and b.loc["P22", "measured"] >= 1
    # Columns nobody in 西青区 filled: no value there, a value in the others.
    for target in ("P07", "P25", "P27"):
        assert math.isnan(c.loc[target, "measured"]) and c.loc[target, "status"] == "data missing"
        assert not math.isnan(a.loc[target, "measured"])
    assert c.loc["P27", "detail"] == "各校均未填报所属学区"
    # The stacked tables are district by district.
    stacked = together.tables()["plan_targets"]
    assert stacked["district_id"].tolist() == sorted(stacked["district_id"])
    assert len(stacked) == 3 * len(a)
