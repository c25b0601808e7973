"""Rules that span rows and tables, and plausibility warnings.

Cell-level rules (types, negatives, unknown categories) live in
:mod:`balance_metrics.tables`; the rules here need a whole table or several.
Each rule returns a list of :class:`~balance_metrics.errors.Problem` so that
every problem in a period is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.contract.schema import DISTRICT_ITEMS, ITEM_IDS, STAGES_BY_SCHOOL_TYPE, SURVEY_SCORE_RANGE

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


def part_within_whole(frame: pd.DataFrame, part: str, whole: str, rule: Callable[[pd.Series], str] | None = None) -> list[Problem]:
    """Every row whose ``part`` column exceeds its ``whole`` column.

    ``rule`` words the problem for a row; by default "part (x) is larger than whole (y)".
    """
    bad = frame[(frame[part] > frame[whole]).fillna(False)]
    if rule is None:
        def rule(r: pd.Series) -> str:
            return f"{part} ({_text(r[part])}) is larger than {whole} ({_text(r[whole])})"
    return [_problem(r, part, r[part], rule(r)) for _, r in bad.iterrows()]


def subsets_within_teachers(sections: pd.DataFrame) -> list[Problem]:
    return [p for col in SUBSET_COLUMNS for p in part_within_whole(sections, col, "teachers")]


def section_sizes(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    types = schools.drop_duplicates("school_id").set_index("school_id")["school_type"]
    problems = []
    for _, r in sections.iterrows():
        school_type = types.get(r["school_id"])
        if school_type is None or pd.isna(school_type) or pd.isna(r["students"]):
            continue
        if r["students"] == 0 and school_type not in _NOT_EVALUATED_TYPES:
            problems.append(_problem(r, "students", 0, "a section of an evaluated school must have students (omit the row if the stage is not offered)"))
        elif r["students"] > 0 and pd.notna(r["classes"]) and r["classes"] == 0:
            problems.append(_problem(r, "classes", 0, "a section with students must have at least one class"))
        if pd.notna(r["largest_class"]) and pd.notna(r["students"]) and r["largest_class"] > r["students"]:
            problems.append(_problem(r, "largest_class", r["largest_class"], f"largest class is larger than the section's students ({r['students']})"))

    return problems


def _below_average_class(r: pd.Series) -> bool:
    values = (r["largest_class"], r["students"], r["classes"])
    if any(pd.isna(v) for v in values) or r["classes"] == 0:
        return False
    return r["largest_class"] * r["classes"] < r["students"]


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
    for _, r in schools[schools["parent_school_id"].notna() & schools["school_id"].notna()].iterrows():
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
    return part_within_whole(
        facilities, "indoor_sports_area_m2", "teaching_aux_area_m2",
        lambda r: f"indoor sports rooms are part of teaching/auxiliary rooms and cannot exceed them ({_text(r['teaching_aux_area_m2'])} m²)",
    )


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
        if _below_average_class(r):
            # Impossible as stated, but G5 is judged on the class list when there
            # is one, so the run goes on and the report shows the warning.
            average = r["students"] / r["classes"]
            warnings.append(_problem(r, "largest_class", r["largest_class"], f"largest class is smaller than the average class ({r['students']} students / {r['classes']} classes = {average:.1f}); check classes and largest_class"))
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


# ---------------------------------------------------------------------------
# Optional tables. Each rule skips cells that already failed to parse (None):
# those are reported once, by the parser.
# ---------------------------------------------------------------------------


def _known_schools(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    schools = tables.get("schools")
    if schools is None:
        return []
    present = frame[frame["school_id"].notna()]
    return unknown_schools(present, schools)


def _percent_range(frame: pd.DataFrame, column: str) -> list[Problem]:
    bad = frame[(frame[column] > 100).fillna(False)]
    return [_problem(r, column, r[column], "a percentage must lie between 0 and 100") for _, r in bad.iterrows()]


def classes_rules(classes: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Class lists: known school × stage, no empty class, complete sections."""
    problems = duplicate_keys(classes, ("school_id", "stage", "class_id"), "school × stage × class")
    problems += _known_schools(classes, tables)
    empty = classes[(classes["students"] == 0).fillna(False)]
    problems += [_problem(r, "students", 0, "a class must have at least one student") for _, r in empty.iterrows()]
    sections = tables.get("sections")
    if sections is None:
        return problems
    known = set(zip(sections["school_id"], sections["stage"]))
    schools = set(tables["schools"]["school_id"]) if "schools" in tables else set()
    for _, r in classes.dropna(subset=["school_id", "stage"]).iterrows():
        if (r["school_id"], r["stage"]) not in known and r["school_id"] in schools:
            problems.append(_problem(r, "stage", r["stage"], "this school has no such stage in the sections table"))
    return problems + _class_lists_complete(classes, sections)


def _class_lists_complete(classes: pd.DataFrame, sections: pd.DataFrame) -> list[Problem]:
    # A partial class list would let an oversized class go unchecked.
    listed = classes.dropna(subset=["school_id", "stage"]).groupby(["school_id", "stage"])
    counts, totals = listed.size(), listed["students"].sum(min_count=1)
    problems = []
    for _, r in sections.dropna(subset=["school_id", "stage"]).iterrows():
        key = (r["school_id"], r["stage"])
        if key not in counts.index:
            continue
        if pd.notna(r["classes"]) and counts[key] != r["classes"]:
            problems.append(_problem(r, "classes", r["classes"], f"the classes table lists {counts[key]} classes for this section"))
        if pd.notna(r["students"]) and pd.notna(totals[key]) and totals[key] != r["students"]:
            problems.append(_problem(r, "students", r["students"], f"the classes of this section in the classes table add up to {_text(totals[key])} students"))
    return problems


def finance_rules(finance: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """School budgets: one row per known school; training funds within public funds."""
    problems = duplicate_keys(finance, ("school_id",), "school_id") + _known_schools(finance, tables)
    return problems + part_within_whole(
        finance, "training_funds_yuan", "public_funds_yuan",
        lambda r: f"training funds are part of the public funds and cannot exceed them ({_text(r['public_funds_yuan'])} 元)",
    )


def staff_training_rules(staff: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Staff training: one row per known school; trained staff within staff."""
    problems = duplicate_keys(staff, ("school_id",), "school_id") + _known_schools(staff, tables)
    return problems + part_within_whole(staff, "district_trained", "staff")


def district_rules(district: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """District figures: value types and ranges, years, and counts within their wholes."""
    rows = district.dropna(subset=["item"])
    problems = []
    for _, r in rows.iterrows():
        spec = DISTRICT_ITEMS[r["item"]]
        value = r["value"]
        if pd.isna(value):
            continue
        if spec.kind == "percent" and value > 100:
            problems.append(_problem(r, "value", value, f"{r['item']} is a percentage and must lie between 0 and 100"))
        if spec.kind == "count" and not float(value).is_integer():
            problems.append(_problem(r, "value", value, f"{r['item']} is a count and must be a whole number"))
    return problems + _district_years(rows) + _district_subsets(rows)


def _district_years(rows: pd.DataFrame) -> list[Problem]:
    problems = []
    for item, group in rows.groupby("item", sort=False):
        if DISTRICT_ITEMS[item].yearly:
            problems += _yearly_series(item, group)
        elif len(group) > 1:
            for _, r in group.iloc[1:].iterrows():
                problems.append(_problem(r, "item", item, f"{item} is given more than once (only yearly items repeat, one row per year)"))
    return problems


def _yearly_series(item: str, group: pd.DataFrame) -> list[Problem]:
    problems = [_problem(r, "year", "", f"{item} is given per year: the year is required") for _, r in group[group["year"].isna()].iterrows()]
    dated = group[group["year"].notna()]
    for _, r in dated[dated.duplicated("year", keep="first")].iterrows():
        problems.append(_problem(r, "year", r["year"], f"year repeated for {item}"))
    years = sorted(set(int(y) for y in dated["year"]))
    missing = sorted(set(range(years[0], years[-1] + 1)) - set(years)) if years else []
    if missing:
        last = dated.iloc[-1]
        gaps = ", ".join(str(y) for y in missing)
        problems.append(_problem(last, "year", gaps, f"{item}: year(s) {gaps} missing between {years[0]} and {years[-1]}"))
    return problems


# (part, whole, what the part is): a count that cannot exceed another count.
DISTRICT_SUBSETS: tuple[tuple[str, str], ...] = (
    ("rotation_rotated_teachers", "rotation_eligible_teachers"),
    ("rotation_key_teachers", "rotation_rotated_teachers"),
    ("disabled_enrolled", "disabled_school_age"),
    ("retention_deaths", "retention_grade7_enrolment"),
)


def _district_subsets(rows: pd.DataFrame) -> list[Problem]:
    yearly = rows["item"].map(lambda i: DISTRICT_ITEMS[i].yearly).astype(bool)
    single = rows[~yearly].drop_duplicates("item").set_index("item")
    problems = []
    for part, whole in DISTRICT_SUBSETS:
        if part in single.index and whole in single.index:
            r, w = single.loc[part], single.loc[whole]
            if pd.notna(r["value"]) and pd.notna(w["value"]) and r["value"] > w["value"]:
                problems.append(_problem(r, "value", r["value"], f"{part} is larger than {whole} ({_text(w['value'])})"))
    return problems + _retention_rate(single)


def _retention_rate(single: pd.DataFrame) -> list[Problem]:
    # The junior three-year retention rate is a rate: inputs giving more than
    # 100 % (or a negative rate) contradict each other.
    names = ("retention_grade7_enrolment", "retention_deaths", "retention_graduates", "retention_transfers_in", "retention_transfers_out")
    if not all(n in single.index and pd.notna(single.loc[n, "value"]) for n in names):
        return []
    v = {n: single.loc[n, "value"] for n in names}
    base = v["retention_grade7_enrolment"] - v["retention_deaths"]
    kept = v["retention_graduates"] - v["retention_transfers_in"] + v["retention_transfers_out"]
    if base <= 0 or kept < 0 or kept > base:
        r = single.loc["retention_graduates"]
        rate = f"{kept}/{base}"
        return [_problem(r, "value", r["value"], f"junior three-year retention (graduates − transfers in + transfers out) ÷ (grade-7 enrolment − deaths) = {rate} lies outside 0–100 %")]
    return []


def evidence_rules(evidence: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Evidence rows: a known item; a decided status needs document, reviewer and date."""
    problems = []
    for _, r in evidence.iterrows():
        if pd.notna(r["item_id"]) and r["item_id"] not in ITEM_IDS:
            problems.append(_problem(r, "item_id", r["item_id"], f"unknown item id; allowed: {', '.join(ITEM_IDS)}"))
        if pd.notna(r["date"]) and iso_date(str(r["date"])) is None:
            problems.append(_problem(r, "date", r["date"], "expected a date YYYY-MM-DD"))
        if pd.notna(r["status"]) and r["status"] in ("met", "not_met"):
            for column in ("reference", "reviewer", "date"):
                if pd.isna(r[column]):
                    problems.append(_problem(r, column, "", f"a '{r['status']}' item needs {column}"))
    referenced = evidence[evidence["reference"].notna()]
    return problems + duplicate_keys(referenced, ("item_id", "reference"), "item × evidence document")


def iso_date(text: str) -> str | None:
    """``YYYY-MM-DD`` of a date cell (a workbook date may carry a 00:00:00 time), else None."""
    text = text.strip()
    if text.endswith(" 00:00:00"):
        text = text[: -len(" 00:00:00")]
    try:
        parsed = pd.Timestamp(text)
    except ValueError:
        return None
    return parsed.strftime("%Y-%m-%d") if len(text) == 10 and parsed.strftime("%Y-%m-%d") == text else None


def survey_rules(survey: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Survey answers: unique respondents, one answer each, scores on the scale."""
    problems = duplicate_keys(survey, ("respondent_id",), "respondent_id") + _known_schools(survey, tables)
    low, high = SURVEY_SCORE_RANGE
    for _, r in survey.iterrows():
        has_yes_no, has_score = pd.notna(r["satisfied"]), pd.notna(r["score"])
        if has_yes_no and has_score:
            problems.append(_problem(r, "score", r["score"], "give either satisfied or score, not both"))
        elif not has_yes_no and not has_score:
            problems.append(_problem(r, "satisfied", "", "each respondent needs satisfied (yes/no) or a score"))
        if has_score and not low <= r["score"] <= high:
            problems.append(_problem(r, "score", r["score"], f"a score must lie between {low} and {high}"))
    return problems


def quality_rules(quality: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Monitoring results: known school × stage, tested students, shares within 0–100 %."""
    problems = duplicate_keys(quality, ("school_id", "stage", "subject"), "school × stage × subject")
    problems += _known_schools(quality, tables) + _percent_range(quality, "level3_percent")
    none = quality[(quality["students_tested"] == 0).fillna(False)]
    problems += [_problem(r, "students_tested", 0, "a monitored school needs at least one tested student") for _, r in none.iterrows()]
    sections = tables.get("sections")
    if sections is not None and "schools" in tables:
        known = set(zip(sections["school_id"], sections["stage"]))
        schools = set(tables["schools"]["school_id"])
        for _, r in quality.dropna(subset=["school_id", "stage"]).iterrows():
            if (r["school_id"], r["stage"]) not in known and r["school_id"] in schools:
                problems.append(_problem(r, "stage", r["stage"], "this school has no such stage in the sections table"))
    return problems


# Rules for the optional tables (class lists, finance, surveys ...), keyed by
# table name; each gets the table and every parsed table of the period.
TABLE_RULES: dict[str, TableRule] = {
    "classes": classes_rules,
    "finance": finance_rules,
    "staff_training": staff_training_rules,
    "district": district_rules,
    "evidence": evidence_rules,
    "survey": survey_rules,
    "quality": quality_rules,
}
