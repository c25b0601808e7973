"""A three-school district where every item of the whole evaluation passes,
most of them exactly on their boundary, so that one step further fails.

P1 (500 pupils, 12 classes, largest class 45) and P2 (400 pupils, 10 classes)
are primary schools with identical indicator values (every CV is 0); J1 is a
junior school (600 pupils, 13 classes -> 2 music and 2 art rooms needed,
largest class 50). District figures sit on their thresholds: rotation 100 of
1000 eligible (10 %) with 20 key teachers (20 %), retention 950 / 1000 (95 %),
disabled enrolment 95 / 100, quota 50 %, migrants 85 %, zoned 100 % / 95 %;
85 of 100 respondents satisfied; training funds 5 % of public funds at P1;
85 % of the tested primary pupils at level Ⅲ or above. The Beichen coverage
inputs are complete: every indoor teaching space has multimedia, broadband and
wireless everywhere, one ICT session per school last term and one by the
district, every staff member trained within three years, every school in a 学区,
the weak school P2 partnered with P1; R4 and R5 met in every school.
"""

from __future__ import annotations

import pandas as pd

CLASS_COLUMNS = ["school_id", "stage", "class_id", "students"]
GROUP_SIZES = {"students": (20, 17), "parents": (20, 17), "teachers": (20, 17), "principals": (10, 9),
               "deputies": (10, 8), "cppcc": (10, 9), "residents": (10, 8)}
EVIDENCE_ITEMS = ("G1", "G2", "G10", "G14", "G15", "Q3", "Q5", "Q6", "Q7", "Q8", "V1", "V2", "V3", "V4", "V5", "V6")


def class_list(school_id: str, stage: str, students: int, classes: int, largest: int) -> list[tuple]:
    """``classes`` classes of ``students`` pupils whose largest has ``largest``."""
    rest, others = students - largest, classes - 1
    base, extra = divmod(rest, others)
    sizes = [largest] + [base + (1 if i < extra else 0) for i in range(others)]
    assert max(sizes) == largest and sum(sizes) == students
    return [(school_id, stage, f"{i + 1}班", n) for i, n in enumerate(sizes)]


def classes_table(sections: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, s in sections.iterrows():
        rows += class_list(s["school_id"], s["stage"], int(s["students"]), int(s["classes"]), int(s["largest_class"]))
    return pd.DataFrame(rows, columns=CLASS_COLUMNS)


def district_rows(**overrides: float) -> pd.DataFrame:
    figures = {
        "public_fund_quota_primary_yuan": 1100, "public_fund_quota_junior_yuan": 1400,
        "teacher_avg_pay_yuan": 128000, "civil_servant_avg_pay_yuan": 128000,
        "performance_pay_approved_percent": 100, "training_360h_completion_percent": 100,
        "new_teacher_72h_completion_percent": 100,
        "rotation_eligible_teachers": 1000, "rotation_rotated_teachers": 100, "rotation_key_teachers": 20,
        "zoned_enrolment_primary_percent": 100, "zoned_enrolment_junior_percent": 95,
        "quota_allocation_percent": 50, "migrant_public_percent": 85,
        "retention_grade7_enrolment": 1000, "retention_deaths": 0, "retention_graduates": 950,
        "retention_transfers_in": 0, "retention_transfers_out": 0,
        "disabled_school_age": 100, "disabled_enrolled": 95,
        "fitness_pass_percent": 95, "ict_research_percent": 40,
        "places_added_primary": 2343, "places_added_junior": 1200,
        "teaching_area_added_primary_m2": 28000, "teaching_area_added_junior_m2": 15000,
        "sports_area_added_primary_m2": 57000, "sports_area_added_junior_m2": 19000,
        "c_grade_renovated_m2": 9000, "ict_training_sessions_district": 1,
    }
    figures.update(overrides)
    rows = [(item, 2022, value, "") for item, value in figures.items() if value is not None]
    for year, total, per in ((2020, 200000, 28000), (2021, 210000, 28500), (2022, 210000, 28500)):
        rows.append(("education_budget_total_wan", year, total, "区财政局"))
        rows.append(("education_budget_per_student_yuan", year, per, "区财政局"))
    return pd.DataFrame(rows, columns=["item", "year", "value", "reference"])


def survey_rows(satisfied_total: int = 85) -> pd.DataFrame:
    rows, n = [], 0
    cut = 85 - satisfied_total  # answers turned from yes to no, taken from the students
    for group, (size, yes) in GROUP_SIZES.items():
        if group == "students":
            yes -= cut
        for i in range(size):
            n += 1
            rows.append((f"R{n:03d}", group, "", "true" if i < yes else "false", ""))
    return pd.DataFrame(rows, columns=["respondent_id", "group", "school_id", "satisfied", "score"])


def evidence_rows(status: dict[str, str] | None = None) -> pd.DataFrame:
    status = status or {}
    rows = []
    for item in EVIDENCE_ITEMS:
        s = status.get(item, "met")
        decided = s != "pending"
        rows.append((item, s, f"{item}佐证材料", "督导室" if decided else "", "2022-12-20" if decided else "", ""))
    return pd.DataFrame(rows, columns=["item_id", "status", "reference", "reviewer", "date", "note"])


def boundary_district(standard: str = "national-2017") -> dict[str, pd.DataFrame]:
    """The district on the national boundaries; with ``standard="beichen-2021"``
    also on the plan's: retention 1000 / 1000 (100 %) and ten 党代表 answering
    (9 satisfied)."""
    tables = _national_boundary()
    if standard == "beichen-2021":
        set_district(tables, "retention_graduates", 1000)
        party = pd.DataFrame([(f"D{i:02d}", "party_deputies", "", "true" if i < 9 else "false", "") for i in range(10)],
                             columns=tables["survey"].columns)
        tables["survey"] = pd.concat([tables["survey"], party], ignore_index=True)
    return tables


def _national_boundary() -> dict[str, pd.DataFrame]:
    schools = pd.DataFrame(
        [
            ("P1", "东风小学", "primary", "urban", "public", "false", "", 2001, "第一学区", "false", ""),
            ("P2", "西河小学", "primary", "town", "public", "false", "", 1995, "第一学区", "true", "P1"),
            ("J1", "北辰初中", "junior", "urban", "public", "false", "", 1990, "第二学区", "false", ""),
        ],
        columns=["school_id", "school_name", "school_type", "area_type", "ownership", "boarding", "parent_school_id", "year_built",
                 "school_cluster", "weak_school", "partner_school_id"],
    )
    sections = pd.DataFrame(
        [
            ("P1", "primary", 500, 12, 40, 30, 10, 6, 40, 45),
            ("P2", "primary", 400, 10, 32, 24, 8, 5, 32, 42),
            ("J1", "junior", 600, 13, 60, 48, 12, 8, 60, 50),
        ],
        columns=["school_id", "stage", "students", "classes", "teachers", "teachers_above_degree",
                 "key_teachers", "pe_arts_teachers", "certified_teachers", "largest_class"],
    )
    facilities = pd.DataFrame(
        [
            ("P1", 3000.0, 0.0, 5000.0, 1_500_000.0, 15, 1, 1, 96.0, 90.0, 1, 20, 20, "true", "true"),
            ("P2", 2400.0, 0.0, 4000.0, 1_200_000.0, 12, 1, 1, 100.0, 95.0, 1, 16, 16, "true", "true"),
            ("J1", 4800.0, 0.0, 7200.0, 1_800_000.0, 18, 2, 2, 100.0, 95.0, 1, 24, 24, "true", "true"),
        ],
        columns=["school_id", "teaching_aux_area_m2", "indoor_sports_area_m2", "outdoor_sports_area_m2",
                 "equipment_value_yuan", "multimedia_classrooms", "music_rooms", "art_rooms",
                 "smallest_music_room_m2", "smallest_art_room_m2", "labour_rooms",
                 "indoor_teaching_spaces", "multimedia_teaching_spaces", "broadband", "wireless_full_coverage"],
    )
    finance = pd.DataFrame(
        [("P1", 600_000, 30_000), ("P2", 480_000, 30_000), ("J1", 840_000, 50_000)],
        columns=["school_id", "public_funds_yuan", "training_funds_yuan"],
    )
    staff = pd.DataFrame([("P1", 30, 10, 1, 30), ("P2", 36, 20, 2, 36), ("J1", 66, 30, 1, 66)],
                         columns=["school_id", "staff", "district_trained", "ict_sessions_last_term", "trained_within_3y"])
    quality = pd.DataFrame(
        [
            ("P1", "primary", "数学", 30, 85.0, 500.0, 90.0),
            ("P2", "primary", "数学", 30, 85.0, 510.0, 90.0),
            ("J1", "junior", "数学", 30, 88.0, 480.0, 85.0),
        ],
        columns=["school_id", "stage", "subject", "students_tested", "level3_percent", "mean_score", "score_sd"],
    )
    return {
        "schools": schools, "sections": sections, "facilities": facilities, "classes": classes_table(sections),
        "finance": finance, "staff_training": staff, "district": district_rows(), "evidence": evidence_rows(),
        "survey": survey_rows(), "quality": quality,
    }


def set_value(tables: dict[str, pd.DataFrame], table: str, key: dict[str, object], column: str, value: object) -> None:
    """Set one cell, found by the key columns in ``key``."""
    frame = tables[table]
    mask = pd.Series(True, index=frame.index)
    for k, v in key.items():
        mask &= frame[k] == v
    assert mask.sum() == 1, f"{table} {key}: {mask.sum()} rows"
    frame[column] = frame[column].astype(object)
    frame.loc[mask, column] = value


def set_district(tables: dict[str, pd.DataFrame], item: str, value: object) -> None:
    set_value(tables, "district", {"item": item}, "value", value)
