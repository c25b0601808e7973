"""Every validation rule reports file, row, column and value; all problems at once."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import small_district, write_period

from balance_metrics import DataValidationError, load_period


def problems_for(tmp_path, mutate) -> pd.DataFrame:
    tables = small_district()
    mutate(tables)
    folder = write_period(tmp_path / "2022Q4", tables)
    with pytest.raises(DataValidationError) as info:
        load_period(folder)
    return info.value.problems


def set_cell(tables, table, school, column, value, stage=None):
    frame = tables[table]
    mask = frame["school_id"] == school
    if stage is not None:
        mask &= frame["stage"] == stage
    frame[column] = frame[column].astype(object)
    frame.loc[mask, column] = value


def only(problems: pd.DataFrame, **expected) -> pd.Series:
    hits = problems
    for key, val in expected.items():
        hits = hits[hits[key] == val]
    assert len(hits) == 1, problems.to_string()
    return hits.iloc[0]


# sections.csv data rows: P1=2, P2=3, P3=4, J1=5, N1 primary=6, N1 junior=7, C1=8, T1=9, S1=10
# schools.csv: P1=2, P2=3, P3=4, J1=5, N1=6, C1=7, T1=8, S1=9; facilities.csv: P1=2 ... T1=8


def test_missing_table(tmp_path):
    problems = problems_for(tmp_path, lambda t: t.pop("facilities"))
    row = only(problems, column="")
    assert "missing table 'facilities'" in row["rule"]


def test_missing_column(tmp_path):
    problems = problems_for(tmp_path, lambda t: t.update(sections=t["sections"].drop(columns="key_teachers")))
    row = only(problems, column="key_teachers")
    assert row["file"] == "sections.csv" and pd.isna(row["row"])
    assert "missing column" in row["rule"]


def test_unparsable_number(tmp_path):
    problems = problems_for(tmp_path, lambda t: set_cell(t, "sections", "P2", "teachers", "三十"))
    row = only(problems, column="teachers")
    assert (row["file"], row["row"], row["value"]) == ("sections.csv", 3, "三十")
    assert row["rule"] == "not a number"


@pytest.mark.parametrize("table, school, column, line", [("sections", "P3", "students", 4), ("facilities", "J1", "outdoor_sports_area_m2", 5)])
def test_negative_count_or_area(tmp_path, table, school, column, line):
    problems = problems_for(tmp_path, lambda t: set_cell(t, table, school, column, -5))
    row = only(problems, column=column)
    assert (row["file"], row["row"], row["value"]) == (f"{table}.csv", line, "-5")
    assert "negative" in row["rule"]


def test_fractional_count(tmp_path):
    problems = problems_for(tmp_path, lambda t: set_cell(t, "sections", "P1", "teachers", "60.5"))
    assert only(problems, column="teachers")["rule"] == "must be a whole number"


def test_included_section_with_zero_students(tmp_path):
    problems = problems_for(tmp_path, lambda t: set_cell(t, "sections", "J1", "students", 0))
    row = only(problems, column="students")
    assert (row["file"], row["row"]) == ("sections.csv", 5)


def test_duplicate_ids(tmp_path):
    def dup(t):
        t["schools"] = pd.concat([t["schools"], t["schools"].iloc[[1]]], ignore_index=True)
        t["sections"] = pd.concat([t["sections"], t["sections"].iloc[[0]]], ignore_index=True)
    problems = problems_for(tmp_path, dup)
    school = only(problems, file="schools.csv")
    assert (school["row"], school["column"], school["value"]) == (10, "school_id", "P2")
    section = only(problems, file="sections.csv")
    assert (section["row"], section["value"]) == (11, "P1 / primary")


@pytest.mark.parametrize("table, line", [("sections", 11), ("facilities", 9)])
def test_row_of_unknown_school(tmp_path, table, line):
    def add(t):
        extra = t[table].iloc[[0]].copy()
        extra["school_id"] = "ZZ9"
        t[table] = pd.concat([t[table], extra], ignore_index=True)
    problems = problems_for(tmp_path, add)
    row = only(problems, column="school_id")
    assert (row["file"], row["row"], row["value"]) == (f"{table}.csv", line, "ZZ9")
    assert "not found" in row["rule"]


@pytest.mark.parametrize(
    "table, column, value",
    [("schools", "school_type", "college"), ("sections", "stage", "kindergarten"), ("schools", "area_type", "suburb")],
)
def test_unknown_category(tmp_path, table, column, value):
    problems = problems_for(tmp_path, lambda t: set_cell(t, table, "P2", column, value))
    row = only(problems, column=column)
    assert (row["file"], row["row"], row["value"]) == (f"{table}.csv", 3, value)
    assert row["rule"].startswith(f"unknown {column}")


@pytest.mark.parametrize("column", ["teachers_above_degree", "key_teachers", "pe_arts_teachers", "certified_teachers"])
def test_subset_larger_than_whole(tmp_path, column):
    problems = problems_for(tmp_path, lambda t: set_cell(t, "sections", "P2", column, 31))
    row = only(problems, column=column)
    assert (row["file"], row["row"], row["value"]) == ("sections.csv", 3, "31")
    assert "larger than teachers" in row["rule"]


def test_combined_school_missing_a_stage(tmp_path):
    def drop(t):
        s = t["sections"]
        t["sections"] = s[~((s.school_id == "N1") & (s.stage == "junior"))]
    problems = problems_for(tmp_path, drop)
    row = only(problems, file="schools.csv")
    assert (row["row"], row["column"], row["value"]) == (6, "school_type", "nine_year")
    assert "'junior'" in row["rule"]


def test_campus_whose_parent_is_missing(tmp_path):
    problems = problems_for(tmp_path, lambda t: set_cell(t, "schools", "C1", "parent_school_id", "P9"))
    row = only(problems, column="parent_school_id")
    assert (row["file"], row["row"], row["value"]) == ("schools.csv", 7, "P9")


def test_indoor_sports_larger_than_teaching_rooms(tmp_path):
    problems = problems_for(tmp_path, lambda t: set_cell(t, "facilities", "P2", "indoor_sports_area_m2", 2500))
    assert only(problems, column="indoor_sports_area_m2")["row"] == 3


def test_all_problems_reported_at_once(tmp_path):
    def many(t):
        set_cell(t, "sections", "P2", "teachers", "x")
        set_cell(t, "sections", "P3", "key_teachers", 99)
        set_cell(t, "schools", "C1", "parent_school_id", "P9")
        set_cell(t, "facilities", "J1", "multimedia_classrooms", -1)
    problems = problems_for(tmp_path, many)
    assert set(problems["column"]) >= {"teachers", "key_teachers", "parent_school_id", "multimedia_classrooms"}
    assert len(problems) >= 4


def test_error_message_lists_every_problem(tmp_path):
    tables = small_district()
    set_cell(tables, "sections", "P2", "teachers", "x")
    set_cell(tables, "sections", "P3", "teachers", "y")
    folder = write_period(tmp_path / "q", tables)
    with pytest.raises(DataValidationError, match=r"2 problem\(s\)") as info:
        load_period(folder)
    assert "sections.csv:3 [teachers] = 'x'" in str(info.value)
    assert "sections.csv:4 [teachers] = 'y'" in str(info.value)


def test_plausibility_warnings_do_not_stop(tmp_path):
    tables = small_district()
    set_cell(tables, "facilities", "P2", "equipment_value_yuan", 85.0)  # 万元 typed as 元
    set_cell(tables, "facilities", "P3", "outdoor_sports_area_m2", 40000.0)
    dataset = load_period(write_period(tmp_path / "w", tables))
    w = dataset.warnings
    eq = only(w, column="equipment_value_yuan")
    assert (eq["file"], eq["row"]) == ("facilities.csv", 3) and "万元" in eq["rule"]
    assert only(w, column="outdoor_sports_area_m2")["row"] == 4


def test_largest_class_below_the_average_class_is_a_warning(tmp_path):
    tables = small_district()
    set_cell(tables, "sections", "P2", "largest_class", 39)  # 400 students / 10 classes = 40
    dataset = load_period(write_period(tmp_path / "w", tables))
    row = only(dataset.warnings, column="largest_class")
    assert (row["file"], row["row"], row["value"]) == ("sections.csv", 3, "39")
    assert "smaller than the average class" in row["rule"]
