"""Rules that span rows and tables, and plausibility warnings.

Cell-level rules (types, negatives, unknown categories) live in
:mod:`balance_metrics.tables`; the rules here need a whole table or several.
Each rule returns a list of :class:`~balance_metrics.errors.Problem` so that
every problem in a period is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from .errors import Problem
from .schema import STAGES_BY_SCHOOL_TYPE

# Schools whose sections may legitimately have no pupils: they never enter the
# resource computation (teaching points under the size limit are dropped there).
_NOT_EVALUATED_TYPES = frozenset({"special_education", "vocational", "teaching_point"})
SUBSET_COLUMNS = ("teachers_above_degree", "key_teachers", "pe_arts_teachers", "certified_teachers")

# Plausibility limits for warnings: beyond them a value is possible but suspicious.
MAX_SPORTS_M2_PER_STUDENT = 100.0
MIN_EQUIPMENT_YUAN_PER_STUDENT = 10.0
MAX_PLAUSIBLE_CLASS = 70


def _problem(row: pd.Series, column: str, value: object, rule: str) -> Problem:
    return Problem(str(row["_source"]), int(row["_row"]), column, _text(value), rule)


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def duplicate_keys(frame: pd.DataFrame, key: tuple[str, ...], label: str) -> list[Problem]:
    """Every row whose key repeats an earlier row's key."""
    complete = frame.dropna(subset=list(key))
    dup = complete[complete.duplicated(list(key), keep="first")]
    problems = []
    for _, row in dup.iterrows():
        value = " / ".join(_text(row[k]) for k in key)
        problems.append(_problem(row, key[-1], value, f"duplicate {label}: this key appears on an earlier row"))
    return problems


def unknown_schools(frame: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    known = set(schools["school_id"].dropna())
    bad = frame[frame["school_id"].notna() & ~frame["school_id"].isin(known)]
    return [_problem(r, "school_id", r["school_id"], "school_id not found in the schools table") for _, r in bad.iterrows()]


def subsets_within_teachers(sections: pd.DataFrame) -> list[Problem]:
    problems = []
    for col in SUBSET_COLUMNS:
        bad = sections[(sections[col] > sections["teachers"]).fillna(False)]
        for _, r in bad.iterrows():
            problems.append(_problem(r, col, r[col], f"{col} ({r[col]}) is larger than teachers ({r['teachers']})"))
    return problems


def section_sizes(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    types = schools.drop_duplicates("school_id").set_index("school_id")["school_type"]
    problems = []
    for _, r in sections.iterrows():
        school_type = types.get(r["school_id"])
        if school_type is None or pd.isna(school_type) or pd.isna(r["students"]):
            continue
        if r["students"] == 0 and school_type not in _NOT_EVALUATED_TYPES:
            problems.append(_problem(r, "students", 0, "a section of an evaluated school must have students (omit the row if the stage is not offered)"))
        elif r["students"] > 0 and r["classes"] == 0:
            problems.append(_problem(r, "classes", 0, "a section with students must have at least one class"))
        if pd.notna(r["largest_class"]) and pd.notna(r["students"]) and r["largest_class"] > r["students"]:
            problems.append(_problem(r, "largest_class", r["largest_class"], f"largest class is larger than the section's students ({r['students']})"))
    return problems


def stages_offered(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    """Each school reports exactly the stages its type offers."""
    problems = []
    have = sections.groupby("school_id")["stage"].agg(lambda s: set(s.dropna()))
    for _, r in schools.dropna(subset=["school_id", "school_type"]).iterrows():
        expected = set(STAGES_BY_SCHOOL_TYPE[r["school_type"]])
        got = have.get(r["school_id"], set())
        for stage in sorted(expected - got):
            problems.append(_problem(r, "school_type", r["school_type"], f"school type {r['school_type']} needs a '{stage}' row in sections, none found"))
    types = schools.drop_duplicates("school_id").set_index("school_id")["school_type"]
    for _, r in sections.dropna(subset=["school_id", "stage"]).iterrows():
        school_type = types.get(r["school_id"])
        if school_type is None or pd.isna(school_type) or school_type in ("special_education", "vocational"):
            continue
        if r["stage"] not in STAGES_BY_SCHOOL_TYPE[school_type]:
            problems.append(_problem(r, "stage", r["stage"], f"stage not offered by a school of type {school_type}"))
    return problems


def campuses(schools: pd.DataFrame) -> list[Problem]:
    """A 不计校数 campus must point at an existing, top-level parent school."""
    ids = schools.drop_duplicates("school_id").set_index("school_id")
    problems = []
    for _, r in schools[schools["parent_school_id"].notna()].iterrows():
        parent = r["parent_school_id"]
        if parent == r["school_id"]:
            problems.append(_problem(r, "parent_school_id", parent, "a campus cannot be its own parent"))
        elif parent not in ids.index:
            problems.append(_problem(r, "parent_school_id", parent, "parent school not found in the schools table"))
        elif pd.notna(ids.loc[parent, "parent_school_id"]):
            problems.append(_problem(r, "parent_school_id", parent, "parent school is itself a campus; point at the top-level school"))
    return problems


def facilities_present(facilities: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    have = set(facilities["school_id"].dropna())
    problems = []
    for _, r in schools.dropna(subset=["school_id", "school_type"]).iterrows():
        if r["school_type"] in ("special_education", "vocational"):
            continue
        if r["school_id"] not in have:
            problems.append(_problem(r, "school_id", r["school_id"], "no row for this school in the facilities table"))
    return problems


def facility_parts(facilities: pd.DataFrame) -> list[Problem]:
    bad = facilities[(facilities["indoor_sports_area_m2"] > facilities["teaching_aux_area_m2"]).fillna(False)]
    return [
        _problem(r, "indoor_sports_area_m2", r["indoor_sports_area_m2"], f"indoor sports rooms are part of teaching/auxiliary rooms and cannot exceed them ({_text(r['teaching_aux_area_m2'])} m²)")
        for _, r in bad.iterrows()
    ]


def plausibility_warnings(sections: pd.DataFrame, facilities: pd.DataFrame) -> list[Problem]:
    """Possible but suspicious values, reported without stopping the run."""
    warnings = []
    students = sections.groupby("school_id")["students"].sum()
    for _, r in facilities.iterrows():
        n = students.get(r["school_id"])
        if n is None or pd.isna(n) or n == 0:
            continue
        sports = r["outdoor_sports_area_m2"] + r["indoor_sports_area_m2"]
        if pd.notna(sports) and sports / n > MAX_SPORTS_M2_PER_STUDENT:
            warnings.append(_problem(r, "outdoor_sports_area_m2", r["outdoor_sports_area_m2"], f"more than {MAX_SPORTS_M2_PER_STUDENT:g} m² of sports space per student ({sports / n:.1f}); check the unit"))
        equipment = r["equipment_value_yuan"]
        if pd.notna(equipment) and equipment / n < MIN_EQUIPMENT_YUAN_PER_STUDENT:
            warnings.append(_problem(r, "equipment_value_yuan", equipment, f"under {MIN_EQUIPMENT_YUAN_PER_STUDENT:g} 元 of equipment per student ({equipment / n:.2f}); was 万元 entered as 元? use column equipment_value_wan for 万元"))
    for _, r in sections.iterrows():
        if pd.notna(r["largest_class"]) and r["largest_class"] > MAX_PLAUSIBLE_CLASS:
            warnings.append(_problem(r, "largest_class", r["largest_class"], f"a class of more than {MAX_PLAUSIBLE_CLASS} students is implausible"))
    return warnings


def cross_table_problems(schools: pd.DataFrame, sections: pd.DataFrame, facilities: pd.DataFrame) -> list[Problem]:
    """Run every cross-row rule of the core tables."""
    rules: Iterable[Callable[[], list[Problem]]] = (
        lambda: duplicate_keys(schools, ("school_id",), "school_id"),
        lambda: duplicate_keys(sections, ("school_id", "stage"), "school × stage"),
        lambda: duplicate_keys(facilities, ("school_id",), "school_id"),
        lambda: unknown_schools(sections, schools),
        lambda: unknown_schools(facilities, schools),
        lambda: subsets_within_teachers(sections),
        lambda: section_sizes(sections, schools),
        lambda: stages_offered(sections, schools),
        lambda: campuses(schools),
        lambda: facilities_present(facilities, schools),
        lambda: facility_parts(facilities),
    )
    return [p for rule in rules for p in rule()]


TableRule = Callable[[pd.DataFrame, Mapping[str, pd.DataFrame]], list[Problem]]

# Rules for the optional tables (class lists, finance, surveys ...), keyed by
# table name; each gets the table and every parsed table of the period.
TABLE_RULES: dict[str, TableRule] = {}
