"""Government guarantee items G3–G15 at and around their boundaries (hand-computed)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_period
from whole_district import boundary_district, classes_table, set_district, set_value

from balance_metrics import evaluate, load_period


def run(tmp_path, tables, standard="national-2017"):
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), standard)


def status(result, item: str) -> str:
    return result.items.set_index("id").loc[item, "status"]


def checks(result, item: str, **where) -> pd.DataFrame:
    found = result.checks[result.checks["item_id"] == item]
    for key, value in where.items():
        found = found[found[key] == value]
    return found


@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_boundary_district_passes_every_item(tmp_path, standard):
    result = run(tmp_path, boundary_district(standard), standard)
    assert set(result.items["status"]) <= {"pass", "not applicable"}, result.items[["id", "status"]].to_string()
    assert set(result.items.loc[result.items["status"] == "not applicable", "id"]) == {"G6", "G7"}
    assert result.readiness.passed and result.readiness.blocking.empty
    assert result.issue_list.empty
    assert (result.plan_targets["status"] == "pass").all()


# -- G5 class size: every class, not only the largest -----------------------


@pytest.mark.parametrize(
    "school, stage, size, expected",
    [("P1", "primary", 45, "pass"), ("P1", "primary", 46, "fail"), ("J1", "junior", 50, "pass"), ("J1", "junior", 51, "fail")],
)
def test_class_size_limit(tmp_path, school, stage, size, expected):
    tables = boundary_district()
    largest = 45 if stage == "primary" else 50
    # move pupils from class 2 into class 1 so the section's total stays the same
    set_value(tables, "classes", {"school_id": school, "class_id": "1班"}, "students", size)
    second = tables["classes"].query("school_id == @school and class_id == '2班'")["students"].iloc[0]
    set_value(tables, "classes", {"school_id": school, "class_id": "2班"}, "students", second - (size - largest))
    result = run(tmp_path, tables)
    assert status(result, "G5") == expected
    row = checks(result, "G5", school_id=school).iloc[0]
    assert row["measured"] == size and row["shortfall"] == (size - largest if expected == "fail" else 0)


def test_every_oversized_class_is_listed(tmp_path):
    tables = boundary_district()
    # P1: 12 classes, 500 pupils; make classes 1 and 2 hold 47 and 46 (was 45 and 42)
    set_value(tables, "classes", {"school_id": "P1", "class_id": "1班"}, "students", 47)
    set_value(tables, "classes", {"school_id": "P1", "class_id": "2班"}, "students", 46)
    set_value(tables, "classes", {"school_id": "P1", "class_id": "3班"}, "students", 36)
    result = run(tmp_path, tables)
    note = checks(result, "G5", school_id="P1").iloc[0]["note"]
    assert "超额班级2个" in note and "1班（47人）" in note and "2班（46人）" in note
    line = result.issue_list[(result.issue_list["item_id"] == "G5")].iloc[0]
    assert line["school_name"] == "东风小学" and "最大班额为47人，要求≤45人，超出2人" in line["description"]


@pytest.mark.parametrize("largest, expected", [(45, "pass"), (46, "fail")])
def test_class_size_from_largest_class_without_class_list(tmp_path, largest, expected):
    tables = boundary_district()
    del tables["classes"]
    set_value(tables, "sections", {"school_id": "P1"}, "largest_class", largest)
    result = run(tmp_path, tables)
    assert status(result, "G5") == expected
    assert "按最大班额判断" in checks(result, "G5", school_id="P1").iloc[0]["note"]


# -- G3 music and art rooms ---------------------------------------------------


@pytest.mark.parametrize("classes, expected_needed, expected", [(12, 1, "pass"), (13, 2, "fail"), (24, 2, "fail")])
def test_rooms_per_twelve_classes(tmp_path, classes, expected_needed, expected):
    tables = boundary_district()
    set_value(tables, "sections", {"school_id": "P1"}, "classes", classes)
    tables["classes"] = classes_table(tables["sections"])
    result = run(tmp_path, tables)
    music = checks(result, "G3", school_id="P1", part="music_rooms").iloc[0]
    assert (music["measured"], music["requirement"]) == (1, expected_needed)
    assert status(result, "G3") == expected


def test_junior_school_with_13_classes_needs_two_rooms(tmp_path):
    tables = boundary_district()
    set_value(tables, "facilities", {"school_id": "J1"}, "art_rooms", 1)
    result = run(tmp_path, tables)
    assert status(result, "G3") == "fail"
    assert checks(result, "G3", school_id="J1", part="art_rooms", status="fail").iloc[0]["shortfall"] == 1


@pytest.mark.parametrize(
    "column, value, expected",
    [("smallest_music_room_m2", 96.0, "pass"), ("smallest_music_room_m2", 95.9, "fail"),
     ("smallest_art_room_m2", 90.0, "pass"), ("smallest_art_room_m2", 89.9, "fail")],
)
def test_room_sizes(tmp_path, column, value, expected):
    tables = boundary_district()
    set_value(tables, "facilities", {"school_id": "P1"}, column, value)
    assert status(run(tmp_path, tables), "G3") == expected


def test_room_size_exemption_by_year_built(tmp_path):
    tables = boundary_district()
    set_value(tables, "facilities", {"school_id": "P1"}, "smallest_music_room_m2", 80.0)
    override = tmp_path / "old.toml"
    override.write_text('extends = "national-2017"\n[items.G3]\narea_exempt_built_before = 2005\n', encoding="utf-8")
    result = run(tmp_path, tables, override)  # P1 was built in 2001
    assert status(result, "G3") == "pass"
    assert checks(result, "G3", school_id="P1", part="music_room_area").iloc[0]["status"] == "not applicable"


# -- G4 school size -------------------------------------------------------------


@pytest.mark.parametrize("school, students, expected", [("P1", 2000, "pass"), ("P1", 2001, "fail"), ("J1", 2000, "pass"), ("J1", 2001, "fail")])
def test_school_size(tmp_path, school, students, expected):
    tables = boundary_district()
    del tables["classes"]
    set_value(tables, "sections", {"school_id": school}, "students", students)
    result = run(tmp_path, tables)
    assert status(result, "G4") == expected
    assert checks(result, "G4", school_id=school).iloc[0]["shortfall"] == (1 if expected == "fail" else 0)


# -- G6 small schools, G7 special education: Beichen is stricter ------------------


def add_school(tables, school_id, name, school_type, area, students, classes, public_funds, facilities=True):
    """Append a small school with enough of everything to load."""
    school = dict(zip(["school_id", "school_name", "school_type", "area_type", "ownership", "boarding", "parent_school_id", "year_built"],
                      (school_id, name, school_type, area, "public", "false", "", 1990)))
    tables["schools"] = pd.concat([tables["schools"], pd.DataFrame([school]).reindex(columns=tables["schools"].columns, fill_value="")],
                                  ignore_index=True)
    teachers = max(classes + 2, students // 10)
    tables["sections"] = pd.concat([tables["sections"], pd.DataFrame(
        [(school_id, "primary", students, classes, teachers, teachers, max(1, students // 50), 1, teachers, -(-students // classes))],
        columns=tables["sections"].columns)], ignore_index=True)
    if facilities:
        facility = (school_id, 6.0 * students, 0.0, 10.0 * students, 3000.0 * students, 3, 1, 1, 96.0, 90.0, 1)
        row = pd.DataFrame([facility], columns=tables["facilities"].columns[:len(facility)])
        tables["facilities"] = pd.concat([tables["facilities"], row.reindex(columns=tables["facilities"].columns, fill_value="")],
                                         ignore_index=True)
    tables["finance"] = pd.concat([tables["finance"], pd.DataFrame(
        [(school_id, public_funds, public_funds // 20)], columns=tables["finance"].columns)], ignore_index=True)
    tables["classes"] = classes_table(tables["sections"])


def test_150_pupil_school_funded_as_100_passes_nationally_fails_in_beichen(tmp_path):
    tables = boundary_district()
    add_school(tables, "R1", "芳草庄小学", "primary", "rural", 150, 6, public_funds=1100 * 100)
    national = run(tmp_path / "n", tables)
    assert status(national, "G6") == "not applicable"  # 150 pupils: the national 100-pupil rule does not apply
    assert "G6" not in set(national.readiness.blocking["id"])
    beichen = run(tmp_path / "b", tables, "beichen-2021")
    assert status(beichen, "G6") == "fail"
    row = checks(beichen, "G6", school_id="R1").iloc[0]
    assert (row["measured"], row["requirement"], row["shortfall"]) == (100, 200, 100)
    assert "G6" in set(beichen.readiness.blocking["id"])


@pytest.mark.parametrize("funded_as, expected", [(100, "pass"), (99, "fail")])
def test_teaching_point_funded_as_100_pupils(tmp_path, funded_as, expected):
    tables = boundary_district()
    add_school(tables, "T1", "李庄教学点", "teaching_point", "rural", 60, 3, public_funds=1100 * funded_as)
    result = run(tmp_path, tables)
    assert status(result, "G6") == expected
    assert checks(result, "G6", school_id="T1").iloc[0]["measured"] == funded_as


def test_small_school_funding_needs_the_base_quota(tmp_path):
    tables = boundary_district()
    add_school(tables, "T1", "李庄教学点", "teaching_point", "rural", 60, 3, public_funds=110000)
    tables["district"] = tables["district"][tables["district"]["item"] != "public_fund_quota_primary_yuan"]
    result = run(tmp_path, tables)
    assert status(result, "G6") == "evidence missing"


@pytest.mark.parametrize(
    "funds, national, beichen",
    [(50 * 6000, "pass", "fail"), (50 * 6000 - 50, "fail", "fail"), (50 * 10000, "pass", "pass")],
)
def test_special_education_funds(tmp_path, funds, national, beichen):
    tables = boundary_district()
    add_school(tables, "S1", "启智学校", "special_education", "urban", 50, 6, public_funds=funds, facilities=False)
    assert status(run(tmp_path / "n", tables), "G7") == national
    result = run(tmp_path / "b", tables, "beichen-2021")
    assert status(result, "G7") == beichen
    assert checks(result, "G7", school_id="S1").iloc[0]["measured"] == pytest.approx(funds / 50)


# -- district figures -------------------------------------------------------------


@pytest.mark.parametrize(
    "eligible, rotated, key, expected",
    [
        (1000, 100, 20, "pass"),      # 10 % rotated, 20 % of them key teachers
        (10000, 1000, 200, "pass"),   # 10 %, 20 %
        (10000, 1000, 199, "fail"),   # key teachers 19.9 %
        (10000, 999, 200, "fail"),    # rotation 9.99 %
        (10000, 1001, 201, "pass"),   # 10.01 %, 20.08 %
    ],
)
def test_rotation(tmp_path, eligible, rotated, key, expected):
    tables = boundary_district()
    set_district(tables, "rotation_eligible_teachers", eligible)
    set_district(tables, "rotation_rotated_teachers", rotated)
    set_district(tables, "rotation_key_teachers", key)
    result = run(tmp_path, tables)
    assert status(result, "G11") == expected
    share = checks(result, "G11", part="rotation_share").iloc[0]["measured"]
    key_share = checks(result, "G11", part="key_share").iloc[0]["measured"]
    assert share == pytest.approx(100 * rotated / eligible) and key_share == pytest.approx(100 * key / rotated)


@pytest.mark.parametrize(
    "item, value, item_id",
    [
        ("training_360h_completion_percent", 99.9, "G9"),
        ("zoned_enrolment_primary_percent", 99.9, "G13"),
        ("zoned_enrolment_junior_percent", 94.9, "G13"),
        ("quota_allocation_percent", 49.9, "G14"),
        ("migrant_public_percent", 84.9, "G15"),
        ("performance_pay_approved_percent", 99.9, "G8"),
        ("teacher_avg_pay_yuan", 127999, "G8"),
    ],
)
def test_district_figure_just_below_its_threshold_fails(tmp_path, item, value, item_id):
    tables = boundary_district()
    set_district(tables, item, value)
    result = run(tmp_path, tables)
    assert status(result, item_id) == "fail"
    line = result.issue_list[result.issue_list["item_id"] == item_id].iloc[0]
    assert line["school_name"] == "全区" and line["severity_label"] == "未达标"


def test_missing_district_figure_is_not_a_pass(tmp_path):
    tables = boundary_district()
    tables["district"] = tables["district"][tables["district"]["item"] != "quota_allocation_percent"]
    result = run(tmp_path, tables)
    assert status(result, "G14") == "evidence missing"
    assert not result.readiness.passed


def test_one_uncertified_teacher_fails_g12(tmp_path):
    tables = boundary_district()
    set_value(tables, "sections", {"school_id": "P2"}, "certified_teachers", 31)
    result = run(tmp_path, tables)
    assert status(result, "G12") == "fail"
    district = checks(result, "G12", school_id="").iloc[0]
    assert district["measured"] == pytest.approx(100 * 131 / 132)
    school = checks(result, "G12", school_id="P2").iloc[0]
    assert school["note"] == "1名专任教师未持教师资格证"
