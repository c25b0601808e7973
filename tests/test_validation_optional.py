"""Validation of the optional tables: every problem at once, with file, row, column, value, rule."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_period
from whole_district import boundary_district, set_district, set_value

from balance_metrics import DataValidationError, load_period


def problems_for(tmp_path, mutate) -> pd.DataFrame:
    tables = boundary_district()
    mutate(tables)
    with pytest.raises(DataValidationError) as info:
        load_period(write_period(tmp_path / "2022Q4", tables))
    return info.value.problems


def only(problems: pd.DataFrame, **expected) -> pd.Series:
    hits = problems
    for key, val in expected.items():
        hits = hits[hits[key] == val]
    assert len(hits) == 1, problems.to_string()
    return hits.iloc[0]


def district_line(tables, item, year=None) -> int:
    """File line of a district row (comment-free CSV: header is line 1)."""
    frame = tables["district"].reset_index(drop=True)
    mask = frame["item"] == item
    if year is not None:
        mask &= frame["year"] == year
    return int(frame.index[mask][0]) + 2


def test_boundary_district_is_valid(tmp_path):
    dataset = load_period(write_period(tmp_path / "2022Q4", boundary_district()))
    assert {"classes", "finance", "staff_training", "district", "evidence", "survey", "quality"} <= set(dataset.tables)


@pytest.mark.parametrize("item, value", [("quota_allocation_percent", 100.1), ("fitness_pass_percent", 250)])
def test_district_rate_above_100(tmp_path, item, value):
    tables = boundary_district()
    problems = problems_for(tmp_path, lambda t: set_district(t, item, value))
    row = only(problems, column="value")
    assert (row["file"], row["row"], row["value"]) == ("district.csv", district_line(tables, item), f"{value:g}")
    assert "between 0 and 100" in row["rule"]


def test_negative_rate_is_rejected_by_the_parser(tmp_path):
    row = only(problems_for(tmp_path, lambda t: set_district(t, "migrant_public_percent", -1)), column="value")
    assert row["rule"] == "must not be negative"


def test_rotated_more_than_eligible(tmp_path):
    tables = boundary_district()
    problems = problems_for(tmp_path, lambda t: set_district(t, "rotation_rotated_teachers", 1001))
    row = only(problems, column="value", row=district_line(tables, "rotation_rotated_teachers"))
    assert row["value"] == "1001" and "larger than rotation_eligible_teachers (1000)" in row["rule"]


def test_count_item_must_be_whole(tmp_path):
    row = only(problems_for(tmp_path, lambda t: set_district(t, "rotation_key_teachers", 20.5)), column="value")
    assert "whole number" in row["rule"]


def test_retention_inputs_beyond_100_percent(tmp_path):
    row = only(problems_for(tmp_path, lambda t: set_district(t, "retention_graduates", 1001)), column="value")
    assert "outside 0–100 %" in row["rule"]


def test_budget_year_repeated(tmp_path):
    def repeat(t):
        extra = t["district"][t["district"]["item"] == "education_budget_total_wan"].iloc[[-1]]
        t["district"] = pd.concat([t["district"], extra], ignore_index=True)
    problems = problems_for(tmp_path, repeat)
    row = only(problems, column="year")
    assert (row["value"], row["row"]) == ("2022", len(boundary_district()["district"]) + 2)
    assert row["rule"] == "year repeated for education_budget_total_wan"


def test_budget_year_missing(tmp_path):
    def gap(t):
        d = t["district"]
        t["district"] = d[~((d["item"] == "education_budget_per_student_yuan") & (d["year"] == 2021))]
    row = only(problems_for(tmp_path, gap), column="year")
    assert row["value"] == "2021" and "missing between 2020 and 2022" in row["rule"]


def test_budget_without_year_and_once_only_item_twice(tmp_path):
    def mutate(t):
        set_value(t, "district", {"item": "education_budget_total_wan", "year": 2020}, "year", "")
        extra = t["district"][t["district"]["item"] == "fitness_pass_percent"]
        t["district"] = pd.concat([t["district"], extra], ignore_index=True)
    problems = problems_for(tmp_path, mutate)
    assert "the year is required" in only(problems, column="year")["rule"]
    assert "given more than once" in only(problems, column="item")["rule"]


def test_unknown_district_item(tmp_path):
    row = only(problems_for(tmp_path, lambda t: set_value(t, "district", {"item": "fitness_pass_percent"}, "item", "happiness")), column="item")
    assert row["rule"].startswith("unknown item; allowed:") and row["value"] == "happiness"


def test_survey_group_not_in_the_list(tmp_path):
    row = only(problems_for(tmp_path, lambda t: set_value(t, "survey", {"respondent_id": "R005"}, "group", "tourists")), column="group")
    assert (row["file"], row["row"], row["value"]) == ("survey.csv", 6, "tourists")
    assert row["rule"].startswith("unknown group; allowed: students 学生")


def test_survey_answers(tmp_path):
    def mutate(t):
        set_value(t, "survey", {"respondent_id": "R001"}, "score", 4)      # both answers
        set_value(t, "survey", {"respondent_id": "R002"}, "satisfied", "")  # neither
        set_value(t, "survey", {"respondent_id": "R003"}, "satisfied", "")
        set_value(t, "survey", {"respondent_id": "R003"}, "score", 6)      # off the scale
    problems = problems_for(tmp_path, mutate)
    assert "not both" in only(problems, row=2)["rule"]
    assert "needs satisfied" in only(problems, row=3)["rule"]
    assert "between 1 and 5" in only(problems, row=4)["rule"]


def test_class_whose_school_or_stage_does_not_exist(tmp_path):
    def mutate(t):
        extra = pd.DataFrame([("ZZ9", "primary", "1班", 30), ("P2", "junior", "1班", 30)], columns=t["classes"].columns)
        t["classes"] = pd.concat([t["classes"], extra], ignore_index=True)
    problems = problems_for(tmp_path, mutate)
    n = len(boundary_district()["classes"])
    school = only(problems, column="school_id")
    assert (school["file"], school["row"], school["value"]) == ("classes.csv", n + 2, "ZZ9")
    stage = only(problems, column="stage")
    assert (stage["row"], stage["value"]) == (n + 3, "junior")
    assert "no such stage" in stage["rule"]


def test_incomplete_class_list(tmp_path):
    def drop(t):
        c = t["classes"]
        t["classes"] = c[~((c["school_id"] == "P2") & (c["class_id"] == "3班"))]
    problems = problems_for(tmp_path, drop)
    count = only(problems, column="classes")
    assert (count["file"], count["row"], count["value"]) == ("sections.csv", 3, "10")
    assert "lists 9 classes" in count["rule"]
    assert "add up to" in only(problems, column="students")["rule"]


def test_evidence_rules(tmp_path):
    def mutate(t):
        set_value(t, "evidence", {"item_id": "G1"}, "reviewer", "")
        set_value(t, "evidence", {"item_id": "G2"}, "date", "2022/12/20")
        set_value(t, "evidence", {"item_id": "Q3"}, "item_id", "Q10")
    problems = problems_for(tmp_path, mutate)
    assert "needs reviewer" in only(problems, column="reviewer")["rule"]
    assert only(problems, column="date")["value"] == "2022/12/20"
    assert only(problems, column="item_id")["value"] == "Q10"


def test_training_funds_above_public_funds_and_shares(tmp_path):
    def mutate(t):
        set_value(t, "finance", {"school_id": "P2"}, "training_funds_yuan", 500_000)
        set_value(t, "staff_training", {"school_id": "J1"}, "district_trained", 67)
        set_value(t, "quality", {"school_id": "P1"}, "level3_percent", 101)
    problems = problems_for(tmp_path, mutate)
    assert only(problems, file="finance.csv")["row"] == 3
    assert only(problems, file="staff_training.csv")["value"] == "67"
    assert "between 0 and 100" in only(problems, file="quality.csv")["rule"]


def test_all_problems_of_all_tables_at_once(tmp_path):
    def many(t):
        set_district(t, "quota_allocation_percent", 120)
        set_district(t, "rotation_rotated_teachers", 1500)
        set_value(t, "survey", {"respondent_id": "R010"}, "group", "aliens")
        set_value(t, "classes", {"school_id": "P1", "class_id": "1班"}, "school_id", "NOPE")
        set_value(t, "sections", {"school_id": "P2"}, "teachers", "x")
    problems = problems_for(tmp_path, many)
    files = set(problems["file"])
    assert {"district.csv", "survey.csv", "classes.csv", "sections.csv"} <= files
    assert len(problems) >= 6
