"""Many districts in one period: one call evaluates each district exactly as if alone."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import SAMPLE

from balance_metrics import DataValidationError, evaluate, load_period
from balance_metrics.cli import main

OPTIONAL_PER_DISTRICT = ("district", "evidence", "survey")


def read(path):
    return pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)


def two_districts(tmp_path, period="2022Q4"):
    """The sample district twice: as 120113 (ids A-…) and 120114 (ids B-…, a few numbers changed)."""
    out = tmp_path / "province" / period
    out.mkdir(parents=True)
    alone = {}
    for prefix, district_id, name in (("A-", "120113", "北辰区"), ("B-", "120114", "东丽区")):
        folder = tmp_path / district_id / period
        folder.mkdir(parents=True)
        for csv in sorted((SAMPLE / period).glob("*.csv")):
            frame = read(csv)
            for column in ("school_id", "parent_school_id", "partner_school_id", "respondent_id"):
                if column in frame:
                    frame[column] = frame[column].where(frame[column] == "", prefix + frame[column])
            if prefix == "B-" and csv.stem == "sections":
                frame["key_teachers"] = (frame["key_teachers"].astype(int) * 3 // 4).astype(str)
            if prefix == "B-" and csv.stem == "facilities":
                frame["equipment_value_yuan"] = (frame["equipment_value_yuan"].astype(float) * 0.8).round(0).astype(str)
            frame.to_csv(folder / csv.name, index=False)
            keyed = frame.copy()
            if csv.stem == "schools":
                keyed.insert(0, "district_name", name)
                keyed.insert(0, "district_id", district_id)
            elif csv.stem in OPTIONAL_PER_DISTRICT:
                keyed.insert(0, "district_id", district_id)
            target = out / csv.name
            keyed.to_csv(target, index=False, mode="a", header=not target.exists())
        alone[district_id] = folder
    return out, alone


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return two_districts(tmp_path_factory.mktemp("districts"))


@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_each_district_equals_the_district_alone(province, standard):
    folder, alone = province
    together = evaluate(load_period(folder), standard)
    assert sorted(together.districts) == ["120113", "120114"]
    for district_id, path in alone.items():
        single = evaluate(load_period(path), standard)
        mine = together.district(district_id)
        for name, table in single.tables().items():
            got = mine.tables()[name].drop(columns=["district_id", "district_name"], errors="ignore")
            if name == "summary":
                continue
            pd.testing.assert_frame_equal(got.reset_index(drop=True), table.reset_index(drop=True), check_dtype=False, obj=name)
        pd.testing.assert_frame_equal(mine.summary(), single.summary())
    # The two districts differ: B has fewer key teachers and less equipment.
    summary = together.summary().set_index("district_id")
    assert summary.loc["120114", "sections_failing"] > summary.loc["120113", "sections_failing"]
    assert list(together.summary()["rank"]) == [1, 2]


def test_resource_tables_carry_district_and_cvs_are_per_district(province):
    folder, alone = province
    together = evaluate(load_period(folder))
    balance = together.resources.balance
    assert list(balance.columns[:3]) == ["district_id", "stage", "indicator"]
    assert len(balance) == 2 * 14
    single = evaluate(load_period(alone["120114"])).resources.balance
    mine = balance[balance["district_id"] == "120114"].drop(columns="district_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, single)
    tables = together.tables()
    assert all(t.columns[0] == "district_id" for name, t in tables.items() if name != "districts")


def test_select_one_district(province):
    folder, alone = province
    one = evaluate(load_period(folder), district="120113")
    assert list(one.districts) == ["120113"]
    with pytest.raises(ValueError, match="unknown district"):
        evaluate(load_period(folder), district="999999")


def test_cli_writes_every_district_and_the_ranking(province, tmp_path):
    folder, _ = province
    assert main(["evaluate", str(folder), "--out", str(tmp_path / "all")]) == 0
    ranking = pd.read_csv(tmp_path / "all" / "districts.csv", dtype={"district_id": str})
    assert list(ranking["district_id"]) == ["120113", "120114"] or set(ranking["district_id"]) == {"120113", "120114"}
    items = pd.read_csv(tmp_path / "all" / "items.csv", dtype={"district_id": str})
    assert set(items["district_id"]) == {"120113", "120114"}
    assert main(["evaluate", str(folder), "--district", "120114", "--out", str(tmp_path / "one")]) == 0
    items = pd.read_csv(tmp_path / "one" / "items.csv", dtype={"district_id": str})
    assert set(items["district_id"]) == {"120114"}


def test_district_key_rules(province, tmp_path):
    folder, _ = province
    broken = tmp_path / "broken" / "2022Q4"
    shutil.copytree(folder, broken)
    schools = read(broken / "schools.csv")
    schools.loc[3, "district_id"] = ""
    schools.to_csv(broken / "schools.csv", index=False)
    evidence = read(broken / "evidence.csv")
    evidence.loc[0, "district_id"] = "999999"
    evidence.to_csv(broken / "evidence.csv", index=False)
    with pytest.raises(DataValidationError) as info:
        load_period(broken)
    problems = info.value.problems
    assert ((problems["file"] == "schools.csv") & (problems["row"] == 5) & (problems["column"] == "district_id")).any()
    assert ((problems["file"] == "evidence.csv") & (problems["value"] == "999999")).any()
