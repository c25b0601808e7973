"""Rules that span rows and tables, and plausibility warnings.

Cell-level rules (types, negatives, unknown categories) live in
:mod:`balance_metrics.tables`; the rules here need a whole table or several.
Each rule returns a list of :class:`~balance_metrics.errors.Problem` so that
every problem in a period is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.contract.districtfigures import district_rules
from balance_metrics.contract.problems import Rule, _problem, _text, _texts, problems_at  # noqa: F401 (re-exported)
from balance_metrics.contract.schoolkeys import column_codes, column_words, row_codes, school_index
from balance_metrics.contract.schema import ITEM_IDS, STAGES, STAGES_BY_SCHOOL_TYPE, SURVEY_SCORE_RANGE

# Schools whose sections may legitimately have no pupils: they never enter the
# resource computation (teaching points under the size limit are dropped there).
_NOT_EVALUATED_TYPES = frozenset({"special_education", "vocational", "teaching_point"})
SUBSET_COLUMNS = ("teachers_above_degree", "key_teachers", "pe_arts_teachers", "certified_teachers")

# Plausibility limits for warnings: beyond them a value is possible but suspicious.
MAX_SPORTS_M2_PER_STUDENT = 100.0
MIN_EQUIPMENT_YUAN_PER_STUDENT = 10.0
MAX_PLAUSIBLE_CLASS = 70
#: Stages in the order in which problems about a school's missing stages are listed.
STAGE_ORDER = sorted(STAGES)
SCHOOL_KINDS = list(STAGES_BY_SCHOOL_TYPE)


def _stage_codes(stages: pd.Series) -> np.ndarray:
    """Position of each stage in ``STAGE_ORDER`` (-1: missing)."""
    return pd.Index(STAGE_ORDER, dtype=object).get_indexer(stages.to_numpy(object))


def _sections_held(sections: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    """Whether ``sections`` has a row for (school, stage): a row per row of ``schools``
    (the first row of an id stands for it) and a last row of False (for index -1, no
    school), a column per stage of ``STAGE_ORDER``."""
    at, stage = school_rows(sections["school_id"], schools), _stage_codes(sections["stage"])
    known = (at >= 0) & (stage >= 0)
    held = np.zeros((len(schools) + 1, len(STAGE_ORDER)), bool)
    held[at[known], stage[known]] = True
    return held


def school_rows(ids: pd.Series, schools: pd.DataFrame) -> np.ndarray:
    """Position in ``schools`` of the first row of each id's school (-1: unknown or missing id)."""
    return school_index(schools).rows(ids)


def school_column(ids: pd.Series, schools: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of the school each id names (missing for unknown schools), indexed like ``ids``."""
    rows = school_rows(ids, schools)
    values = schools[column].to_numpy(object)[np.maximum(rows, 0)] if len(schools) else np.full(len(rows), None, object)
    return pd.Series(np.where(rows >= 0, values, None), index=ids.index, dtype=object)


def duplicate_keys(frame: pd.DataFrame, key: tuple[str, ...], label: str, schools: pd.DataFrame | None = None) -> list[Problem]:
    """Every row whose key repeats an earlier row's key (key columns absent from
    ``frame`` — an unused district key — are left out). With ``schools``, a ``school_id``
    key column is compared by the school row the other rules look up anyway."""
    key = tuple(k for k in key if k in frame.columns)
    # (the given cells of a school id column come with its words, which the lookups need too)
    complete = np.logical_and.reduce([column_words(frame[k])[0] if k == "school_id" else frame[k].notna().to_numpy(bool) for k in key])
    codes = row_codes([_key_codes(frame, k, complete, schools) for k in key])  # integers hash faster than texts
    dup = np.zeros(len(frame), bool)
    dup[complete] = pd.Series(codes).duplicated(keep="first").to_numpy(bool)
    if not dup.any():
        return []
    bad = frame[dup]
    value = _texts(bad[key[0]])
    for k in key[1:]:
        value = value + " / " + _texts(bad[k])
    return problems_at(bad, np.ones(len(bad), bool), key[-1], f"duplicate {label}: this key appears on an earlier row", value)


def _key_codes(frame: pd.DataFrame, column: str, where: np.ndarray, schools: pd.DataFrame | None) -> np.ndarray:
    """An integer per cell of a key column where ``where`` holds, equal exactly when the cells are."""
    if column == "school_id" and schools is not None:
        rows = school_rows(frame[column], schools)[where]
        if (rows >= 0).all():  # every id a school's: its (first) row names it
            return rows
    return column_codes(frame[column], where, words=False)


def unknown_schools(frame: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    unknown = frame["school_id"].notna().to_numpy(bool) & (school_rows(frame["school_id"], schools) < 0)
    return problems_at(frame, unknown, "school_id", "school_id not found in the schools table")


def part_within_whole(frame: pd.DataFrame, part: str, whole: str, rule: Callable[[pd.Series], str] | None = None) -> list[Problem]:
    """Every row whose ``part`` column exceeds its ``whole`` column.

    ``rule`` words the problem for a row; by default "part (x) is larger than whole (y)".
    """
    mask = (frame[part] > frame[whole]).fillna(False).to_numpy(bool)
    if not mask.any():
        return []
    if rule is None:
        def rule(r: pd.Series) -> str:
            return f"{part} ({_text(r[part])}) is larger than {whole} ({_text(r[whole])})"
    rules = [rule(r) for _, r in frame[mask].iterrows()]  # offending rows only
    return problems_at(frame[mask], np.ones(int(mask.sum()), bool), part, rules)


def subsets_within_teachers(sections: pd.DataFrame) -> list[Problem]:
    return [p for col in SUBSET_COLUMNS for p in part_within_whole(sections, col, "teachers")]


def _section_kinds(sections: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    """Position in ``SCHOOL_KINDS`` of each section's school type (-1: unknown school or no type)."""
    kind = pd.Index(SCHOOL_KINDS, dtype=object).get_indexer(schools["school_type"].to_numpy(object))
    return np.append(kind, -1)[school_rows(sections["school_id"], schools)]  # -1 (unknown school) takes the appended -1


def section_sizes(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    kind = _section_kinds(sections, schools)
    students = sections["students"].to_numpy(float, na_value=np.nan)  # counts: exact as floats
    known = (kind >= 0) & ~np.isnan(students)
    evaluated = ~np.isin(kind, [SCHOOL_KINDS.index(t) for t in _NOT_EVALUATED_TYPES])
    empty = known & (students == 0) & evaluated
    no_class = known & (students > 0) & (sections["classes"] == 0).fillna(False).to_numpy(bool)
    too_large = known & (sections["largest_class"].to_numpy(float, na_value=np.nan) > students)
    return (
        problems_at(sections, empty, "students", "a section of an evaluated school must have students (omit the row if the stage is not offered)", pd.Series(0, index=sections.index))
        + problems_at(sections, no_class, "classes", "a section with students must have at least one class")
        + problems_at(sections, too_large, "largest_class",
                      lambda bad: "largest class is larger than the section's students (" + _texts(bad["students"]) + ")")
    )


def _below_average_class(sections: pd.DataFrame) -> pd.Series:
    complete = sections[["largest_class", "students", "classes"]].notna().all(axis=1) & (sections["classes"] != 0)
    return (complete & (sections["largest_class"] * sections["classes"] < sections["students"])).fillna(False)


def stages_offered(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    """Each school reports exactly the stages its type offers."""
    kinds, stages = SCHOOL_KINDS, STAGE_ORDER
    offers = np.array([[stage in STAGES_BY_SCHOOL_TYPE[kind] for stage in stages] for kind in kinds] + [[False] * len(stages)])
    kind = pd.Index(kinds, dtype=object).get_indexer(schools["school_type"].to_numpy(object))  # -1: missing
    stage = _stage_codes(sections["stage"])
    first = school_rows(schools["school_id"], schools)  # the row standing for each school's id
    have = _sections_held(sections, schools)
    # Every (school row, stage) its type needs and no section gives, in row order, stages sorted.
    listed = (first >= 0) & (kind >= 0)
    lacking = listed[:, None] & offers[kind] & ~have[first]
    row, need = np.nonzero(lacking)
    shown = schools["school_type"].to_numpy(object)
    sources, numbers = schools["_source"].to_numpy(object), schools["_row"].to_numpy()
    problems = [Problem(str(sources[r]), int(numbers[r]), "school_type", _text(shown[r]),
                        f"school type {shown[r]} needs a '{stages[n]}' row in sections, none found") for r, n in zip(row, need)]
    section_kind = _section_kinds(sections, schools)
    checked = (stage >= 0) & (section_kind >= 0) & ~np.isin(section_kind, [kinds.index("special_education"), kinds.index("vocational")])
    wrong = checked & ~offers[section_kind, np.maximum(stage, 0)]
    named = np.array(kinds, dtype=object)
    return problems + problems_at(sections, wrong, "stage",
                                  lambda bad: ["stage not offered by a school of type " + named[k] for k in section_kind[wrong]])


def campuses(schools: pd.DataFrame) -> list[Problem]:
    """A 不计校数 campus must point at an existing, top-level parent school."""
    parent = schools["parent_school_id"]
    has = (parent.notna() & schools["school_id"].notna()).to_numpy(bool)
    own = has & (parent == schools["school_id"]).fillna(False).to_numpy(bool)
    campus = np.flatnonzero(has & ~own)  # campus rows only
    found = school_rows(parent.iloc[campus], schools)
    unknown = np.zeros(len(schools), bool)
    unknown[campus] = found < 0
    nested = np.zeros(len(schools), bool)
    nested[campus] = (found >= 0) & parent.notna().to_numpy(bool)[np.maximum(found, 0)]
    return (
        problems_at(schools, own, "parent_school_id", "a campus cannot be its own parent")
        + problems_at(schools, unknown, "parent_school_id", "parent school not found in the schools table")
        + problems_at(schools, nested, "parent_school_id", "parent school is itself a campus; point at the top-level school")
    )


def facilities_present(facilities: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    listed = schools["school_id"].notna() & schools["school_type"].notna()
    needs = listed & ~schools["school_type"].isin(["special_education", "vocational"])
    with_facilities = np.zeros(len(schools), bool)
    found = school_rows(facilities["school_id"], schools)
    with_facilities[found[found >= 0]] = True  # first row of each school with a facilities row
    first = school_rows(schools["school_id"], schools)
    lacking = needs & ~((first >= 0) & with_facilities[np.maximum(first, 0)])
    return problems_at(schools, lacking.fillna(False), "school_id", "no row for this school in the facilities table")


def facility_parts(facilities: pd.DataFrame) -> list[Problem]:
    return part_within_whole(
        facilities, "indoor_sports_area_m2", "teaching_aux_area_m2",
        lambda r: f"indoor sports rooms are part of teaching/auxiliary rooms and cannot exceed them ({_text(r['teaching_aux_area_m2'])} m²)",
    ) + part_within_whole(facilities, "multimedia_teaching_spaces", "indoor_teaching_spaces")


def support_partners(schools: pd.DataFrame) -> list[Problem]:
    """A 帮扶 partner must be another school of the table."""
    partner = schools["partner_school_id"]
    itself = (partner == schools["school_id"]).fillna(False).to_numpy(bool)
    bad = partner.notna().to_numpy(bool) & ((school_rows(partner, schools) < 0) | itself)
    return problems_at(schools, bad, "partner_school_id", "partner school not found in the schools table (or the school itself)")


def _students_of_school(sections: pd.DataFrame, facilities: pd.DataFrame, schools: pd.DataFrame | None) -> pd.Series:
    """Pupils of all sections of each facilities row's school (missing without sections).

    Summed per school row (``np.bincount``) when ``schools`` is given, which the warnings
    only matter for a period without problems, where every id is a known school;
    else grouped by the id texts."""
    if schools is None:
        return facilities["school_id"].map(sections.groupby("school_id")["students"].sum()).astype(float)
    at = school_rows(sections["school_id"], schools)
    known = at >= 0
    pupils = sections["students"].to_numpy(float, na_value=0.0)[known]
    total = np.bincount(at[known], weights=pupils, minlength=len(schools))
    listed = np.bincount(at[known], minlength=len(schools)) > 0
    where = school_rows(facilities["school_id"], schools)
    found = (where >= 0) & np.append(listed, False)[where]
    return pd.Series(np.where(found, np.append(total, np.nan)[where], np.nan), index=facilities.index)


def plausibility_warnings(sections: pd.DataFrame, facilities: pd.DataFrame, schools: pd.DataFrame | None = None) -> list[Problem]:
    """Possible but suspicious values, reported without stopping the run (``schools``:
    when given, pupils are summed per school row, see :func:`_students_of_school`)."""
    students = _students_of_school(sections, facilities, schools)
    counted = students.notna() & (students > 0)
    sports = (facilities["outdoor_sports_area_m2"] + facilities["indoor_sports_area_m2"]).astype(float)
    per = sports / students
    too_much = (counted & sports.notna() & (per > MAX_SPORTS_M2_PER_STUDENT)).fillna(False)
    equipment = facilities["equipment_value_yuan"].astype(float)
    few = (counted & equipment.notna() & (equipment / students < MIN_EQUIPMENT_YUAN_PER_STUDENT)).fillna(False)
    warnings = (
        problems_at(facilities, too_much, "outdoor_sports_area_m2",
                    lambda bad: f"more than {MAX_SPORTS_M2_PER_STUDENT:g} m² of sports space per student (" + _texts(per.loc[bad.index], "{:.1f}".format) + "); check the unit")
        + problems_at(facilities, few, "equipment_value_yuan",
                      lambda bad: f"under {MIN_EQUIPMENT_YUAN_PER_STUDENT:g} 元 of equipment per student ("
                      + _texts(equipment.loc[bad.index] / students.loc[bad.index], "{:.2f}".format)
                      + "); was 万元 entered as 元? use column equipment_value_wan for 万元")
    )
    # Impossible as stated, but G5 is judged on the class list when there is
    # one, so the run goes on and the report shows the warning.
    below = _below_average_class(sections)
    warnings += problems_at(sections, below, "largest_class",
                            lambda bad: "largest class is smaller than the average class (" + _texts(bad["students"]) + " students / "
                            + _texts(bad["classes"]) + " classes = "
                            + _texts(bad["students"].astype(float) / bad["classes"].astype(float), "{:.1f}".format)
                            + "); check classes and largest_class")
    huge = (sections["largest_class"] > MAX_PLAUSIBLE_CLASS).fillna(False)
    return warnings + problems_at(sections, huge, "largest_class", f"a class of more than {MAX_PLAUSIBLE_CLASS} students is implausible")


def cross_table_problems(schools: pd.DataFrame, sections: pd.DataFrame, facilities: pd.DataFrame) -> list[Problem]:
    """Run every cross-row rule of the core tables."""
    rules: Iterable[Callable[[], list[Problem]]] = (
        lambda: duplicate_keys(schools, ("school_id",), "school_id", schools),
        lambda: duplicate_keys(sections, ("school_id", "stage"), "school × stage", schools),
        lambda: duplicate_keys(facilities, ("school_id",), "school_id", schools),
        lambda: unknown_schools(sections, schools),
        lambda: unknown_schools(facilities, schools),
        lambda: subsets_within_teachers(sections),
        lambda: section_sizes(sections, schools),
        lambda: stages_offered(sections, schools),
        lambda: campuses(schools),
        lambda: facilities_present(facilities, schools),
        lambda: facility_parts(facilities),
        lambda: support_partners(schools),
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
    return unknown_schools(frame, schools)  # rows without a school_id are left out there


def _percent_range(frame: pd.DataFrame, column: str) -> list[Problem]:
    return problems_at(frame, (frame[column] > 100).fillna(False), column, "a percentage must lie between 0 and 100")


def _unknown_stage(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Rows naming a known school with a stage it has no section for."""
    sections, schools = tables.get("sections"), tables.get("schools")
    if sections is None or schools is None:
        return []
    at, stage = school_rows(frame["school_id"], schools), _stage_codes(frame["stage"])
    bad = (at >= 0) & (stage >= 0) & ~_sections_held(sections, schools)[at, np.maximum(stage, 0)]
    return problems_at(frame, bad, "stage", "this school has no such stage in the sections table")


def classes_rules(classes: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Class lists: known school × stage, no empty class, complete sections."""
    problems = duplicate_keys(classes, ("school_id", "stage", "class_id"), "school × stage × class", tables.get("schools"))
    problems += _known_schools(classes, tables)
    problems += problems_at(classes, (classes["students"] == 0).fillna(False), "students", "a class must have at least one student")
    sections = tables.get("sections")
    if sections is None:
        return problems
    if "schools" in tables:
        problems += _unknown_stage(classes, tables)
    return problems + _class_lists_complete(classes, sections)


def _class_lists_complete(classes: pd.DataFrame, sections: pd.DataFrame) -> list[Problem]:
    # A partial class list would let an oversized class go unchecked.
    listed = (classes["school_id"].notna() & classes["stage"].notna()).to_numpy(bool)
    keyed = (sections["school_id"].notna() & sections["stage"].notna()).to_numpy(bool)
    key = _pair_codes([classes["school_id"], sections["school_id"]], [classes["stage"], sections["stage"]], [listed, keyed])
    mine, theirs = key[: listed.sum()], key[listed.sum():]
    size = int(key.max(initial=-1)) + 1
    count = np.bincount(mine, minlength=size)
    pupils = classes["students"][listed]
    total = np.bincount(mine, weights=pupils.to_numpy(float, na_value=0.0), minlength=size)
    some = np.bincount(mine, weights=pupils.notna().to_numpy(float), minlength=size) > 0  # sum(min_count=1)
    found = np.zeros(len(sections), bool)
    found[keyed] = count[theirs] > 0
    listed_count = np.zeros(len(sections), np.int64)
    listed_count[keyed] = count[theirs]
    listed_total = np.full(len(sections), np.nan)
    listed_total[keyed] = np.where(some[theirs], total[theirs], np.nan)
    classes_given = sections["classes"].notna().to_numpy(bool)
    wrong_count = found & classes_given & (listed_count != sections["classes"].to_numpy(float, na_value=np.nan))
    students = sections["students"].to_numpy(float, na_value=np.nan)
    wrong_total = found & ~np.isnan(students) & ~np.isnan(listed_total) & (listed_total != students)
    return (
        problems_at(sections, wrong_count, "classes", lambda bad: [f"the classes table lists {n} classes for this section" for n in listed_count[wrong_count]])
        + problems_at(sections, wrong_total, "students",
                      lambda bad: [f"the classes of this section in the classes table add up to {_text(t)} students" for t in listed_total[wrong_total]])
    )


def _pair_codes(first: list[pd.Series], second: list[pd.Series], where: list[np.ndarray]) -> np.ndarray:
    """One integer per (first, second) pair of the rows where ``where`` holds, of several
    frames together (frame after frame), equal exactly when both texts are equal."""
    def codes(columns: list[pd.Series]) -> np.ndarray:
        return pd.factorize(np.concatenate([c.to_numpy(object)[w] for c, w in zip(columns, where)]))[0]

    one, two = codes(first), codes(second)
    return pd.factorize(one * (int(two.max(initial=0)) + 1) + two)[0]


def finance_rules(finance: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """School budgets: one row per known school; training funds within public funds."""
    problems = duplicate_keys(finance, ("school_id",), "school_id", tables.get("schools")) + _known_schools(finance, tables)
    return problems + part_within_whole(
        finance, "training_funds_yuan", "public_funds_yuan",
        lambda r: f"training funds are part of the public funds and cannot exceed them ({_text(r['public_funds_yuan'])} 元)",
    )


def staff_training_rules(staff: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Staff training: one row per known school; trained staff within staff."""
    problems = duplicate_keys(staff, ("school_id",), "school_id", tables.get("schools")) + _known_schools(staff, tables)
    return problems + part_within_whole(staff, "district_trained", "staff") + part_within_whole(staff, "trained_within_3y", "staff")


def evidence_rules(evidence: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Evidence rows: a known item; a decided status needs document, reviewer and date."""
    unknown = evidence["item_id"].notna() & ~evidence["item_id"].isin(list(ITEM_IDS))
    problems = problems_at(evidence, unknown.to_numpy(bool), "item_id", f"unknown item id; allowed: {', '.join(ITEM_IDS)}")
    dates = evidence["date"].astype(object)
    parsed = iso_dates(dates)
    problems += problems_at(evidence, (dates.notna() & parsed.isna()).to_numpy(bool), "date", "expected a date YYYY-MM-DD")
    decided = evidence["status"].isin(["met", "not_met"]).to_numpy(bool)
    lacking = {column: decided & evidence[column].isna().to_numpy(bool) for column in ("reference", "reviewer", "date")}
    # Row by row as before: each row's missing parts in column order.
    flagged = np.flatnonzero(np.logical_or.reduce(list(lacking.values())))
    for i in flagged:  # offending rows only
        r = evidence.iloc[i]
        problems += [_problem(r, column, "", f"a '{r['status']}' item needs {column}") for column, mask in lacking.items() if mask[i]]
    referenced = evidence[evidence["reference"].notna()]
    return problems + duplicate_keys(referenced, ("district_id", "item_id", "reference"), "item × evidence document")


def iso_dates(texts: pd.Series) -> pd.Series:
    """:func:`iso_date` of a whole column (each distinct text parsed once)."""
    distinct = pd.Series(texts.dropna().astype(str).unique())
    return texts.map(dict(zip(distinct, distinct.map(iso_date))))


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
    yes_no, score = survey["satisfied"].notna(), survey["score"].notna()
    problems += problems_at(survey, (yes_no & score).to_numpy(bool), "score", "give either satisfied or score, not both")
    problems += problems_at(survey, (~yes_no & ~score).to_numpy(bool), "satisfied", "each respondent needs satisfied (yes/no) or a score",
                            pd.Series("", index=survey.index))
    off_scale = (score & ~survey["score"].between(low, high)).fillna(False)
    return problems + problems_at(survey, off_scale.to_numpy(bool), "score", f"a score must lie between {low} and {high}")


def quality_rules(quality: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Monitoring results: known school × stage, tested students, shares within 0–100 %."""
    problems = duplicate_keys(quality, ("school_id", "stage", "subject"), "school × stage × subject", tables.get("schools"))
    problems += _known_schools(quality, tables) + _percent_range(quality, "level3_percent")
    problems += problems_at(quality, (quality["students_tested"] == 0).fillna(False), "students_tested",
                            "a monitored school needs at least one tested student")
    return problems + _unknown_stage(quality, tables)


TABLE_RULES: dict[str, TableRule] = {
    "classes": classes_rules,
    "finance": finance_rules,
    "staff_training": staff_training_rules,
    "district": district_rules,
    "evidence": evidence_rules,
    "survey": survey_rules,
    "quality": quality_rules,
}
